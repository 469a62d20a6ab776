//! Property tests of the I/O simulator, bounds and schedules on random DAGs.

use proptest::prelude::*;
use sparsedag::cancel::never;
use sparsedag::graph::generators::random_dag;
use sparsedag::iosched::{
    constructive_order, io_bounds, io_cost, io_efficient_network, io_schedule, Constructive,
    Method, Network,
};
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
}
