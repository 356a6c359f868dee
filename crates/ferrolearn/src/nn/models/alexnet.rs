//! AlexNet (Krizhevsky et al. 2012) shaped for 32x32 images.

use super::blocks::{act, bn, linear, max_pool};
use crate::nn::init::Init;
use crate::nn::spec::{Layer, LayerSpec, ModelSpec};
use crate::nn::ActivationKind;

/// Five convolutions and three fully connected layers with dropout, as AlexNet, sized for
/// CIFAR: 3x3 convolutions of 48, 128, 192, 192 and 128 filters (the widths of one of the
/// original's two GPU towers) with max pooling after the first, second and fifth (32 -> 16 ->
/// 8 -> 4), then dropout 0.5, linear 2048 -> 512, ReLU, dropout 0.5, linear 512 -> 512, ReLU,
/// linear to the classes. 1.9M parameters.
///
/// One modern change: batch norm after each convolution (in place of AlexNet's local response
/// normalisation), which lets the default recipe train without divergence or warm-up tricks.
/// Names follow torchvision's AlexNet: `features.0.weight`, ..., `classifier.6.bias`.
pub fn alexnet(num_classes: usize) -> ModelSpec {
    let relu = ActivationKind::Relu;
    let mut features: Vec<Layer> = Vec::new();
    for (i, width) in [48, 128, 192, 192, 128].into_iter().enumerate() {
        let at = features.len();
        features.push(Layer::named(
            &at.to_string(),
            LayerSpec::Conv2d {
                out_channels: width,
                kernel: 3,
                stride: 1,
                padding: 1,
                bias: false,
                init: Init::KaimingNormal,
            },
        ));
        features.push(bn(&(at + 1).to_string()));
        features.push(act(relu));
        if matches!(i, 0 | 1 | 4) {
            features.push(max_pool(2, 2, 0));
        }
    }
    let dropout = || -> Layer { LayerSpec::Dropout { p: 0.5 }.into() };
    let classifier = vec![
        dropout(),
        linear("1", 512, true),
        act(relu),
        dropout(),
        linear("4", 512, true),
        act(relu),
        linear("6", num_classes, true),
    ];
    ModelSpec {
        layers: vec![
            Layer::named("features", LayerSpec::Sequential { layers: features }),
            Layer::named("flatten", LayerSpec::Flatten),
            Layer::named("classifier", LayerSpec::Sequential { layers: classifier }),
        ],
    }
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
    fn alexnet_shapes_and_names() {
        let mut model = alexnet(10)
            .build(&[3, 32, 32], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        let convs = 3 * 48 * 9 + 48 * 128 * 9 + 128 * 192 * 9 + 192 * 192 * 9 + 192 * 128 * 9;
        let bns = 2 * (48 + 128 + 192 + 192 + 128);
        let fcs = 2048 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10;
        assert_eq!(model.num_parameters(), convs + bns + fcs);
        let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names[0], "features.0.weight");
        assert_eq!(names.last().unwrap(), "classifier.6.bias");
        let x = Var::constant(Tensor::zeros(&[2, 3, 32, 32]));
        assert_eq!(model.forward(&x, &mut Context::eval()).shape(), &[2, 10]);
    }
}
