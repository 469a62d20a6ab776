//! Activation functions, one per neuron, applied to a whole batch row.

use crate::error::{invalid, Result};

/// Slope of `leaky_relu` for negative inputs.
pub const LEAKY_SLOPE: f32 = 0.01;

/// The all-ReLU slope of hidden layer `hidden_layer` (0 = the first hidden layer): -alpha on
/// even layers, +alpha on odd ones, as Curci, Mocanu and Pechenizkiy alternate it.
pub fn all_relu_slope(hidden_layer: usize, alpha: f32) -> f32 {
    if hidden_layer % 2 == 0 {
        -alpha
    } else {
        alpha
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    Identity,
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
    /// All-ReLU (Curci, Mocanu, Pechenizkiy): z for z >= 0, else `slope * z`. The slope is
    /// fixed, alternating -alpha, +alpha, ... across hidden layers (set by the plan).
    AllRelu {
        slope: f32,
    },
}

impl Activation {
    /// Names in code order: the code of an activation is its index here.
    pub const NAMES: [&'static str; 6] = [
        "identity",
        "relu",
        "leaky_relu",
        "tanh",
        "sigmoid",
        "all_relu",
    ];
    pub const ALL_RELU_CODE: u8 = 5;

    pub fn code(self) -> u8 {
        match self {
            Activation::Identity => 0,
            Activation::Relu => 1,
            Activation::LeakyRelu => 2,
            Activation::Tanh => 3,
            Activation::Sigmoid => 4,
            Activation::AllRelu { .. } => 5,
        }
    }

    /// The activation of a code; all-ReLU takes its slope from the caller.
    pub fn from_code(code: u8, all_relu_slope: f32) -> Result<Activation> {
        Ok(match code {
            0 => Activation::Identity,
            1 => Activation::Relu,
            2 => Activation::LeakyRelu,
            3 => Activation::Tanh,
            4 => Activation::Sigmoid,
            5 => Activation::AllRelu {
                slope: all_relu_slope,
            },
            _ => {
                return invalid(format!(
                    "unknown activation code {code}; codes 0..{} name {}",
                    Self::NAMES.len(),
                    Self::NAMES.join(", ")
                ))
            }
        })
    }

    pub fn from_name(name: &str) -> Result<Activation> {
        match Self::NAMES.iter().position(|&n| n == name) {
            Some(code) => Self::from_code(code as u8, -0.6),
            None => invalid(format!(
                "unknown activation {name:?}; choose one of {}",
                Self::NAMES.join(", ")
            )),
        }
    }

    /// `a = f(z)`, elementwise.
    pub fn apply(self, z: &[f32], a: &mut [f32]) {
        let pairs = a.iter_mut().zip(z);
        match self {
            Activation::Identity => a.copy_from_slice(z),
            Activation::Relu => pairs.for_each(|(a, &z)| *a = z.max(0.0)),
            Activation::LeakyRelu => {
                pairs.for_each(|(a, &z)| *a = if z >= 0.0 { z } else { LEAKY_SLOPE * z })
            }
            Activation::AllRelu { slope } => {
                pairs.for_each(|(a, &z)| *a = if z >= 0.0 { z } else { slope * z })
            }
            Activation::Tanh => pairs.for_each(|(a, &z)| *a = z.tanh()),
            Activation::Sigmoid => pairs.for_each(|(a, &z)| *a = sigmoid(z)),
        }
    }

    /// `grad *= f'(z)`, elementwise (turns dL/da into dL/dz).
    pub fn backprop(self, z: &[f32], grad: &mut [f32]) {
        // Selects rather than branches, so that the loops vectorise.
        let pairs = grad.iter_mut().zip(z);
        match self {
            Activation::Identity => {}
            Activation::Relu => pairs.for_each(|(g, &z)| *g = if z > 0.0 { *g } else { 0.0 }),
            Activation::LeakyRelu => {
                pairs.for_each(|(g, &z)| *g *= if z < 0.0 { LEAKY_SLOPE } else { 1.0 })
            }
            Activation::AllRelu { slope } => {
                pairs.for_each(|(g, &z)| *g *= if z < 0.0 { slope } else { 1.0 })
            }
            Activation::Tanh => pairs.for_each(|(g, &z)| {
                let t = z.tanh();
                *g *= 1.0 - t * t
            }),
            Activation::Sigmoid => pairs.for_each(|(g, &z)| {
                let s = sigmoid(z);
                *g *= s * (1.0 - s)
            }),
        }
    }
}

#[inline]
fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        let zs: Vec<f32> = vec![-2.0, -0.5, -0.01, 0.3, 1.7];
        for code in 0..6u8 {
            let f = Activation::from_code(code, -0.6).unwrap();
            let mut grad = vec![1.0f32; zs.len()];
            f.backprop(&zs, &mut grad);
            for (i, &z) in zs.iter().enumerate() {
                let h = 1e-3f32;
                let mut hi = [0.0f32];
                let mut lo = [0.0f32];
                f.apply(&[z + h], &mut hi);
                f.apply(&[z - h], &mut lo);
                let fd = (hi[0] - lo[0]) / (2.0 * h);
                assert!(
                    (fd - grad[i]).abs() < 2e-3,
                    "{f:?} at {z}: {fd} vs {}",
                    grad[i]
                );
            }
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_fail() {
        for (code, name) in Activation::NAMES.iter().enumerate() {
            assert_eq!(Activation::from_name(name).unwrap().code(), code as u8);
        }
        assert!(Activation::from_name("gelu").is_err());
        assert!(Activation::from_code(9, 0.0).is_err());
    }
}
