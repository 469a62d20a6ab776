//! A lower bound on the peak memory of every topological order, by minimum cuts.
//!
//! When node `v` runs, the scheduled set `S` is a downward-closed set that holds every ancestor
//! of `v` and none of `v`'s descendants, and the live memory is `live(S)`: the sizes of the
//! scheduled values that are outputs or still have an unscheduled consumer. So every order has
//! a step of memory at least `min_S live(S) + s(v)` (coexist; with `free_inputs_first`, `v` is
//! in the set and the step costs `live(S ∪ {v})`), for every `v`. The minimum over
//! downward-closed sets is a minimum cut: node `u` on the source side means "scheduled", a
//! twin `u'` on the source side means "all of `u`'s consumers scheduled", an arc `u -> u'` of
//! capacity `s(u)` charges a scheduled value that is still needed, and infinite arcs `u' -> w`
//! (consumers of `u`) and `w -> p` (inputs of `w`) enforce the meaning and the closure. The
//! bound is the maximum over `v`; nodes whose cheapest feasible set (their ancestors) cannot
//! beat the best bound so far are skipped.

use std::collections::VecDeque;

use super::problem::{Model, Problem};
use crate::cancel::Cancel;
use crate::error::Result;

const NONE: usize = usize::MAX;
/// Flow below this is treated as zero (sizes are floats).
const EPSILON: f64 = 1e-12;

/// Dinic's maximum flow with f64 capacities.
struct Network {
    head: Vec<usize>,
    to: Vec<usize>,
    capacity: Vec<f64>,
    next: Vec<usize>,
    level: Vec<i32>,
    cursor: Vec<usize>,
}

impl Network {
    fn new(nodes: usize) -> Self {
        Network {
            head: vec![NONE; nodes],
            to: Vec::new(),
            capacity: Vec::new(),
            next: Vec::new(),
            level: vec![0; nodes],
            cursor: vec![NONE; nodes],
        }
    }

    fn arc(&mut self, a: usize, b: usize, capacity: f64) {
        for (x, y, c) in [(a, b, capacity), (b, a, 0.0)] {
            self.to.push(y);
            self.capacity.push(c);
            self.next.push(self.head[x]);
            self.head[x] = self.to.len() - 1;
        }
    }

    fn levels(&mut self, source: usize, sink: usize) -> bool {
        self.level.fill(-1);
        self.level[source] = 0;
        let mut queue = VecDeque::from([source]);
        while let Some(x) = queue.pop_front() {
            let mut e = self.head[x];
            while e != NONE {
                let y = self.to[e];
                if self.capacity[e] > EPSILON && self.level[y] < 0 {
                    self.level[y] = self.level[x] + 1;
                    queue.push_back(y);
                }
                e = self.next[e];
            }
        }
        self.level[sink] >= 0
    }

    /// One augmenting path along the level graph (iterative, so long paths cannot overflow
    /// the stack); returns the flow pushed, 0 when the level graph is exhausted.
    fn augment(&mut self, source: usize, sink: usize, path: &mut Vec<usize>) -> f64 {
        path.clear();
        let mut x = source;
        loop {
            if x == sink {
                let pushed = path
                    .iter()
                    .map(|&e| self.capacity[e])
                    .fold(f64::INFINITY, f64::min);
                for &e in path.iter() {
                    self.capacity[e] -= pushed;
                    self.capacity[e ^ 1] += pushed;
                }
                return pushed;
            }
            let mut advanced = false;
            while self.cursor[x] != NONE {
                let e = self.cursor[x];
                let y = self.to[e];
                if self.capacity[e] > EPSILON && self.level[y] == self.level[x] + 1 {
                    path.push(e);
                    x = y;
                    advanced = true;
                    break;
                }
                self.cursor[x] = self.next[e];
            }
            if !advanced {
                // Dead end: retreat and skip the arc that led here.
                let Some(e) = path.pop() else { return 0.0 };
                self.level[x] = -1;
                x = self.to[e ^ 1];
                self.cursor[x] = self.next[e];
            }
        }
    }

    fn max_flow(&mut self, source: usize, sink: usize) -> f64 {
        let mut total = 0.0;
        let mut path = Vec::new();
        while self.levels(source, sink) {
            self.cursor.copy_from_slice(&self.head);
            loop {
                let pushed = self.augment(source, sink, &mut path);
                if pushed <= 0.0 {
                    break;
                }
                total += pushed;
            }
        }
        total
    }
}

/// Marks every node reachable from `start` by `next` (not `start` itself).
fn reach<'d>(start: u32, next: impl Fn(u32) -> &'d [u32], seen: &mut [bool], stack: &mut Vec<u32>) {
    seen.fill(false);
    stack.clear();
    stack.push(start);
    while let Some(x) = stack.pop() {
        for &y in next(x) {
            if !seen[y as usize] {
                seen[y as usize] = true;
                stack.push(y);
            }
        }
    }
}

