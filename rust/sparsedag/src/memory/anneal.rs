//! Simulated annealing over topological orders. A move slides one node a few places left or
//! right by swapping it with independent neighbours, so the order stays topological. Swapping
//! the nodes at steps t and t + 1 changes only the memory of those two steps (every other
//! step keeps the same live set), so a swap costs O(degree + log n): the two steps are
//! recomputed from the live memory before step t and a max-tree gives the new peak.

use super::evaluate::{live_after, profile_from_live};
use super::problem::Problem;
use crate::cancel::Cancel;
use crate::error::Result;
use crate::rng::Rng;

/// Longest slide of one move.
const MAX_SLIDE: usize = 16;
/// Share of moves that start near the current peak step, where a move can lower the peak.
const FOCUS: f64 = 0.9;
/// How far from the peak step a focused move may start.
const REACH: u64 = 128;
/// Weight of the root-mean-square step memory (relative to the start's peak) in the energy.
const SMOOTH_WEIGHT: f64 = 0.05;
/// A sink's value is never freed.
const NEVER: u32 = u32::MAX;

/// Maximum over a fixed-length array with point updates.
struct MaxTree {
    leaves: usize,
    node: Vec<f64>,
}

impl MaxTree {
    fn new(values: &[f64]) -> Self {
        let leaves = values.len().next_power_of_two().max(1);
        let mut node = vec![f64::NEG_INFINITY; 2 * leaves];
        node[leaves..leaves + values.len()].copy_from_slice(values);
        for i in (1..leaves).rev() {
            node[i] = node[2 * i].max(node[2 * i + 1]);
        }
        MaxTree { leaves, node }
    }

    fn set(&mut self, i: usize, value: f64) {
        let mut i = i + self.leaves;
        self.node[i] = value;
        while i > 1 {
            i /= 2;
            self.node[i] = self.node[2 * i].max(self.node[2 * i + 1]);
        }
    }

    /// Index of a maximum leaf (the leftmost).
    fn argmax(&self) -> usize {
        let mut i = 1;
        while i < self.leaves {
            i = if self.node[2 * i] >= self.node[2 * i + 1] {
                2 * i
            } else {
                2 * i + 1
            };
        }
        i - self.leaves
    }

    fn get(&self, i: usize) -> f64 {
        self.node[i + self.leaves]
    }

    fn max(&self) -> f64 {
        self.node[1]
    }
}

struct Annealer<'p, 'a> {
    problem: &'p Problem<'a>,
    order: Vec<u32>,
    position: Vec<u32>,
    /// Step of each node's last consumer, `NEVER` for sinks.
    last_use: Vec<u32>,
    after: Vec<f64>,
    memory: MaxTree,
    /// Sum of squared step memories (relative to `scale`): a smooth secondary objective that
    /// separates orders of equal peak, so the search can drift towards lower high-water steps.
    square_sum: f64,
    scale: f64,
}

impl<'p, 'a> Annealer<'p, 'a> {
    fn new(problem: &'p Problem<'a>, order: &[u32]) -> Self {
        let n = problem.n();
        let mut position = vec![0u32; n];
        for (t, &v) in order.iter().enumerate() {
            position[v as usize] = t as u32;
        }
        let last_use = (0..n as u32)
            .map(|v| {
                problem
                    .dag
                    .successors(v)
                    .iter()
                    .map(|&w| position[w as usize])
                    .max()
                    .unwrap_or(NEVER)
            })
            .collect();
        let after = live_after(problem, order);
        let profile = profile_from_live(problem, order, &after);
        let scale = profile.iter().copied().fold(1e-300, f64::max);
        let square_sum = profile.iter().map(|m| (m / scale) * (m / scale)).sum();
        Annealer {
            problem,
            order: order.to_vec(),
            position,
            last_use,
            after,
            memory: MaxTree::new(&profile),
            square_sum,
            scale,
        }
    }

    fn power(&self, m: f64) -> f64 {
        if m == f64::NEG_INFINITY {
            return 0.0;
        }
        let x = m / self.scale;
        x * x
    }

    fn peak(&self) -> f64 {
        self.memory.max().max(0.0)
    }

    /// Whether `b` consumes `a`'s value (successor rows are sorted).
    fn depends(&self, a: u32, b: u32) -> bool {
        self.problem.dag.successors(a).binary_search(&b).is_ok()
    }

    fn recompute_step(&mut self, t: usize) {
        let problem = self.problem;
        let v = self.order[t];
        let before = if t == 0 { 0.0 } else { self.after[t - 1] };
        let freed: f64 = problem
            .dag
            .predecessors(v)
            .iter()
            .filter(|&&u| self.last_use[u as usize] == t as u32)
            .map(|&u| problem.size(u))
            .sum();
        let (during, after) = problem.model.step(before, problem.size(v), freed);
        self.after[t] = after;
        let old = self.memory.get(t);
        self.square_sum += self.power(during) - self.power(old);
        self.memory.set(t, during);
    }

