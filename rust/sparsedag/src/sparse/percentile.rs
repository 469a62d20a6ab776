//! The q-th percentile with linear interpolation, bit for bit as NumPy's default
//! (`numpy.percentile(values, q)`, method "linear"): with the values sorted ascending and
//! h = (n - 1) * (q / 100), take a = v[floor h], b = v[floor h + 1], g = h - floor h and return
//! a + (b - a) g if g < 0.5, else b - (b - a)(1 - g); h >= n - 1 gives the largest value.
//! Selection (`select_nth_unstable`) finds a and b in linear time instead of sorting.

use crate::error::{invalid, Result};

/// The percentile of `values` (reordered in place). `values` must be non-empty and finite and
/// `q` must lie in [0, 100].
pub fn percentile_linear(values: &mut [f64], q: f64) -> Result<f64> {
    check_percentile(q)?;
    let n = values.len();
    if n == 0 {
        return invalid("the percentile of an empty set is undefined");
    }
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return invalid(format!("values[{k}] = {} is not finite", values[k]));
    }
    let h = (n - 1) as f64 * (q / 100.0);
    if h >= (n - 1) as f64 {
        return Ok(values.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    let lower = h.floor();
    let gamma = h - lower;
    let i = lower as usize;
    let (_, &mut a, above) = values.select_nth_unstable_by(i, f64::total_cmp);
    let b = above.iter().copied().fold(f64::INFINITY, f64::min);
    let diff = b - a;
    Ok(if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    })
}

pub(crate) fn check_percentile(q: f64) -> Result<()> {
    if q.is_finite() && (0.0..=100.0).contains(&q) {
        Ok(())
    } else {
        invalid(format!("the percentile must lie in [0, 100], got {q}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_on_known_values() {
        // numpy.percentile([1, 2, 3, 4], q) for q = 0, 20, 50, 75, 100
        let cases = [
            (0.0, 1.0),
            (20.0, 1.6),
            (50.0, 2.5),
            (75.0, 3.25),
            (100.0, 4.0),
        ];
        for (q, expected) in cases {
            let mut v = vec![4.0, 1.0, 3.0, 2.0];
            let got = percentile_linear(&mut v, q).unwrap();
            assert!((got - expected).abs() < 1e-12, "q {q}: {got}");
        }
        assert_eq!(percentile_linear(&mut [7.0], 30.0).unwrap(), 7.0);
        assert!(percentile_linear(&mut [], 30.0).is_err());
        assert!(percentile_linear(&mut [1.0], 101.0).is_err());
    }
}
