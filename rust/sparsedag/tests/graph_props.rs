//! Property tests of the Dag builder, the minimum-height layerings and the orders against
//! simple reference implementations.

use std::collections::BTreeSet;

use proptest::prelude::*;
use sparsedag::layering::{alap, asap, check_layering, fourward, layering_metrics};
use sparsedag::order::{check_order, dfs, generations, kahn, lexicographic};
use sparsedag::{Dag, DuplicatePolicy, Error};

/// Arbitrary directed graphs (cycles, self-loops and duplicates allowed) on up to 10 nodes.
fn any_edges() -> impl Strategy<Value = (u32, Vec<(u32, u32)>)> {
    (1u32..10).prop_flat_map(|n| (Just(n), prop::collection::vec((0..n, 0..n), 0..30)))
}

/// Random DAGs: pairs (i < j) mapped through a permutation.
fn dag() -> impl Strategy<Value = Dag> {
    (0usize..14)
        .prop_flat_map(|n| {
            let pairs: Vec<(u32, u32)> = (0..n as u32)
                .flat_map(|i| (i + 1..n as u32).map(move |j| (i, j)))
                .collect();
            let count = pairs.len();
            (
                Just(n),
                Just(pairs),
                prop::collection::vec(any::<bool>(), count),
                Just((0..n as u32).collect::<Vec<u32>>()).prop_shuffle(),
            )
        })
        .prop_map(|(n, pairs, keep, perm)| {
            let (src, dst): (Vec<u32>, Vec<u32>) = pairs
                .iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&(i, j), _)| (perm[i as usize], perm[j as usize]))
                .unzip();
            Dag::from_edges(&src, &dst, Some(n as u64), DuplicatePolicy::Reject).unwrap()
        })
}

/// Reference acyclicity test: repeatedly delete nodes without in-edges.
fn has_cycle(n: u32, edges: &BTreeSet<(u32, u32)>) -> bool {
    let mut alive: BTreeSet<u32> = (0..n).collect();
    loop {
        let removable: Vec<u32> = alive
            .iter()
            .copied()
            .filter(|&v| !edges.iter().any(|&(u, w)| w == v && alive.contains(&u)))
            .collect();
        if removable.is_empty() {
            return !alive.is_empty();
        }
        for v in removable {
            alive.remove(&v);
        }
    }
}

proptest! {
    #[test]
    fn builder_agrees_with_reference((n, edges) in any_edges()) {
        let src: Vec<u32> = edges.iter().map(|e| e.0).collect();
        let dst: Vec<u32> = edges.iter().map(|e| e.1).collect();
        let distinct: BTreeSet<(u32, u32)> = edges.iter().copied().collect();
        let result = Dag::from_edges(&src, &dst, Some(n as u64), DuplicatePolicy::Merge);
        if let Some(position) = edges.iter().position(|(u, v)| u == v) {
            prop_assert!(
                matches!(result, Err(Error::SelfLoop { position: p, .. }) if p == position),
                "expected the first self-loop to be reported, got {result:?}"
            );
            return Ok(());
        }
        match result {
            Ok(g) => {
                prop_assert!(!has_cycle(n, &distinct));
                let built: BTreeSet<(u32, u32)> = g.edge_iter().collect();
                prop_assert_eq!(&built, &distinct);
                prop_assert_eq!(g.num_edges(), distinct.len());
                for v in 0..n {
                    let preds: Vec<u32> = distinct.iter().filter(|e| e.1 == v).map(|e| e.0).collect();
                    prop_assert_eq!(g.predecessors(v), &preds[..]);
                }
                check_order(&g, g.topological_order()).unwrap();
            }
            Err(Error::Cycle(cycle)) => {
                prop_assert!(has_cycle(n, &distinct));
                prop_assert!(!cycle.is_empty());
                let unique: BTreeSet<u32> = cycle.iter().copied().collect();
                prop_assert_eq!(unique.len(), cycle.len(), "a cycle visits each node once");
                for i in 0..cycle.len() {
                    let edge = (cycle[i], cycle[(i + 1) % cycle.len()]);
                    prop_assert!(distinct.contains(&edge), "{:?} is not an edge", edge);
                }
            }
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn duplicates_rejected_exactly_when_present((n, edges) in any_edges()) {
        let edges: Vec<(u32, u32)> = edges.into_iter().filter(|(u, v)| u < v).collect();
        let src: Vec<u32> = edges.iter().map(|e| e.0).collect();
        let dst: Vec<u32> = edges.iter().map(|e| e.1).collect();
        let distinct: BTreeSet<(u32, u32)> = edges.iter().copied().collect();
        let result = Dag::from_edges(&src, &dst, Some(n as u64), DuplicatePolicy::Reject);
        if distinct.len() == edges.len() {
            prop_assert!(result.is_ok());
        } else {
            let rejected = matches!(result, Err(Error::DuplicateEdge { .. }));
            prop_assert!(rejected, "expected a duplicate-edge error");
        }
    }

    #[test]
    fn minimum_height_layerings(g in dag()) {
        // Reference: relax every edge until nothing changes (Bellman-Ford on longest paths).
        let mut reference = vec![0u32; g.num_nodes()];
        loop {
            let mut changed = false;
            for (u, v) in g.edge_iter() {
                if reference[v as usize] < reference[u as usize] + 1 {
                    reference[v as usize] = reference[u as usize] + 1;
                    changed = true;
                }
            }
            if !changed { break; }
        }
        prop_assert_eq!(&asap(&g), &reference);
        let height = layering_metrics(&g, &reference).unwrap().height;
        for layering in [alap(&g), fourward(&g)] {
            check_layering(&g, &layering).unwrap();
            prop_assert_eq!(layering_metrics(&g, &layering).unwrap().height, height);
        }
        let (offsets, nodes) = generations(&g);
        prop_assert_eq!(offsets.len() as u64, height + 1);
        for level in 0..height as usize {
            for &v in &nodes[offsets[level]..offsets[level + 1]] {
                prop_assert_eq!(reference[v as usize] as usize, level);
            }
        }
    }

    #[test]
    fn orders_are_topological(g in dag(), seed in any::<u64>()) {
        check_order(&g, &kahn(&g)).unwrap();
        check_order(&g, &dfs(&g)).unwrap();
        let key: Vec<f64> = (0..g.num_nodes()).map(|v| ((v as u64 ^ seed) % 7) as f64).collect();
        let order = lexicographic(&g, Some(&key)).unwrap();
        check_order(&g, &order).unwrap();
    }
}
