//! The fast-training recipe end to end on a slice of MNIST: label smoothing, a per-step
//! warm-up/decay schedule, Nesterov SGD with weight decay off the biases and batch-norm
//! parameters, and a moving average of the weights; a run killed mid-epoch and resumed must
//! end bit for bit where an uninterrupted one does, average included, and `load_run` must
//! read back the averaged weights.

use std::path::PathBuf;

use ferrolearn::data::{load, DatasetName};
use ferrolearn::nn::models::mlp;
use ferrolearn::nn::ActivationKind;
use ferrolearn::train::checkpoint::model_tensors;
use ferrolearn::train::{
    load_run, BatchProgress, EmaConfig, OptimizerConfig, ScheduleConfig, Silent, TrainConfig,
    TrainObserver, Trainer, Tta,
};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrolearn-recipe-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn recipe(train: &ferrolearn::data::Dataset) -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 50,
        optimizer: OptimizerConfig::Sgd {
            lr: 0.05,
            momentum: 0.85,
            nesterov: true,
            weight_decay: 5e-3,
        },
        schedule: ScheduleConfig::WarmupLinear {
            warmup: 0.2,
            final_factor: 0.07,
            start_factor: 0.0,
        },
        normalize: true,
        seed: 11,
        label_smoothing: 0.2,
        no_decay_norm_bias: true,
        ema: Some(EmaConfig {
            decay: 0.9,
            every: 2,
            lookahead: false,
        }),
        final_tta: Tta::Flip,
        test_limit: Some(100),
        ..TrainConfig::new(
            "recipe",
            mlp(&[32], ActivationKind::Relu, 0.0, true, 10),
            "mnist",
            train,
        )
    }
}

/// Aborts training (as a kill would) after a given batch.
struct KillAt {
    epoch: usize,
    batch: usize,
}

impl TrainObserver for KillAt {
    fn on_batch(&mut self, p: &BatchProgress) {
        if p.epoch == self.epoch && p.batches_done == self.batch {
            panic!("simulated kill");
        }
    }
}

#[test]
fn recipe_run_learns_and_resumes_exactly() {
    let sets = load(DatasetName::Mnist, None).expect("bundled MNIST");
    let train = sets.train.subset(&(0..1000).collect::<Vec<_>>());
    let test = sets.test.subset(&(0..300).collect::<Vec<_>>());

    let straight_dir = temp_dir("straight");
    let mut straight = Trainer::new(recipe(&train), &train).unwrap();
    straight
        .fit(&train, None, Some(&straight_dir), &mut Silent)
        .unwrap();
    let history = straight.history();
    assert!(
        history[2].train_loss < 0.7 * history[0].train_loss,
        "loss did not fall: {history:?}"
    );
    // The per-step warm-up: the first step trains at rate 0, later epochs start higher.
    assert_eq!(history[0].lr, 0.0);
    assert!(history[1].lr > 0.0);
    let ema = straight.ema().expect("average kept");
    assert_eq!(ema.updates(), 3 * 20 / 2);
    let final_eval = straight.evaluate_final(&test).unwrap();
    assert_eq!(final_eval.predictions.len(), 100, "test limit");
    assert!(final_eval.accuracy > 0.6, "{}", final_eval.accuracy);

    let split_dir = temp_dir("split");
    let mut first = Trainer::new(recipe(&train), &train).unwrap();
    let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        first.fit(
            &train,
            None,
            Some(&split_dir),
            &mut KillAt { epoch: 2, batch: 7 },
        )
    }));
    assert!(killed.is_err(), "the simulated kill did not happen");
    drop(first);
    let mut resumed = Trainer::resume(&split_dir).unwrap();
    assert_eq!(resumed.steps_done(), 20);
    resumed
        .fit(&train, None, Some(&split_dir), &mut Silent)
        .unwrap();
    for ((name, a), (_, b)) in model_tensors(straight.model_mut())
        .iter()
        .zip(&model_tensors(resumed.model_mut()))
    {
        assert_eq!(a.data(), b.data(), "{name} differs after resume");
    }
    assert_eq!(
        straight.ema().unwrap().averages(),
        resumed.ema().unwrap().averages(),
        "the average differs after resume"
    );
    for (a, b) in straight.history().iter().zip(resumed.history()) {
        assert_eq!((a.train_loss, a.lr), (b.train_loss, b.lr));
    }

    // The run directory's weights are the average: evaluating them equals the trainer's
    // (averaged) evaluation, and differs from the live weights'.
    let mut loaded = load_run(&straight_dir).unwrap();
    let averaged = straight.evaluate(&test).unwrap();
    let from_dir =
        ferrolearn::train::evaluate(&mut loaded.model, &test, loaded.normalizer.as_ref()).unwrap();
    assert_eq!(averaged.predictions, from_dir.predictions);
    assert_eq!(averaged.loss, from_dir.loss);
    let live = ferrolearn::train::evaluate(straight.model_mut(), &test, loaded.normalizer.as_ref())
        .unwrap();
    assert_ne!(
        live.loss, averaged.loss,
        "the average equals the live weights"
    );
    std::fs::remove_dir_all(&straight_dir).unwrap();
    std::fs::remove_dir_all(&split_dir).unwrap();
}
