//! Properties of the width-bounded and dummy-reducing layerings (Coffman–Graham, MinWidth,
//! promotion) on random DAGs and on the shapes that tend to break layering code: empty graphs,
//! single nodes, isolated nodes, chains, stars, transitive tournaments and several components.

use proptest::prelude::*;
use sparsedag::graph::generators::{planted_layered, random_dag};
use sparsedag::layering::{
    alap, asap, check_layering, coffman_graham, layering_metrics, min_width, promote,
};
use sparsedag::{Dag, DuplicatePolicy};

fn from_pairs(n: usize, edges: &[(u32, u32)]) -> Dag {
    let src: Vec<u32> = edges.iter().map(|e| e.0).collect();
    let dst: Vec<u32> = edges.iter().map(|e| e.1).collect();
    Dag::from_edges(&src, &dst, Some(n as u64), DuplicatePolicy::Reject).unwrap()
}

fn chain(n: usize) -> Dag {
    let edges: Vec<(u32, u32)> = (1..n as u32).map(|v| (v - 1, v)).collect();
    from_pairs(n, &edges)
}

/// Node 0 joined to every other node, outward or inward.
fn star(n: usize, outward: bool) -> Dag {
    let edges: Vec<(u32, u32)> = (1..n as u32)
        .map(|v| if outward { (0, v) } else { (v, 0) })
        .collect();
    from_pairs(n.max(1), &edges)
}

/// Two random DAGs side by side plus a few isolated nodes.
fn components(a: usize, b: usize, isolated: usize, seed: u64) -> Dag {
    let g = random_dag(a as u64, Some(0.3), None, seed).unwrap();
    let h = random_dag(b as u64, Some(0.3), None, seed + 1).unwrap();
    let mut edges: Vec<(u32, u32)> = g.edge_iter().collect();
    edges.extend(h.edge_iter().map(|(u, v)| (u + a as u32, v + a as u32)));
    from_pairs(a + b + isolated, &edges)
}

fn any_dag() -> impl Strategy<Value = Dag> {
    prop_oneof![
        (0u64..60, 0.0f64..0.5, any::<u64>())
            .prop_map(|(n, p, s)| random_dag(n, Some(p), None, s).unwrap()),
        (0u64..12, any::<u64>()).prop_map(|(n, s)| random_dag(n, Some(1.0), None, s).unwrap()),
        (0u64..20, any::<u64>()).prop_map(|(n, s)| random_dag(n, Some(0.0), None, s).unwrap()),
        (0usize..30).prop_map(chain),
        (1usize..20, any::<bool>()).prop_map(|(n, out)| star(n, out)),
        (0usize..15, 0usize..15, 0usize..4, any::<u64>())
            .prop_map(|(a, b, i, s)| components(a, b, i, s)),
    ]
}

fn height(layer: &[u32]) -> u32 {
    layer.iter().max().map_or(0, |&top| top + 1)
}

/// The smallest height of a layering with at most `width` nodes per layer, by trying heights
/// upward and assigning layers in topological order with backtracking.
fn optimal_height(dag: &Dag, width: usize) -> u32 {
    fn fits(
        dag: &Dag,
        order: &[u32],
        h: u32,
        width: usize,
        layer: &mut [u32],
        count: &mut [usize],
    ) -> bool {
        let Some((&v, rest)) = order.split_first() else {
            return true;
        };
        let low = dag
            .predecessors(v)
            .iter()
            .map(|&u| layer[u as usize] + 1)
            .max()
            .unwrap_or(0);
        for l in low..h {
            if count[l as usize] < width {
                count[l as usize] += 1;
                layer[v as usize] = l;
                if fits(dag, rest, h, width, layer, count) {
                    return true;
                }
                count[l as usize] -= 1;
            }
        }
        false
    }
    let n = dag.num_nodes();
    (0..=n as u32)
        .find(|&h| {
            let mut layer = vec![0u32; n];
            let mut count = vec![0usize; h as usize];
            fits(
                dag,
                dag.topological_order(),
                h,
                width,
                &mut layer,
                &mut count,
            )
        })
        .unwrap_or(n as u32)
}

