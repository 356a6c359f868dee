//! How much memory a training run will need, estimated from its configuration before any
//! weight is allocated, so a model or batch too big for the machine is refused with the
//! layer to blame instead of being killed by the system mid-run.

use super::config::{OptimizerConfig, TrainConfig};
use crate::nn::spec::LayerCost;
use crate::{Error, Result};

/// Bytes per value (f32).
const VALUE_BYTES: u64 = 4;
/// Copies of each layer output a training step keeps: the output, its gradient, and the
/// inputs or masks the backward pass caches.
const ACTIVATION_COPIES: u64 = 3;

/// A run's estimated memory.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    /// Weights, gradients, optimizer buffers, moving average and checkpoint copy.
    pub parameter_bytes: u64,
    /// The layer outputs of one training batch, with their gradients and caches.
    pub activation_bytes: u64,
    /// The layer needing the most, with its share in bytes.
    pub largest: Option<(LayerCost, u64)>,
}

impl MemoryEstimate {
    /// Everything together.
    pub fn total_bytes(&self) -> u64 {
        self.parameter_bytes.saturating_add(self.activation_bytes)
    }
}

/// Copies of every parameter a run keeps: the weight, its gradient, the optimizer's
/// buffers, the moving average and the checkpoint being written.
fn parameter_copies(config: &TrainConfig) -> u64 {
    let optimizer = match config.optimizer {
        OptimizerConfig::Sgd { momentum: 0.0, .. } => 0,
        OptimizerConfig::Sgd { .. } | OptimizerConfig::Adagrad { .. } => 1,
        OptimizerConfig::Rmsprop { .. } => 1,
        OptimizerConfig::Adam { .. } | OptimizerConfig::Adamw { .. } => 2,
    };
    3 + optimizer + u64::from(config.ema.is_some())
}

/// Estimates the memory `config` needs, checking the model against its input shape.
pub fn estimate_memory(config: &TrainConfig) -> Result<MemoryEstimate> {
    let costs = config
        .model
        .estimate(&config.input_shape, config.class_names.len())?;
    let per_parameter = VALUE_BYTES * parameter_copies(config);
    let per_activation = (VALUE_BYTES * ACTIVATION_COPIES).saturating_mul(config.batch_size as u64);
    let bytes = |c: &LayerCost| {
        (c.parameters as u64)
            .saturating_mul(per_parameter)
            .saturating_add((c.activations as u64).saturating_mul(per_activation))
    };
    let sum = |f: &dyn Fn(&LayerCost) -> u64| costs.iter().map(f).fold(0u64, u64::saturating_add);
    Ok(MemoryEstimate {
        parameter_bytes: sum(&|c| (c.parameters as u64).saturating_mul(per_parameter)),
        activation_bytes: sum(&|c| (c.activations as u64).saturating_mul(per_activation)),
        largest: costs
            .iter()
            .max_by_key(|c| bytes(c))
            .map(|c| (c.clone(), bytes(c))),
    })
}

/// Refuses a run that would not fit in the machine's available memory (when the machine
/// says how much that is), before its model is built; a batch holds at most the `images`
/// of the training set.
pub fn check_run_fits(config: &TrainConfig, images: usize) -> Result<()> {
    if let Some(available) = available_memory() {
        let batch_size = config.batch_size.min(images);
        check_memory(
            &TrainConfig {
                batch_size,
                ..config.clone()
            },
            available,
        )?;
    }
    Ok(())
}

