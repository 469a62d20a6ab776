//! Constructive schedules: the layer-by-layer baseline, a reuse-seeking greedy order and the
//! consumer-first depth-first order.

use std::collections::{BinaryHeap, VecDeque};

use super::network::Network;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::layering::asap;
use crate::order::generations;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constructive {
    /// Layer by layer (ASAP layers, ids ascending inside a layer): the standard order.
    Layer,
    /// Repeatedly computes the ready neuron with the most inputs among the last M values
    /// touched (an LRU picture of fast memory) and the fewest outside it.
    Greedy,
    /// Depth-first, consumer first: each output's cone in post-order, so a value is consumed
    /// soon after it is produced. Its guarantee is stated in docs/io_model.md.
    TwoApprox,
}

impl Constructive {
    pub const ALL: [Constructive; 3] = [
        Constructive::Layer,
        Constructive::Greedy,
        Constructive::TwoApprox,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Constructive::Layer => "layer",
            Constructive::Greedy => "greedy",
            Constructive::TwoApprox => "two_approx",
        }
    }

    pub fn from_name(name: &str) -> Result<Self> {
        match Constructive::ALL.into_iter().find(|c| c.name() == name) {
            Some(c) => Ok(c),
            None => invalid(format!(
                "unknown schedule method {name:?}; choose layer, greedy, two_approx, anneal or tiled"
            )),
        }
    }
}

/// A topological order of all nodes built by `method` (inputs first).
pub fn constructive_order(
    network: &Network,
    method: Constructive,
    fast_memory: usize,
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    match method {
        Constructive::Layer => Ok(layer_order(network)),
        Constructive::Greedy => greedy_order(network, fast_memory, cancel),
        Constructive::TwoApprox => Ok(consumer_first_order(network)),
    }
}

fn layer_order(network: &Network) -> Vec<u32> {
    let (_, nodes) = generations(network.dag);
    inputs_first(network, nodes)
}

/// Moves the inputs to the front (stable): their place does not change the cost.
fn inputs_first(network: &Network, order: Vec<u32>) -> Vec<u32> {
    let (mut front, back): (Vec<u32>, Vec<u32>) =
        order.into_iter().partition(|&v| network.input(v));
    front.extend(back);
    front
}

fn consumer_first_order(network: &Network) -> Vec<u32> {
    let dag = network.dag;
    let n = network.num_nodes();
    let mut visited = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<(u32, usize)> = Vec::new();
    let roots = (0..n as u32)
        .filter(|&v| network.output(v))
        .chain(0..n as u32);
    for root in roots {
        if visited[root as usize] {
            continue;
        }
        visited[root as usize] = true;
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            if let Some(&u) = dag.predecessors(v).get(next) {
                top.1 += 1;
                if !visited[u as usize] {
                    visited[u as usize] = true;
                    stack.push((u, 0));
                }
            } else {
                order.push(v);
                stack.pop();
            }
        }
    }
    inputs_first(network, order)
}

/// The last `capacity` distinct values touched, with per-node counts of inputs inside it.
struct RecentValues {
    capacity: usize,
    queue: VecDeque<(u32, u64)>,
    stamp: Vec<u64>,
    inside: Vec<bool>,
    count: usize,
    clock: u64,
}

impl RecentValues {
    fn new(n: usize, capacity: usize) -> Self {
        RecentValues {
            capacity,
            queue: VecDeque::new(),
            stamp: vec![0; n],
            inside: vec![false; n],
            count: 0,
            clock: 0,
        }
    }

    /// Touches `x`; records `(x, +1)` if it was outside and `(y, -1)` for each value pushed
    /// out.
    fn touch(&mut self, x: u32, changes: &mut Vec<(u32, i64)>) {
        self.clock += 1;
        self.stamp[x as usize] = self.clock;
        self.queue.push_back((x, self.clock));
        if !self.inside[x as usize] {
            self.inside[x as usize] = true;
            self.count += 1;
            changes.push((x, 1));
        }
        while self.count > self.capacity {
            let Some((y, at)) = self.queue.pop_front() else {
                break;
            };
            if self.stamp[y as usize] != at {
                continue; // touched again later
            }
            self.inside[y as usize] = false;
            self.count -= 1;
            changes.push((y, -1));
        }
    }
}

