//! Sparse inference in a general order of the edges (such as the tiled orders of
//! `io_schedule(method = tiled)`), so that an edge schedule's locality becomes cache locality.
//!
//! The edge order is compiled once. Consecutive edges that share a source form a *run*; the
//! executor adds `weight * source` into the accumulator of each edge's target. Accumulators do
//! not live in the activation memory: they take slots of a separate, compact scratch,
//! allocated at a neuron's first in-edge and reused most recently freed first, so the
//! accumulators of a tiled block occupy the same few slots block after block and stay in
//! cache while the block's sources stream past. When a neuron's last in-edge is done, its
//! accumulator goes through the bias and the activation into an activation row and the slot is
//! zeroed for its next owner; these finalisations are deferred until the value is read or a
//! slot is needed, and then done as a batch (once per block in a tiled order). Activation rows
//! live from that moment to the last edge that reads them, then are reused (most recently
//! freed first), as in the neuron-order executor.
//!
//! Summation order: a neuron sums its in-edges in the order the edge order lists them,
//! starting from zero, and adds the bias at the end; the neuron-order executors sum in in-edge
//! (CSR) order. Results therefore agree to float rounding, not bit for bit, unless the edge
//! order lists each neuron's in-edges in CSR order. For one edge order they are deterministic:
//! every column of the batch sees the same operations in the same order.

use std::sync::Arc;

use super::edges::{check_edge_order, in_edge_ids};
use super::execute::{run_in_tiles, IoRows, RunTiles};
use super::network::Network;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};

const NONE: u32 = u32::MAX;

/// Marks the first edge of a run in [`Entry::slot`].
const RUN_START: u32 = 1 << 31;

/// Edges per segment at most: the run checks for interruption between segments.
const SEGMENT_EDGES: usize = 1 << 20;

/// A stretch of edges followed by the neurons that become final after it.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub(crate) struct Segment {
    /// End of its edges in the per-edge arrays (which are in execution order).
    entries_end: u32,
    /// End of its final neurons.
    finals_end: u32,
}

/// A neuron whose last in-edge has been processed (or, in the prologue, one without
/// in-edges): its accumulator slot (`NONE` in the prologue) and the row receiving its value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Final {
    pub(crate) slot: u32,
    pub(crate) row: u32,
    /// The neuron, in the id space of the caller (for its bias and activation).
    pub(crate) node: u32,
}

/// One edge in execution order, with its weight bound: the accumulator slot of its target,
/// with [`RUN_START`] set on the first edge of a run (the next source row is then read).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub(crate) struct Entry {
    slot: u32,
    weight: f32,
}

/// An edge order compiled into runs and segments, independent of the weights.
#[derive(Debug, Clone)]
pub(crate) struct EdgeProgram {
    segments: Vec<Segment>,
    /// The source row of every run, in order.
    run_rows: Vec<u32>,
    /// Per edge in execution order: the accumulator slot of its target (with [`RUN_START`]) and
    /// its in-CSR position (where its weight is).
    entry_slot: Vec<u32>,
    entry_position: Vec<u32>,
    pub(crate) finals: Vec<Final>,
    /// Neurons without in-edges, computed before the first edge (value = activation of the bias).
    pub(crate) prologue: Vec<Final>,
    /// Activation rows, the scratch row for values nobody reads last.
    pub(crate) memory_rows: usize,
    pub(crate) acc_slots: usize,
}

