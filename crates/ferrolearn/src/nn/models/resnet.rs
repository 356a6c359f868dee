//! ResNets for CIFAR-10 (He et al. 2016, section 4.2): depth `6n + 2`.

use super::blocks::{act, bn, conv, linear};
use crate::nn::init::Init;
use crate::nn::spec::{Layer, LayerSpec, ModelSpec};
use crate::nn::{ActivationKind, Merge};
use crate::{Error, Result};

/// ResNet-`depth` for 32x32 images: a 3x3 convolution to 16 channels, three stages of `n`
/// basic blocks (16, 32 and 64 channels; the first block of stages 2 and 3 halves the
/// resolution), global average pooling and a linear layer. `depth = 6n + 2`: 20, 32, 44, 56,
/// 110 (0.27M, 0.46M, 0.66M, 0.85M, 1.7M parameters).
///
/// Shortcuts are the paper's option A (identity, subsampled and zero-padded on channels where
/// the shape changes), so they add no parameters. Convolutions start from He et al.'s
/// initialisation (Kaiming normal, fan in). Names follow PyTorch CIFAR ResNets: `conv1`, `bn1`,
/// `layer1.0.conv1`, `layer1.0.bn2`, ..., `fc`.
///
/// # Errors
/// When `depth` is not `6n + 2` with `n >= 1`.
pub fn resnet(depth: usize, num_classes: usize) -> Result<ModelSpec> {
    if depth < 8 || (depth - 2) % 6 != 0 {
        return Err(Error::InvalidParameter(format!(
            "a CIFAR ResNet has depth 6n + 2 (20, 32, 44, 56, 110), got {depth}"
        )));
    }
    let n = (depth - 2) / 6;
    let relu = ActivationKind::Relu;
    let mut layers = vec![
        conv("conv1", 16, 3, 1, Init::KaimingNormal),
        bn("bn1"),
        act(relu),
    ];
    let mut in_channels = 16;
    for (stage, width) in [16, 32, 64].into_iter().enumerate() {
        let blocks = (0..n)
            .map(|i| {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                let block = basic_block(in_channels, width, stride);
                in_channels = width;
                block
            })
            .collect();
        layers.push(Layer::named(
            &format!("layer{}", stage + 1),
            LayerSpec::Sequential { layers: blocks },
        ));
    }
    layers.push(LayerSpec::GlobalAvgPool.into());
    layers.push(linear("fc", num_classes, true));
    Ok(ModelSpec { layers })
}

/// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
fn basic_block(in_channels: usize, out_channels: usize, stride: usize) -> Layer {
    let body = vec![
        conv("conv1", out_channels, 3, stride, Init::KaimingNormal),
        bn("bn1"),
        act(ActivationKind::Relu),
        conv("conv2", out_channels, 3, 1, Init::KaimingNormal),
        bn("bn2"),
    ];
    let shortcut = if stride != 1 || in_channels != out_channels {
        vec![Layer::named(
            "shortcut",
            LayerSpec::ShortcutPad {
                stride,
                out_channels,
            },
        )]
    } else {
        Vec::new()
    };
    LayerSpec::Parallel {
        merge: Merge::Sum,
        branches: vec![body, shortcut],
        activation: Some(ActivationKind::Relu),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::Var;
    use crate::nn::{Context, Module};
    use crate::tensor::Tensor;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn resnet20_has_the_papers_size_and_names() {
        let spec = resnet(20, 10).unwrap();
        let mut model = spec
            .build(&[3, 32, 32], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        // 0.27M parameters (He et al., table 6); w9_cifar.py's PyTorch ResNet-20 has 269,722.
        assert_eq!(model.num_parameters(), 269_722);
        let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names[0], "conv1.weight");
        assert!(names.contains(&"layer1.0.conv1.weight".to_string()));
        assert!(names.contains(&"layer3.2.bn2.bias".to_string()));
        assert_eq!(names.last().unwrap(), "fc.bias");
        let buffers: Vec<String> = model.buffers_mut().into_iter().map(|(n, _)| n).collect();
        assert!(buffers.contains(&"layer2.0.bn1.running_var".to_string()));
        let x = Var::constant(Tensor::zeros(&[2, 3, 32, 32]));
        assert_eq!(model.forward(&x, &mut Context::eval()).shape(), &[2, 10]);
    }

    #[test]
    fn other_depths_grow_by_six_layers_and_bad_ones_are_refused() {
        let count = |d| {
            resnet(d, 10)
                .unwrap()
                .build(&[3, 32, 32], 10, &mut ChaCha8Rng::seed_from_u64(0))
                .unwrap()
                .num_parameters()
        };
        assert!(count(32) > count(20));
        assert!(count(56) > count(44));
        let err = resnet(21, 10).unwrap_err().to_string();
        assert!(err.contains("6n + 2") && err.contains("21"), "{err}");
    }
}