    /// Swaps the independent nodes at steps t and t + 1.
    fn swap(&mut self, t: usize) {
        let dag = self.problem.dag;
        let (a, b) = (self.order[t], self.order[t + 1]);
        let (t0, t1) = (t as u32, t as u32 + 1);
        // b's inputs last used by b now die one step earlier, unless a also reads them (a now
        // runs at t + 1): fixing b's inputs first and a's second gets both cases right.
        for &u in dag.predecessors(b) {
            if self.last_use[u as usize] == t1 {
                self.last_use[u as usize] = t0;
            }
        }
        for &u in dag.predecessors(a) {
            if self.last_use[u as usize] == t0 {
                self.last_use[u as usize] = t1;
            }
        }
        self.order.swap(t, t + 1);
        self.position[a as usize] = t1;
        self.position[b as usize] = t0;
        self.recompute_step(t);
        self.recompute_step(t + 1);
    }

    /// Slides the node at step `from` up to `distance` places (left if `left`), stopping at its
    /// first dependency; returns the swap steps made, for undoing.
    fn slide(&mut self, from: usize, left: bool, distance: usize, made: &mut Vec<usize>) {
        made.clear();
        let n = self.order.len();
        let mut t = from;
        for _ in 0..distance {
            if left {
                if t == 0 || self.depends(self.order[t - 1], self.order[t]) {
                    break;
                }
                self.swap(t - 1);
                made.push(t - 1);
                t -= 1;
            } else {
                if t + 1 >= n || self.depends(self.order[t], self.order[t + 1]) {
                    break;
                }
                self.swap(t);
                made.push(t);
                t += 1;
            }
        }
    }

    fn undo(&mut self, made: &[usize]) {
        for &t in made.iter().rev() {
            self.swap(t);
        }
    }
}

/// Anneals from `start` (a topological order) for `moves` moves and returns the order of
/// lowest peak seen, by the incremental accounting. The caller re-evaluates it exactly.
pub(crate) fn anneal_order(
    problem: &Problem,
    start: &[u32],
    moves: usize,
    seed: u64,
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    let n = problem.n();
    let positive: Vec<f64> = problem.sizes.iter().copied().filter(|&s| s > 0.0).collect();
    if n < 2 || moves == 0 || positive.is_empty() {
        return Ok(start.to_vec());
    }
    let typical = positive.iter().sum::<f64>() / positive.len() as f64;
    let mut state = Annealer::new(problem, start);
    let weight = SMOOTH_WEIGHT;
    let energy = |s: &Annealer| s.peak() + weight * s.scale * (s.square_sum / n as f64).sqrt();
    let mut rng = Rng::new(seed);
    let (hot, cold) = (0.5 * typical, 0.002 * typical);
    let cooling = (cold / hot).powf(1.0 / moves as f64);
    let mut temperature = hot;
    let mut current = energy(&state);
    let mut best_peak = state.peak();
    let mut best = state.order.clone();
    let mut made = Vec::with_capacity(MAX_SLIDE);
    cancel.begin_stage("anneal", moves as u64);
    for step in 0..moves {
        if step % 4096 == 0 {
            cancel.check()?;
            cancel.advance_to(step as u64);
        }
        let from = if rng.next_f64() < FOCUS {
            let centre = state.memory.argmax() as i64;
            let offset = rng.below(2 * REACH + 1) as i64 - REACH as i64;
            (centre + offset).clamp(0, n as i64 - 1) as usize
        } else {
            rng.below(n as u64) as usize
        };
        let left = rng.next_u64() & 1 == 0;
        let distance = 1 + rng.below(MAX_SLIDE as u64) as usize;
        state.slide(from, left, distance, &mut made);
        if made.is_empty() {
            temperature *= cooling;
            continue;
        }
        let proposed = energy(&state);
        let delta = proposed - current;
        if delta <= 0.0 || rng.next_f64() < (-delta / temperature).exp() {
            current = proposed;
            let peak = state.peak();
            if peak < best_peak {
                best_peak = peak;
                best.copy_from_slice(&state.order);
            }
        } else {
            state.undo(&made);
        }
        temperature *= cooling;
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::generators::random_dag;
    use crate::memory::evaluate::profile_unchecked;
    use crate::memory::problem::Model;
    use crate::order::{check_order, kahn};

    #[test]
    fn incremental_accounting_matches_a_fresh_evaluation() {
        let g = random_dag(40, Some(0.15), None, 9).unwrap();
        let sizes: Vec<f64> = (0..40).map(|i| ((i * 7) % 5) as f64 + 1.0).collect();
        for model in Model::ALL {
            let p = Problem::new(&g, &sizes, model).unwrap();
            let mut state = Annealer::new(&p, &kahn(&g));
            let mut rng = Rng::new(1);
            let mut made = Vec::new();
            for _ in 0..300 {
                let from = rng.below(40) as usize;
                let left = rng.next_u64() & 1 == 0;
                state.slide(from, left, 1 + rng.below(6) as usize, &mut made);
                if rng.next_u64().is_multiple_of(3) {
                    state.undo(&made);
                }
                check_order(&g, &state.order).unwrap();
                let fresh = profile_unchecked(&p, &state.order);
                for (t, m) in fresh.iter().enumerate() {
                    assert!((state.memory.get(t) - m).abs() < 1e-9);
                }
            }
        }
    }
}
