//! Multi-layer perceptron classifier, as scikit-learn's `MLPClassifier` with its default
//! `activation="relu"`, `solver="adam"`: fully connected hidden layers with ReLU, a softmax
//! output trained on the cross-entropy, an L2 penalty `alpha` on the weights (not the
//! biases), Adam on shuffled mini-batches.
//!
//! Built on the library's own network pieces, not a separate backpropagation: the layers are
//! [`crate::nn::Linear`], the loss is [`crate::autograd::Var::cross_entropy_loss`], its
//! gradients come from [`crate::autograd`] and the updates from [`crate::optim::Adam`].
//! Computation runs in `f32`, as the networks do; the fitted weights are plain arrays, saved
//! like every classic model ([`super::persist`]).
//!
//! As scikit-learn, per mini-batch of `b` rows the loss is
//! `mean cross-entropy + 0.5 alpha ||W||^2 / b` (weights Glorot-uniform, as its ReLU
//! initialisation), the epoch's loss is the row-weighted mean of the batch losses, and
//! training stops early once `n_iter_no_change` epochs in a row fail to lower the best loss
//! by `tol`. Everything random (initial weights, batch order) comes from `seed`, so a fit is
//! reproducible.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::linear_input::{
    check_at_least_one, check_positive, check_predict_input, check_training_set,
};
use super::{Classifier, FitClassifier};
use crate::autograd::{no_grad, Var};
use crate::nn::init::Init;
use crate::nn::{Context, Linear, Module};
use crate::optim::{Adam, AdamConfig, Optimizer};
use crate::tensor::Tensor;
use crate::{Error, Result};

/// Rows per forward pass when predicting, to bound the memory of the activations.
const PREDICT_CHUNK: usize = 4096;

/// Hyperparameters of the MLP classifier (scikit-learn's defaults, see [`Default`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpClassifier {
    /// Width of each hidden layer, input side first (`[512, 256]`); at least one layer.
    pub hidden: Vec<usize>,
    /// L2 penalty strength on the weights (>= 0).
    pub alpha: f64,
    /// Adam's step size (> 0).
    pub learning_rate: f64,
    /// Rows per mini-batch (>= 1; capped at the number of rows).
    pub batch_size: usize,
    /// Most passes over the training rows (epochs).
    pub max_iter: usize,
    /// Smallest decrease of the training loss that counts as an improvement.
    pub tol: f64,
    /// Epochs in a row without improvement after which training stops.
    pub n_iter_no_change: usize,
    /// Seed of the initial weights and the batch order.
    pub seed: u64,
}

impl Default for MlpClassifier {
    /// `MLPClassifier()`'s defaults: one hidden layer of 100, alpha 1e-4, learning rate
    /// 1e-3, batches of 200, 200 epochs, tol 1e-4, 10 epochs without improvement.
    fn default() -> Self {
        MlpClassifier {
            hidden: vec![100],
            alpha: 1e-4,
            learning_rate: 1e-3,
            batch_size: 200,
            max_iter: 200,
            tol: 1e-4,
            n_iter_no_change: 10,
            seed: 0,
        }
    }
}

impl MlpClassifier {
    /// Checks the hyperparameters, naming the one that is wrong.
    pub fn validate(&self) -> Result<()> {
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(Error::InvalidParameter(format!(
                "hidden layer sizes must be one or more widths >= 1, got {:?}",
                self.hidden
            )));
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "alpha must be >= 0, got {}",
                self.alpha
            )));
        }
        check_positive("learning rate", self.learning_rate)?;
        check_at_least_one("batch size", self.batch_size)?;
        check_at_least_one("max_iter", self.max_iter)?;
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "tol must be >= 0, got {}",
                self.tol
            )));
        }
        Ok(())
    }
}

/// One fitted fully connected layer: `y = x Wᵀ + b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseLayer {
    /// Inputs per row.
    pub n_in: usize,
    /// Outputs per row.
    pub n_out: usize,
    /// `[n_out, n_in]`, row-major (PyTorch's layout).
    pub weight: Vec<f32>,
    /// `[n_out]`.
    pub bias: Vec<f32>,
}

