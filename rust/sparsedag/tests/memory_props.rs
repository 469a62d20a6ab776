//! Property tests of the peak-memory evaluator and the memory-minimising orders against brute
//! force over all topological orders of small DAGs.

use proptest::prelude::*;
use sparsedag::cancel::never;
use sparsedag::graph::generators::random_dag;
use sparsedag::memory::{
    exact_order, greedy_order, min_memory_order, peak_lower_bound, peak_memory, Effort, GreedyRule,
    Model, Problem,
};
use sparsedag::order::check_order;
use sparsedag::{Dag, DuplicatePolicy};

/// Random DAGs on up to 7 nodes with one size per node.
fn sized_dag() -> impl Strategy<Value = (Dag, Vec<f64>)> {
    (1usize..8)
        .prop_flat_map(|n| {
            let pairs: Vec<(u32, u32)> = (0..n as u32)
                .flat_map(|i| (i + 1..n as u32).map(move |j| (i, j)))
                .collect();
            let count = pairs.len();
            (
                Just(n),
                Just(pairs),
                prop::collection::vec(prop::bool::weighted(0.35), count),
                Just((0..n as u32).collect::<Vec<u32>>()).prop_shuffle(),
                prop::collection::vec(0u32..6, n),
            )
        })
        .prop_map(|(n, pairs, keep, perm, sizes)| {
            let (src, dst): (Vec<u32>, Vec<u32>) = pairs
                .iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&(i, j), _)| (perm[i as usize], perm[j as usize]))
                .unzip();
            let dag = Dag::from_edges(&src, &dst, Some(n as u64), DuplicatePolicy::Reject).unwrap();
            (dag, sizes.into_iter().map(f64::from).collect())
        })
}

/// The smallest peak over every topological order, by enumeration.
fn brute_force_peak(problem: &Problem) -> f64 {
    fn extend(problem: &Problem, prefix: &mut Vec<u32>, used: &mut Vec<bool>, best: &mut f64) {
        let n = problem.dag.num_nodes();
        if prefix.len() == n {
            *best = best.min(peak_memory(problem, prefix).unwrap());
            return;
        }
        for v in 0..n as u32 {
            let ready = !used[v as usize]
                && problem
                    .dag
                    .predecessors(v)
                    .iter()
                    .all(|&u| used[u as usize]);
            if ready {
                used[v as usize] = true;
                prefix.push(v);
                extend(problem, prefix, used, best);
                prefix.pop();
                used[v as usize] = false;
            }
        }
    }
    let mut best = f64::INFINITY;
    let n = problem.dag.num_nodes();
    extend(problem, &mut Vec::new(), &mut vec![false; n], &mut best);
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn exact_equals_brute_force((dag, sizes) in sized_dag(), fif in any::<bool>()) {
        let model = if fif { Model::FreeInputsFirst } else { Model::Coexist };
        let problem = Problem::new(&dag, &sizes, model).unwrap();
        let order = exact_order(&problem, 1_000_000, never()).unwrap();
        check_order(&dag, &order).unwrap();
        prop_assert_eq!(peak_memory(&problem, &order).unwrap(), brute_force_peak(&problem));
    }

    #[test]
    fn min_memory_beats_every_greedy_rule((dag, sizes) in sized_dag(), seed in 0u64..4) {
        let problem = Problem::new(&dag, &sizes, Model::Coexist).unwrap();
        let effort = Effort::scaled(1.0, dag.num_nodes()).unwrap();
        let order = min_memory_order(&problem, effort, seed, never()).unwrap();
        check_order(&dag, &order).unwrap();
        let ours = peak_memory(&problem, &order).unwrap();
        for rule in GreedyRule::ALL {
            prop_assert!(ours <= peak_memory(&problem, &greedy_order(&problem, rule)).unwrap());
        }
        prop_assert!(ours >= brute_force_peak(&problem));
    }

    #[test]
    fn lower_bound_is_below_brute_force((dag, sizes) in sized_dag(), fif in any::<bool>()) {
        let model = if fif { Model::FreeInputsFirst } else { Model::Coexist };
        let problem = Problem::new(&dag, &sizes, model).unwrap();
        let bound = peak_lower_bound(&problem, never()).unwrap();
        prop_assert!(bound <= brute_force_peak(&problem) + 1e-9);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Graphs too big for the exact search inside `min_memory`: the heuristic pipeline (beam,
    /// annealing, window re-optimisation) must still return a topological order no worse than
    /// any greedy rule, and no better than the lower bound.
    #[test]
    fn heuristic_search_beats_every_greedy_rule(
        n in 20u64..90, density in 0.03f64..0.3, graph_seed in 0u64..1000, seed in 0u64..4, fif in any::<bool>()
    ) {
        let dag = random_dag(n, Some(density), None, graph_seed).unwrap();
        let sizes: Vec<f64> = (0..n).map(|v| ((v * 7 + graph_seed) % 11) as f64 * 0.5).collect();
        let model = if fif { Model::FreeInputsFirst } else { Model::Coexist };
        let problem = Problem::new(&dag, &sizes, model).unwrap();
        let effort = Effort { exact_states: 0, ..Effort::scaled(0.5, dag.num_nodes()).unwrap() };
        let order = min_memory_order(&problem, effort, seed, never()).unwrap();
        check_order(&dag, &order).unwrap();
        let ours = peak_memory(&problem, &order).unwrap();
        for rule in GreedyRule::ALL {
            prop_assert!(ours <= peak_memory(&problem, &greedy_order(&problem, rule)).unwrap());
        }
        prop_assert!(peak_lower_bound(&problem, never()).unwrap() <= ours + 1e-9);
    }
}

#[test]
fn exact_reports_the_state_limit() {
    // 20 independent nodes: 2^20 scheduled sets.
    let dag = Dag::from_edges::<u32>(&[], &[], Some(20), DuplicatePolicy::Reject).unwrap();
    let sizes = vec![1.0; 20];
    let problem = Problem::new(&dag, &sizes, Model::Coexist).unwrap();
    let err = exact_order(&problem, 10_000, never()).unwrap_err();
    assert!(err.to_string().contains("max_states"));
}
