//! The Erdős–Rényi initial topology of SET: each of the n_in x n_out possible connections exists
//! independently with probability p = epsilon (n_in + n_out) / (n_in n_out), capped at 1 (a
//! dense layer). Each row is sampled by geometric skipping, so the cost is O(nnz + n_out), never
//! n_in x n_out coin flips. Row j draws from its own random stream derived from (seed, j), so the
//! layer is the same for any thread count.

use rayon::prelude::*;

use super::init::Init;
use super::layer::{check_dims, SparseLayer};
use super::seeds::stream_rng;
use crate::cancel::Cancel;
use crate::error::{invalid, Error, Result};
use crate::rng::Rng;

/// The largest layer we agree to build: beyond this a 64-bit machine runs out of memory anyway,
/// and a clear error beats an allocation abort.
const MAX_EXPECTED_CONNECTIONS: f64 = (1u64 << 34) as f64;

/// Connections per parallel work item.
const CONNECTIONS_PER_CHUNK: f64 = 65_536.0;

/// p = epsilon (n_in + n_out) / (n_in n_out), capped at 1.
pub fn erdos_renyi_probability(n_in: usize, n_out: usize, epsilon: f64) -> Result<f64> {
    check_dims(n_in, n_out)?;
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return invalid(format!("epsilon must be a positive number, got {epsilon}"));
    }
    let p = epsilon * (n_in as f64 + n_out as f64) / (n_in as f64 * n_out as f64);
    Ok(p.min(1.0))
}

/// A new Erdős–Rényi sparse layer with weights from `init` and zero momentum.
pub fn erdos_renyi_layer(
    n_in: usize,
    n_out: usize,
    epsilon: f64,
    init: Init,
    seed: u64,
    cancel: &Cancel,
) -> Result<SparseLayer> {
    let p = erdos_renyi_probability(n_in, n_out, epsilon)?;
    let expected = p * n_in as f64 * n_out as f64;
    if expected > MAX_EXPECTED_CONNECTIONS {
        return Err(Error::TooLarge {
            what: "the expected connection count",
            value: expected as u64,
            limit: MAX_EXPECTED_CONNECTIONS as u64,
        });
    }
    let row_len = (p * n_in as f64).max(1.0);
    let rows_per_chunk = ((CONNECTIONS_PER_CHUNK / row_len) as usize).clamp(1, n_out);
    let n_chunks = n_out.div_ceil(rows_per_chunk);
    let chunks: Vec<RowChunk> = (0..n_chunks)
        .into_par_iter()
        .map(|c| {
            cancel.check()?;
            let rows = c * rows_per_chunk..((c + 1) * rows_per_chunk).min(n_out);
            Ok(RowChunk::sample(rows, n_in, n_out, p, init, seed))
        })
        .collect::<Result<_>>()?;

    let nnz: usize = chunks.iter().map(|c| c.indices.len()).sum();
    let mut offsets = Vec::with_capacity(n_out + 1);
    let mut indices = Vec::with_capacity(nnz);
    let mut weights = Vec::with_capacity(nnz);
    offsets.push(0u64);
    for chunk in chunks {
        for len in chunk.row_lengths {
            offsets.push(offsets.last().copied().unwrap_or(0) + len as u64);
        }
        indices.extend_from_slice(&chunk.indices);
        weights.extend_from_slice(&chunk.weights);
    }
    Ok(SparseLayer {
        n_in,
        n_out,
        offsets,
        indices,
        weights,
        momentum: vec![0.0; nnz],
    })
}

struct RowChunk {
    row_lengths: Vec<u32>,
    indices: Vec<u32>,
    weights: Vec<f32>,
}

impl RowChunk {
    fn sample(
        rows: std::ops::Range<usize>,
        n_in: usize,
        n_out: usize,
        p: f64,
        init: Init,
        seed: u64,
    ) -> RowChunk {
        let mut chunk = RowChunk {
            row_lengths: Vec::with_capacity(rows.len()),
            indices: Vec::new(),
            weights: Vec::new(),
        };
        for j in rows {
            let mut rng = stream_rng(seed, j as u64);
            let start = chunk.indices.len();
            sample_row(n_in, p, &mut rng, &mut chunk.indices);
            let fan_in = chunk.indices.len() - start;
            let limit = init.limit(n_in, n_out, fan_in);
            chunk
                .weights
                .extend((0..fan_in).map(|_| Init::draw(limit, &mut rng)));
            chunk.row_lengths.push(fan_in as u32);
        }
        chunk
    }
}

/// Appends the inputs of one row: each of 0..n_in with probability p, in increasing order.
/// The gap before the next chosen input is geometric: floor(ln V / ln(1 - p)) with V uniform
/// on (0, 1] has P(gap >= s) = (1 - p)^s.
fn sample_row(n_in: usize, p: f64, rng: &mut Rng, out: &mut Vec<u32>) {
    if p >= 1.0 {
        out.extend(0..n_in as u32);
        return;
    }
    let ln_q = (-p).ln_1p();
    let mut next = 0usize;
    while next < n_in {
        let v = 1.0 - rng.next_f64();
        // The ratio is >= 0, so truncation is the floor (and `as` saturates huge gaps);
        // f64::floor would be a libm call on baseline x86-64.
        let gap = (v.ln() / ln_q) as u64;
        if gap >= (n_in - next) as u64 {
            break;
        }
        next += gap as usize;
        out.push(next as u32);
        next += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;

    #[test]
    fn dense_when_p_reaches_one() {
        let l = erdos_renyi_layer(5, 4, 20.0, Init::HeUniform, 1, never()).unwrap();
        assert_eq!(l.nnz(), 20);
        l.check().unwrap();
    }

    #[test]
    fn same_seed_same_layer_and_rows_are_sorted() {
        let a = erdos_renyi_layer(300, 200, 5.0, Init::HeUniformNeuron, 9, never()).unwrap();
        let b = erdos_renyi_layer(300, 200, 5.0, Init::HeUniformNeuron, 9, never()).unwrap();
        assert_eq!(a, b);
        a.check().unwrap();
        let c = erdos_renyi_layer(300, 200, 5.0, Init::HeUniformNeuron, 10, never()).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn rejects_bad_epsilon_and_sizes() {
        assert!(erdos_renyi_probability(3, 3, 0.0).is_err());
        assert!(erdos_renyi_probability(3, 3, f64::NAN).is_err());
        assert!(erdos_renyi_probability(0, 3, 1.0).is_err());
        assert!(erdos_renyi_layer(1 << 31, 1 << 31, 1e6, Init::HeUniform, 0, never()).is_err());
    }
}