/// A fitted MLP: its layers (ReLU after every one but the last) and the training history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpModel {
    /// The layers, input side first; the last has one output per class.
    pub layers: Vec<DenseLayer>,
    /// The training loss (penalty included) after each epoch, as scikit-learn's `loss_curve_`.
    pub loss_curve: Vec<f64>,
    /// Whether training stopped because the loss stopped improving (`n_iter_no_change`
    /// epochs without a gain of `tol`) rather than at `max_iter`: scikit-learn warns
    /// (`ConvergenceWarning`) when it did not. Models saved before the flag read `false`.
    #[serde(default)]
    pub converged: bool,
}

impl FitClassifier for MlpClassifier {
    type Fitted = MlpModel;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<MlpModel> {
        self.validate()?;
        let n_classes = check_training_set(x, y)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let widths: Vec<usize> = std::iter::once(x.ncols())
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(n_classes))
            .collect();
        let layers: Vec<Linear> = widths
            .windows(2)
            .map(|w| Linear::new(w[0], w[1], true, Init::XavierUniform, &mut rng))
            .collect();
        self.train(layers, x, y, rng)
    }
}

impl MlpClassifier {
    /// Trains starting from the weights of `start` instead of a random initialisation, as
    /// scikit-learn's `warm_start=True` (with a fresh Adam); the hidden widths of `start`
    /// are used, `self.hidden` is ignored. `seed` still orders the batches.
    ///
    /// # Errors
    /// As `fit`, and `InvalidData` when `start`'s layers do not chain, do not take
    /// `x.ncols()` features or do not give one output per class of `y`.
    pub fn fit_from(
        &self,
        start: &MlpModel,
        x: ArrayView2<f64>,
        y: ArrayView1<usize>,
    ) -> Result<MlpModel> {
        self.validate()?;
        let n_classes = check_training_set(x, y)?;
        start.check_layers()?;
        if start.n_features() != x.ncols() || start.n_classes() < n_classes {
            return Err(Error::InvalidData(format!(
                "the starting MLP takes {} features and gives {} classes; the data has {} \
                 features and {n_classes} classes",
                start.n_features(),
                start.n_classes(),
                x.ncols()
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let layers = start
            .layers
            .iter()
            .map(|l| {
                let mut layer = Linear::new(l.n_in, l.n_out, true, Init::XavierUniform, &mut rng);
                for (name, var) in layer.parameters_mut() {
                    let from = if name == "weight" { &l.weight } else { &l.bias };
                    var.value_mut().data_mut().copy_from_slice(from);
                }
                layer
            })
            .collect();
        self.train(layers, x, y, rng)
    }

    /// Adam on shuffled mini-batches from `layers`, until `max_iter` epochs or no
    /// improvement.
    fn train(
        &self,
        mut layers: Vec<Linear>,
        x: ArrayView2<f64>,
        y: ArrayView1<usize>,
        mut rng: ChaCha8Rng,
    ) -> Result<MlpModel> {
        let (n, d) = x.dim();
        // scikit-learn's Adam adds eps before the bias correction.
        let mut adam = Adam::new(AdamConfig {
            lr: self.learning_rate,
            eps_before_correction: true,
            ..AdamConfig::default()
        })?;
        let rows: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let batch = self.batch_size.min(n);
        let mut order: Vec<usize> = (0..n).collect();
        let mut ctx = Context::training(self.seed);
        let (mut loss_curve, mut best, mut stale) = (Vec::new(), f64::INFINITY, 0);
        let mut converged = false;
        for _ in 0..self.max_iter {
            order.shuffle(&mut rng);
            let mut total = 0.0;
            for chunk in order.chunks(batch) {
                let inputs = gather(&rows, d, chunk);
                let labels: Vec<usize> = chunk.iter().map(|&i| y[i]).collect();
                total += self.step(&mut layers, &mut adam, inputs, &labels, &mut ctx)?
                    * chunk.len() as f64;
            }
            let loss = total / n as f64;
            if !loss.is_finite() {
                return Err(Error::InvalidData(format!(
                    "the MLP's training loss became {loss} at epoch {}: lower the learning \
                     rate or scale the features",
                    loss_curve.len() + 1
                )));
            }
            loss_curve.push(loss);
            stale = if loss > best - self.tol { stale + 1 } else { 0 };
            best = best.min(loss);
            if stale > self.n_iter_no_change {
                converged = true;
                break;
            }
        }
        Ok(MlpModel {
            layers: layers.iter().map(dense).collect(),
            loss_curve,
            converged,
        })
    }

    /// One Adam step on a mini-batch; returns its loss, penalty included.
    fn step(
        &self,
        layers: &mut [Linear],
        adam: &mut Adam,
        inputs: Tensor,
        labels: &[usize],
        ctx: &mut Context,
    ) -> Result<f64> {
        let scale = self.alpha / labels.len() as f64;
        let (loss, mut grads) = {
            let mut h = Var::constant(inputs);
            let last = layers.len() - 1;
            for (i, layer) in layers.iter_mut().enumerate() {
                h = layer.forward(&h, ctx);
                if i < last {
                    h = h.relu();
                }
            }
            let loss = h.cross_entropy_loss(labels);
            (f64::from(loss.item()), loss.backward())
        };
        let mut penalty = 0.0;
        let mut params: Vec<(String, &mut Var)> =
            layers.iter_mut().flat_map(Module::parameters_mut).collect();
        let grad_store: Vec<Vec<f32>> = params
            .iter()
            .map(|(name, var)| {
                let mut g = grads
                    .take(var.id())
                    .map(Tensor::into_vec)
                    .unwrap_or_else(|| vec![0.0; var.value().numel()]);
                if name == "weight" && scale > 0.0 {
                    // d/dW of 0.5 alpha ||W||^2 / b, as scikit-learn adds it.
                    for (gv, &w) in g.iter_mut().zip(var.value().data()) {
                        penalty += f64::from(w) * f64::from(w);
                        *gv += (scale * f64::from(w)) as f32;
                    }
                }
                g
            })
            .collect();
        let grad_views: Vec<&[f32]> = grad_store.iter().map(Vec::as_slice).collect();
        let mut param_views: Vec<&mut [f32]> = params
            .iter_mut()
            .map(|(_, v)| v.value_mut().data_mut())
            .collect();
        adam.step(&mut param_views, &grad_views);
        Ok(loss + 0.5 * scale * penalty)
    }
}

/// The rows `index` of the row-major `[n, d]` matrix `rows`, as a `[len, d]` tensor.
fn gather(rows: &[f32], d: usize, index: &[usize]) -> Tensor {
    let mut out = Vec::with_capacity(index.len() * d);
    for &i in index {
        out.extend_from_slice(&rows[i * d..(i + 1) * d]);
    }
    Tensor::from_vec(out, &[index.len(), d])
}

/// The weights of a trained layer as plain arrays.
fn dense(layer: &Linear) -> DenseLayer {
    let params = layer.parameters();
    let value = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.value().clone())
            .unwrap_or_else(|| Tensor::zeros(&[0]))
    };
    let (weight, bias) = (value("weight"), value("bias"));
    DenseLayer {
        n_in: weight.dim(1),
        n_out: weight.dim(0),
        weight: weight.into_vec(),
        bias: bias.into_vec(),
    }
}

impl MlpModel {
    /// The number of classes (outputs of the last layer).
    pub fn n_classes(&self) -> usize {
        self.layers.last().map_or(0, |l| l.n_out)
    }

    /// Class probabilities `[N, n_classes]` (softmax of the last layer's outputs).
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let logits = self.logits(x)?;
        Ok(Array2::from_shape_fn(logits.dim(), |(i, j)| {
            let row = logits.row(i);
            let max = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let sum: f64 = row.iter().map(|&v| (v - max).exp()).sum();
            (row[j] - max).exp() / sum
        }))
    }

    /// The last layer's outputs `[N, n_classes]`.
    fn logits(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_predict_input(x, self.n_features())?;
        self.check_layers()?;
        let weights: Vec<(Var, Var)> = self
            .layers
            .iter()
            .map(|l| {
                (
                    Var::constant(Tensor::from_vec(l.weight.clone(), &[l.n_out, l.n_in])),
                    Var::constant(Tensor::from_vec(l.bias.clone(), &[l.n_out])),
                )
            })
            .collect();
        let (n, d, k) = (x.nrows(), x.ncols(), self.n_classes());
        let mut out = Vec::with_capacity(n * k);
        for start in (0..n).step_by(PREDICT_CHUNK) {
            let rows = x.slice(ndarray::s![start..(start + PREDICT_CHUNK).min(n), ..]);
            let input: Vec<f32> = rows.iter().map(|&v| v as f32).collect();
            let logits = no_grad(|| {
                let mut h = Var::constant(Tensor::from_vec(input, &[rows.nrows(), d]));
                for (i, (w, b)) in weights.iter().enumerate() {
                    h = h.linear(w, Some(b));
                    if i + 1 < weights.len() {
                        h = h.relu();
                    }
                }
                h
            });
            out.extend(logits.value().data().iter().map(|&v| f64::from(v)));
        }
        Array2::from_shape_vec((n, k), out)
            .map_err(|e| Error::InvalidData(format!("MLP outputs: {e}")))
    }

    /// Errors when the layers do not chain (a hand-edited or damaged saved model).
    fn check_layers(&self) -> Result<()> {
        for (i, l) in self.layers.iter().enumerate() {
            let chained = i == 0 || self.layers[i - 1].n_out == l.n_in;
            if !chained || l.weight.len() != l.n_in * l.n_out || l.bias.len() != l.n_out {
                return Err(Error::InvalidData(format!(
                    "MLP layer {i}: {} weights and {} biases do not make a {}x{} layer fed by \
                     the previous one",
                    l.weight.len(),
                    l.bias.len(),
                    l.n_out,
                    l.n_in
                )));
            }
        }
        if self.layers.is_empty() {
            return Err(Error::InvalidData("the MLP has no layers".into()));
        }
        Ok(())
    }
}

impl Classifier for MlpModel {
    fn n_features(&self) -> usize {
        self.layers.first().map_or(0, |l| l.n_in)
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        let logits = self.logits(x)?;
        Ok(logits
            .outer_iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (j, &v)| {
                        if v > best.1 {
                            (j, v)
                        } else {
                            best
                        }
                    })
                    .0
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::persist;
    use crate::classic::preprocessing::StandardScaler;
    use crate::data::class_labels;
    use crate::data::csv::read_csv;

    /// Four Gaussian blobs at the corners of a square, labelled by XOR of the signs: no
    /// linear model separates them.
    fn xor(n: usize, seed: u64) -> (Array2<f64>, Array1<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let noise = rand_distr::Normal::new(0.0, 0.25).unwrap();
        use rand::distributions::Distribution;
        let mut x = Array2::zeros((n, 2));
        let mut y = Array1::zeros(n);
        for i in 0..n {
            let (a, b) = (i % 2, (i / 2) % 2);
            let sign = |bit: usize| if bit == 1 { 1.0 } else { -1.0 };
            x[[i, 0]] = sign(a) + noise.sample(&mut rng);
            x[[i, 1]] = sign(b) + noise.sample(&mut rng);
            y[i] = a ^ b;
        }
        (x, y)
    }

    fn accuracy(pred: &Array1<usize>, y: &Array1<usize>) -> f64 {
        pred.iter().zip(y).filter(|(p, t)| p == t).count() as f64 / y.len() as f64
    }

    #[test]
    fn learns_xor_that_no_line_separates() {
        let (x, y) = xor(400, 1);
        let mlp = MlpClassifier {
            hidden: vec![16],
            learning_rate: 0.01,
            batch_size: 32,
            max_iter: 100,
            ..MlpClassifier::default()
        };
        let model = mlp.fit(x.view(), y.view()).unwrap();
        let (xt, yt) = xor(400, 2);
        let acc = accuracy(&model.predict(xt.view()).unwrap(), &yt);
        assert!(acc > 0.95, "test accuracy {acc}");
        let first = model.loss_curve[0];
        let last = *model.loss_curve.last().unwrap();
        assert!(last < 0.5 * first, "loss {first} -> {last}");
    }

    #[test]
    fn learns_iris_with_two_hidden_layers() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/tabular/iris.csv");
        let t = read_csv(path, "target").unwrap();
        let y: Array1<usize> = class_labels(&t.target).unwrap().labels.into();
        let x = StandardScaler::default()
            .fit(t.features.view())
            .unwrap()
            .transform(t.features.view())
            .unwrap();
        let mlp = MlpClassifier {
            hidden: vec![32, 16],
            learning_rate: 0.01,
            batch_size: 16,
            ..MlpClassifier::default()
        };
        let model = mlp.fit(x.view(), y.view()).unwrap();
        let acc = accuracy(&model.predict(x.view()).unwrap(), &y);
        assert!(acc >= 0.97, "training accuracy {acc}");
        let proba = model.predict_proba(x.view()).unwrap();
        assert_eq!(proba.dim(), (150, 3));
        for row in proba.outer_iter() {
            assert!((row.sum() - 1.0).abs() < 1e-9, "{row}");
        }
    }