/// Refuses a run whose estimate exceeds `available` bytes, saying so in GiB and naming the
/// layer needing the most.
pub fn check_memory(config: &TrainConfig, available: u64) -> Result<MemoryEstimate> {
    let estimate = estimate_memory(config)?;
    if estimate.total_bytes() <= available {
        return Ok(estimate);
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let blame = match &estimate.largest {
        Some((layer, bytes)) => format!(
            "; the largest is {} ({:.1} GiB: {} parameters, {} outputs per image)",
            layer.path,
            gib(*bytes),
            layer.parameters,
            layer.activations
        ),
        None => String::new(),
    };
    Err(Error::InvalidParameter(format!(
        "training would need about {:.1} GiB ({:.1} GiB of parameters with their gradients and optimizer state, {:.1} GiB of activations for a batch of {}) but the machine has {:.1} GiB available{blame}: make the model smaller or lower --batch-size",
        gib(estimate.total_bytes()),
        gib(estimate.parameter_bytes),
        gib(estimate.activation_bytes),
        config.batch_size,
        gib(available)
    )))
}

/// The memory available to a new process (`MemAvailable` of `/proc/meminfo`), where the
/// system says.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;
    use crate::nn::spec::{LayerSpec, ModelSpec};

    fn config(hidden: usize, batch_size: usize) -> TrainConfig {
        let train = Dataset::new(
            vec![0; 2 * 784],
            [1, 28, 28],
            vec![0, 1],
            vec!["a".into(), "b".into()],
        )
        .expect("dataset");
        let linear = |out_features| LayerSpec::Linear {
            out_features,
            bias: true,
            init: Default::default(),
        };
        let model = ModelSpec::sequence(vec![LayerSpec::Flatten, linear(hidden), linear(2)]);
        TrainConfig {
            batch_size,
            ..TrainConfig::new("mlp", model, "tiny", &train)
        }
    }

    #[test]
    fn a_run_too_big_for_the_machine_is_refused_naming_the_layer() {
        // 784 x 1e9 weights: about 2.9 TiB a copy; nothing is allocated to find out.
        let e = check_memory(&config(1_000_000_000, 64), 16 << 30)
            .unwrap_err()
            .to_string();
        assert!(e.contains("but the machine has 16.0 GiB available"), "{e}");
        assert!(e.contains("the largest is layer 1 (linear)"), "{e}");
        let small = check_memory(&config(100, 64), 16 << 30).expect("fits");
        // SGD with momentum: weight, gradient, momentum and checkpoint copy of 78,500 +
        // 202 parameters; outputs 784 + 100 + 2 per image, three copies, batch 64.
        assert_eq!(small.parameter_bytes, 4 * 4 * (78_500 + 202));
        assert_eq!(small.activation_bytes, 4 * 3 * 64 * (784 + 100 + 2));
        let e = check_memory(&config(100, 1 << 24), 16 << 30)
            .unwrap_err()
            .to_string();
        assert!(e.contains("activations for a batch of 16777216"), "{e}");
        assert!(available_memory().is_none_or(|b| b > 0));
    }

    #[test]
    fn the_estimate_counts_every_weight_and_buffer_a_built_model_has() {
        use rand::SeedableRng;
        let mlp = crate::nn::models::mlp(&[16], crate::nn::ActivationKind::Relu, 0.1, true, 10);
        let models = ["lenet5", "resnet20", "alexnet", "inception", "fastnet"]
            .map(|n| (n, crate::nn::models::named(n, 10).expect("built in")));
        let residual = ModelSpec::sequence(vec![
            LayerSpec::Residual {
                out_channels: 8,
                stride: 2,
            },
            LayerSpec::Residual {
                out_channels: 8,
                stride: 1,
            },
            LayerSpec::GlobalAvgPool,
            LayerSpec::Linear {
                out_features: 10,
                bias: true,
                init: Default::default(),
            },
        ]);
        let extra = [("mlp", mlp), ("residual", residual)];
        for (name, spec) in models.into_iter().chain(extra) {
            let shape = if name == "lenet5" || name == "mlp" {
                [1, 28, 28]
            } else {
                [3, 32, 32]
            };
            let costs = spec.estimate(&shape, 10).expect("fits");
            let mut model = spec
                .build(&shape, 10, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))
                .expect("builds");
            let values: usize = super::super::checkpoint::model_tensors(&mut model)
                .iter()
                .map(|(_, t)| t.numel())
                .sum();
            let estimated: usize = costs.iter().map(|c| c.parameters).sum();
            assert_eq!(estimated, values, "{name}");
            assert_eq!(costs.last().map(|c| c.activations), Some(10), "{name}");
        }
    }
}
