//! L1 and L2 penalties on parameters, as terms added to a loss.

/// A regularisation term on a parameter, added to the loss by the caller: its value goes into
/// the reported loss and its gradient into the parameter's gradient before the optimizer step.
///
/// Unlike an optimizer's `weight_decay`, a penalty is part of the objective, so it shows in the
/// loss and works with every optimizer (with Adam, L2 as a penalty and as `weight_decay` are
/// the same thing; AdamW's decoupled decay is not).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Penalty {
    /// `strength * sum |p|`, gradient `strength * sign(p)` (0 at p = 0): drives weights to
    /// exactly zero.
    L1(f32),
    /// `strength / 2 * sum p^2`, gradient `strength * p`: the same pull as
    /// `weight_decay = strength` in SGD.
    L2(f32),
}

impl Penalty {
    /// The penalty's value on one parameter (sums accumulate in `f64`).
    pub fn value(&self, param: &[f32]) -> f64 {
        match *self {
            Penalty::L1(s) => f64::from(s) * param.iter().map(|&p| f64::from(p.abs())).sum::<f64>(),
            Penalty::L2(s) => {
                0.5 * f64::from(s)
                    * param
                        .iter()
                        .map(|&p| f64::from(p) * f64::from(p))
                        .sum::<f64>()
            }
        }
    }

    /// Adds the penalty's gradient with respect to `param` into `grad`.
    ///
    /// # Panics
    /// When `param` and `grad` differ in length.
    pub fn add_grad(&self, param: &[f32], grad: &mut [f32]) {
        assert_eq!(
            param.len(),
            grad.len(),
            "penalty: parameter has {} elements but its gradient {}",
            param.len(),
            grad.len()
        );
        match *self {
            Penalty::L1(s) => {
                for (g, &p) in grad.iter_mut().zip(param) {
                    if p != 0.0 {
                        *g += s * p.signum();
                    }
                }
            }
            Penalty::L2(s) => {
                for (g, &p) in grad.iter_mut().zip(param) {
                    *g += s * p;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_gradients() {
        let p = [1.0f32, -2.0, 0.0];
        assert_eq!(Penalty::L1(0.5).value(&p), 1.5);
        assert_eq!(Penalty::L2(0.5).value(&p), 1.25);
        let mut g = [1.0f32; 3];
        Penalty::L1(0.5).add_grad(&p, &mut g);
        assert_eq!(g, [1.5, 0.5, 1.0]);
        let mut g = [0.0f32; 3];
        Penalty::L2(0.5).add_grad(&p, &mut g);
        assert_eq!(g, [0.5, -1.0, 0.0]);
    }

    #[test]
    fn l2_gradient_matches_central_difference() {
        let p = [0.7f32, -1.3];
        let pen = Penalty::L2(0.3);
        let mut g = [0.0f32; 2];
        pen.add_grad(&p, &mut g);
        let h = 1e-3f32;
        for i in 0..2 {
            let (mut up, mut down) = (p, p);
            up[i] += h;
            down[i] -= h;
            let numeric = (pen.value(&up) - pen.value(&down)) / (2.0 * f64::from(h));
            assert!(
                (numeric - f64::from(g[i])).abs() < 1e-4,
                "{numeric} vs {}",
                g[i]
            );
        }
    }
}