impl EdgeProgram {
    /// Compiles `order`, a list of in-CSR positions (`in_offsets`/`in_sources` over `n` nodes).
    /// `row_of` presets the rows of values that keep one for the whole run (inputs, outputs);
    /// the other values get rows `first_free..` for their lifetimes. `computed(v)` is false for
    /// the inputs. `name(v)` is `v`'s id in error messages. The checks here are complete (every
    /// position once, every source final when read), so no order can make a plan that
    /// misbehaves; callers with a `Dag` check first with [`check_edge_order`] for its messages
    /// in edge ids.
    ///
    /// Finalisations are deferred and done in batches, between the edges: a neuron whose last
    /// in-edge is done waits until its value is read or the slots run out (a free slot is
    /// preferred to a new one). In a tiled order that is once per block, so neither the
    /// stretches of edges nor the batches of final neurons have data-dependent lengths that
    /// a branch predictor would miss on every run.
    pub(crate) fn compile(
        in_offsets: &[usize],
        in_sources: &[u32],
        order: &[u32],
        computed: impl Fn(u32) -> bool,
        row_of: &mut [u32],
        first_free: u32,
        name: impl Fn(u32) -> u32,
    ) -> Result<EdgeProgram> {
        let n = in_offsets.len() - 1;
        let m = in_sources.len();
        if order.len() != m {
            return invalid(format!(
                "the edge order has {} entries but the network has {m} edges",
                order.len()
            ));
        }
        if m >= RUN_START as usize || n >= NONE as usize - 1 {
            return invalid("the network is too large for 31-bit plan indices");
        }
        let mut target_of = vec![0u32; m];
        for v in 0..n {
            target_of[in_offsets[v]..in_offsets[v + 1]].fill(v as u32);
        }
        let mut seen = vec![false; m];
        let mut remaining: Vec<u32> = (0..n)
            .map(|v| (in_offsets[v + 1] - in_offsets[v]) as u32)
            .collect();
        // The last edge reading each value.
        let mut last_read = vec![NONE; n];
        for (i, &p) in order.iter().enumerate() {
            let Some(flag) = seen.get_mut(p as usize) else {
                return invalid(format!(
                    "edge order entry {i} = {p} is not an edge position; they lie in 0..{m}"
                ));
            };
            let (u, v) = (in_sources[p as usize], target_of[p as usize]);
            if std::mem::replace(flag, true) {
                return invalid(format!(
                    "edge ({}, {}) appears twice in the edge order (again at entry {i})",
                    name(u),
                    name(v)
                ));
            }
            if remaining[u as usize] > 0 {
                return invalid(format!(
                    "invalid edge order: edge ({}, {}) at entry {i} comes before all in-edges \
                     of {} are processed ({} remaining), so its value is not final",
                    name(u),
                    name(v),
                    name(u),
                    remaining[u as usize]
                ));
            }
            remaining[v as usize] -= 1;
            last_read[u as usize] = i as u32;
        }
        for (v, left) in remaining.iter_mut().enumerate() {
            *left = (in_offsets[v + 1] - in_offsets[v]) as u32;
        }
        let mut b = Builder {
            preset: row_of.iter().map(|&r| r != NONE).collect(),
            last_read,
            row_of,
            rows: first_free,
            free_rows: Vec::new(),
            slot_of: vec![NONE; n],
            free_slots: Vec::new(),
            acc_slots: 0,
            pending: Vec::new(),
            is_pending: vec![false; n],
            finals: Vec::new(),
            segments: Vec::new(),
        };
        let mut prologue = Vec::new();
        for (v, &left) in remaining.iter().enumerate() {
            if computed(v as u32) && left == 0 {
                let row = b.take_row(v);
                prologue.push(Final {
                    slot: NONE,
                    row,
                    node: v as u32,
                });
            }
        }
        let mut run_rows = Vec::new();
        let mut entry_slot = Vec::with_capacity(m);
        let mut previous = NONE;
        let mut segment_start = 0usize;
        for (i, &p) in order.iter().enumerate() {
            let (u, v) = (in_sources[p as usize], target_of[p as usize] as usize);
            if b.is_pending[u as usize] || i - segment_start >= SEGMENT_EDGES {
                b.flush(i);
                segment_start = i;
            }
            let mut flag = 0;
            if u != previous {
                debug_assert!(b.row_of[u as usize] != NONE, "a final value has a row");
                run_rows.push(b.row_of[u as usize]);
                previous = u;
                flag = RUN_START;
            }
            if b.slot_of[v] == NONE {
                if b.free_slots.is_empty() && !b.pending.is_empty() {
                    b.flush(i);
                    segment_start = i;
                }
                b.slot_of[v] = b.free_slots.pop().unwrap_or_else(|| {
                    b.acc_slots += 1;
                    b.acc_slots - 1
                });
            }
            entry_slot.push(b.slot_of[v] | flag);
            remaining[v] -= 1;
            if remaining[v] == 0 {
                b.pending.push(v as u32);
                b.is_pending[v] = true;
            }
            // The row is free for values made final after this edge (its run keeps reading
            // the row until this edge, which is the last).
            if b.last_read[u as usize] == i as u32 && !b.preset[u as usize] {
                let row = b.row_of[u as usize];
                b.free_rows.push(row);
            }
        }
        b.flush(m);
        let scratch = b.rows;
        let mut finals = b.finals;
        for f in finals.iter_mut().chain(prologue.iter_mut()) {
            if f.row == NONE {
                f.row = scratch;
            }
        }
        Ok(EdgeProgram {
            segments: b.segments,
            run_rows,
            entry_slot,
            entry_position: order.to_vec(),
            finals,
            prologue,
            memory_rows: scratch as usize + 1,
            acc_slots: b.acc_slots as usize,
        })
    }