/// Dummy-count change of promoting v, computed directly from the definition: the nodes that
/// must move are v and, recursively, every predecessor exactly one layer above a moving node.
fn promotion_gain(dag: &Dag, layer: &[u32], v: u32) -> i64 {
    let mut moving = vec![false; dag.num_nodes()];
    let mut stack = vec![v];
    moving[v as usize] = true;
    let mut change = 0i64;
    while let Some(x) = stack.pop() {
        change += dag.out_degree(x) as i64 - dag.in_degree(x) as i64;
        for &u in dag.predecessors(x) {
            if !moving[u as usize] && layer[u as usize] + 1 == layer[x as usize] {
                moving[u as usize] = true;
                stack.push(u);
            }
        }
    }
    change
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn coffman_graham_is_a_width_bounded_layering(g in any_dag(), width in 1usize..8) {
        let layer = coffman_graham(&g, width).unwrap();
        check_layering(&g, &layer).unwrap();
        let m = layering_metrics(&g, &layer).unwrap();
        prop_assert!(m.width <= width as u64);
        if !g.is_empty() {
            prop_assert_eq!(layer.iter().min().copied(), Some(0));
        }
        prop_assert_eq!(&layer, &coffman_graham(&g, width).unwrap());
    }

    #[test]
    fn unbounded_coffman_graham_is_alap(g in any_dag(), extra in 0usize..3) {
        // With room for every qualified node, each layer (from the bottom) takes all nodes whose
        // successors are placed, which is exactly the longest path to a sink: minimum height.
        let layer = coffman_graham(&g, g.num_nodes().max(1) + extra).unwrap();
        prop_assert_eq!(height(&layer), height(&asap(&g)));
        prop_assert_eq!(layer, alap(&g));
    }

    #[test]
    fn coffman_graham_height_bound_on_tiny_graphs(
        n in 0u64..=6, p in 0.0f64..1.0, seed in any::<u64>(), width in 1usize..7,
    ) {
        let g = random_dag(n, Some(p), None, seed).unwrap();
        let h = height(&coffman_graham(&g, width).unwrap());
        let opt = optimal_height(&g, width);
        if width == 1 {
            prop_assert_eq!(h, n as u32);
        } else {
            // h <= (2 - 2/W) opt, kept in integers.
            prop_assert!(h as u64 * width as u64 <= (2 * width as u64 - 2) * opt as u64,
                "height {} optimum {} width {}", h, opt, width);
        }
        prop_assert!(h >= opt);
    }

    #[test]
    fn min_width_is_a_valid_deterministic_layering(g in any_dag(), width in 0usize..6) {
        for w in [None, Some(width)] {
            let layer = min_width(&g, w);
            check_layering(&g, &layer).unwrap();
            if !g.is_empty() {
                prop_assert_eq!(layer.iter().min().copied(), Some(0));
            }
            prop_assert_eq!(&layer, &min_width(&g, w));
        }
    }

    #[test]
    fn min_width_default_is_best_of_its_bounds(g in any_dag()) {
        // The default tries every bound 1..=4 with both multipliers, so it is at least as good,
        // by its own criterion, as any single bound in that range.
        let key = |layer: &[u32]| {
            let m = layering_metrics(&g, layer).unwrap();
            (m.width_with_dummies, m.dummies, m.height)
        };
        let best = key(&min_width(&g, None));
        for w in 1..=4 {
            prop_assert!(best <= key(&min_width(&g, Some(w))));
        }
    }

    #[test]
    fn promotion_never_adds_dummies_and_ends_locally_optimal(
        g in any_dag(), which in 0usize..4, width in 1usize..5,
    ) {
        let start = match which {
            0 => asap(&g),
            1 => alap(&g),
            2 => coffman_graham(&g, width).unwrap(),
            _ => min_width(&g, None),
        };
        let after = promote(&g, &start).unwrap();
        check_layering(&g, &after).unwrap();
        let dummies = |layer: &[u32]| layering_metrics(&g, layer).unwrap().dummies;
        prop_assert!(dummies(&after) <= dummies(&start));
        if !g.is_empty() {
            prop_assert_eq!(after.iter().min().copied(), Some(0));
        }
        prop_assert_eq!(&after, &promote(&g, &start).unwrap());
        // The stopping rule: no single promotion lowers the dummy count any more.
        for v in 0..g.num_nodes() as u32 {
            if g.in_degree(v) > 0 {
                prop_assert!(promotion_gain(&g, &after, v) >= 0, "node {} still gains", v);
            }
        }
    }

    #[test]
    fn promotion_keeps_planted_layerings_free_of_dummies(
        n in 1u64..200, layers in 1u64..12, density in 0.0f64..0.5, seed in any::<u64>(),
    ) {
        // In a planted graph every node below the first layer has a predecessor one layer up
        // and every node above the last a successor one layer down, so ALAP is the planted
        // layering with zero dummies, and promotion must not spoil it.
        let layers = layers.min(n);
        let planted = planted_layered(n, layers, density, seed).unwrap();
        let start = alap(&planted.dag);
        prop_assert_eq!(&start, &planted.layer);
        let after = promote(&planted.dag, &start).unwrap();
        prop_assert_eq!(layering_metrics(&planted.dag, &after).unwrap().dummies, 0);
    }
}

#[test]
fn bad_arguments_are_errors() {
    let g = chain(3);
    assert!(coffman_graham(&g, 0).is_err());
    assert!(promote(&g, &[0, 0, 1]).is_err());
    assert!(promote(&g, &[0, 1]).is_err());
}

#[test]
fn larger_graphs_stay_valid() {
    let g = random_dag(20_000, None, Some(100_000), 7).unwrap();
    for width in [1, 10, 141, 20_000] {
        let layer = coffman_graham(&g, width).unwrap();
        assert!(layering_metrics(&g, &layer).unwrap().width <= width as u64);
    }
    let mw = min_width(&g, None);
    check_layering(&g, &mw).unwrap();
    let start = alap(&g);
    let after = promote(&g, &start).unwrap();
    let dummies = |layer: &[u32]| layering_metrics(&g, layer).unwrap().dummies;
    assert!(dummies(&after) < dummies(&start));
}
