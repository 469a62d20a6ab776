//! Property tests of the I/O simulator, bounds and schedules on random DAGs.

use proptest::prelude::*;
use sparsedag::cancel::never;
use sparsedag::graph::generators::random_dag;
use sparsedag::iosched::{
    check_edge_order, constructive_order, edge_order_of_neurons, io_bounds, io_cost, io_cost_edges,
    io_efficient_network, io_schedule, tiled_edge_order, Constructive, Method, Network,
    TILED_BASES,
};

/// A random valid edge order: repeatedly a random edge whose source is final.
fn random_edge_order(dag: &sparsedag::graph::Dag, seed: u64) -> Vec<u32> {
    let (src, _) = dag.edges();
    let (offsets, targets) = dag.out_csr();
    let mut remaining: Vec<usize> = (0..dag.num_nodes() as u32)
        .map(|v| dag.in_degree(v))
        .collect();
    let mut ready: Vec<u32> = (0..dag.num_edges() as u32)
        .filter(|&e| remaining[src[e as usize] as usize] == 0)
        .collect();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut order = Vec::new();
    while !ready.is_empty() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let e = ready.swap_remove((state >> 33) as usize % ready.len());
        order.push(e);
        let v = targets[e as usize];
        remaining[v as usize] -= 1;
        if remaining[v as usize] == 0 {
            ready.extend((offsets[v as usize]..offsets[v as usize + 1]).map(|k| k as u32));
        }
    }
    order
}
use sparsedag::order::check_order;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    #[test]
    fn every_schedule_lies_between_the_bounds(
        n in 2u64..120, density in 0.01f64..0.3, m in 2usize..40, seed in 0u64..1000
    ) {
        let dag = random_dag(n, Some(density), None, seed).unwrap();
        let net = Network::new(&dag, None, None).unwrap();
        let bounds = io_bounds(&net, m, false);
        prop_assert!(bounds.lower_from_counts <= bounds.lower);
        for c in Constructive::ALL {
            let order = constructive_order(&net, c, m, never()).unwrap();
            check_order(&dag, &order).unwrap();
            let cost = io_cost(&net, &order, m, false, false, never()).unwrap();
            prop_assert!(bounds.lower <= cost.total() && cost.total() <= bounds.upper);
        }
        let annealed = io_schedule(&net, m, Method::Anneal, 500, 4, seed, false, never()).unwrap();
        check_order(&dag, &annealed.order).unwrap();
        prop_assert!(annealed.io <= annealed.trace.io[0]);
        prop_assert_eq!(
            annealed.io,
            io_cost(&net, &annealed.order, m, false, false, never()).unwrap().total()
        );
    }

    #[test]
    fn efficient_networks_meet_the_lower_bound(
        inputs in 1usize..20, extra in 0usize..300, m in 2usize..64, seed in 0u64..100
    ) {
        let degree = 1 + (seed as usize) % (m - 1);
        let (dag, order) = io_efficient_network(inputs, inputs + extra, degree, m, seed).unwrap();
        let net = Network::new(&dag, None, None).unwrap();
        let cost = io_cost(&net, &order, m, false, false, never()).unwrap();
        prop_assert_eq!(cost.total(), io_bounds(&net, m, false).lower);
    }

    #[test]
    fn edge_orders_lie_between_the_edge_bounds(
        n in 2u64..120, density in 0.01f64..0.3, m in 2usize..40, seed in 0u64..1000
    ) {
        let dag = random_dag(n, Some(density), None, seed).unwrap();
        let net = Network::new(&dag, None, None).unwrap();
        let bounds = io_bounds(&net, m, false);
        prop_assert!(bounds.lower_edges <= bounds.lower);
        // A neuron order and its edge form cost the same.
        for c in Constructive::ALL {
            let order = constructive_order(&net, c, m, never()).unwrap();
            let edges = edge_order_of_neurons(&net, &order);
            let a = io_cost(&net, &order, m, false, false, never()).unwrap();
            let b = io_cost_edges(&net, &edges, m, false, false, never()).unwrap();
            prop_assert_eq!((a.loads, a.stores), (b.loads, b.stores));
        }
        let mut orders = vec![random_edge_order(&dag, seed), random_edge_order(&dag, seed + 1)];
        for c in Constructive::ALL {
            let base = constructive_order(&net, c, m, never()).unwrap();
            orders.extend([1, 2, m - 1, 3 * m].map(|b| tiled_edge_order(&net, &base, b)));
        }
        for order in &orders {
            check_edge_order(&dag, order).unwrap();
            let c = io_cost_edges(&net, order, m, true, false, never()).unwrap();
            prop_assert!(c.weight_reads == dag.num_edges() as u64);
            let total = c.total() - c.weight_reads;
            prop_assert!(bounds.lower_edges <= total && total <= bounds.upper_edges);
        }
        let tiled = io_schedule(&net, m, Method::Tiled, 0, 1, seed, false, never()).unwrap();
        prop_assert!(tiled.edges);
        check_edge_order(&dag, &tiled.order).unwrap();
        prop_assert_eq!(
            tiled.io,
            io_cost_edges(&net, &tiled.order, m, false, false, never()).unwrap().total()
        );
        // Block size one (the base order itself) is among the candidates.
        for c in TILED_BASES {
            let base = constructive_order(&net, c, m, never()).unwrap();
            prop_assert!(
                tiled.io <= io_cost(&net, &base, m, false, false, never()).unwrap().total()
            );
        }
    }
}