/// A lower bound on the peak memory of every topological order: one minimum cut per node that
/// could raise it (up to n cuts of a graph with 2n nodes and O(n + m) arcs, plus O(n^2) to
/// rank the nodes): meant for graphs of thousands of nodes, to measure how far an order can
/// be from the optimum.
pub fn peak_lower_bound(problem: &Problem, cancel: &Cancel) -> Result<f64> {
    let dag = problem.dag;
    let n = problem.n();
    let mut ancestor = vec![false; n];
    let mut descendant = vec![false; n];
    let mut stack = Vec::new();
    // The set of a node's ancestors (with the node itself, for free_inputs_first) is feasible,
    // so its live memory caps what the cut for that node can give: nodes are tried from the
    // largest cap down and the search stops once no cap beats the bound.
    let mut caps: Vec<(f64, u32)> = Vec::with_capacity(n);
    cancel.begin_stage("ancestor sets", n as u64);
    for v in 0..n as u32 {
        if v % 64 == 0 {
            cancel.check()?;
            cancel.advance_to(u64::from(v));
        }
        reach(v, |x| dag.predecessors(x), &mut ancestor, &mut stack);
        let with_v = problem.model == Model::FreeInputsFirst;
        let scheduled = |u: u32| ancestor[u as usize] || (with_v && u == v);
        let live: f64 = (0..n as u32)
            .filter(|&u| scheduled(u))
            .filter(|&u| {
                let consumers = dag.successors(u);
                consumers.is_empty() || consumers.iter().any(|&w| !scheduled(w))
            })
            .map(|u| problem.size(u))
            .sum();
        let cap = if with_v { live } else { live + problem.size(v) };
        caps.push((cap, v));
    }
    caps.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut bound = 0.0f64;
    // The total is the most cuts there could be; the search usually stops well before.
    cancel.begin_stage("minimum cuts", n as u64);
    for (tried, (cap, v)) in caps.into_iter().enumerate() {
        if cap <= bound {
            break;
        }
        cancel.check()?;
        cancel.advance_to(tried as u64);
        bound = bound.max(cut_for(
            problem,
            v,
            &mut ancestor,
            &mut descendant,
            &mut stack,
        ));
    }
    Ok(bound)
}

/// The least memory of `v`'s step over every downward-closed set it could run after.
fn cut_for(
    problem: &Problem,
    v: u32,
    ancestor: &mut [bool],
    descendant: &mut [bool],
    stack: &mut Vec<u32>,
) -> f64 {
    let dag = problem.dag;
    let n = problem.n();
    reach(v, |x| dag.predecessors(x), ancestor, stack);
    reach(v, |x| dag.successors(x), descendant, stack);
    let with_v = problem.model == Model::FreeInputsFirst;
    if with_v {
        ancestor[v as usize] = true;
    } else {
        descendant[v as usize] = true;
    }
    let (source, sink) = (2 * n, 2 * n + 1);
    let mut network = Network::new(2 * n + 2);
    for u in 0..n as u32 {
        let x = u as usize;
        if ancestor[x] {
            network.arc(source, x, f64::INFINITY);
        }
        if descendant[x] {
            network.arc(x, sink, f64::INFINITY);
            continue;
        }
        let consumers = dag.successors(u);
        if consumers.is_empty() {
            network.arc(x, sink, problem.size(u));
        } else {
            network.arc(x, n + x, problem.size(u));
            for &w in consumers {
                network.arc(n + x, w as usize, f64::INFINITY);
            }
        }
        for &p in dag.predecessors(u) {
            network.arc(x, p as usize, f64::INFINITY);
        }
    }
    let cut = network.max_flow(source, sink);
    if with_v {
        cut
    } else {
        cut + problem.size(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::graph::generators::random_dag;
    use crate::memory::evaluate::peak_unchecked;
    use crate::memory::exact::exact_order;

    #[test]
    fn the_bound_never_exceeds_the_optimum_and_is_tight_on_a_chain() {
        for seed in 0..20 {
            let n = 6 + seed as usize % 9;
            let g = random_dag(n as u64, Some(0.3), None, seed).unwrap();
            let sizes: Vec<f64> = (0..n)
                .map(|i| ((i * 3 + seed as usize) % 5) as f64 + 0.5)
                .collect();
            for model in Model::ALL {
                let p = Problem::new(&g, &sizes, model).unwrap();
                let optimum = peak_unchecked(&p, &exact_order(&p, 1_000_000, never()).unwrap());
                let bound = peak_lower_bound(&p, never()).unwrap();
                assert!(bound <= optimum + 1e-9, "{bound} > {optimum}");
                assert!(bound > 0.0);
            }
        }
        let chain =
            crate::Dag::from_edges(&[0u32, 1], &[1, 2], None, crate::DuplicatePolicy::Reject)
                .unwrap();
        let p = Problem::new(&chain, &[1.0, 2.0, 4.0], Model::Coexist).unwrap();
        assert_eq!(peak_lower_bound(&p, never()).unwrap(), 6.0);
    }
}
