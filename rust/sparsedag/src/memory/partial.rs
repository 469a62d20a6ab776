//! A partial schedule: the scheduled set grown one ready node at a time, with the live memory,
//! the peak so far and, per unscheduled node, the memory its step would free. Greedy rules
//! and beam search both extend it.

use super::problem::Problem;

#[derive(Debug, Clone)]
pub(crate) struct PartialSchedule {
    /// Unscheduled predecessors per node.
    waiting_inputs: Vec<u32>,
    /// Unscheduled consumers per node.
    open_consumers: Vec<u32>,
    /// Total size of the predecessors whose only unscheduled consumer is this node: what its
    /// step frees.
    release: Vec<f64>,
    scheduled: Vec<bool>,
    /// Nodes whose predecessors are all scheduled, sorted by id.
    ready: Vec<u32>,
    pub live: f64,
    pub peak: f64,
    pub steps: usize,
    /// Zobrist hash of the scheduled set.
    pub hash: u64,
}

impl PartialSchedule {
    pub fn new(problem: &Problem) -> Self {
        let dag = problem.dag;
        let n = problem.n();
        let waiting_inputs: Vec<u32> = (0..n as u32).map(|v| dag.in_degree(v) as u32).collect();
        let open_consumers: Vec<u32> = (0..n as u32).map(|v| dag.out_degree(v) as u32).collect();
        let mut release = vec![0.0; n];
        for u in 0..n as u32 {
            if let [only] = dag.successors(u) {
                release[*only as usize] += problem.size(u);
            }
        }
        let ready = (0..n as u32)
            .filter(|&v| waiting_inputs[v as usize] == 0)
            .collect();
        PartialSchedule {
            waiting_inputs,
            open_consumers,
            release,
            scheduled: vec![false; n],
            ready,
            live: 0.0,
            peak: 0.0,
            steps: 0,
            hash: 0,
        }
    }

    pub fn ready(&self) -> &[u32] {
        &self.ready
    }

    pub fn is_complete(&self) -> bool {
        self.ready.is_empty()
    }

    /// Memory during the step of ready node `v` and live memory after it.
    #[inline]
    pub fn preview(&self, problem: &Problem, v: u32) -> (f64, f64) {
        problem
            .model
            .step(self.live, problem.size(v), self.release[v as usize])
    }

    /// Schedules the ready node at `index` of [`ready`](Self::ready).
    pub fn schedule_at(&mut self, problem: &Problem, index: usize, zobrist: &[u64]) -> u32 {
        // `remove` keeps the ready list sorted by id, so ties break the same way whatever the
        // history.
        let v = self.ready.remove(index);
        self.apply(problem, v, zobrist);
        v
    }

    /// Schedules ready node `v`.
    pub fn schedule(&mut self, problem: &Problem, v: u32, zobrist: &[u64]) {
        let index = self
            .ready
            .iter()
            .position(|&r| r == v)
            .expect("scheduled node must be ready");
        self.schedule_at(problem, index, zobrist);
    }

    fn apply(&mut self, problem: &Problem, v: u32, zobrist: &[u64]) {
        let dag = problem.dag;
        let (during, after) = self.preview(problem, v);
        self.peak = self.peak.max(during);
        self.live = after;
        self.steps += 1;
        self.scheduled[v as usize] = true;
        if let Some(z) = zobrist.get(v as usize) {
            self.hash ^= z;
        }
        for &u in dag.predecessors(v) {
            let open = &mut self.open_consumers[u as usize];
            *open -= 1;
            if *open == 1 {
                if let Some(&last) = dag
                    .successors(u)
                    .iter()
                    .find(|&&w| !self.scheduled[w as usize])
                {
                    self.release[last as usize] += problem.size(u);
                }
            }
        }
        for &w in dag.successors(v) {
            let waiting = &mut self.waiting_inputs[w as usize];
            *waiting -= 1;
            if *waiting == 0 {
                let at = self.ready.partition_point(|&r| r < w);
                self.ready.insert(at, w);
            }
        }
    }
}
