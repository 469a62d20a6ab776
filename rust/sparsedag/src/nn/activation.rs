//! Activation functions, one per neuron, applied to a whole batch row.

use crate::error::{invalid, Result};

/// Slope of `leaky_relu` for negative inputs.
pub const LEAKY_SLOPE: f32 = 0.01;

/// The all-ReLU slope of hidden layer `hidden_layer` (0 = the first hidden layer): -alpha on
/// even layers, +alpha on odd ones, as Curci, Mocanu and Pechenizkiy alternate it.
pub fn all_relu_slope(hidden_layer: usize, alpha: f32) -> f32 {
    if hidden_layer.is_multiple_of(2) {
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
    #[inline]
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

    /// `a = f(a)`, elementwise, in place (bit-identical to [`Activation::apply`]).
    #[inline]
    pub fn apply_in_place(self, a: &mut [f32]) {
        match self {
            Activation::Identity => {}
            Activation::Relu => a.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::LeakyRelu => a
                .iter_mut()
                .for_each(|v| *v = if *v >= 0.0 { *v } else { LEAKY_SLOPE * *v }),
            Activation::AllRelu { slope } => a
                .iter_mut()
                .for_each(|v| *v = if *v >= 0.0 { *v } else { slope * *v }),
            Activation::Tanh => a.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Sigmoid => a.iter_mut().for_each(|v| *v = sigmoid(*v)),
        }
    }

    /// Whether `backprop` needs the pre-activation z. Otherwise [`Activation::backprop_from_output`]
    /// gives the same bits from the output a = f(z) (`scaled`: a was multiplied by a positive
    /// dropout factor after f, which keeps signs but not values).
    pub fn needs_input(self, scaled: bool) -> bool {
        match self {
            Activation::Identity | Activation::Relu => false,
            Activation::Tanh | Activation::Sigmoid => scaled,
            // Both branches can give the same sign (negative slope), and a tiny negative z
            // can round to -0.0.
            Activation::LeakyRelu | Activation::AllRelu { .. } => true,
        }
    }

    /// `grad *= f'(z)` computed from a = f(z) (see [`Activation::needs_input`]).
    #[inline]
    pub fn backprop_from_output(self, a: &[f32], grad: &mut [f32]) {
        let pairs = grad.iter_mut().zip(a);
        match self {
            Activation::Identity => {}
            // a > 0 exactly when z > 0, also after a positive dropout scale.
            Activation::Relu => pairs.for_each(|(g, &a)| *g = if a > 0.0 { *g } else { 0.0 }),
            Activation::Tanh => pairs.for_each(|(g, &t)| *g *= 1.0 - t * t),
            Activation::Sigmoid => pairs.for_each(|(g, &s)| *g *= s * (1.0 - s)),
            Activation::LeakyRelu | Activation::AllRelu { .. } => {
                unreachable!("needs_input holds for {self:?}")
            }
        }
    }

    /// `grad *= f'(z)`, elementwise (turns dL/da into dL/dz).
    #[inline]
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
    fn output_forms_equal_the_input_forms() {
        // Opaque inputs: constant folding may evaluate tanh differently from libm.
        let zs: Vec<f32> =
            std::hint::black_box(vec![-2.0, -0.5, -0.0, 0.0, 1e-40, -1e-40, 0.3, 1.7]);
        for code in 0..6u8 {
            let f = Activation::from_code(code, -0.6).unwrap();
            let mut a = vec![0.0f32; zs.len()];
            f.apply(&zs, &mut a);
            let mut in_place = zs.clone();
            f.apply_in_place(&mut in_place);
            assert_eq!(
                a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                in_place.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{f:?}"
            );
            if !f.needs_input(false) {
                let mut from_z = vec![0.7f32; zs.len()];
                f.backprop(&zs, &mut from_z);
                let mut from_a = vec![0.7f32; zs.len()];
                f.backprop_from_output(&a, &mut from_a);
                assert_eq!(from_z, from_a, "{f:?}");
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
