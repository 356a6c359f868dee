//! A small GoogLeNet (Szegedy et al. 2015) for 32x32 images.

use super::blocks::{act, bn, conv, linear, max_pool};
use crate::nn::init::Init;
use crate::nn::spec::{Layer, LayerSpec, ModelSpec};
use crate::nn::{ActivationKind, Merge};

/// The widths of one Inception module: the 1x1 branch, the 1x1 reduction and 3x3 of the
/// second, the 1x1 reduction and two stacked 3x3 (in place of a 5x5) of the third, and the
/// 1x1 after the pooling of the fourth.
struct Widths {
    b1: usize,
    b2: (usize, usize),
    b3: (usize, usize),
    b4: usize,
}

/// Inception modules as GoogLeNet's, at half its widths: a stem (3x3 convolution to 64 +
/// batch norm + ReLU), max-pool to 16x16, modules 3a and 3b, max-pool to 8x8, modules 4a-4c,
/// max-pool to 4x4, modules 5a and 5b, global average pooling, dropout 0.2 and a linear layer.
///
/// Each module concatenates four branches: a 1x1 convolution; a 1x1 reduction then 3x3; a 1x1
/// reduction then two stacked 3x3 (Inception v2's replacement of the 5x5, with the same
/// receptive field); a 3x3 max-pool (stride 1, padding 1) then a 1x1 projection. Every
/// convolution is followed by batch norm and ReLU, as torchvision's `BasicConv2d`, and names
/// follow torchvision's GoogLeNet: `inception3a.branch2.1.conv.weight`.
pub fn inception(num_classes: usize) -> ModelSpec {
    let mut layers = basic_conv("conv1", 64, 3);
    layers.push(max_pool(3, 2, 1));
    layers.push(module("inception3a", widths(32, (48, 64), (8, 16), 16)));
    layers.push(module("inception3b", widths(64, (64, 96), (16, 48), 32)));
    layers.push(max_pool(3, 2, 1));
    layers.push(module("inception4a", widths(96, (48, 104), (8, 24), 32)));
    layers.push(module("inception4b", widths(80, (56, 112), (12, 32), 32)));
    layers.push(module("inception4c", widths(64, (64, 128), (12, 32), 32)));
    layers.push(max_pool(3, 2, 1));
    layers.push(module("inception5a", widths(128, (80, 160), (16, 64), 64)));
    layers.push(module("inception5b", widths(192, (96, 192), (24, 64), 64)));
    layers.push(LayerSpec::GlobalAvgPool.into());
    layers.push(LayerSpec::Dropout { p: 0.2 }.into());
    layers.push(linear("fc", num_classes, true));
    ModelSpec { layers }
}

fn widths(b1: usize, b2: (usize, usize), b3: (usize, usize), b4: usize) -> Widths {
    Widths { b1, b2, b3, b4 }
}

/// Convolution (no bias) + batch norm + ReLU named `{name}.conv`, `{name}.bn`.
fn basic_conv(name: &str, out_channels: usize, kernel: usize) -> Vec<Layer> {
    vec![
        conv(
            &format!("{name}.conv"),
            out_channels,
            kernel,
            1,
            Init::KaimingNormal,
        ),
        bn(&format!("{name}.bn")),
        act(ActivationKind::Relu),
    ]
}

/// One Inception module: four branches concatenated along channels.
fn module(name: &str, w: Widths) -> Layer {
    let branch1 = basic_conv("branch1", w.b1, 1);
    let branch2 = [
        basic_conv("branch2.0", w.b2.0, 1),
        basic_conv("branch2.1", w.b2.1, 3),
    ]
    .concat();
    let branch3 = [
        basic_conv("branch3.0", w.b3.0, 1),
        basic_conv("branch3.1", w.b3.1, 3),
        basic_conv("branch3.2", w.b3.1, 3),
    ]
    .concat();
    let mut branch4 = vec![max_pool(3, 1, 1)];
    branch4.extend(basic_conv("branch4.1", w.b4, 1));
    Layer::named(
        name,
        LayerSpec::Parallel {
            merge: Merge::Concat,
            branches: vec![branch1, branch2, branch3, branch4],
            activation: None,
        },
    )
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
    fn inception_concatenates_its_branches() {
        let spec = inception(10);
        let mut model = spec
            .build(&[3, 32, 32], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"inception3a.branch2.1.conv.weight".to_string()));
        assert!(names.contains(&"inception5b.branch4.1.bn.bias".to_string()));
        assert_eq!(names.last().unwrap(), "fc.bias");
        let fc = model
            .parameters()
            .into_iter()
            .find(|(n, _)| n == "fc.weight")
            .unwrap();
        // 5b outputs 192 + 192 + 64 + 64 = 512 channels.
        assert_eq!(fc.1.shape(), &[10, 512]);
        let x = Var::constant(Tensor::zeros(&[2, 3, 32, 32]));
        assert_eq!(model.forward(&x, &mut Context::eval()).shape(), &[2, 10]);
    }
}
