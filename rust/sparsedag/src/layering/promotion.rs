//! Node promotion (Nikolov and Tarassov, "Graph layering by promotion of nodes", Discrete
//! Applied Mathematics 2006): a post-processing step that lowers the number of dummy nodes of
//! any layering by moving nodes one layer toward the sources while that pays off.
//!
//! Promoting v moves it from layer l to l - 1; every predecessor sitting in l - 1 must then
//! move as well, recursively. Moving a set S shortens each edge entering S from outside by one
//! and lengthens each edge leaving S by one (edges inside S keep their span), so the dummy count
//! changes by the sum over S of out-degree minus in-degree.

use crate::error::{Error, Result};
use crate::graph::Dag;

use super::metrics::check_layering;

/// Upper bound on the number of passes over the nodes. Every pass but the last keeps at least
/// one promotion and so removes at least one dummy, which already guarantees termination; the
/// cap only bounds the running time on inputs with very long edges, where single-layer moves
/// could otherwise go on for as many passes as the edges are long. The authors report a handful
/// of passes on their test graphs, well below the cap.
pub const MAX_PROMOTION_PASSES: usize = 100;

/// Improves `layer` by node promotion and returns a layering with the minimum layer at 0 and no
/// more dummy nodes than the input. Errors if `layer` is not a valid layering of `dag`.
///
/// A pass tries every node with predecessors, in id order, and keeps a promotion only if it
/// strictly lowers the dummy count; passes repeat until none helps, at most
/// [`MAX_PROMOTION_PASSES`] times. Where the paper promotes recursively on a copy of the layering
/// and restores it on failure, the set of nodes a promotion would move is collected first (an
/// explicit stack, so long chains cannot overflow the call stack) and applied only if it helps,
/// so a rejected promotion costs only its search and no copy. A pass is O(n + m) plus the sizes
/// of the promoted sets and their in-edges.
pub fn promote(dag: &Dag, layer: &[u32]) -> Result<Vec<u32>> {
    check_layering(dag, layer)?;
    let n = dag.num_nodes();
    // Promotions can push nodes above layer 0; signed layers avoid shifting on every move.
    let mut y: Vec<i64> = layer.iter().map(|&l| i64::from(l)).collect();
    let mut seen = vec![0u32; n];
    let mut epoch = 0u32;
    let mut stack: Vec<u32> = Vec::new();
    let mut moved: Vec<u32> = Vec::new();
    for _ in 0..MAX_PROMOTION_PASSES {
        let mut improved = false;
        for v in 0..n as u32 {
            if dag.in_degree(v) == 0 {
                // A lone source only lengthens its out-edges; it can still move as part of
                // another node's promotion.
                continue;
            }
            if epoch == u32::MAX {
                seen.fill(0);
                epoch = 0;
            }
            epoch += 1;
            moved.clear();
            let mut change = 0i64;
            seen[v as usize] = epoch;
            stack.push(v);
            // Layers stay untouched until the decision, so `y` holds the pre-move layers that
            // define which predecessors collide.
            while let Some(x) = stack.pop() {
                moved.push(x);
                change += dag.out_degree(x) as i64 - dag.in_degree(x) as i64;
                let target = y[x as usize] - 1;
                for &u in dag.predecessors(x) {
                    if y[u as usize] == target && seen[u as usize] != epoch {
                        seen[u as usize] = epoch;
                        stack.push(u);
                    }
                }
            }
            if change < 0 {
                for &x in &moved {
                    y[x as usize] -= 1;
                }
                improved = true;
            }
        }
        if !improved {
            break;
        }
    }
    let low = y.iter().copied().min().unwrap_or(0);
    y.into_iter()
        .map(|l| {
            u32::try_from(l - low).map_err(|_| Error::TooLarge {
                what: "the height of the promoted layering",
                value: (l - low) as u64,
                limit: u64::from(u32::MAX),
            })
        })
        .collect()
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
