//! MinWidth (Tarassov, Nikolov and Branke, "An heuristic for minimum width graph layering with
//! consideration of dummy nodes", WEA 2004): a longest-path-like sweep from the sinks up that
//! closes a layer early once the layer, counted with the dummy nodes of edges passing through
//! it, looks wide enough.

use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::metrics::layering_metrics;
use crate::graph::Dag;

/// The upper bounds on the layer width the authors try; with each, both values of `c`.
const UBW_RANGE: std::ops::RangeInclusive<usize> = 1..=4;
const C_VALUES: [usize; 2] = [1, 2];

/// MinWidth layering with sources near layer 0 and every edge going to a higher layer.
///
/// With `width = None` the heuristic runs, as its authors do, with every UBW in 1..=4 and c in
/// {1, 2}; with `Some(w)` it runs with UBW = w and both values of c. Of those runs the result
/// has the smallest width counting dummy nodes, then the fewest dummies, then the smallest
/// height; remaining ties go to the earliest run (smaller UBW, then smaller c). UBW = 0 is
/// allowed and closes a layer after every node.
///
/// Each run takes O((n + m) log n); the runs are independent and go in parallel.
pub fn min_width(dag: &Dag, width: Option<usize>) -> Vec<u32> {
    let configs: Vec<(usize, usize)> = match width {
        None => UBW_RANGE
            .flat_map(|ubw| C_VALUES.map(|c| (ubw, c)))
            .collect(),
        Some(ubw) => C_VALUES.map(|c| (ubw, c)).to_vec(),
    };
    let runs: Vec<((u64, u64, u64), Vec<u32>)> = configs
        .par_iter()
        .map(|&(ubw, c)| {
            let layer = min_width_run(dag, ubw, c);
            let key = layering_metrics(dag, &layer).map_or((u64::MAX, u64::MAX, u64::MAX), |m| {
                (m.width_with_dummies, m.dummies, m.height)
            });
            (key, layer)
        })
        .collect();
    // `min_by_key` keeps the first of equal keys, which is the earliest configuration.
    runs.into_iter()
        .min_by_key(|(key, _)| *key)
        .map(|(_, layer)| layer)
        .unwrap_or_default()
}

/// One run of MinWidth with upper bound `ubw` and multiplier `c`.
///
/// `width_current` estimates the width of the layer being filled: placing v removes the
/// out-degree(v) dummies its out-edges would have put there and adds v itself. `width_up`
/// counts the edges that will cross into the layer above, i.e. its width estimate once we go
/// up.
pub(crate) fn min_width_run(dag: &Dag, ubw: usize, c: usize) -> Vec<u32> {
    let n = dag.num_nodes();
    let ubw = i64::try_from(ubw).unwrap_or(i64::MAX);
    let up_bound = ubw.saturating_mul(c as i64);
    let mut unplaced_succ: Vec<u32> = (0..n as u32).map(|v| dag.out_degree(v) as u32).collect();
    // Largest out-degree first, ties to the smaller id: both packed into one integer key.
    let key = |v: u32| ((dag.out_degree(v) as u64) << 32) | u64::from(u32::MAX - v);
    let mut candidates: BinaryHeap<u64> = (0..n as u32)
        .filter(|&v| unplaced_succ[v as usize] == 0)
        .map(key)
        .collect();
    let mut from_bottom = vec![0u32; n];
    let mut current: Vec<u32> = Vec::new();
    let mut level = 0u32;
    let mut placed = 0usize;
    let (mut width_current, mut width_up) = (0i64, 0i64);
    while placed < n {
        let go_up = match candidates.pop() {
            Some(k) => {
                let v = u32::MAX - (k as u32);
                let out = dag.out_degree(v) as i64;
                from_bottom[v as usize] = level;
                current.push(v);
                placed += 1;
                width_current = width_current - out + 1;
                width_up += dag.in_degree(v) as i64;
                (width_current >= ubw && out < 1) || width_up >= up_bound
            }
            None => true,
        };
        if !go_up || placed == n {
            continue;
        }
        if current.is_empty() {
            // Unreachable on an acyclic graph: when a layer opens, the unplaced nodes have a
            // sink among themselves, and it is a candidate. Stopping beats looping forever.
            break;
        }
        // Only closing the layer releases the predecessors, so a node never shares a layer
        // with one of its successors.
        for &v in &current {
            for &u in dag.predecessors(v) {
                let slot = &mut unplaced_succ[u as usize];
                *slot -= 1;
                if *slot == 0 {
                    candidates.push(key(u));
                }
            }
        }
        current.clear();
        level += 1;
        width_current = width_up;
        width_up = 0;
    }
    from_bottom.into_iter().map(|b| level - b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::DuplicatePolicy;
    use crate::layering::check_layering;

    fn dag(n: u64, edges: &[(u32, u32)]) -> Dag {
        let src: Vec<u32> = edges.iter().map(|e| e.0).collect();
        let dst: Vec<u32> = edges.iter().map(|e| e.1).collect();
        Dag::from_edges(&src, &dst, Some(n), DuplicatePolicy::Reject).unwrap()
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(min_width(&dag(0, &[]), None), Vec::<u32>::new());
        assert_eq!(min_width(&dag(1, &[]), None), vec![0]);
        assert_eq!(min_width(&dag(1, &[]), Some(0)), vec![0]);
        let g = dag(3, &[(0, 1)]);
        check_layering(&g, &min_width(&g, Some(usize::MAX))).unwrap();
    }

    #[test]
    fn wide_independent_set_is_split() {
        // 12 isolated nodes: UBW = 3 closes a layer every 3 nodes (width_current reaches 3 on a
        // sink).
        let g = dag(12, &[]);
        let layer = min_width_run(&g, 3, 1);
        check_layering(&g, &layer).unwrap();
        let mut count = [0usize; 4];
        for &l in &layer {
            count[l as usize] += 1;
        }
        assert_eq!(count, [3, 3, 3, 3]);
    }

    #[test]
    fn ubw_zero_gives_one_node_per_layer() {
        let g = dag(5, &[(0, 1), (2, 3)]);
        let layer = min_width_run(&g, 0, 1);
        check_layering(&g, &layer).unwrap();
        let mut sorted = layer.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn every_run_is_valid_and_sources_reach_layer_zero() {
        let g = dag(
            8,
            &[
                (0, 2),
                (1, 2),
                (2, 3),
                (2, 4),
                (0, 5),
                (5, 6),
                (6, 7),
                (3, 7),
            ],
        );
        for ubw in 0..6 {
            for c in [1, 2] {
                let layer = min_width_run(&g, ubw, c);
                check_layering(&g, &layer).unwrap();
                assert_eq!(*layer.iter().min().unwrap(), 0);
            }
        }
        let best = min_width(&g, None);
        check_layering(&g, &best).unwrap();
        assert_eq!(best, min_width(&g, None));
    }
}
