//! Node promotion (Nikolov and Tarassov, "Graph layering by promotion of nodes", Discrete
//! Applied Mathematics 2006): a post-processing step that lowers the number of dummy nodes of
//! any layering by moving nodes one layer toward the sources while that pays off.
//!
//! Promoting v moves it from layer l to l - 1; every predecessor sitting in l - 1 must then
//! move as well, recursively. Moving a set S shortens each edge entering S from outside by one
//! and lengthens each edge leaving S by one (edges inside S keep their span), so the dummy count
//! changes by the sum over S of out-degree minus in-degree.

use crate::cancel::{self, Cancel};
use crate::error::{Error, Result};
use crate::graph::Dag;

use super::metrics::check_layering;

/// Upper bound on the number of passes over the nodes. Every pass but the last keeps at least
/// one promotion and so removes at least one dummy, which already guarantees termination; the
/// cap only bounds the running time on inputs with very long edges, where single-layer moves
/// could otherwise go on for as many passes as the edges are long. Random DAGs of 100k and 1M
/// nodes settle in about 10 to 30 passes from a longest-path layering.
pub const MAX_PROMOTION_PASSES: usize = 200;

/// How many nodes a pass visits between checks for cancellation.
const CANCEL_POLL_NODES: usize = 1 << 14;

/// Improves `layer` by node promotion and returns a layering with the minimum layer at 0 and no
/// more dummy nodes than the input. Errors if `layer` is not a valid layering of `dag`.
///
/// A promotion is kept only if it strictly lowers the dummy count, and passes repeat until one
/// keeps no promotion (at most [`MAX_PROMOTION_PASSES`]). Where the paper promotes recursively
/// on a copy of the layering and restores it on failure, the set of nodes a promotion would
/// move is collected first (with an explicit stack, so long chains cannot overflow the call
/// stack) and applied only if it helps, so a rejected promotion costs its search and no copy.
///
/// Most attempts in later passes repeat a search whose outcome cannot have changed, so they are
/// skipped. Whether promoting v helps depends only on the layers of its region: the set S(v) it
/// would move (v and every node with a path of span-1 edges to v) and their predecessors. A
/// clock counts kept promotions; each node remembers when it last moved and when it was last
/// tried, and one O(n + m) sweep in topological order computes for every node the latest move
/// in its region, since region(v) = {v} + preds(v) + the regions of the span-1 predecessors.
/// A node is tried only if its region changed since its last (failed) try. A value read within
/// a pass can miss moves made later in that pass; the next pass sees them, and a pass that keeps
/// nothing has exact values, so stopping still means that no single promotion helps anywhere,
/// as in the paper.
///
/// Nodes are visited in order of their input layer (then id), which stays a topological order,
/// and stored in that order internally: a search walks to predecessors one layer up, which then
/// sit close in memory. A pass costs O(n + m) plus its searches, each linear in the set it would
/// move and that set's in-edges.
pub fn promote(dag: &Dag, layer: &[u32]) -> Result<Vec<u32>> {
    promote_cancellable(dag, layer, cancel::never())
}

