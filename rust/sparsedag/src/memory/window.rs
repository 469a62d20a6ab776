//! Window re-optimisation: re-order the nodes of a short stretch of an order, keeping the prefix
//! and the suffix. The live values after the stretch depend only on the set of nodes scheduled,
//! which the re-ordering keeps, so only the steps inside the window change: the best order of
//! the window (lowest peak inside it) is a bounded search over the window's scheduled subsets,
//! the same search as the beam but over at most 128 nodes with bit-mask states. Annealing
//! moves one node at a time; a window re-orders a whole stretch around the peak at once.

use std::collections::HashMap;

use super::evaluate::{live_after, profile_from_live};
use super::problem::Problem;
use crate::cancel::Cancel;
use crate::error::Result;
use crate::rng::Rng;

/// Largest window, in steps: states are 128-bit masks.
pub(crate) const MAX_WINDOW: usize = 128;

/// A value the window can free: it dies at the step that completes `consumers`.
#[derive(Clone, Copy)]
struct Freeable {
    consumers: u128,
    size: f64,
}

/// The window `order[start..start + len]` as a small problem of its own.
pub(crate) struct Window {
    nodes: Vec<u32>,
    sizes: Vec<f64>,
    /// Predecessors inside the window, per local node.
    inputs: Vec<u128>,
    /// Per local node, the values whose last consumer could be this node.
    frees: Vec<Vec<Freeable>>,
    /// Live memory before the window's first step.
    live_before: f64,
}

#[derive(Clone, Copy)]
struct State {
    set: u128,
    live: f64,
    peak: f64,
    parent: u32,
    node: u8,
}

impl Window {
    /// `position[v]` is v's step in `order`; `live_before` the live memory after step
    /// `start - 1`.
    pub fn new(
        problem: &Problem,
        order: &[u32],
        position: &[u32],
        start: usize,
        len: usize,
        live_before: f64,
    ) -> Self {
        let dag = problem.dag;
        let end = start + len;
        debug_assert!(len <= MAX_WINDOW && end <= order.len());
        let nodes = order[start..end].to_vec();
        let local = |v: u32| -> Option<usize> {
            let p = position[v as usize] as usize;
            (start..end).contains(&p).then(|| p - start)
        };
        let inputs = nodes
            .iter()
            .map(|&v| {
                dag.predecessors(v)
                    .iter()
                    .filter_map(|&u| local(u))
                    .fold(0u128, |m, i| m | 1 << i)
            })
            .collect();
        let mut frees: Vec<Vec<Freeable>> = vec![Vec::new(); len];
        let mut values: Vec<u32> = nodes
            .iter()
            .flat_map(|&v| dag.predecessors(v).iter().copied())
            .collect();
        values.sort_unstable();
        values.dedup();
        for x in values {
            let mut consumers = 0u128;
            let mut freeable = true;
            for &w in dag.successors(x) {
                let p = position[w as usize] as usize;
                if p >= end {
                    freeable = false;
                    break;
                }
                if p >= start {
                    consumers |= 1 << (p - start);
                }
            }
            if !freeable {
                continue;
            }
            let value = Freeable {
                consumers,
                size: problem.size(x),
            };
            let mut bits = consumers;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                frees[i].push(value);
                bits &= bits - 1;
            }
        }
        Window {
            sizes: nodes.iter().map(|&v| problem.size(v)).collect(),
            nodes,
            inputs,
            frees,
            live_before,
        }
    }

    #[inline]
    fn step(&self, problem: &Problem, set: u128, live: f64, i: usize) -> (f64, f64) {
        let grown = set | 1 << i;
        let freed: f64 = self.frees[i]
            .iter()
            .filter(|f| f.consumers & !grown == 0)
            .map(|f| f.size)
            .sum();
        problem.model.step(live, self.sizes[i], freed)
    }

    /// The window order of lowest peak a beam of `width` subsets finds, as nodes, with its peak
    /// inside the window; `None` when nothing reaches below `bound`.
    pub fn solve(&self, problem: &Problem, width: usize, bound: f64) -> Option<(f64, Vec<u32>)> {
        let len = self.nodes.len();
        let mut levels: Vec<Vec<State>> = Vec::with_capacity(len + 1);
        levels.push(vec![State {
            set: 0,
            live: self.live_before,
            peak: f64::NEG_INFINITY,
            parent: u32::MAX,
            node: 0,
        }]);
        let mut index: HashMap<u128, u32> = HashMap::new();
        for _ in 0..len {
            let current = levels.last().expect("levels start non-empty");
            let mut next: Vec<State> = Vec::new();
            index.clear();
            for (parent, state) in current.iter().enumerate() {
                for i in 0..len {
                    if state.set >> i & 1 == 1 || self.inputs[i] & !state.set != 0 {
                        continue;
                    }
                    let (during, after) = self.step(problem, state.set, state.live, i);
                    let peak = state.peak.max(during);
                    if peak >= bound {
                        continue;
                    }
                    let child = State {
                        set: state.set | 1 << i,
                        live: after,
                        peak,
                        parent: parent as u32,
                        node: i as u8,
                    };
                    match index.get(&child.set) {
                        Some(&k) => {
                            let old = &mut next[k as usize];
                            if peak < old.peak {
                                *old = child;
                            }
                        }
                        None => {
                            index.insert(child.set, next.len() as u32);
                            next.push(child);
                        }
                    }
                }
            }
            if next.is_empty() {
                return None;
            }
            if next.len() > width {
                next.select_nth_unstable_by(width - 1, |a, b| {
                    a.live
                        .total_cmp(&b.live)
                        .then(a.peak.total_cmp(&b.peak))
                        .then(a.set.cmp(&b.set))
                });
                next.truncate(width);
            }
            levels.push(next);
        }
        let last = levels.last()?;
        let (mut at, best) = last
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.peak.total_cmp(&b.1.peak))?;
        let peak = best.peak;
        let mut locals = Vec::with_capacity(len);
        for level in levels.iter().rev() {
            let s = level[at];
            if s.parent == u32::MAX {
                break;
            }
            locals.push(self.nodes[s.node as usize]);
            at = s.parent as usize;
        }
        locals.reverse();
        Some((peak, locals))
    }
}