fn greedy_order(network: &Network, fast_memory: usize, cancel: &Cancel) -> Result<Vec<u32>> {
    let dag = network.dag;
    let n = network.num_nodes();
    let layer = asap(dag);
    let mut scheduled: Vec<bool> = (0..n as u32).map(|v| network.input(v)).collect();
    let mut waiting: Vec<u32> = (0..n as u32)
        .map(|v| {
            dag.predecessors(v)
                .iter()
                .filter(|&&u| !network.input(u))
                .count() as u32
        })
        .collect();
    // Inputs of each node among the recent values.
    let mut near = vec![0i64; n];
    let key = |v: u32, near: &[i64]| 2 * near[v as usize] - dag.in_degree(v) as i64;
    // Max-heap on (key, earlier layer, smaller id). A key that rises gets a new entry; one that
    // falls keeps its old, higher entry, which is re-filed at the current key when it comes up.
    // Every ready node thus has an entry at or above its key, so the first entry popped at its
    // node's current key is the true maximum, as if every change had been filed.
    let mut heap: BinaryHeap<(i64, std::cmp::Reverse<(u32, u32)>)> = BinaryHeap::new();
    let push = |heap: &mut BinaryHeap<_>, v: u32, near: &[i64]| {
        heap.push((key(v, near), std::cmp::Reverse((layer[v as usize], v))));
    };
    let mut order: Vec<u32> = (0..n as u32).filter(|&v| network.input(v)).collect();
    for v in 0..n as u32 {
        if !scheduled[v as usize] && waiting[v as usize] == 0 {
            push(&mut heap, v, &near);
        }
    }
    cancel.begin_stage("greedy", n as u64);
    let mut recent = RecentValues::new(n, fast_memory.max(1));
    let mut changed: Vec<(u32, i64)> = Vec::new();
    while let Some((k, std::cmp::Reverse((_, v)))) = heap.pop() {
        if scheduled[v as usize] {
            continue;
        }
        let current = key(v, &near);
        if k > current {
            push(&mut heap, v, &near);
        }
        if k != current {
            continue;
        }
        if order.len().is_multiple_of(65_536) {
            cancel.check()?;
            cancel.advance_to(order.len() as u64);
        }
        scheduled[v as usize] = true;
        order.push(v);
        changed.clear();
        for x in dag.predecessors(v).iter().copied().chain([v]) {
            recent.touch(x, &mut changed);
        }
        for &(y, delta) in &changed {
            for &w in dag.successors(y) {
                if !scheduled[w as usize] {
                    near[w as usize] += delta;
                    if delta > 0 && waiting[w as usize] == 0 {
                        push(&mut heap, w, &near);
                    }
                }
            }
        }
        for &w in dag.successors(v) {
            waiting[w as usize] -= 1;
            if waiting[w as usize] == 0 {
                push(&mut heap, w, &near);
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::graph::generators::random_dag;

    /// The greedy rule applied literally: at every step, count each ready node's inputs among
    /// the recent values from scratch and take the best by (key, earlier layer, smaller id).
    fn greedy_by_rescanning(network: &Network, fast_memory: usize) -> Vec<u32> {
        let dag = network.dag;
        let n = network.num_nodes();
        let layer = asap(dag);
        let mut order: Vec<u32> = (0..n as u32).filter(|&v| network.input(v)).collect();
        let mut scheduled: Vec<bool> = (0..n as u32).map(|v| network.input(v)).collect();
        let mut recent = RecentValues::new(n, fast_memory.max(1));
        let mut changed = Vec::new();
        while order.len() < n {
            let ready = (0..n as u32).filter(|&v| {
                !scheduled[v as usize] && dag.predecessors(v).iter().all(|&u| scheduled[u as usize])
            });
            let score = |v: u32| {
                let near = dag
                    .predecessors(v)
                    .iter()
                    .filter(|&&u| recent.inside[u as usize])
                    .count() as i64;
                (
                    2 * near - dag.in_degree(v) as i64,
                    std::cmp::Reverse((layer[v as usize], v)),
                )
            };
            let v = ready
                .max_by_key(|&v| score(v))
                .expect("a DAG always has a ready node");
            scheduled[v as usize] = true;
            order.push(v);
            for x in dag.predecessors(v).iter().copied().chain([v]) {
                recent.touch(x, &mut changed);
            }
        }
        order
    }

    #[test]
    fn greedy_order_is_the_greedy_rule_applied_literally() {
        for seed in 0..12 {
            let g = random_dag(60, Some(0.08 + 0.02 * (seed % 4) as f64), None, seed).unwrap();
            let net = Network::new(&g, None, None).unwrap();
            for fast_memory in [1, 2, 4, 9, 64] {
                assert_eq!(
                    greedy_order(&net, fast_memory, never()).unwrap(),
                    greedy_by_rescanning(&net, fast_memory),
                    "seed {seed}, M = {fast_memory}"
                );
            }
        }
    }
}
