//! The standard architectures, as [`ModelSpec`]s so that every run's `config.json` can
//! rebuild its model and `--model-file` can start from a copy of one.
//!
//! MNIST: [`lenet5`], [`mlp`]. CIFAR-10 (32x32 colour): [`resnet`] (ResNet-20/32/44/56),
//! [`alexnet`], [`inception`], [`fastnet`] and [`airbench`].

mod alexnet;
mod blocks;
mod fastnet;
mod inception;
mod resnet;

pub use alexnet::alexnet;
pub use fastnet::{airbench, fastnet};
pub use inception::inception;
pub use resnet::resnet;

use super::spec::{LayerSpec, ModelSpec};
use super::{init::Init, ActivationKind};
use crate::{Error, Result};

/// A built-in architecture by name, with its default settings: `lenet5`, `mlp` (hidden layers
/// 256 and 128, ReLU), `resnetN` for any depth `N = 6n + 2` (`resnet20`, `resnet56`...),
/// `alexnet`, `inception`, `fastnet`, `airbench`.
///
/// # Errors
/// For an unknown name or a ResNet depth that is not `6n + 2`.
pub fn named(name: &str, num_classes: usize) -> Result<ModelSpec> {
    Ok(match name {
        "lenet5" => lenet5(num_classes),
        "mlp" => mlp(&[256, 128], ActivationKind::Relu, 0.0, false, num_classes),
        "alexnet" => alexnet(num_classes),
        "inception" => inception(num_classes),
        "fastnet" => fastnet(num_classes),
        "airbench" => airbench(num_classes),
        _ => match name.strip_prefix("resnet").map(str::parse::<usize>) {
            Some(Ok(depth)) => resnet(depth, num_classes)?,
            _ => {
                return Err(Error::InvalidParameter(format!(
                    "unknown model {name:?}; known: lenet5, mlp, resnet20 (or resnet32, resnet44, resnet56, any 6n+2), alexnet, inception, fastnet, airbench"
                )))
            }
        },
    })
}

/// LeNet-5 as in the course notes: conv 1->20 5x5 pad 2, ReLU, max-pool 2, conv 20->50 5x5
/// pad 2, ReLU, max-pool 2, flatten (2450 for 28x28 inputs), linear 500, ReLU, linear
/// `num_classes`. The input channel count follows the data.
pub fn lenet5(num_classes: usize) -> ModelSpec {
    let conv = |out_channels| LayerSpec::Conv2d {
        out_channels,
        kernel: 5,
        stride: 1,
        padding: 2,
        bias: true,
        init: Init::PytorchDefault,
    };
    let relu = LayerSpec::Activation(ActivationKind::Relu);
    let pool = LayerSpec::MaxPool2d {
        kernel: 2,
        stride: None,
        padding: 0,
    };
    ModelSpec::sequence(vec![
        conv(20),
        relu.clone(),
        pool.clone(),
        conv(50),
        relu.clone(),
        pool,
        LayerSpec::Flatten,
        linear(500),
        relu,
        linear(num_classes),
    ])
}

/// A multilayer perceptron: flatten, then per hidden size a linear layer, optional batch
/// norm, the activation and optional dropout, then a linear layer to `num_classes`.
pub fn mlp(
    hidden: &[usize],
    activation: ActivationKind,
    dropout: f32,
    batch_norm: bool,
    num_classes: usize,
) -> ModelSpec {
    let mut layers = vec![LayerSpec::Flatten];
    for &h in hidden {
        layers.push(linear(h));
        if batch_norm {
            layers.push(LayerSpec::batch_norm());
        }
        layers.push(LayerSpec::Activation(activation));
        if dropout > 0.0 {
            layers.push(LayerSpec::Dropout { p: dropout });
        }
    }
    layers.push(linear(num_classes));
    ModelSpec::sequence(layers)
}

fn linear(out_features: usize) -> LayerSpec {
    LayerSpec::Linear {
        out_features,
        bias: true,
        init: Init::PytorchDefault,
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
    fn lenet5_has_the_course_shapes() {
        let mut model = lenet5(10)
            .build(&[1, 28, 28], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        // conv1 520, conv2 25050, fc1 2450*500+500, fc2 5010.
        assert_eq!(model.num_parameters(), 520 + 25_050 + 1_225_500 + 5_010);
        let x = Var::constant(Tensor::zeros(&[2, 1, 28, 28]));
        let y = model.forward(&x, &mut Context::eval());
        assert_eq!(y.shape(), &[2, 10]);
        let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names[0], "0.weight");
        assert_eq!(names.last().unwrap(), "9.bias");
    }

    #[test]
    fn mlp_with_batch_norm_and_dropout() {
        let spec = mlp(&[256, 128], ActivationKind::Relu, 0.5, true, 10);
        let mut model = spec
            .build(&[1, 28, 28], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        assert_eq!(
            model.num_parameters(),
            784 * 256 + 256 + 2 * 256 + 256 * 128 + 128 + 2 * 128 + 1290
        );
        assert_eq!(model.buffers_mut().len(), 4);
        let x = Var::constant(Tensor::ones(&[4, 1, 28, 28]));
        assert_eq!(
            model.forward(&x, &mut Context::training(1)).shape(),
            &[4, 10]
        );
    }
}
