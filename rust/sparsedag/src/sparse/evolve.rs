//! One SET evolution step on a layer, in O(nnz):
//!
//! 1. **Prune by magnitude.** With n+ positive and n- negative weights, remove the
//!    k+ = floor(zeta * n+) smallest positive weights and, separately, the k- = floor(zeta * n-)
//!    negative weights closest to zero (floor of the float64 product, as Python's
//!    `math.floor(zeta * n)`). Ties at the cut are broken by position: among equal weights the
//!    ones met first in CSR order (row, then input) go. Weights exactly 0 (either sign) belong to
//!    neither side and are always removed, as the reference code's removal band always
//!    contains 0. The cuts come from `select_nth_unstable` (expected linear time), not a sort.
//! 2. **Regrow** as many connections as were removed, at positions chosen uniformly among all
//!    positions empty after pruning (so a connection removed in this step may come back, as in
//!    the reference code), restricted to live rows and columns when masks are given. New
//!    connections get a fresh weight from the initialiser and zero momentum. Regrowth never
//!    duplicates a connection.
//! 3. **Rebuild** the CSR in place: survivors are compacted, then each row is merged with its
//!    new connections from the last row backwards, so no second copy of the layer is needed.
//!
//! Steps 1 and 2 only read the layer and poll the cancel token; step 3 is not interruptible
//! (it is a few linear passes), so a cancelled call leaves the layer untouched. The result
//! depends only on the layer, the options and the seed.

use super::init::Init;
use super::layer::LayerMut;
use super::regrow::{choose_positions, Grown, Region};
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::rng::Rng;

#[derive(Debug, Clone, Copy)]
pub struct EvolveOptions<'a> {
    /// Fraction of the positive (and of the negative) weights to replace, in [0, 1).
    pub zeta: f64,
    pub init: Init,
    pub seed: u64,
    /// Inputs that may receive new connections (`None`: all). Pruned neurons are dead here.
    pub input_alive: Option<&'a [bool]>,
    /// Output neurons that may receive new connections (`None`: all).
    pub output_alive: Option<&'a [bool]>,
}

