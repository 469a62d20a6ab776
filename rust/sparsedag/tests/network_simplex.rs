//! Property tests of network simplex layering: exact on tiny DAGs against exhaustive search,
//! valid, normalised and never worse than the longest-path layerings on larger ones.

use proptest::prelude::*;
use sparsedag::graph::generators::{planted_layered, random_dag};
use sparsedag::layering::{alap, asap, check_layering, layering_metrics, network_simplex};
use sparsedag::{cancel, Dag, DuplicatePolicy};

fn span(g: &Dag, layer: &[u32]) -> u64 {
    layering_metrics(g, layer).unwrap().total_span
}

/// Smallest total span over all layerings with layers in 0..n, enumerated in topological order.
fn exhaustive_span(g: &Dag) -> u64 {
    fn go(g: &Dag, i: usize, layer: &mut [u32], best: &mut u64) {
        let topo = g.topological_order();
        if i == topo.len() {
            *best = (*best).min(span(g, layer));
            return;
        }
        let v = topo[i];
        let low = g
            .predecessors(v)
            .iter()
            .map(|&u| layer[u as usize] + 1)
            .max()
            .unwrap_or(0);
        for l in low..g.num_nodes() as u32 {
            layer[v as usize] = l;
            go(g, i + 1, layer, best);
        }
    }
    let mut layer = vec![0; g.num_nodes()];
    let mut best = u64::MAX;
    go(g, 0, &mut layer, &mut best);
    best
}

/// A DAG on n nodes: each pair (i, j), i < j, of a permutation is an edge when its bit is set.
fn dag_strategy(max_n: usize) -> impl Strategy<Value = Dag> {
    (1..=max_n).prop_flat_map(|n| {
        let pairs = n * (n - 1) / 2;
        (
            Just(n),
            Just(()).prop_perturb(move |_, mut rng| {
                let mut perm: Vec<u32> = (0..n as u32).collect();
                for i in (1..n).rev() {
                    perm.swap(i, rng.random_range(0..=i));
                }
                perm
            }),
            proptest::collection::vec(proptest::bool::weighted(0.4), pairs),
        )
            .prop_map(|(n, perm, bits)| {
                let (mut src, mut dst) = (Vec::new(), Vec::new());
                let mut k = 0;
                for i in 0..n {
                    for j in i + 1..n {
                        if bits[k] {
                            src.push(perm[i]);
                            dst.push(perm[j]);
                        }
                        k += 1;
                    }
                }
                Dag::from_edges(&src, &dst, Some(n as u64), DuplicatePolicy::Reject).unwrap()
            })
    })
}

/// Weakly connected component of every node (smallest id in it), by union-find.
fn components(g: &Dag) -> Vec<u32> {
    fn find(p: &mut [u32], mut v: u32) -> u32 {
        while p[v as usize] != v {
            p[v as usize] = p[p[v as usize] as usize];
            v = p[v as usize];
        }
        v
    }
    let mut p: Vec<u32> = (0..g.num_nodes() as u32).collect();
    for (u, v) in g.edge_iter() {
        let (a, b) = (find(&mut p, u), find(&mut p, v));
        p[a.max(b) as usize] = a.min(b);
    }
    (0..g.num_nodes() as u32).map(|v| find(&mut p, v)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn exact_on_tiny_dags(g in dag_strategy(6)) {
        let layer = network_simplex(&g, cancel::never()).unwrap();
        prop_assert!(check_layering(&g, &layer).is_ok());
        prop_assert_eq!(span(&g, &layer), exhaustive_span(&g));
    }

    #[test]
    fn valid_normalised_and_no_worse_than_longest_path(g in dag_strategy(40)) {
        let layer = network_simplex(&g, cancel::never()).unwrap();
        prop_assert!(check_layering(&g, &layer).is_ok());
        let s = span(&g, &layer);
        prop_assert!(s <= span(&g, &asap(&g)));
        prop_assert!(s <= span(&g, &alap(&g)));
        let comp = components(&g);
        let mut low = vec![u32::MAX; g.num_nodes()];
        for (v, &c) in comp.iter().enumerate() {
            low[c as usize] = low[c as usize].min(layer[v]);
        }
        for &c in &comp {
            prop_assert_eq!(low[c as usize], 0);
        }
        prop_assert_eq!(network_simplex(&g, cancel::never()).unwrap(), layer);
    }
}

#[test]
fn random_dags_beat_longest_path() {
    for (n, m, seed) in [
        (200u64, 600u64, 1u64),
        (2_000, 10_000, 2),
        (5_000, 25_000, 3),
    ] {
        let g = random_dag(n, None, Some(m), seed).unwrap();
        let layer = network_simplex(&g, cancel::never()).unwrap();
        check_layering(&g, &layer).unwrap();
        let s = span(&g, &layer);
        assert!(s <= span(&g, &asap(&g)).min(span(&g, &alap(&g))));
    }
}

#[test]
fn planted_layerings_are_reached_exactly() {
    // Edges only join consecutive planted layers, so span = edge count is optimal and reachable.
    for seed in 0..5 {
        let planted = planted_layered(3_000, 20, 0.01, seed).unwrap();
        let g = &planted.dag;
        let layer = network_simplex(g, cancel::never()).unwrap();
        check_layering(g, &layer).unwrap();
        assert_eq!(span(g, &layer), g.num_edges() as u64, "seed {seed}");
    }
}
