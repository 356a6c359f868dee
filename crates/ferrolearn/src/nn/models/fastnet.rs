//! fastnet: the shape of Keller Jordan's airbench94 network (2024), without its whitening
//! initialisation, as ../shared/bench/ref/w9_cifar.py defines it.

use super::blocks::{act, bn, conv, linear, max_pool};
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
    let gelu = ActivationKind::Gelu;
    let mut layers: Vec<Layer> = vec![
        LayerSpec::Conv2d {
            out_channels: 24,
            kernel: 2,
            stride: 1,
            padding: 0,
            bias: true,
            init: Init::PytorchDefault,
        }
        .into(),
        act(gelu),
    ];
    for width in [64, 256, 256] {
        let name = |offset: usize| (layers.len() + offset).to_string();
        let block = [
            conv(&name(0), width, 3, 1, Init::PytorchDefault),
            max_pool(2, 2, 0),
            bn(&name(2)),
            act(gelu),
            conv(&name(4), width, 3, 1, Init::PytorchDefault),
            bn(&name(5)),
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
}