    /// The per-edge records with `weight(position)` bound, in execution order.
    pub(crate) fn entries(&self, weight: impl Fn(usize) -> f32) -> Vec<Entry> {
        self.entry_slot
            .iter()
            .zip(&self.entry_position)
            .map(|(&slot, &p)| Entry {
                slot,
                weight: weight(p as usize),
            })
            .collect()
    }

    /// Runs of consecutive edges sharing a source.
    pub(crate) fn num_runs(&self) -> usize {
        self.run_rows.len()
    }
}

/// The state of [`EdgeProgram::compile`] while it walks the order.
struct Builder<'a> {
    preset: Vec<bool>,
    last_read: Vec<u32>,
    row_of: &'a mut [u32],
    rows: u32,
    free_rows: Vec<u32>,
    slot_of: Vec<u32>,
    free_slots: Vec<u32>,
    acc_slots: u32,
    /// Neurons whose last in-edge is done, not yet finalised.
    pending: Vec<u32>,
    is_pending: Vec<bool>,
    finals: Vec<Final>,
    segments: Vec<Segment>,
}

impl Builder<'_> {
    /// A row for the value of `v` from now to its last reader (`NONE`: nobody reads it).
    fn take_row(&mut self, v: usize) -> u32 {
        if self.preset[v] {
            return self.row_of[v];
        }
        if self.last_read[v] == NONE {
            return NONE; // the scratch row, patched at the end
        }
        let row = self.free_rows.pop().unwrap_or_else(|| {
            self.rows += 1;
            self.rows - 1
        });
        self.row_of[v] = row;
        row
    }

    /// Ends a segment before edge `edge`: the pending neurons become final.
    fn flush(&mut self, edge: usize) {
        for k in 0..self.pending.len() {
            let v = self.pending[k] as usize;
            let row = self.take_row(v);
            let slot = std::mem::replace(&mut self.slot_of[v], NONE);
            self.finals.push(Final {
                slot,
                row,
                node: v as u32,
            });
            self.free_slots.push(slot);
            self.is_pending[v] = false;
        }
        self.pending.clear();
        self.segments.push(Segment {
            entries_end: edge as u32,
            finals_end: self.finals.len() as u32,
        });
    }
}

/// What a final neuron does with its sum: bias and activation, into its row.
pub(crate) trait Finish: Copy {
    fn slot(&self) -> u32;
    fn row(&self) -> u32;
    fn finish<const B: usize>(&self, sum: &[f32; B], value: &mut [f32; B]);
}

