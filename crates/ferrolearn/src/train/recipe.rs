//! The default recipe of each CIFAR-10 model: options not chosen take the model's values, so
//! training `resnet20` on CIFAR-10 with nothing else chosen trains sensibly.
//!
//! | model | recipe |
//! | --- | --- |
//! | `resnet20` | 60 epochs, batch 128, SGD lr 0.1 momentum 0.9 Nesterov, weight decay 5e-4 (not on batch-norm and bias parameters), lr x0.1 at 50% and 75% of the steps, crop 4 (zero padding) + flip, normalised, no validation split |
//! | `alexnet`, `inception` | 30 epochs, batch 128, SGD lr 0.05 momentum 0.9 Nesterov, weight decay 5e-4 (not on BN/bias), warm-up 5% then cosine decay, crop 4 + flip, normalised, no validation split |
//! | `fastnet` | 10 epochs, batch 512, SGD lr 0.2 momentum 0.85 Nesterov, weight decay 5e-4, label smoothing 0.2, warm-up 23% then linear decay to 7% (w9_cifar.py), crop 2 + alternating flip, flip test-time augmentation, normalised, no validation split |
//! | `airbench` | airbench94's hyperparameters for a mean loss at batch 512 (per image as airbench's 1024, which runs 1.3x slower per image on a 2-core CPU): 10 epochs, batch 512, SGD lr 0.75 momentum 0.85 Nesterov, weight decay 0.00133, batch-norm bias gradients x64, label smoothing 0.2, warm-up from 20% over 23% of the steps then linear decay to 7%, whitening bias trained for 3 epochs, lookahead average every 5 steps (decay 0.95^5 x (step/steps)^3), crop 2 (reflect padding) + alternating flip, flip-and-translate test-time augmentation, normalised, no validation split |
//!
//! The MNIST models (`lenet5`, `mlp`) and model descriptions have no recipe: the general
//! defaults of [`TrainOptions`] apply.

use super::options::{BuiltinModel, OptimizerName, ScheduleName, TrainOptions};
use super::tta::Tta;
use crate::data::PaddingMode;

impl TrainOptions {
    /// These options with every unchosen one that the built-in model's recipe sets filled in.
    pub fn with_recipe(&self) -> TrainOptions {
        let mut o = self.clone();
        macro_rules! default {
            ($field:ident = $value:expr) => {
                o.$field.get_or_insert($value);
            };
        }
        let (epochs, batch, lr, momentum) = match self.builtin() {
            None | Some(BuiltinModel::Lenet5 | BuiltinModel::Mlp) => return o,
            Some(BuiltinModel::Resnet20) => (60, 128, 0.1, 0.9),
            Some(BuiltinModel::Alexnet | BuiltinModel::Inception) => (30, 128, 0.05, 0.9),
            Some(BuiltinModel::Fastnet) => (10, 512, 0.2, 0.85),
            Some(BuiltinModel::Airbench) => (10, 512, 0.75, 0.85),
        };
        default!(epochs = epochs);
        default!(batch_size = batch);
        default!(optimizer = OptimizerName::Sgd);
        default!(lr = lr);
        default!(momentum = momentum);
        default!(nesterov = true);
        if self.builtin() == Some(BuiltinModel::Airbench) {
            // airbench94's lr 11.5 and decay 0.0153 are per summed loss in its decoupled
            // convention: lr 11.5 / 7850.7 per image, so 0.75 for a mean loss over 512 images,
            // and a decay per step of 0.0153 * 512 / 7850.7, so 0.00133 per unit of lr.
            default!(weight_decay = 0.00133);
        }
        default!(weight_decay = 5e-4);
        default!(normalize = true);
        default!(augment_flip = true);
        if self.builtin() == Some(BuiltinModel::Airbench) {
            default!(padding_mode = PaddingMode::Reflect);
        }
        default!(padding_mode = PaddingMode::Zero);
        default!(val_fraction = 0.0);
        match self.builtin() {
            Some(BuiltinModel::Resnet20) => {
                default!(schedule = ScheduleName::MultiStep);
                default!(crop_padding = 4);
                default!(no_decay_norm_bias = true);
            }
            Some(BuiltinModel::Fastnet) => {
                default!(schedule = ScheduleName::WarmupLinear);
                default!(crop_padding = 2);
                default!(alternating_flip = true);
                default!(label_smoothing = 0.2);
                default!(tta = Tta::Flip);
            }
            Some(BuiltinModel::Airbench) => {
                default!(schedule = ScheduleName::WarmupLinear);
                default!(crop_padding = 2);
                default!(alternating_flip = true);
                default!(label_smoothing = 0.2);
                default!(norm_bias_grad_scale = 64.0);
                default!(warmup_start = 0.2);
                default!(whitening_bias_epochs = 3);
                // Lookahead every 5 steps with decay 0.95^5 ramped by (step / steps)^3.
                default!(ema_decay = 0.95f64.powi(5));
                default!(ema_every = 5);
                default!(ema_lookahead = true);
                default!(tta = Tta::FlipTranslate);
            }
            _ => {
                default!(schedule = ScheduleName::WarmupCosine);
                default!(crop_padding = 4);
                default!(no_decay_norm_bias = true);
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipe_fills_only_what_was_not_chosen() {
        let chosen = TrainOptions {
            lr: Some(0.3),
            crop_padding: Some(0),
            ..TrainOptions::for_model(BuiltinModel::Resnet20)
        };
        let r = chosen.with_recipe();
        assert_eq!((r.lr(), r.crop_padding(), r.epochs()), (0.3, 0, 60));
        assert_eq!(r.schedule(), ScheduleName::MultiStep);
        assert!(r.nesterov() && r.no_decay_norm_bias() && r.normalize());
        let a = TrainOptions::for_model(BuiltinModel::Airbench).with_recipe();
        assert_eq!(
            (a.weight_decay(), a.padding_mode(), a.tta()),
            (0.00133, PaddingMode::Reflect, Tta::FlipTranslate)
        );
        let lenet = TrainOptions::for_model(BuiltinModel::Lenet5);
        assert_eq!(lenet.with_recipe(), lenet, "MNIST models have no recipe");
    }
}
