//! fastnet: the shape of Keller Jordan's airbench94 network (2024), as
//! ../shared/bench/ref/w9_cifar.py defines it, and `airbench`, the same shape with airbench's
//! initialisation and batch norm.

use super::blocks::{act, conv, linear, max_pool};
use crate::nn::init::Init;
use crate::nn::spec::{Layer, LayerSpec, ModelSpec};
use crate::nn::ActivationKind;

/// A 2x2 convolution 3 -> 24 with bias + GELU, then for each width in 64, 256, 256 a block
/// `conv3x3 -> max-pool 2 -> batch norm -> GELU -> conv3x3 -> batch norm -> GELU`, then
/// max-pool 3, flatten, a linear layer without bias and a scale of 1/9. 1.97M parameters.
///
/// Layers are named by their positions, as in the reference script's `nn.Sequential`
/// (`0.weight`, `2.weight`, `4.running_mean`, ..., `25.weight`), and use PyTorch's default
/// initialisation, so weights move between the two unchanged.
pub fn fastnet(num_classes: usize) -> ModelSpec {
    let stem = LayerSpec::Conv2d {
        out_channels: 24,
        kernel: 2,
        stride: 1,
        padding: 0,
        bias: true,
        init: Init::PytorchDefault,
    };
    fastnet_shape(
        stem,
        Init::PytorchDefault,
        LayerSpec::batch_norm(),
        num_classes,
    )
}

/// airbench94's network: fastnet with the 2x2 stem a [patch whitening](LayerSpec::PatchWhitening)
/// layer (24 frozen filters fitted on the training images), every 3x3 convolution
/// [identity-initialised](Init::Dirac), and batch norm with a frozen scale, eps 1e-12 and
/// momentum 0.4 (airbench's 0.6 in its own convention). 1.97M parameters, 1.97M trained.
pub fn airbench(num_classes: usize) -> ModelSpec {
    let norm = LayerSpec::BatchNorm {
        eps: 1e-12,
        momentum: 0.4,
        freeze_weight: true,
    };
    let stem = LayerSpec::PatchWhitening {
        kernel: 2,
        eps: 5e-4,
    };
    fastnet_shape(stem, Init::Dirac, norm, num_classes)
}

/// `stem` + GELU, the three blocks with convolutions drawn by `init` and batch norms `norm`,
/// max-pool 3, flatten, linear without bias, scale 1/9; layers named by position.
fn fastnet_shape(stem: LayerSpec, init: Init, norm: LayerSpec, num_classes: usize) -> ModelSpec {
    let gelu = ActivationKind::Gelu;
    let mut layers: Vec<Layer> = vec![stem.into(), act(gelu)];
    for width in [64, 256, 256] {
        let name = |offset: usize| (layers.len() + offset).to_string();
        let block = [
            conv(&name(0), width, 3, 1, init),
            max_pool(2, 2, 0),
            Layer::named(&name(2), norm.clone()),
            act(gelu),
            conv(&name(4), width, 3, 1, init),
            Layer::named(&name(5), norm.clone()),
            act(gelu),
        ];
        layers.extend(block);
    }
    layers.push(max_pool(3, 3, 0));
    layers.push(LayerSpec::Flatten.into());
    let fc = layers.len().to_string();
    layers.push(linear(&fc, num_classes, false));
    layers.push(LayerSpec::Scale { factor: 1.0 / 9.0 }.into());
    ModelSpec { layers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Module;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn fastnet_matches_the_reference_scripts_size_and_names() {
        let mut model = fastnet(10)
            .build(&[3, 32, 32], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        // sum(p.numel() for p in fastnet().parameters()) in w9_cifar.py.
        assert_eq!(model.num_parameters(), 1_972_792);
        let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(&names[..4], ["0.weight", "0.bias", "2.weight", "4.weight"]);
        assert_eq!(names.last().unwrap(), "25.weight");
        assert!(model
            .buffers_mut()
            .iter()
            .any(|(n, _)| n == "21.running_var"));
    }

    #[test]
    fn airbench_has_fastnets_names_with_frozen_whitening_and_norm_scales() {
        let mut model = airbench(10)
            .build(&[3, 32, 32], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
        // The whitening weight and the norm scales are buffers, not trained.
        assert_eq!(&names[..3], ["0.bias", "2.weight", "4.bias"]);
        assert_eq!(names.last().unwrap(), "25.weight");
        // 1,972,792 in fastnet less the stem's 288 filters and the six norms' scales.
        assert_eq!(
            model.num_parameters(),
            1_972_792 - 288 - (64 + 64 + 256 * 4)
        );
        let buffers: Vec<String> = model.buffers_mut().into_iter().map(|(n, _)| n).collect();
        assert!(buffers.contains(&"0.weight".to_string()));
        assert!(buffers.contains(&"4.weight".to_string()));
    }
}