/// Runs the whole program on one tile of `B` columns: `memory` holds the input rows filled
/// (and is the activation memory), `acc` is zeroed with one entry per accumulator slot.
/// Multiply-adds are fused when `FUSED` (the caller guarantees FMA support then).
///
/// The loop over the edges has no branch that depends on the data: the first edge of a run
/// advances the run index by its flag bit, and every edge reads its source row (from L1 but on
/// a run's first edge), so runs of random lengths cost no mispredicted branches.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_program<const B: usize, const FUSED: bool, F: Finish>(
    program: &EdgeProgram,
    entries: &[Entry],
    finals: &[F],
    prologue: &[F],
    memory: &mut [[f32; B]],
    acc: &mut [[f32; B]],
    cancel: &Cancel,
) -> Result<()> {
    let zero = [0.0f32; B];
    for f in prologue {
        f.finish(&zero, &mut memory[f.row() as usize]);
    }
    let run_rows = &program.run_rows[..];
    let (mut e0, mut f0) = (0usize, 0usize);
    let mut run = usize::MAX;
    for segment in &program.segments {
        cancel.check()?;
        let e1 = segment.entries_end as usize;
        for e in &entries[e0..e1] {
            run = run.wrapping_add((e.slot >> 31) as usize);
            let x = &memory[run_rows[run] as usize];
            let a = &mut acc[(e.slot & !RUN_START) as usize];
            for k in 0..B {
                a[k] = if FUSED {
                    e.weight.mul_add(x[k], a[k])
                } else {
                    a[k] + e.weight * x[k]
                };
            }
        }
        e0 = e1;
        let f1 = segment.finals_end as usize;
        for f in &finals[f0..f1] {
            let a = &mut acc[f.slot() as usize];
            let sum = *a;
            *a = zero;
            f.finish(&sum, &mut memory[f.row() as usize]);
        }
        f0 = f1;
    }
    Ok(())
}

/// The program and its bound records, as [`run_program`] takes them.
pub(crate) type ProgramArgs<'a, F> = (&'a EdgeProgram, &'a [Entry], &'a [F], &'a [F]);

/// [`run_program`] without fused multiply-adds, compiled for the widest vector unit the CPU
/// has (the same operations in the same order at every width, so the results do not depend
/// on it).
pub(crate) fn wide<const B: usize, F: Finish>(
    args: ProgramArgs<'_, F>,
    memory: &mut [[f32; B]],
    acc: &mut [[f32; B]],
    cancel: &Cancel,
) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { avx512::<B, false, F>(args, memory, acc, cancel) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2::<B, false, F>(args, memory, acc, cancel) };
        }
    }
    let (program, entries, finals, prologue) = args;
    run_program::<B, false, F>(program, entries, finals, prologue, memory, acc, cancel)
}

/// # Safety
/// The CPU must support AVX-512F (and FMA if `FUSED`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
pub(crate) unsafe fn avx512<const B: usize, const FUSED: bool, F: Finish>(
    (program, entries, finals, prologue): ProgramArgs<'_, F>,
    memory: &mut [[f32; B]],
    acc: &mut [[f32; B]],
    cancel: &Cancel,
) -> Result<()> {
    run_program::<B, FUSED, F>(program, entries, finals, prologue, memory, acc, cancel)
}

/// # Safety
/// The CPU must support AVX2 (and FMA if `FUSED`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn avx2<const B: usize, const FUSED: bool, F: Finish>(
    (program, entries, finals, prologue): ProgramArgs<'_, F>,
    memory: &mut [[f32; B]],
    acc: &mut [[f32; B]],
    cancel: &Cancel,
) -> Result<()> {
    run_program::<B, FUSED, F>(program, entries, finals, prologue, memory, acc, cancel)
}

/// The final neurons of [`EdgeExecutionPlan`]: no bias, ReLU on hidden neurons, outputs linear.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReluFinal {
    slot: u32,
    row: u32,
    relu: bool,
}

impl Finish for ReluFinal {
    #[inline(always)]
    fn slot(&self) -> u32 {
        self.slot
    }
    #[inline(always)]
    fn row(&self) -> u32 {
        self.row
    }
    #[inline(always)]
    fn finish<const B: usize>(&self, sum: &[f32; B], value: &mut [f32; B]) {
        for k in 0..B {
            value[k] = if self.relu { sum[k].max(0.0) } else { sum[k] };
        }
    }
}

