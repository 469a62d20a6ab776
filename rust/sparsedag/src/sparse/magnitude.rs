//! Magnitude pruning to a connection count: keep the `target` connections of largest |w| and
//! drop the rest. WASAP-SGD ends with this after averaging the workers' models (the union of
//! their topologies). Ties at the cut go by position: among equal |w|, the first in CSR order
//! (row, then input) are dropped first. O(nnz): the cut comes from `select_nth_unstable`.

use super::layer::SparseLayer;

/// Drops the `nnz - target` connections closest to zero in place (nothing if `target >= nnz`);
/// returns how many were dropped.
pub fn prune_to_count(layer: &mut SparseLayer, target: usize) -> usize {
    let nnz = layer.nnz();
    if target >= nnz {
        return 0;
    }
    let k = nnz - target;
    let mut magnitudes: Vec<f32> = layer.weights.iter().map(|w| w.abs()).collect();
    let (_, &mut threshold, _) = magnitudes.select_nth_unstable_by(k - 1, f32::total_cmp);
    let below = magnitudes.iter().filter(|&&m| m < threshold).count();
    let mut equal_quota = k - below;
    let mut write = 0usize;
    let mut start = 0usize;
    for j in 0..layer.n_out {
        let end = layer.offsets[j + 1] as usize;
        for read in start..end {
            let m = layer.weights[read].abs();
            let drop = m < threshold || (m == threshold && equal_quota > 0);
            if m == threshold && drop {
                equal_quota -= 1;
            }
            layer.indices[write] = layer.indices[read];
            layer.weights[write] = layer.weights[read];
            layer.momentum[write] = layer.momentum[read];
            write += !drop as usize;
        }
        start = end;
        layer.offsets[j + 1] = write as u64;
    }
    layer.indices.truncate(write);
    layer.weights.truncate(write);
    layer.momentum.truncate(write);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_largest_magnitudes_and_breaks_ties_by_position() {
        let mut l = SparseLayer::from_parts(
            3,
            2,
            vec![0, 3, 5],
            vec![0, 1, 2, 0, 2],
            vec![0.5, -0.1, 0.1, -0.9, 0.3],
            vec![1.0, 2.0, 3.0, 4.0, 5.0],
        )
        .unwrap();
        assert_eq!(prune_to_count(&mut l, 3), 2);
        l.check().unwrap();
        assert_eq!(l.offsets, vec![0, 1, 3]);
        assert_eq!(l.indices, vec![0, 0, 2]);
        assert_eq!(l.weights, vec![0.5, -0.9, 0.3]);
        assert_eq!(l.momentum, vec![1.0, 4.0, 5.0]);
        let before = l.clone();
        assert_eq!(prune_to_count(&mut l, 10), 0);
        assert_eq!(l, before);
        // |-0.1| == |0.1|: with one to drop, the first in CSR order goes
        let mut t =
            SparseLayer::from_parts(2, 1, vec![0, 2], vec![0, 1], vec![0.1, -0.1], vec![0.0; 2])
                .unwrap();
        prune_to_count(&mut t, 1);
        assert_eq!(t.weights, vec![-0.1]);
        prune_to_count(&mut t, 0);
        assert_eq!(t.nnz(), 0);
        t.check().unwrap();
    }
}
