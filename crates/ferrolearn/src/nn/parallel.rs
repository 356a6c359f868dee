//! Branches that see the same input, merged by sum (residual blocks) or by concatenation along
//! channels (Inception modules): what turns a chain of layers into a graph.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ActivationKind, Context, Module, Sequential};
use crate::autograd::Var;
use crate::tensor::{ShapeError, Tensor};

/// How a [`Parallel`] combines its branches' outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Merge {
    /// Elementwise sum: every branch gives the same shape (ResNet's `F(x) + shortcut(x)`).
    Sum,
    /// Concatenation along axis 1 (channels or features): spatial sizes must agree.
    Concat,
}

/// Branches applied to one input and merged, optionally followed by an activation.
///
/// Each branch is a [`Sequential`] whose layer names are already the full names under this
/// module (`conv1`, `shortcut.0`, or `1.0` for layer 0 of branch 1), so the parameters come out
/// as `state_dict` names such as `layer1.0.conv1.weight`. An empty branch is the identity.
pub struct Parallel {
    branches: Vec<Sequential>,
    merge: Merge,
    activation: Option<ActivationKind>,
}

impl Parallel {
    /// Branches merged by `merge`, then `activation` when given.
    ///
    /// # Panics
    /// With no branches: there is nothing to merge.
    pub fn new(
        branches: Vec<Sequential>,
        merge: Merge,
        activation: Option<ActivationKind>,
    ) -> Parallel {
        assert!(!branches.is_empty(), "parallel: needs at least one branch");
        Parallel {
            branches,
            merge,
            activation,
        }
    }
}

impl Module for Parallel {
    /// # Shapes
    /// `[N, ...]` -> for `Sum`, the branches' common shape; for `Concat`, `[N, sum of the
    /// branches' axis-1 sizes, ...]`.
    fn forward(&mut self, x: &Var, ctx: &mut Context) -> Var {
        let outputs: Vec<Var> = self
            .branches
            .iter_mut()
            .map(|b| b.forward(x, ctx))
            .collect();
        let merged = match self.merge {
            Merge::Sum => {
                let first = outputs[0].shape().to_vec();
                if let Some(o) = outputs.iter().find(|o| o.shape() != first) {
                    ShapeError::new(
                        "parallel sum",
                        format!("branch outputs {first:?} and {:?} differ", o.shape()),
                    )
                    .raise();
                }
                let mut sum = outputs[0].clone();
                for o in &outputs[1..] {
                    sum = sum.add(o);
                }
                sum
            }
            Merge::Concat => Var::cat(&outputs, 1),
        };
        match self.activation {
            Some(a) => a.apply(&merged),
            None => merged,
        }
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        self.branches.iter().flat_map(|b| b.parameters()).collect()
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        self.branches
            .iter_mut()
            .flat_map(|b| b.parameters_mut())
            .collect()
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        self.branches
            .iter_mut()
            .flat_map(|b| b.buffers_mut())
            .collect()
    }
}

impl fmt::Display for Parallel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Parallel(merge={:?}", self.merge)?;
        if let Some(a) = self.activation {
            write!(f, ", then {a:?}")?;
        }
        writeln!(f, ") [{} params]", self.num_parameters())?;
        for (k, branch) in self.branches.iter().enumerate() {
            if branch.is_empty() {
                writeln!(f, "  branch {k}: identity")?;
                continue;
            }
            writeln!(f, "  branch {k}:")?;
            for line in branch.to_string().lines().skip(1) {
                writeln!(f, "  {line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::init::Init;
    use crate::nn::{BatchNorm, Conv2d};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn residual_sum_and_concat_name_and_shape_their_outputs() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut body = Sequential::new();
        body.push_named(
            "conv1".into(),
            Box::new(Conv2d::new(
                4,
                4,
                1,
                1,
                0,
                false,
                Init::KaimingNormal,
                &mut rng,
            )),
        );
        body.push_named("bn1".into(), Box::new(BatchNorm::new(4)));
        let mut block = Parallel::new(
            vec![body, Sequential::new()],
            Merge::Sum,
            Some(ActivationKind::Relu),
        );
        let names: Vec<String> = block.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["conv1.weight", "bn1.weight", "bn1.bias"]);
        let x = Var::constant(Tensor::ones(&[2, 4, 5, 5]));
        let y = block.forward(&x, &mut Context::training(0));
        assert_eq!(y.shape(), &[2, 4, 5, 5]);
        // A 1x1 conv of a constant input is constant per channel, which batch norm maps to 0
        // (up to rounding amplified by 1/sqrt(eps)), so the block gives relu(0 + x) = x.
        assert!(y.value().data().iter().all(|&v| (v - 1.0).abs() < 1e-3));

        let mut one = Sequential::new();
        one.push_named(
            "0.0".into(),
            Box::new(Conv2d::new(
                4,
                2,
                1,
                1,
                0,
                true,
                Init::KaimingNormal,
                &mut rng,
            )),
        );
        let mut cat = Parallel::new(vec![one, Sequential::new()], Merge::Concat, None);
        assert_eq!(cat.forward(&x, &mut Context::eval()).shape(), &[2, 6, 5, 5]);
        assert_eq!(cat.parameters()[0].0, "0.0.weight");
    }
}
