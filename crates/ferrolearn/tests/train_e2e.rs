//! End-to-end training on a slice of the bundled MNIST: the loss falls, accuracy clears a
//! floor, and a run resumed from its checkpoint ends with the same weights as an
//! uninterrupted one.

use std::path::PathBuf;

use ferrolearn::data::{load, Dataset, DatasetName};
use ferrolearn::nn::models::{lenet5, mlp};
use ferrolearn::nn::spec::ModelSpec;
use ferrolearn::nn::ActivationKind;
use ferrolearn::train::{
    checkpoint::model_tensors, BatchProgress, OptimizerConfig, Silent, TrainConfig, TrainObserver,
    Trainer,
};

fn mnist_slice(train: usize, test: usize) -> (Dataset, Dataset) {
    let sets = load(DatasetName::Mnist, None).expect("bundled MNIST");
    let first = |d: &Dataset, n: usize| d.subset(&(0..n).collect::<Vec<_>>());
    (first(&sets.train, train), first(&sets.test, test))
}

fn config(
    model: ModelSpec,
    epochs: usize,
    optimizer: OptimizerConfig,
    train: &Dataset,
) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 32,
        optimizer,
        normalize: true,
        seed: 7,
        ..TrainConfig::new("test", model, "mnist", train)
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrolearn-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn lenet5_learns_a_slice_of_mnist() {
    // 3000 images, 3 epochs of batch 32: about 280 steps.
    let (train, test) = mnist_slice(3000, 1000);
    let sgd = OptimizerConfig::Sgd {
        lr: 0.01,
        momentum: 0.9,
        nesterov: false,
        weight_decay: 0.0,
    };
    let mut trainer = Trainer::new(config(lenet5(10), 3, sgd, &train), &train).unwrap();
    let before = trainer.evaluate(&test).unwrap();
    trainer.fit(&train, None, None, &mut Silent).unwrap();
    let history = trainer.history();
    assert!(
        history[2].train_loss < 0.5 * history[0].train_loss,
        "loss did not fall: {history:?}"
    );
    let after = trainer.evaluate(&test).unwrap();
    assert!(
        after.loss < before.loss,
        "test loss {} -> {}",
        before.loss,
        after.loss
    );
    assert!(
        after.accuracy >= 0.93,
        "test accuracy {} below the 93% floor",
        after.accuracy
    );
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
fn resumed_run_ends_with_the_same_weights() {
    let (train, _) = mnist_slice(1000, 10);
    let spec = mlp(&[32], ActivationKind::Relu, 0.2, true, 10);
    let adam = OptimizerConfig::Adam {
        lr: 1e-3,
        weight_decay: 0.0,
    };
    let straight_dir = temp_dir("straight");
    let mut straight = Trainer::new(config(spec.clone(), 3, adam.clone(), &train), &train).unwrap();
    straight
        .fit(&train, None, Some(&straight_dir), &mut Silent)
        .unwrap();

    let split_dir = temp_dir("split");
    let mut first = Trainer::new(config(spec, 3, adam, &train), &train).unwrap();
    // Kill the run in the middle of its second epoch.
    let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        first.fit(
            &train,
            None,
            Some(&split_dir),
            &mut KillAt {
                epoch: 2,
                batch: 10,
            },
        )
    }));
    assert!(killed.is_err(), "the simulated kill did not happen");
    drop(first);
    let mut resumed = Trainer::resume(&split_dir).unwrap();
    assert_eq!(
        resumed.history().len(),
        1,
        "the checkpoint should hold one finished epoch"
    );
    resumed
        .fit(&train, None, Some(&split_dir), &mut Silent)
        .unwrap();

    assert_eq!(straight.history().len(), resumed.history().len());
    for ((name, a), (_, b)) in model_tensors(straight.model_mut())
        .iter()
        .zip(&model_tensors(resumed.model_mut()))
    {
        assert_eq!(a.data(), b.data(), "{name} differs after resume");
    }
    for (a, b) in straight.history().iter().zip(resumed.history()) {
        assert_eq!(a.train_loss, b.train_loss);
    }
    std::fs::remove_dir_all(&straight_dir).unwrap();
    std::fs::remove_dir_all(&split_dir).unwrap();
}