/// Sparse inference planned for one edge order (the executor of [`super::ExecutionPlan`]'s
/// network model: inputs in rows `0..inputs`, outputs in their own rows, hidden neurons ReLU,
/// outputs linear, no biases).
#[derive(Debug, Clone)]
pub struct EdgeExecutionPlan {
    /// Shared with the bound plans, which need all of it but the per-edge arrays.
    program: Arc<EdgeProgram>,
    finals: Vec<ReluFinal>,
    prologue: Vec<ReluFinal>,
    inputs: usize,
    outputs: usize,
    passthrough: Vec<(u32, u32)>,
}

impl EdgeExecutionPlan {
    /// Plans the edge order `order` (edge ids, indices into `Dag::edges()`); an invalid order
    /// is an error naming the first offending edge (as `io_cost` reports it).
    pub fn new(network: &Network, order: &[u32]) -> Result<Self> {
        let dag = network.dag;
        check_edge_order(dag, order)?;
        let IoRows {
            mut row_of,
            inputs,
            outputs,
            passthrough,
        } = IoRows::new(network);
        // Edge id -> in-CSR position, where the weights are.
        let mut position_of = vec![0u32; dag.num_edges()];
        for (p, &e) in in_edge_ids(dag).iter().enumerate() {
            position_of[e as usize] = p as u32;
        }
        let positions: Vec<u32> = order.iter().map(|&e| position_of[e as usize]).collect();
        let (in_offsets, in_sources) = dag.in_csr();
        let program = EdgeProgram::compile(
            in_offsets,
            in_sources,
            &positions,
            |v| !network.input(v),
            &mut row_of,
            inputs + outputs,
            |v| v,
        )?;
        let relu = |f: &Final| ReluFinal {
            slot: f.slot,
            row: f.row,
            relu: !network.output(f.node),
        };
        Ok(EdgeExecutionPlan {
            finals: program.finals.iter().map(relu).collect(),
            prologue: program.prologue.iter().map(relu).collect(),
            program: Arc::new(program),
            inputs: inputs as usize,
            outputs: outputs as usize,
            passthrough,
        })
    }

    /// Rows of activation memory (inputs plus the most values alive at once, outputs not
    /// counted) plus the accumulator slots.
    pub fn rows(&self) -> usize {
        self.program.memory_rows - 1 - self.outputs + self.program.acc_slots
    }

    /// Accumulator slots: the most neurons with a partial sum at once.
    pub fn accumulator_slots(&self) -> usize {
        self.program.acc_slots
    }

    /// Runs of consecutive edges sharing a source.
    pub fn num_runs(&self) -> usize {
        self.program.num_runs()
    }

    pub fn num_outputs(&self) -> usize {
        self.outputs
    }

    /// Lays `weights` (one per edge in in-CSR order) out in execution order.
    pub fn bind(&self, weights: &[f32]) -> Result<BoundEdgePlan> {
        let m = self.program.entry_slot.len();
        if weights.len() != m {
            return invalid(format!(
                "weights has {} entries but the graph has {m} edges",
                weights.len()
            ));
        }
        Ok(BoundEdgePlan {
            plan: self.clone(),
            entries: self.program.entries(|p| weights[p]),
        })
    }

    /// Binds `weights` and runs (see [`BoundEdgePlan::run`]).
    pub fn run(
        &self,
        weights: &[f32],
        inputs: &[f32],
        batch: usize,
        cancel: &Cancel,
    ) -> Result<Vec<f32>> {
        self.bind(weights)?.run(inputs, batch, cancel)
    }
}

/// An [`EdgeExecutionPlan`] with its weights in execution order.
#[derive(Debug, Clone)]
pub struct BoundEdgePlan {
    plan: EdgeExecutionPlan,
    entries: Vec<Entry>,
}

impl BoundEdgePlan {
    pub fn num_outputs(&self) -> usize {
        self.plan.outputs
    }

