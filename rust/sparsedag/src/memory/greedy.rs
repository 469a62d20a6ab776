//! Greedy memory-aware topological orders: one pass each, the portfolio that the searches
//! start from and must never do worse than.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::partial::PartialSchedule;
use super::problem::Problem;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreedyRule {
    /// Take the ready node that keeps the peak so far lowest; among those, the one that
    /// raises the live memory least (least peak memory first).
    LeastPeak,
    /// Take the ready node whose step frees the most net memory (freed inputs minus its own
    /// output); ties by the memory during the step.
    LargestRelease,
    /// Depth-first post-order that reaches for each node's cheapest inputs first: nodes are
    /// ranked by their size plus their inputs' sizes, and every node is emitted right after
    /// its inputs, which keeps chains together and values short-lived.
    MemoryDfs,
    /// Breadth-first: the ready node whose inputs were computed earliest (compared as sorted
    /// lists of input steps), which shortens the lifetimes of old values.
    EarliestInputs,
}

impl GreedyRule {
    pub const ALL: [GreedyRule; 4] = [
        GreedyRule::LeastPeak,
        GreedyRule::LargestRelease,
        GreedyRule::MemoryDfs,
        GreedyRule::EarliestInputs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GreedyRule::LeastPeak => "least_peak",
            GreedyRule::LargestRelease => "largest_release",
            GreedyRule::MemoryDfs => "memory_dfs",
            GreedyRule::EarliestInputs => "earliest_inputs",
        }
    }

    pub fn from_name(name: &str) -> Result<Self> {
        match GreedyRule::ALL.into_iter().find(|r| r.name() == name) {
            Some(rule) => Ok(rule),
            None => invalid(format!("unknown greedy rule {name:?}")),
        }
    }
}

/// The order a greedy rule produces.
pub fn greedy_order(problem: &Problem, rule: GreedyRule) -> Vec<u32> {
    greedy_order_cancellable(problem, rule, crate::cancel::never())
        .expect("a token that is never requested cannot interrupt")
}

/// [`greedy_order`], stopping with `Interrupted` once `cancel` is requested. The rules that
/// scan the ready set take O(n * ready) time, hours on a graph with a million sources, so
/// they poll at every step.
pub fn greedy_order_cancellable(
    problem: &Problem,
    rule: GreedyRule,
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    Ok(match rule {
        GreedyRule::LeastPeak => by_ready_choice(problem, cancel, |state, v| {
            let (during, after) = state.preview(problem, v);
            (during.max(state.peak), after - state.live)
        })?,
        GreedyRule::LargestRelease => by_ready_choice(problem, cancel, |state, v| {
            let (during, after) = state.preview(problem, v);
            (after - state.live, during)
        })?,
        GreedyRule::MemoryDfs => memory_dfs(problem),
        GreedyRule::EarliestInputs => earliest_inputs(problem),
    })
}

/// Repeatedly schedules the ready node with the smallest `key` (ties: smallest id).
fn by_ready_choice<F>(problem: &Problem, cancel: &Cancel, key: F) -> Result<Vec<u32>>
where
    F: Fn(&PartialSchedule, u32) -> (f64, f64),
{
    let mut state = PartialSchedule::new(problem);
    let mut order = Vec::with_capacity(problem.n());
    cancel.begin_stage("greedy", problem.n() as u64);
    while !state.is_complete() {
        cancel.check()?;
        cancel.advance_to(order.len() as u64);
        let mut best = 0;
        let mut best_key = (f64::INFINITY, f64::INFINITY);
        for (i, &v) in state.ready().iter().enumerate() {
            let k = key(&state, v);
            if lexicographic_less(k, best_key) {
                best = i;
                best_key = k;
            }
        }
        order.push(state.schedule_at(problem, best, &[]));
    }
    Ok(order)
}

#[inline]
pub(crate) fn lexicographic_less(a: (f64, f64), b: (f64, f64)) -> bool {
    match a.0.total_cmp(&b.0) {
        Ordering::Less => true,
        Ordering::Greater => false,
        Ordering::Equal => a.1.total_cmp(&b.1) == Ordering::Less,
    }
}

fn memory_dfs(problem: &Problem) -> Vec<u32> {
    let dag = problem.dag;
    let n = problem.n();
    let weight: Vec<f64> = (0..n as u32)
        .map(|v| {
            problem.size(v)
                + dag
                    .predecessors(v)
                    .iter()
                    .map(|&u| problem.size(u))
                    .sum::<f64>()
        })
        .collect();
    let by_weight = |a: &u32, b: &u32| {
        weight[*a as usize]
            .total_cmp(&weight[*b as usize])
            .then(a.cmp(b))
    };
    let mut inputs: Vec<Vec<u32>> = (0..n as u32)
        .map(|v| {
            let mut p = dag.predecessors(v).to_vec();
            p.sort_by(by_weight);
            p
        })
        .collect();
    let mut roots: Vec<u32> = (0..n as u32).collect();
    roots.sort_by(by_weight);
    let mut visited = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for root in roots {
        if visited[root as usize] {
            continue;
        }
        visited[root as usize] = true;
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            if let Some(&u) = inputs[v as usize].get(next) {
                top.1 += 1;
                if !visited[u as usize] {
                    visited[u as usize] = true;
                    stack.push((u, 0));
                }
            } else {
                order.push(v);
                stack.pop();
                inputs[v as usize] = Vec::new();
            }
        }
    }
    order
}

fn earliest_inputs(problem: &Problem) -> Vec<u32> {
    let dag = problem.dag;
    let n = problem.n();
    let mut step = vec![0u32; n];
    let mut waiting: Vec<usize> = (0..n as u32).map(|v| dag.in_degree(v)).collect();
    let priority = |v: u32, step: &[u32]| {
        let mut p: Vec<u32> = dag
            .predecessors(v)
            .iter()
            .map(|&u| step[u as usize])
            .collect();
        p.sort_unstable();
        p
    };
    let mut heap: BinaryHeap<Reverse<(Vec<u32>, u32)>> = (0..n as u32)
        .filter(|&v| waiting[v as usize] == 0)
        .map(|v| Reverse((Vec::new(), v)))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse((_, v))) = heap.pop() {
        step[v as usize] = order.len() as u32;
        order.push(v);
        for &w in dag.successors(v) {
            waiting[w as usize] -= 1;
            if waiting[w as usize] == 0 {
                heap.push(Reverse((priority(w, &step), w)));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::problem::Model;
    use crate::memory::{evaluate::peak_unchecked, Problem};
    use crate::order::check_order;

    #[test]
    fn every_rule_gives_a_topological_order() {
        let g = crate::graph::generators::random_dag(60, Some(0.1), None, 4).unwrap();
        let sizes: Vec<f64> = (0..60).map(|i| (i % 7) as f64 + 0.5).collect();
        let p = Problem::new(&g, &sizes, Model::Coexist).unwrap();
        for rule in GreedyRule::ALL {
            let order = greedy_order(&p, rule);
            check_order(&g, &order).unwrap();
            assert!(peak_unchecked(&p, &order) > 0.0);
        }
    }
}