/// [`promote`] that stops with `Error::Interrupted` soon after `cancel` is requested.
pub fn promote_cancellable(dag: &Dag, layer: &[u32], cancel: &Cancel) -> Result<Vec<u32>> {
    check_layering(dag, layer)?;
    let n = dag.num_nodes();
    let mut order: Vec<u64> = (0..n)
        .map(|v| (u64::from(layer[v]) << 32) | v as u64)
        .collect();
    order.sort_unstable();
    let old_of: Vec<u32> = order.into_iter().map(|key| key as u32).collect();
    let mut new_of = vec![0u32; n];
    for (new, &old) in old_of.iter().enumerate() {
        new_of[old as usize] = new as u32;
    }
    let mut pred_offsets = Vec::with_capacity(n + 1);
    let mut preds = Vec::with_capacity(dag.num_edges());
    pred_offsets.push(0usize);
    for &old in &old_of {
        preds.extend(dag.predecessors(old).iter().map(|&u| new_of[u as usize]));
        pred_offsets.push(preds.len());
    }
    let gain: Vec<i64> = old_of
        .iter()
        .map(|&old| dag.out_degree(old) as i64 - dag.in_degree(old) as i64)
        .collect();
    // Promotions can push nodes above layer 0; signed layers avoid shifting on every move.
    let mut y: Vec<i64> = old_of
        .iter()
        .map(|&old| i64::from(layer[old as usize]))
        .collect();

    // Clock 1 with every node "moved" at 1 and "tried" at 0 makes the first pass try them all.
    let mut clock = 1u64;
    let mut moved_at = vec![1u64; n];
    let mut tried_at = vec![0u64; n];
    let mut region_at = vec![0u64; n];
    let mut seen = vec![0u32; n];
    let mut epoch = 0u32;
    let mut stack: Vec<u32> = Vec::new();
    let mut moved: Vec<u32> = Vec::new();
    for _ in 0..MAX_PROMOTION_PASSES {
        let mut improved = false;
        for v in 0..n {
            if v % CANCEL_POLL_NODES == 0 {
                cancel.check()?;
            }
            let row = &preds[pred_offsets[v]..pred_offsets[v + 1]];
            let target = y[v] - 1;
            let mut latest = moved_at[v];
            for &u in row {
                let u = u as usize;
                latest = latest.max(if y[u] == target {
                    region_at[u]
                } else {
                    moved_at[u]
                });
            }
            region_at[v] = latest;
            // A lone source only lengthens its out-edges; it can still move as part of another
            // node's promotion.
            if row.is_empty() || latest <= tried_at[v] {
                continue;
            }
            tried_at[v] = clock;
            if epoch == u32::MAX {
                seen.fill(0);
                epoch = 0;
            }
            epoch += 1;
            moved.clear();
            let mut change = 0i64;
            seen[v] = epoch;
            stack.push(v as u32);
            // Layers stay untouched until the decision, so `y` holds the pre-move layers that
            // define which predecessors collide.
            while let Some(x) = stack.pop() {
                let x = x as usize;
                moved.push(x as u32);
                change += gain[x];
                let target = y[x] - 1;
                for &u in &preds[pred_offsets[x]..pred_offsets[x + 1]] {
                    let u = u as usize;
                    if y[u] == target && seen[u] != epoch {
                        seen[u] = epoch;
                        stack.push(u as u32);
                    }
                }
            }
            if change < 0 {
                improved = true;
                clock += 1;
                for &x in &moved {
                    let x = x as usize;
                    y[x] -= 1;
                    moved_at[x] = clock;
                    region_at[x] = clock;
                }
            }
        }
        if !improved {
            break;
        }
    }

    let low = y.iter().copied().min().unwrap_or(0);
    let mut result = vec![0u32; n];
    for (new, &old) in old_of.iter().enumerate() {
        let l = y[new] - low;
        result[old as usize] = u32::try_from(l).map_err(|_| Error::TooLarge {
            what: "the height of the promoted layering",
            value: l as u64,
            limit: u64::from(u32::MAX),
        })?;
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::DuplicatePolicy;
    use crate::layering::{alap, asap, layering_metrics};

    fn dag(n: u64, edges: &[(u32, u32)]) -> Dag {
        let src: Vec<u32> = edges.iter().map(|e| e.0).collect();
        let dst: Vec<u32> = edges.iter().map(|e| e.1).collect();
        Dag::from_edges(&src, &dst, Some(n), DuplicatePolicy::Reject).unwrap()
    }

    fn dummies(g: &Dag, layer: &[u32]) -> u64 {
        layering_metrics(g, layer).unwrap().dummies
    }

    #[test]
    fn rejects_invalid_input() {
        let g = dag(2, &[(0, 1)]);
        assert!(promote(&g, &[1, 1]).is_err());
        assert!(promote(&g, &[0]).is_err());
    }

    #[test]
    fn empty_graph() {
        assert_eq!(promote(&dag(0, &[]), &[]).unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn pulls_fan_in_nodes_up() {
        // 0, 1, 2 -> 3 -> 6 and 4 -> 5 -> 6, with 3 and 6 placed one layer too low: promoting
        // 3 shortens three edges and lengthens one, then 6 shortens two.
        let g = dag(7, &[(0, 3), (1, 3), (2, 3), (3, 6), (4, 5), (5, 6)]);
        let layer = [0, 0, 0, 2, 0, 1, 3];
        assert_eq!(dummies(&g, &layer), 4);
        let after = promote(&g, &layer).unwrap();
        assert_eq!(after, vec![0, 0, 0, 1, 0, 1, 2]);
        assert_eq!(dummies(&g, &after), 0);
    }

    #[test]
    fn recursive_promotion_drags_a_source_above_zero_then_renormalises() {
        // Chain 0 -> 1 -> 2 with three more sources 3, 4, 5 -> 2 at layer 0. Promoting 2 drags
        // 1 and then 0 along (to layer -1); the gain is the three shortened edges.
        let g = dag(6, &[(0, 1), (1, 2), (3, 2), (4, 2), (5, 2)]);
        let after = promote(&g, &[0, 1, 2, 0, 0, 0]).unwrap();
        assert_eq!(after, vec![0, 1, 2, 1, 1, 1]);
        assert_eq!(dummies(&g, &after), 0);
    }

    #[test]
    fn never_worse_than_longest_path() {
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
                (1, 7),
            ],
        );
        for start in [asap(&g), alap(&g)] {
            let after = promote(&g, &start).unwrap();
            check_layering(&g, &after).unwrap();
            assert!(dummies(&g, &after) <= dummies(&g, &start));
        }
    }
}
