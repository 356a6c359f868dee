//! The flags of `ferrolearn train` that fast recipes use: label smoothing, per-step schedule
//! settings, weight-decay exclusion, the moving average of weights, test-time augmentation at
//! the end, a time budget and a test-image limit.

use ferrolearn::train::Tta;

/// Test-time augmentation choices (`--tta`).
#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum TtaArg {
    /// The image alone.
    None,
    /// Average the logits of the image and its mirror.
    Flip,
    /// Also the mirrored pair shifted one pixel up-left and down-right (reflect padding).
    FlipTranslate,
}

impl From<TtaArg> for Tta {
    fn from(t: TtaArg) -> Tta {
        match t {
            TtaArg::None => Tta::None,
            TtaArg::Flip => Tta::Flip,
            TtaArg::FlipTranslate => Tta::FlipTranslate,
        }
    }
}

/// Flags of the fast-training recipe, flattened into `ferrolearn train`'s.
#[derive(clap::Args)]
pub struct RecipeArgs {
    /// Label smoothing of the training loss, in [0, 1] (PyTorch's `label_smoothing`).
    #[arg(long, default_value_t = 0.0)]
    pub(super) label_smoothing: f64,
    /// Per-step schedules: fraction of the run spent warming up (default 0.23 for
    /// warmup-linear, 0.05 for warmup-cosine, 0.3 for one-cycle's pct_start).
    #[arg(long)]
    pub(super) warmup: Option<f64>,
    /// warmup-linear / warmup-cosine: the last rate as a fraction of --lr (default 0.07 and 0).
    #[arg(long)]
    pub(super) final_lr_factor: Option<f64>,
    /// warmup-linear / warmup-cosine: the first rate as a fraction of --lr.
    #[arg(long, default_value_t = 0.0)]
    pub(super) warmup_start: f64,
    /// multi-step: fractions of the run where the rate is multiplied by --gamma.
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.75")]
    pub(super) milestones: Vec<f64>,
    /// one-cycle: the first rate is --lr divided by this.
    #[arg(long, default_value_t = 25.0)]
    pub(super) div_factor: f64,
    /// one-cycle: the last rate is the first divided by this.
    #[arg(long, default_value_t = 1e4)]
    pub(super) final_div_factor: f64,
    /// No weight decay on parameters with at most one dimension (biases, batch-norm scales).
    #[arg(long)]
    pub(super) no_decay_norm_bias: bool,
    /// Multiply the gradients of batch-norm biases by this before each step (airbench's
    /// bias_scaler: with SGD, a learning rate this many times larger for them at the same
    /// decay per step).
    #[arg(long, default_value_t = 1.0)]
    pub(super) norm_bias_grad_scale: f64,
    /// Evaluate with an exponential moving average of the weights of this decay per update
    /// (e.g. 0.99); validation, the final test and `eval`/`predict` use it.
    #[arg(long)]
    pub(super) ema_decay: Option<f64>,
    /// Optimizer steps between updates of the moving average.
    #[arg(long, default_value_t = 1)]
    pub(super) ema_every: u64,
    /// Make the moving average a lookahead (airbench's): each update is written back into
    /// the weights, its decay grows as --ema-decay * (step / steps)^3, and training ends on
    /// the average.
    #[arg(long)]
    pub(super) ema_lookahead: bool,
    /// Train the bias of the model's patch-whitening first layer during the first N epochs
    /// only (airbench: 3).
    #[arg(long, value_name = "N")]
    pub(super) whitening_bias_epochs: Option<usize>,
    /// Test-time augmentation of the final evaluation.
    #[arg(long, value_enum, default_value = "none")]
    pub(super) tta: TtaArg,
    /// Fit the number of steps so training and the final evaluation end inside this budget
    /// (e.g. 30m, 2h, 90s); --epochs then only sets the provisional length of the first steps.
    #[arg(long, value_name = "DURATION")]
    pub(super) time_budget: Option<String>,
    /// Evaluate only the first N test images at the end.
    #[arg(long, value_name = "N")]
    pub(super) test_limit: Option<usize>,
}
