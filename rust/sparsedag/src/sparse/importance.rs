//! Importance pruning of hidden neurons. The score of hidden neuron j is the sum of the
//! magnitudes of its incoming weights (in f64, in row order). In every hidden layer, the
//! neurons that still have a connection (in or out) are scored, the q-th percentile of their
//! scores is taken with NumPy's default rule ([`percentile_linear`]), and every such neuron
//! whose score is at or below it is removed: its incoming connections (its row) and its
//! outgoing connections (its column in the next layer) are dropped, so the network shrinks.
//! Neurons with no connection at all are already gone and take no part; for a network that
//! has not been pruned before this is the percentile over the whole layer, as in the reference
//! code. All scores are taken on the network as it was before the call.
//!
//! The layers form a chain: layer l maps n_l inputs to n_{l+1} outputs; the hidden layers are
//! the outputs of every layer but the last (network inputs and outputs are never pruned).

use super::layer::SparseLayer;
use super::percentile::{check_percentile, percentile_linear};
use crate::cancel::Cancel;
use crate::error::{invalid, Result};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PruneOutcome {
    /// Per hidden layer, the removed neurons, ascending.
    pub removed: Vec<Vec<u32>>,
    /// Per hidden layer, the score of every neuron (0 for neurons without inputs).
    pub scores: Vec<Vec<f64>>,
    /// Per hidden layer, the percentile threshold (`None` if no neuron had a connection).
    pub thresholds: Vec<Option<f64>>,
    /// Connections dropped, over all layers.
    pub removed_connections: usize,
}

pub fn importance_prune(
    layers: &mut [SparseLayer],
    percentile: f64,
    cancel: &Cancel,
) -> Result<PruneOutcome> {
    check_percentile(percentile)?;
    for l in 1..layers.len() {
        if layers[l].n_in != layers[l - 1].n_out {
            return invalid(format!(
                "layer {l} reads {} inputs but layer {} has {} outputs; the layers must form a chain",
                layers[l].n_in,
                l - 1,
                layers[l - 1].n_out
            ));
        }
    }
    let hidden = layers.len().saturating_sub(1);
    let mut outcome = PruneOutcome::default();
    for h in 0..hidden {
        cancel.check()?;
        let (layer, next) = (&layers[h], &layers[h + 1]);
        let scores: Vec<f64> = (0..layer.n_out)
            .map(|j| {
                layer.weights[layer.row(j)]
                    .iter()
                    .map(|w| w.abs() as f64)
                    .sum()
            })
            .collect();
        let mut has_edge: Vec<bool> = (0..layer.n_out).map(|j| !layer.row(j).is_empty()).collect();
        for &i in &next.indices {
            has_edge[i as usize] = true;
        }
        let mut candidates: Vec<f64> = (0..layer.n_out)
            .filter(|&j| has_edge[j])
            .map(|j| scores[j])
            .collect();
        let (threshold, removed) = if candidates.is_empty() {
            (None, Vec::new())
        } else {
            let t = percentile_linear(&mut candidates, percentile)?;
            let removed: Vec<u32> = (0..layer.n_out)
                .filter(|&j| has_edge[j] && scores[j] <= t)
                .map(|j| j as u32)
                .collect();
            (Some(t), removed)
        };
        outcome.scores.push(scores);
        outcome.thresholds.push(threshold);
        outcome.removed.push(removed);
    }
    cancel.check()?;
    for (l, layer) in layers.iter_mut().enumerate() {
        let rows = (l < hidden).then(|| mask(&outcome.removed[l], layer.n_out));
        let cols = (l > 0).then(|| mask(&outcome.removed[l - 1], layer.n_in));
        outcome.removed_connections += drop_rows_and_cols(layer, rows, cols);
    }
    Ok(outcome)
}

fn mask(ids: &[u32], n: usize) -> Vec<bool> {
    let mut m = vec![false; n];
    for &i in ids {
        m[i as usize] = true;
    }
    m
}

/// Drops every connection of a dropped row or a dropped column, in place; returns how many.
fn drop_rows_and_cols(
    layer: &mut SparseLayer,
    rows: Option<Vec<bool>>,
    cols: Option<Vec<bool>>,
) -> usize {
    let before = layer.nnz();
    let mut write = 0usize;
    let mut start = 0usize;
    for j in 0..layer.n_out {
        let end = layer.offsets[j + 1] as usize;
        let row_dropped = rows.as_ref().is_some_and(|r| r[j]);
        if !row_dropped {
            for read in start..end {
                let i = layer.indices[read];
                if cols.as_ref().is_some_and(|c| c[i as usize]) {
                    continue;
                }
                layer.indices[write] = i;
                layer.weights[write] = layer.weights[read];
                layer.momentum[write] = layer.momentum[read];
                write += 1;
            }
        }
        start = end;
        layer.offsets[j + 1] = write as u64;
    }
    layer.indices.truncate(write);
    layer.weights.truncate(write);
    layer.momentum.truncate(write);
    before - write
}