    pub fn num_inputs(&self) -> usize {
        self.plan.inputs
    }

    /// Runs inference on `inputs` (one row of `batch` values per input node, ascending id);
    /// returns one row of `batch` values per output (ascending id).
    pub fn run(&self, inputs: &[f32], batch: usize, cancel: &Cancel) -> Result<Vec<f32>> {
        run_in_tiles(self, inputs, batch, cancel)
    }
}

impl RunTiles for BoundEdgePlan {
    fn io_rows(&self) -> (usize, usize, &[(u32, u32)]) {
        let plan = &self.plan;
        (plan.inputs, plan.outputs, &plan.passthrough)
    }

    /// Columns `col..col + B` of the batch through the whole program.
    fn run_tile<const B: usize>(
        &self,
        inputs: &[f32],
        batch: usize,
        col: usize,
        output: &mut [f32],
        cancel: &Cancel,
    ) -> Result<()> {
        let plan = &self.plan;
        let mut memory = vec![[0.0f32; B]; plan.program.memory_rows];
        for (row, values) in memory.iter_mut().zip(inputs.chunks_exact(batch)) {
            row.copy_from_slice(&values[col..col + B]);
        }
        let mut acc = vec![[0.0f32; B]; plan.program.acc_slots];
        let args = (
            &*plan.program,
            &self.entries[..],
            &plan.finals[..],
            &plan.prologue[..],
        );
        wide::<B, ReluFinal>(args, &mut memory, &mut acc, cancel)?;
        let rows = &memory[plan.inputs..plan.inputs + plan.outputs];
        for (row, out) in rows.iter().zip(output.chunks_exact_mut(batch)) {
            out[col..col + B].copy_from_slice(row);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::graph::generators::random_dag;
    use crate::iosched::edges::edge_order_of_neurons;
    use crate::iosched::{constructive_order, tiled_edge_order, Constructive, ExecutionPlan};
    use crate::rng::Rng;

    /// A random valid edge order: repeatedly a random edge whose source is final.
    fn random_edge_order(dag: &crate::graph::Dag, seed: u64) -> Vec<u32> {
        let mut rng = Rng::new(seed);
        let (offsets, targets) = dag.out_csr();
        let mut remaining: Vec<usize> = (0..dag.num_nodes() as u32)
            .map(|v| dag.in_degree(v))
            .collect();
        let mut ready: Vec<u32> = (0..dag.num_edges() as u32)
            .filter(|&e| {
                let u = offsets.partition_point(|&o| o <= e as usize) - 1;
                remaining[u] == 0
            })
            .collect();
        let mut order = Vec::new();
        while !ready.is_empty() {
            let k = rng.below(ready.len() as u64) as usize;
            let e = ready.swap_remove(k);
            order.push(e);
            let v = targets[e as usize] as usize;
            remaining[v] -= 1;
            if remaining[v] == 0 {
                ready.extend(offsets[v] as u32..offsets[v + 1] as u32);
            }
        }
        order
    }

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-4 * (1.0 + x.abs().max(y.abs())))
    }

