//! A sparse layer: CSR by output neuron. Row `j` lists the inputs of neuron `j` in
//! `indices[offsets[j]..offsets[j + 1]]`, sorted and without duplicates, with the weight and the
//! optimiser state (momentum) of each connection at the same position. Persistent state is
//! 12 bytes per connection (u32 index, f32 weight, f32 momentum) plus 8 bytes per neuron.

use crate::error::{invalid, Result};

/// An owned sparse layer of `n_out` neurons reading `n_in` inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseLayer {
    pub n_in: usize,
    pub n_out: usize,
    pub offsets: Vec<u64>,
    pub indices: Vec<u32>,
    pub weights: Vec<f32>,
    pub momentum: Vec<f32>,
}

/// A borrowed, mutable sparse layer (for example numpy arrays updated in place). Operations
/// that keep the connection count (evolution) work on this view.
#[derive(Debug)]
pub struct LayerMut<'a> {
    pub n_in: usize,
    pub n_out: usize,
    pub offsets: &'a mut [u64],
    pub indices: &'a mut [u32],
    pub weights: &'a mut [f32],
    pub momentum: &'a mut [f32],
}

impl SparseLayer {
    /// Builds a layer from its arrays after checking every invariant (see [`check`]).
    pub fn from_parts(
        n_in: usize,
        n_out: usize,
        offsets: Vec<u64>,
        indices: Vec<u32>,
        weights: Vec<f32>,
        momentum: Vec<f32>,
    ) -> Result<Self> {
        check(n_in, n_out, &offsets, &indices, &weights, &momentum)?;
        Ok(SparseLayer {
            n_in,
            n_out,
            offsets,
            indices,
            weights,
            momentum,
        })
    }

    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    pub fn row(&self, j: usize) -> std::ops::Range<usize> {
        self.offsets[j] as usize..self.offsets[j + 1] as usize
    }

    pub fn view_mut(&mut self) -> LayerMut<'_> {
        LayerMut {
            n_in: self.n_in,
            n_out: self.n_out,
            offsets: &mut self.offsets,
            indices: &mut self.indices,
            weights: &mut self.weights,
            momentum: &mut self.momentum,
        }
    }

    /// Checks every invariant; see [`check`].
    pub fn check(&self) -> Result<()> {
        check(
            self.n_in,
            self.n_out,
            &self.offsets,
            &self.indices,
            &self.weights,
            &self.momentum,
        )
    }
}

impl LayerMut<'_> {
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    pub fn row(&self, j: usize) -> std::ops::Range<usize> {
        self.offsets[j] as usize..self.offsets[j + 1] as usize
    }

    pub fn check(&self) -> Result<()> {
        check(
            self.n_in,
            self.n_out,
            self.offsets,
            self.indices,
            self.weights,
            self.momentum,
        )
    }
}

/// Checks the layer dimensions (`n_in` in 1..=2^32-1, `n_out` >= 1), the offsets (length
/// `n_out + 1`, starting at 0, non-decreasing, ending at the connection count), the indices
/// (below `n_in`, strictly increasing within each row: sorted and without duplicates), the
/// array lengths and that every weight and momentum is finite.
pub fn check(
    n_in: usize,
    n_out: usize,
    offsets: &[u64],
    indices: &[u32],
    weights: &[f32],
    momentum: &[f32],
) -> Result<()> {
    check_dims(n_in, n_out)?;
    if offsets.len() != n_out + 1 {
        return invalid(format!(
            "offsets has length {}, expected n_out + 1 = {}",
            offsets.len(),
            n_out + 1
        ));
    }
    let nnz = indices.len();
    if weights.len() != nnz || momentum.len() != nnz {
        return invalid(format!(
            "indices, weights and momentum must have one length; got {}, {} and {}",
            nnz,
            weights.len(),
            momentum.len()
        ));
    }
    if offsets[0] != 0 {
        return invalid(format!("offsets[0] must be 0, got {}", offsets[0]));
    }
    if offsets[n_out] != nnz as u64 {
        return invalid(format!(
            "offsets[-1] = {} must equal the number of connections, {nnz}",
            offsets[n_out]
        ));
    }
    // Monotone offsets ending at nnz keep every row slice below in bounds.
    if let Some(j) = offsets.windows(2).position(|w| w[1] < w[0]) {
        return invalid(format!(
            "offsets must not decrease: offsets[{j}] = {} > offsets[{}] = {}",
            offsets[j],
            j + 1,
            offsets[j + 1]
        ));
    }
    for j in 0..n_out {
        let (start, end) = (offsets[j], offsets[j + 1]);
        let row = &indices[start as usize..end as usize];
        for (k, &i) in row.iter().enumerate() {
            if i as usize >= n_in {
                return invalid(format!(
                    "indices[{}] = {i} is out of range: inputs lie in 0..{n_in} (row {j})",
                    start as usize + k
                ));
            }
            if k > 0 && row[k - 1] >= i {
                let what = if row[k - 1] == i {
                    "duplicate connection"
                } else {
                    "indices not sorted"
                };
                return invalid(format!(
                    "{what} in row {j}: input {} then {i} at indices[{}]; each row must list \
                     its inputs in strictly increasing order",
                    row[k - 1],
                    start as usize + k
                ));
            }
        }
    }
    check_finite(weights, "weights")?;
    check_finite(momentum, "momentum")
}

pub(crate) fn check_dims(n_in: usize, n_out: usize) -> Result<()> {
    if n_in == 0 || n_out == 0 {
        return invalid(format!(
            "a layer needs at least one input and one output, got n_in = {n_in}, n_out = {n_out}"
        ));
    }
    if n_in > u32::MAX as usize || n_out > u32::MAX as usize {
        return invalid(format!(
            "layer sizes must be below 2**32, got n_in = {n_in}, n_out = {n_out}"
        ));
    }
    Ok(())
}

fn check_finite(values: &[f32], name: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(k) => invalid(format!(
            "{name}[{k}] = {} is not finite; NaN and infinite values are not allowed",
            values[k]
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> SparseLayer {
        SparseLayer {
            n_in: 3,
            n_out: 2,
            offsets: vec![0, 2, 3],
            indices: vec![0, 2, 1],
            weights: vec![0.5, -0.5, 1.0],
            momentum: vec![0.0; 3],
        }
    }

    #[test]
    fn accepts_a_valid_layer() {
        tiny().check().unwrap();
    }

    #[test]
    fn rejects_each_broken_invariant() {
        let mut l = tiny();
        l.indices[1] = 0;
        assert!(l.check().unwrap_err().to_string().contains("duplicate"));
        let mut l = tiny();
        l.indices.swap(0, 1);
        assert!(l.check().unwrap_err().to_string().contains("not sorted"));
        let mut l = tiny();
        l.indices[2] = 3;
        assert!(l.check().unwrap_err().to_string().contains("out of range"));
        let mut l = tiny();
        l.weights[0] = f32::NAN;
        assert!(l.check().unwrap_err().to_string().contains("not finite"));
        let mut l = tiny();
        l.offsets = vec![0, 4, 3];
        assert!(l
            .check()
            .unwrap_err()
            .to_string()
            .contains("must not decrease"));
        let mut l = tiny();
        l.momentum.pop();
        assert!(l.check().is_err());
    }
}