/// Re-optimises windows of `len` steps around the peak of `order` with a beam of `width`
/// subsets, each window placed at a seeded random offset that still covers the peak step, until
/// `tries` windows in a row fail to lower it. Returns an order whose peak is at most the
/// start's (a window is only taken when its new peak is strictly lower than its old one).
pub(crate) fn polish(
    problem: &Problem,
    order: &[u32],
    len: usize,
    width: usize,
    tries: usize,
    seed: u64,
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    let n = order.len();
    let len = len.min(n).min(MAX_WINDOW);
    let mut order = order.to_vec();
    if len < 2 || width == 0 {
        return Ok(order);
    }
    // Its own stream, apart from the annealing's, which takes the same seed.
    let mut rng = Rng::new(seed ^ 0x77_1D_0E_5E_ED);
    let mut position = vec![0u32; n];
    let mut failures = 0;
    let mut windows = 0u64;
    // It stops after `tries` failed windows in a row, so only the count is known.
    cancel.begin_stage("windows", 0);
    while failures < tries {
        cancel.check()?;
        cancel.advance_to(windows);
        windows += 1;
        let after = live_after(problem, &order);
        let profile = profile_from_live(problem, &order, &after);
        let peak_step = (0..n)
            .max_by(|&a, &b| profile[a].total_cmp(&profile[b]).then(b.cmp(&a)))
            .expect("n >= 2");
        let lowest = peak_step.saturating_sub(len - 1);
        let highest = peak_step.min(n - len);
        let start = lowest + rng.below((highest - lowest + 1) as u64) as usize;
        for (t, &v) in order.iter().enumerate() {
            position[v as usize] = t as u32;
        }
        let live_before = if start == 0 { 0.0 } else { after[start - 1] };
        let window = Window::new(problem, &order, &position, start, len, live_before);
        let old_peak = profile[start..start + len]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        // A margin keeps rounding noise from counting as progress (and from looping).
        let bound = old_peak - 1e-9 * old_peak.abs().max(1.0);
        match window.solve(problem, width, bound) {
            Some((_, nodes)) => {
                order[start..start + len].copy_from_slice(&nodes);
                failures = 0;
            }
            None => failures += 1,
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::graph::generators::{layered_graph, random_dag};
    use crate::memory::evaluate::peak_unchecked;
    use crate::memory::exact::exact_order;
    use crate::memory::problem::Model;
    use crate::order::{check_order, kahn};

    #[test]
    fn an_unbounded_window_over_the_whole_order_is_exact() {
        for seed in 0..12 {
            let n = 9 + seed as usize % 6;
            let g = random_dag(n as u64, Some(0.25), None, seed).unwrap();
            let sizes: Vec<f64> = (0..n)
                .map(|i| ((i * 5 + seed as usize) % 7) as f64)
                .collect();
            for model in Model::ALL {
                let p = Problem::new(&g, &sizes, model).unwrap();
                let order = kahn(&g);
                let position: Vec<u32> = {
                    let mut pos = vec![0u32; n];
                    for (t, &v) in order.iter().enumerate() {
                        pos[v as usize] = t as u32;
                    }
                    pos
                };
                let w = Window::new(&p, &order, &position, 0, n, 0.0);
                let (peak, nodes) = w.solve(&p, usize::MAX, f64::INFINITY).unwrap();
                check_order(&g, &nodes).unwrap();
                let optimum = peak_unchecked(&p, &exact_order(&p, 1_000_000, never()).unwrap());
                assert!((peak - optimum).abs() < 1e-9, "{peak} vs {optimum}");
                assert!((peak_unchecked(&p, &nodes) - peak).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn polishing_keeps_a_topological_order_and_never_raises_the_peak() {
        for seed in 0..4 {
            let g = layered_graph(300, seed).unwrap();
            for model in Model::ALL {
                let p = Problem::new(&g.dag, &g.sizes, model).unwrap();
                let start = kahn(&g.dag);
                let polished = polish(&p, &start, 24, 64, 6, seed, never()).unwrap();
                check_order(&g.dag, &polished).unwrap();
                assert!(peak_unchecked(&p, &polished) <= peak_unchecked(&p, &start));
                let again = polish(&p, &start, 24, 64, 6, seed, never()).unwrap();
                assert_eq!(polished, again);
            }
        }
    }
}