    #[test]
    fn edge_orders_match_the_neuron_executor() {
        let mut rng = Rng::new(3);
        for seed in 0..10 {
            let dag = random_dag(60, Some(0.1), None, seed).unwrap();
            let sources: Vec<u32> = (0..60).filter(|&v| dag.in_degree(v) == 0).collect();
            // Explicit outputs with consumers and an input that is also an output, on some.
            let outputs: Option<Vec<u32>> = (seed % 2 == 1).then(|| {
                let mut o = vec![0, 20, 30, 59, sources[0]];
                o.sort_unstable();
                o.dedup();
                o
            });
            let network = Network::new(&dag, None, outputs.as_deref()).unwrap();
            let weights: Vec<f32> = (0..dag.num_edges())
                .map(|_| rng.uniform(-1.0, 1.0) as f32)
                .collect();
            let base = constructive_order(&network, Constructive::Layer, 8, never()).unwrap();
            let neuron = ExecutionPlan::new(&network, &base).unwrap();
            let mut orders = vec![
                edge_order_of_neurons(&network, &base),
                random_edge_order(&dag, seed),
            ];
            for block in [2, 5, 17] {
                orders.push(tiled_edge_order(&network, &base, block));
            }
            for batch in [1, 3, 16, 21] {
                let inputs: Vec<f32> = (0..sources.len() * batch)
                    .map(|_| rng.uniform(-1.0, 1.0) as f32)
                    .collect();
                let expected = neuron.run(&weights, &inputs, batch, never()).unwrap();
                for (k, order) in orders.iter().enumerate() {
                    let plan = EdgeExecutionPlan::new(&network, order).unwrap();
                    let got = plan.run(&weights, &inputs, batch, never()).unwrap();
                    if k == 0 {
                        // In-edges in CSR order: the same sums in the same order.
                        assert_eq!(got, expected, "seed {seed} batch {batch}");
                    } else {
                        assert!(
                            close(&got, &expected),
                            "seed {seed} order {k} batch {batch}"
                        );
                    }
                    let again = plan.run(&weights, &inputs, batch, never()).unwrap();
                    assert_eq!(got, again);
                }
            }
        }
    }

    #[test]
    fn tiled_blocks_reuse_few_accumulator_slots() {
        let dag = random_dag(400, None, Some(3000), 5).unwrap();
        let network = Network::new(&dag, None, None).unwrap();
        let base = constructive_order(&network, Constructive::Layer, 8, never()).unwrap();
        let plan =
            EdgeExecutionPlan::new(&network, &tiled_edge_order(&network, &base, 32)).unwrap();
        assert!(
            plan.accumulator_slots() <= 32,
            "{}",
            plan.accumulator_slots()
        );
        assert!(plan.num_runs() < dag.num_edges());
    }

    #[test]
    fn bad_orders_weights_and_inputs_are_errors() {
        let dag = random_dag(10, Some(0.4), None, 1).unwrap();
        let network = Network::new(&dag, None, None).unwrap();
        let m = dag.num_edges() as u32;
        let msg = |o: &[u32]| EdgeExecutionPlan::new(&network, o).unwrap_err().to_string();
        assert!(msg(&(0..m - 1).collect::<Vec<_>>()).contains("edges"));
        let mut twice: Vec<u32> = (0..m).collect();
        twice[1] = 0;
        assert!(msg(&twice).contains("twice"));
        let reversed: Vec<u32> = (0..m).rev().collect();
        assert!(msg(&reversed).contains("invalid edge order"));
        let base = crate::order::kahn(&dag);
        let plan =
            EdgeExecutionPlan::new(&network, &edge_order_of_neurons(&network, &base)).unwrap();
        assert!(plan.bind(&vec![1.0; m as usize + 1]).is_err());
        let bound = plan.bind(&vec![1.0; m as usize]).unwrap();
        assert!(bound.run(&[], 0, never()).is_err());
        assert!(bound.run(&[1.0], 2, never()).is_err());
    }

    #[test]
    fn compile_checks_orders_on_its_own() {
        // 0 -> 1 -> 2: positions are edges (0, 1) = 0 and (1, 2) = 1.
        let offsets = [0usize, 0, 1, 2];
        let sources = [0u32, 1];
        let compile = |order: &[u32]| {
            let mut rows = vec![0, NONE, 1];
            EdgeProgram::compile(
                &offsets,
                &sources,
                order,
                |v| v != 0,
                &mut rows,
                2,
                |v| v + 10,
            )
        };
        let err = compile(&[1, 0]).unwrap_err().to_string();
        assert!(err.contains("edge (11, 12)"), "{err}");
        assert!(compile(&[0, 0]).unwrap_err().to_string().contains("twice"));
        assert!(compile(&[0, 7]).is_err());
        assert!(compile(&[0]).is_err());
        let p = compile(&[0, 1]).unwrap();
        assert_eq!(p.num_runs(), 2);
        assert_eq!(p.acc_slots, 1);
    }
}