    #[test]
    fn same_seed_same_model_and_a_save_load_round_trip() {
        let (x, y) = xor(120, 3);
        let mlp = MlpClassifier {
            hidden: vec![8, 4],
            max_iter: 5,
            seed: 7,
            ..MlpClassifier::default()
        };
        let a = mlp.fit(x.view(), y.view()).unwrap();
        assert_eq!(a, mlp.fit(x.view(), y.view()).unwrap());
        let other = MlpClassifier { seed: 8, ..mlp };
        assert_ne!(a, other.fit(x.view(), y.view()).unwrap());
        let dir = std::env::temp_dir().join(format!("ferrolearn-mlp-{}", std::process::id()));
        persist::save(&dir, &a).unwrap();
        let back: MlpModel = persist::load(&dir).unwrap();
        assert_eq!(back, a);
        assert_eq!(
            back.predict_proba(x.view()).unwrap(),
            a.predict_proba(x.view()).unwrap()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn converged_says_whether_the_loss_stopped_improving_before_max_iter() {
        let (x, y) = xor(40, 5);
        let at_limit = MlpClassifier {
            max_iter: 3,
            ..MlpClassifier::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_eq!((at_limit.loss_curve.len(), at_limit.converged), (3, false));
        // A tolerance no epoch can beat: every epoch after the first is stale, so training
        // stops once n_iter_no_change + 1 of them have passed (4 epochs), well before max_iter.
        let settled = MlpClassifier {
            tol: 1e9,
            n_iter_no_change: 2,
            max_iter: 50,
            ..MlpClassifier::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_eq!((settled.loss_curve.len(), settled.converged), (4, true));
    }

    #[test]
    fn bad_settings_and_inputs_are_named() {
        let (x, y) = xor(20, 4);
        let fit = |m: MlpClassifier| m.fit(x.view(), y.view()).unwrap_err().to_string();
        let e = fit(MlpClassifier {
            hidden: vec![4, 0],
            ..MlpClassifier::default()
        });
        assert!(
            e.contains("hidden layer sizes") && e.contains("[4, 0]"),
            "{e}"
        );
        let e = fit(MlpClassifier {
            learning_rate: 0.0,
            ..MlpClassifier::default()
        });
        assert!(e.contains("learning rate must be > 0"), "{e}");
        let model = MlpClassifier {
            max_iter: 1,
            ..MlpClassifier::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        let e = model.predict(Array2::zeros((3, 5)).view()).unwrap_err();
        assert!(e.to_string().contains("fitted with 2"), "{e}");
    }
}
