//! A few training steps of each CIFAR-10 architecture on a slice of CIFAR-10 (found through
//! `FERROLEARN_DATA`, as CI sets it): the branching models train (the loss falls on a small
//! slice seen a few times), save and load back with the same names and predictions. Whole runs
//! and their accuracy belong to `ferrolearn bench` and the README, not to `cargo test`.

use ferrolearn::data::{load, Dataset, DatasetName};
use ferrolearn::nn::models::named;
use ferrolearn::train::{load_run, OptimizerConfig, Silent, TrainConfig, Trainer};

fn cifar_slice(n: usize) -> Dataset {
    let sets = load(DatasetName::Cifar10, None)
        .expect("CIFAR-10: set FERROLEARN_DATA to the directory holding cifar-10/");
    sets.train.subset(&(0..n).collect::<Vec<_>>())
}

/// Trains `name` for `epochs` over `n` images and returns the per-epoch training losses.
fn losses(name: &str, n: usize, epochs: usize, lr: f64) -> Vec<f64> {
    let train = cifar_slice(n);
    let config = TrainConfig {
        epochs,
        batch_size: 32,
        optimizer: OptimizerConfig::Sgd {
            lr,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.0,
        },
        normalize: true,
        seed: 3,
        ..TrainConfig::new(name, named(name, 10).unwrap(), "cifar-10", &train)
    };
    let mut trainer = Trainer::new(config, &train).unwrap();
    trainer.fit(&train, None, None, &mut Silent).unwrap();
    trainer.history().iter().map(|r| r.train_loss).collect()
}

#[test]
fn resnet_learns_a_slice_and_reloads() {
    let loss = losses("resnet8", 128, 6, 0.05);
    assert!(
        loss[5] < 0.8 * loss[0],
        "ResNet-8 loss did not fall: {loss:?}"
    );

    // Saved and loaded back: the same state_dict names and the same predictions.
    let train = cifar_slice(64);
    let config = TrainConfig {
        batch_size: 32,
        ..TrainConfig::new("resnet8", named("resnet8", 10).unwrap(), "cifar-10", &train)
    };
    let mut trainer = Trainer::new(config, &train).unwrap();
    trainer.fit(&train, None, None, &mut Silent).unwrap();
    let dir = std::env::temp_dir().join(format!("ferrolearn-cifar-{}", std::process::id()));
    trainer.save(&dir).unwrap();
    let before = trainer.evaluate(&train).unwrap();
    let mut run = load_run(&dir).unwrap();
    let after =
        ferrolearn::train::evaluate(&mut run.model, &train, run.normalizer.as_ref()).unwrap();
    assert_eq!(before.predictions, after.predictions);
    assert!((before.loss - after.loss).abs() < 1e-9);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fastnet_inception_and_alexnet_take_training_steps() {
    for (name, lr) in [("fastnet", 0.05), ("inception", 0.05), ("alexnet", 0.02)] {
        let loss = losses(name, 64, 4, lr);
        assert!(
            loss.iter().all(|l| l.is_finite()) && loss[3] < loss[0],
            "{name}: loss did not fall: {loss:?}"
        );
    }
}

/// The frozen filters of a model's patch-whitening layer (`0.weight`).
fn whitening_filters(model: &mut ferrolearn::nn::Sequential) -> Vec<f32> {
    use ferrolearn::nn::Module;
    let mut buffers = model.buffers_mut();
    let (_, w) = buffers.iter_mut().find(|(n, _)| n == "0.weight").unwrap();
    w.data().to_vec()
}

#[test]
fn airbench_fits_its_whitening_layer_trains_and_keeps_it_frozen() {
    let train = cifar_slice(64);
    let config = TrainConfig {
        epochs: 4,
        batch_size: 32,
        optimizer: OptimizerConfig::Sgd {
            lr: 0.05,
            momentum: 0.85,
            nesterov: true,
            weight_decay: 0.0,
        },
        normalize: true,
        seed: 3,
        norm_bias_grad_scale: 64.0,
        ..TrainConfig::new(
            "airbench",
            named("airbench", 10).unwrap(),
            "cifar-10",
            &train,
        )
    };
    let mut trainer = Trainer::new(config, &train).unwrap();
    let fitted = whitening_filters(trainer.model_mut());
    let drawn = whitening_filters(&mut trainer.config().build_model().unwrap());
    assert_ne!(fitted, drawn, "the whitening filters were not fitted");
    trainer.fit(&train, None, None, &mut Silent).unwrap();
    let loss: Vec<f64> = trainer.history().iter().map(|r| r.train_loss).collect();
    assert!(
        loss.iter().all(|l| l.is_finite()) && loss[3] < loss[0],
        "airbench: loss did not fall: {loss:?}"
    );
    assert_eq!(whitening_filters(trainer.model_mut()), fitted, "trained");

    // The fitted filters are saved with the run and come back with it.
    let dir = std::env::temp_dir().join(format!("ferrolearn-airbench-{}", std::process::id()));
    trainer.save(&dir).unwrap();
    let mut run = load_run(&dir).unwrap();
    assert_eq!(whitening_filters(&mut run.model), fitted);
    std::fs::remove_dir_all(&dir).unwrap();
}
