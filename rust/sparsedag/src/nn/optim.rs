//! Optimisers, applied one parameter at a time so that the update can be fused into the
//! backward pass (no gradient array is ever stored). Weight decay is the L2 form: `g += wd * w`.

use crate::error::{invalid, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Sgd,
    /// Heavy-ball momentum as PyTorch applies it: `v = mu v + g; w -= lr v`.
    Momentum {
        momentum: f32,
    },
    /// Adam (Kingma & Ba) with bias correction.
    Adam {
        beta1: f32,
        beta2: f32,
        eps: f32,
    },
}

impl Kind {
    pub fn parse(name: &str, momentum: f32) -> Result<Kind> {
        match name {
            "sgd" => Ok(Kind::Sgd),
            "momentum" => Ok(Kind::Momentum { momentum }),
            "adam" => Ok(Kind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            }),
            _ => invalid(format!(
                "unknown optimizer {name:?}; choose \"sgd\", \"momentum\" or \"adam\""
            )),
        }
    }

    /// Floats of state the optimiser keeps per parameter.
    pub fn slots(self) -> usize {
        match self {
            Kind::Sgd => 0,
            Kind::Momentum { .. } => 1,
            Kind::Adam { .. } => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optimizer {
    pub kind: Kind,
    pub lr: f32,
    pub weight_decay: f32,
}

impl Optimizer {
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return invalid(format!("lr must be a positive number, got {}", self.lr));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return invalid(format!(
                "weight_decay must be a non-negative number, got {}",
                self.weight_decay
            ));
        }
        if let Kind::Momentum { momentum } = self.kind {
            if !(0.0..1.0).contains(&momentum) {
                return invalid(format!("momentum must lie in [0, 1), got {momentum}"));
            }
        }
        Ok(())
    }
}

/// Optimiser state of every weight and bias, and the step count.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub kind: Kind,
    pub weight_slots: [Vec<f32>; 2],
    pub bias_slots: [Vec<f32>; 2],
    pub steps: u64,
}

impl State {
    pub fn new(kind: Kind, weights: usize, biases: usize) -> State {
        let slots = kind.slots();
        let make = |n: usize, k: usize| if k < slots { vec![0.0; n] } else { Vec::new() };
        State {
            kind,
            weight_slots: [make(weights, 0), make(weights, 1)],
            bias_slots: [make(biases, 0), make(biases, 1)],
            steps: 0,
        }
    }

    pub fn bytes(&self) -> usize {
        4 * (self.weight_slots[0].len()
            + self.weight_slots[1].len()
            + self.bias_slots[0].len()
            + self.bias_slots[1].len())
    }
}

/// The scalars of one step, computed once per batch.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub optimizer: Optimizer,
    /// Adam's bias corrections 1 - beta^t.
    correction1: f32,
    correction2: f32,
}

impl Step {
    /// The step that follows `steps` completed ones.
    pub fn new(optimizer: Optimizer, steps: u64) -> Step {
        let t = (steps + 1) as i32;
        let (correction1, correction2) = match optimizer.kind {
            Kind::Adam { beta1, beta2, .. } => (1.0 - beta1.powi(t), 1.0 - beta2.powi(t)),
            _ => (1.0, 1.0),
        };
        Step {
            optimizer,
            correction1,
            correction2,
        }
    }

    /// Updates one parameter from its gradient; `s0`/`s1` are its state slots (unused ones
    /// are ignored).
    #[inline]
    pub fn update(&self, w: &mut f32, gradient: f32, s0: &mut f32, s1: &mut f32) {
        match self.optimizer.kind {
            Kind::Sgd => self.sgd(w, gradient),
            Kind::Momentum { momentum } => self.momentum(momentum, w, gradient, s0),
            Kind::Adam { beta1, beta2, eps } => self.adam(beta1, beta2, eps, w, gradient, s0, s1),
        }
    }

    /// [`Step::update`] on every parameter of a slice (the same operations, one dispatch);
    /// a slot slice the optimiser does not use may be empty.
    #[inline]
    pub fn update_slice(&self, w: &mut [f32], gradients: &[f32], s0: &mut [f32], s1: &mut [f32]) {
        let n = w.len();
        assert_eq!(n, gradients.len());
        let params = w.iter_mut().zip(gradients);
        match self.optimizer.kind {
            Kind::Sgd => params.for_each(|(w, &g)| self.sgd(w, g)),
            Kind::Momentum { momentum } => {
                assert_eq!(s0.len(), n);
                for ((w, &g), s0) in params.zip(s0) {
                    self.momentum(momentum, w, g, s0);
                }
            }
            Kind::Adam { beta1, beta2, eps } => {
                assert!(s0.len() == n && s1.len() == n);
                for (((w, &g), s0), s1) in params.zip(s0).zip(s1) {
                    self.adam(beta1, beta2, eps, w, g, s0, s1);
                }
            }
        }
    }

    #[inline(always)]
    fn sgd(&self, w: &mut f32, gradient: f32) {
        let o = &self.optimizer;
        let g = gradient + o.weight_decay * *w;
        *w -= o.lr * g;
    }

    #[inline(always)]
    fn momentum(&self, momentum: f32, w: &mut f32, gradient: f32, s0: &mut f32) {
        let o = &self.optimizer;
        let g = gradient + o.weight_decay * *w;
        *s0 = momentum * *s0 + g;
        *w -= o.lr * *s0;
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn adam(
        &self,
        beta1: f32,
        beta2: f32,
        eps: f32,
        w: &mut f32,
        gradient: f32,
        s0: &mut f32,
        s1: &mut f32,
    ) {
        let o = &self.optimizer;
        let g = gradient + o.weight_decay * *w;
        *s0 = beta1 * *s0 + (1.0 - beta1) * g;
        *s1 = beta2 * *s1 + (1.0 - beta2) * g * g;
        let m = *s0 / self.correction1;
        let v = *s1 / self.correction2;
        *w -= o.lr * m / (v.sqrt() + eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_by_lr() {
        let opt = Optimizer {
            kind: Kind::parse("adam", 0.0).unwrap(),
            lr: 0.1,
            weight_decay: 0.0,
        };
        let step = Step::new(opt, 0);
        let (mut w, mut s0, mut s1) = (1.0f32, 0.0, 0.0);
        step.update(&mut w, 3.0, &mut s0, &mut s1);
        assert!((w - 0.9).abs() < 1e-6);
    }

    #[test]
    fn momentum_accumulates() {
        let opt = Optimizer {
            kind: Kind::Momentum { momentum: 0.5 },
            lr: 1.0,
            weight_decay: 0.0,
        };
        let step = Step::new(opt, 0);
        let (mut w, mut s0, mut s1) = (0.0f32, 0.0, 0.0);
        step.update(&mut w, 1.0, &mut s0, &mut s1);
        step.update(&mut w, 1.0, &mut s0, &mut s1);
        assert_eq!(w, -2.5);
        assert!(Kind::parse("rmsprop", 0.9).is_err());
        assert!(Optimizer { lr: -1.0, ..opt }.validate().is_err());
    }
}