impl Default for EvolveOptions<'_> {
    fn default() -> Self {
        EvolveOptions {
            zeta: 0.3,
            init: Init::HeUniform,
            seed: 0,
            input_alive: None,
            output_alive: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EvolveStats {
    pub removed_positive: usize,
    pub removed_negative: usize,
    pub removed_zero: usize,
    pub added: usize,
}

impl EvolveStats {
    pub fn removed(&self) -> usize {
        self.removed_positive + self.removed_negative + self.removed_zero
    }
}

/// Runs one evolution step on `layer` (see the module documentation). The layer must satisfy
/// [`LayerMut::check`]; callers at a trust boundary run that check first.
pub fn evolve(
    layer: &mut LayerMut<'_>,
    options: &EvolveOptions<'_>,
    cancel: &Cancel,
) -> Result<EvolveStats> {
    let zeta = options.zeta;
    if !(zeta.is_finite() && (0.0..1.0).contains(&zeta)) {
        return invalid(format!("zeta must lie in [0, 1), got {zeta}"));
    }
    check_mask(options.input_alive, layer.n_in, "input_alive")?;
    check_mask(options.output_alive, layer.n_out, "output_alive")?;
    debug_assert!(layer.check().is_ok());

    let (removed, mut stats) = choose_removals(layer.weights, zeta);
    cancel.check()?;
    let k = stats.removed();
    let region = Region::new(
        layer.n_in,
        layer.n_out,
        options.input_alive,
        options.output_alive,
    );
    let mut rng = Rng::new(options.seed);
    let grown = choose_positions(
        layer.offsets,
        layer.indices,
        &removed,
        &region,
        k,
        &mut rng,
        cancel,
    )?;
    stats.added = grown.cols.len();
    let new_weights = draw_weights(layer, &removed, &grown, options.init, &mut rng);
    cancel.check()?;
    rebuild(layer, &removed, &grown, &new_weights);
    Ok(stats)
}

fn check_mask(mask: Option<&[bool]>, expected: usize, name: &str) -> Result<()> {
    match mask {
        Some(m) if m.len() != expected => invalid(format!(
            "{name} has length {}, expected {expected}",
            m.len()
        )),
        _ => Ok(()),
    }
}

/// The removal flag of every connection, and the counts per sign.
pub(crate) fn choose_removals(weights: &[f32], zeta: f64) -> (Vec<bool>, EvolveStats) {
    // Signs are random, so the loops below avoid data-dependent branches: every value is
    // written and the cursor advances by the comparison.
    let n = weights.len();
    let (mut positives, mut magnitudes) = (vec![0.0f32; n], vec![0.0f32; n]);
    let (mut n_pos, mut n_neg) = (0usize, 0usize);
    for &w in weights {
        positives[n_pos] = w;
        magnitudes[n_neg] = -w;
        n_pos += (w > 0.0) as usize;
        n_neg += (w < 0.0) as usize;
    }
    positives.truncate(n_pos);
    magnitudes.truncate(n_neg);
    let k_pos = (zeta * n_pos as f64).floor() as usize;
    let k_neg = (zeta * n_neg as f64).floor() as usize;
    let mut pos_cut = Cut::smallest(positives, k_pos);
    let mut neg_cut = Cut::smallest(magnitudes, k_neg);
    let mut stats = EvolveStats::default();
    let mut flags = vec![false; n];
    for (flag, &w) in flags.iter_mut().zip(weights) {
        let (is_pos, is_neg) = (w > 0.0, w < 0.0);
        let below = (is_pos & (w < pos_cut.threshold)) | (is_neg & (-w < neg_cut.threshold));
        let remove = below
            | (!is_pos & !is_neg)
            | (is_pos && w == pos_cut.threshold && pos_cut.take_equal())
            | (is_neg && -w == neg_cut.threshold && neg_cut.take_equal());
        *flag = remove;
        stats.removed_positive += (remove & is_pos) as usize;
        stats.removed_negative += (remove & is_neg) as usize;
        stats.removed_zero += (!is_pos & !is_neg) as usize;
    }
    (flags, stats)
}

/// Removes the k smallest of a set of positive values met in a fixed order: everything below
/// the k-th smallest value, and the first `equal_quota` values equal to it.
struct Cut {
    threshold: f32,
    equal_quota: usize,
}

impl Cut {
    fn smallest(mut values: Vec<f32>, k: usize) -> Cut {
        if k == 0 {
            // No value is below 0 or equal to it: nothing is removed.
            return Cut {
                threshold: 0.0,
                equal_quota: 0,
            };
        }
        let (_, &mut threshold, _) = values.select_nth_unstable_by(k - 1, f32::total_cmp);
        let below = values.iter().filter(|&&v| v < threshold).count();
        Cut {
            threshold,
            equal_quota: k - below,
        }
    }

    /// Whether the next value equal to the threshold (in CSR order) is removed.
    fn take_equal(&mut self) -> bool {
        if self.equal_quota > 0 {
            self.equal_quota -= 1;
            true
        } else {
            false
        }
    }
}

/// New weights in the order of `grown` (row by row, inputs ascending).
fn draw_weights(
    layer: &LayerMut<'_>,
    removed: &[bool],
    grown: &Grown,
    init: Init,
    rng: &mut Rng,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(grown.cols.len());
    for j in 0..layer.n_out {
        let new = grown.offsets[j + 1] - grown.offsets[j];
        if new == 0 {
            continue;
        }
        let kept = layer.row(j).filter(|&p| !removed[p]).count();
        let limit = init.limit(layer.n_in, layer.n_out, kept + new);
        out.extend((0..new).map(|_| Init::draw(limit, rng)));
    }
    out
}

/// Compacts the survivors, then merges every row with its new connections in place.
fn rebuild(layer: &mut LayerMut<'_>, removed: &[bool], grown: &Grown, new_weights: &[f32]) {
    let n_out = layer.n_out;
    let mut kept_offsets = vec![0usize; n_out + 1];
    let mut write = 0usize;
    for j in 0..n_out {
        // Branch-free: always copy, advance only past survivors (write <= read).
        for read in layer.row(j) {
            layer.indices[write] = layer.indices[read];
            layer.weights[write] = layer.weights[read];
            layer.momentum[write] = layer.momentum[read];
            write += !removed[read] as usize;
        }
        kept_offsets[j + 1] = write;
    }
    debug_assert_eq!(write + grown.cols.len(), layer.nnz());

    // Row j moves right (its final start is at or after its compacted start), and rows after j
    // are already in place beyond its compacted end, so going backwards never overwrites
    // anything still to be read.
    for j in (0..n_out).rev() {
        let kept_start = kept_offsets[j];
        let mut read = kept_offsets[j + 1];
        let grown_start = grown.offsets[j];
        let mut g = grown.offsets[j + 1];
        let mut w = kept_offsets[j + 1] + grown.offsets[j + 1];
        while g > grown_start {
            w -= 1;
            if read > kept_start && layer.indices[read - 1] > grown.cols[g - 1] {
                read -= 1;
                layer.indices[w] = layer.indices[read];
                layer.weights[w] = layer.weights[read];
                layer.momentum[w] = layer.momentum[read];
            } else {
                g -= 1;
                layer.indices[w] = grown.cols[g];
                layer.weights[w] = new_weights[g];
                layer.momentum[w] = 0.0;
            }
        }
        if w != read {
            let to = w - (read - kept_start);
            layer.indices.copy_within(kept_start..read, to);
            layer.weights.copy_within(kept_start..read, to);
            layer.momentum.copy_within(kept_start..read, to);
        }
    }
    for ((offset, kept), grown) in layer
        .offsets
        .iter_mut()
        .zip(&kept_offsets)
        .zip(&grown.offsets)
    {
        *offset = (kept + grown) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_break_ties_by_position_and_always_remove_zeros() {
        let w = [0.5f32, -0.1, 0.1, 0.0, 0.1, -0.2, 0.9, -0.1, -0.0];
        // 5 positives: floor(0.5 * 5) = 2 -> both 0.1s; 3 negatives: floor(1.5) = 1 -> the
        // first -0.1; both zeros.
        let (flags, stats) = choose_removals(&w, 0.5);
        assert_eq!(
            flags,
            [false, true, true, true, true, false, false, false, true]
        );
        assert_eq!(
            stats,
            EvolveStats {
                removed_positive: 2,
                removed_negative: 1,
                removed_zero: 2,
                added: 0
            }
        );
        let (flags, _) = choose_removals(&w, 0.3);
        // floor(0.3 * 5) = 1 -> the first 0.1 only; floor(0.9) = 0 negatives.
        assert_eq!(
            flags,
            [false, false, true, true, false, false, false, false, true]
        );
    }
}
