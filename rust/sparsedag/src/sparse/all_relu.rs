//! All-ReLU (Curci, Mocanu, Pechenizkiy 2021): f(z) = z for z >= 0, else slope * z, with a fixed
//! slope that alternates -alpha, +alpha, -alpha, ... across the hidden layers. The slice
//! functions here are the building blocks' view of the engine's own activation, so the rule
//! exists once.

pub use crate::nn::activation::all_relu_slope;
use crate::nn::Activation;

/// `out = f(z)`, elementwise.
pub fn all_relu(z: &[f32], slope: f32, out: &mut [f32]) {
    debug_assert_eq!(z.len(), out.len());
    Activation::AllRelu { slope }.apply(z, out);
}

/// `out = f'(z)`, elementwise: 1 for z >= 0 (the right derivative at 0), `slope` below 0.
pub fn all_relu_derivative(z: &[f32], slope: f32, out: &mut [f32]) {
    debug_assert_eq!(z.len(), out.len());
    for (o, &x) in out.iter_mut().zip(z) {
        *o = if x >= 0.0 { 1.0 } else { slope };
    }
}

/// `grad *= f'(z)`, elementwise: turns dL/da into dL/dz.
pub fn all_relu_backprop(z: &[f32], slope: f32, grad: &mut [f32]) {
    debug_assert_eq!(z.len(), grad.len());
    Activation::AllRelu { slope }.backprop(z, grad);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_alternate_and_the_derivative_matches_finite_differences() {
        assert_eq!(all_relu_slope(0, 0.6), -0.6);
        assert_eq!(all_relu_slope(1, 0.6), 0.6);
        assert_eq!(all_relu_slope(2, 0.75), -0.75);
        let z = [-2.0f32, -0.25, 0.0, 0.5, 3.0];
        for layer in 0..4 {
            let slope = all_relu_slope(layer, 0.6);
            let (mut f, mut d) = ([0.0f32; 5], [0.0f32; 5]);
            all_relu(&z, slope, &mut f);
            all_relu_derivative(&z, slope, &mut d);
            for k in 0..5 {
                let h = 1e-3f32;
                let (mut plus, mut minus) = ([0.0f32; 1], [0.0f32; 1]);
                all_relu(&[z[k] + h], slope, &mut plus);
                all_relu(&[z[k]], slope, &mut minus);
                let numeric = (plus[0] - minus[0]) / h;
                assert!((numeric - d[k]).abs() < 1e-2, "layer {layer} z {}", z[k]);
            }
            let mut g = [2.0f32; 5];
            all_relu_backprop(&z, slope, &mut g);
            for k in 0..5 {
                assert_eq!(g[k], 2.0 * d[k]);
            }
        }
    }
}
