//! Sparse inference in a given order, with activation slots freed after their last use and
//! reused (most recently freed first, so a new value lands in a slot that is likely still in
//! cache). This is the executor through which an I/O-aware order becomes wall-clock time.
//!
//! Activations are neuron-major: one row of `batch` floats per value. Neuron v computes
//! `sum over in-edges (u, v) of w_uv * a_u`, with its in-edges in the order of the DAG's in-CSR
//! (predecessor ids ascending), so every order gives bit-identical results; hidden neurons
//! apply ReLU, outputs are linear. Planning (slots, row of every operand) is done once per
//! order by [`ExecutionPlan::new`]; [`ExecutionPlan::bind`] then lays the weights out next to
//! their operand rows in execution order ([`BoundPlan`]), and [`BoundPlan::run`] streams
//! through that one array: the inner loop reads an edge record and the operand row it names,
//! nothing else, so the order decides the memory traffic and the executor adds none of its
//! own. Every order runs exactly this code, so differences in time come from the order.

use super::network::Network;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::order::check_order;

const NONE: u32 = u32::MAX;

/// Steps between two checks for interruption.
const CHECK_EVERY: usize = 16_384;

/// One computed neuron of the plan, in order.
#[derive(Debug, Clone, Copy)]
struct Step {
    /// End of its in-edges in the plan's per-edge arrays (they are in step order).
    edges_end: u32,
    /// Memory row receiving its value: a slot, its output row, or the scratch row if
    /// nothing reads it and it is not an output.
    dest: u32,
    /// Hidden neurons apply ReLU; outputs are linear.
    relu: bool,
}

/// One in-edge in execution order: the memory row of its source and its weight.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Edge {
    row: u32,
    weight: f32,
}

/// Shared by [`ExecutionPlan`] and [`BoundPlan`]: the shape of the memory.
#[derive(Debug, Clone)]
struct Layout {
    inputs: usize,
    outputs: usize,
    /// Memory rows: inputs `0..inputs`, outputs `inputs..inputs + outputs`, the reusable
    /// slots, and last one scratch row for values nobody reads.
    memory_rows: usize,
    steps: Vec<Step>,
    /// Inputs that are also outputs: (input row, output index).
    passthrough: Vec<(u32, u32)>,
}

#[derive(Debug, Clone)]
pub struct ExecutionPlan {
    layout: Layout,
    /// Per edge in execution order: memory row of the source, position of the weight in the
    /// in-CSR weight array.
    operand_row: Vec<u32>,
    weight_index: Vec<u32>,
    num_weights: usize,
}

impl ExecutionPlan {
    pub fn new(network: &Network, order: &[u32]) -> Result<Self> {
        let dag = network.dag;
        let n = network.num_nodes();
        check_order(dag, order)?;
        if dag.num_edges() >= NONE as usize || n >= NONE as usize - 1 {
            return invalid("the network is too large for 32-bit plan indices");
        }
        let IoRows {
            mut row_of,
            inputs,
            outputs,
            passthrough,
        } = IoRows::new(network);
        let (in_offsets, in_sources) = dag.in_csr();
        let slots_end = assign_rows(order, in_offsets, in_sources, &mut row_of, inputs + outputs);
        let scratch = slots_end as u32;
        let mut steps = Vec::with_capacity(n - inputs as usize);
        let mut operand_row = Vec::with_capacity(dag.num_edges());
        let mut weight_index = Vec::with_capacity(dag.num_edges());
        for &v in order {
            if network.input(v) {
                continue;
            }
            let first = in_offsets[v as usize];
            for (i, &u) in dag.predecessors(v).iter().enumerate() {
                operand_row.push(row_of[u as usize]);
                weight_index.push((first + i) as u32);
            }
            let dest = match row_of[v as usize] {
                NONE => scratch,
                row => row,
            };
            steps.push(Step {
                edges_end: operand_row.len() as u32,
                dest,
                relu: !network.output(v),
            });
        }
        Ok(ExecutionPlan {
            layout: Layout {
                inputs: inputs as usize,
                outputs: outputs as usize,
                memory_rows: slots_end + 1,
                steps,
                passthrough,
            },
            operand_row,
            weight_index,
            num_weights: dag.num_edges(),
        })
    }

    /// Rows of activation memory the plan needs (inputs plus the most values alive at once;
    /// outputs, which are written once and kept, are not counted).
    pub fn rows(&self) -> usize {
        self.layout.memory_rows - 1 - self.layout.outputs
    }

    pub fn num_outputs(&self) -> usize {
        self.layout.outputs
    }

    /// Lays `weights` (one entry per edge in in-CSR order) out in execution order, next to
    /// the operand rows, for [`BoundPlan::run`].
    pub fn bind(&self, weights: &[f32]) -> Result<BoundPlan> {
        if weights.len() != self.num_weights {
            return invalid(format!(
                "weights has {} entries but the graph has {} edges",
                weights.len(),
                self.num_weights
            ));
        }
        let edges = self
            .operand_row
            .iter()
            .zip(&self.weight_index)
            .map(|(&row, &w)| Edge {
                row,
                weight: weights[w as usize],
            })
            .collect();
        Ok(BoundPlan {
            layout: self.layout.clone(),
            edges,
        })
    }

    /// Runs inference. `weights` has one entry per edge in in-CSR order; `inputs` holds one
    /// row of `batch` values per input node (ascending id); the result one row per output.
    /// (Binds the weights on every call; bind once and run the [`BoundPlan`] to reuse them.)
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

/// An [`ExecutionPlan`] with its weights in execution order: one array of (operand row,
/// weight) records that the run streams through.
#[derive(Debug, Clone)]
pub struct BoundPlan {
    layout: Layout,
    edges: Vec<Edge>,
}

impl BoundPlan {
    pub fn num_outputs(&self) -> usize {
        self.layout.outputs
    }

    pub fn num_inputs(&self) -> usize {
        self.layout.inputs
    }

    /// Runs inference on `inputs` (one row of `batch` values per input node, ascending id);
    /// returns one row of `batch` values per output (ascending id).
    pub fn run(&self, inputs: &[f32], batch: usize, cancel: &Cancel) -> Result<Vec<f32>> {
        run_in_tiles(self, inputs, batch, cancel)
    }
}

impl RunTiles for BoundPlan {
    fn io_rows(&self) -> (usize, usize, &[(u32, u32)]) {
        let layout = &self.layout;
        (layout.inputs, layout.outputs, &layout.passthrough)
    }

    /// Columns `col..col + B` of the batch through the whole order.
    fn run_tile<const B: usize>(
        &self,
        inputs: &[f32],
        batch: usize,
        col: usize,
        output: &mut [f32],
        cancel: &Cancel,
    ) -> Result<()> {
        let layout = &self.layout;
        let mut memory = vec![[0.0f32; B]; layout.memory_rows];
        for (row, values) in memory.iter_mut().zip(inputs.chunks_exact(batch)) {
            row.copy_from_slice(&values[col..col + B]);
        }
        wide_steps(&layout.steps, &self.edges, &mut memory, cancel)?;
        let rows = &memory[layout.inputs..layout.inputs + layout.outputs];
        for (row, out) in rows.iter().zip(output.chunks_exact_mut(batch)) {
            out[col..col + B].copy_from_slice(row);
        }
        Ok(())
    }
}

/// The rows every executor gives the network's inputs and outputs: inputs `0..inputs` in id
/// order, then one row per output that is not also an input (outputs keep a row of their own
/// for the whole run, it is where they end up, read in place by any consumer).
pub(super) struct IoRows {
    /// Memory row of every node (`NONE` for the ones the plan places later).
    pub row_of: Vec<u32>,
    pub inputs: u32,
    pub outputs: u32,
    /// Inputs that are also outputs: (input row, output index).
    pub passthrough: Vec<(u32, u32)>,
}

impl IoRows {
    pub fn new(network: &Network) -> IoRows {
        let n = network.num_nodes();
        let mut row_of = vec![NONE; n];
        let mut inputs = 0u32;
        for v in 0..n as u32 {
            if network.input(v) {
                row_of[v as usize] = inputs;
                inputs += 1;
            }
        }
        let mut outputs = 0u32;
        let mut passthrough = Vec::new();
        for v in 0..n as u32 {
            if network.output(v) {
                if network.input(v) {
                    passthrough.push((row_of[v as usize], outputs));
                } else {
                    row_of[v as usize] = inputs + outputs;
                }
                outputs += 1;
            }
        }
        IoRows {
            row_of,
            inputs,
            outputs,
            passthrough,
        }
    }
}

/// What differs between the neuron-order and edge-order executors: how one tile of columns
/// runs through the plan. [`run_in_tiles`] does the rest for both.
pub(super) trait RunTiles {
    /// Input rows, output rows, and the inputs that are also outputs.
    fn io_rows(&self) -> (usize, usize, &[(u32, u32)]);

    /// Columns `col..col + B` of the batch through the whole plan, into `output`.
    fn run_tile<const B: usize>(
        &self,
        inputs: &[f32],
        batch: usize,
        col: usize,
        output: &mut [f32],
        cancel: &Cancel,
    ) -> Result<()>;
}

/// Runs inference on `inputs` (one row of `batch` values per input node, ascending id);
/// returns one row of `batch` values per output (ascending id).
pub(super) fn run_in_tiles<R: RunTiles>(
    plan: &R,
    inputs: &[f32],
    batch: usize,
    cancel: &Cancel,
) -> Result<Vec<f32>> {
    let (input_rows, output_rows, passthrough) = plan.io_rows();
    if batch == 0 {
        return invalid("batch must be at least 1");
    }
    if inputs.len() != input_rows * batch {
        return invalid(format!(
            "inputs has {} values but {input_rows} inputs x batch {batch} are needed",
            inputs.len(),
        ));
    }
    let mut output = vec![0.0f32; output_rows * batch];
    // Columns are independent: the batch runs as tiles of 16, 8, 4, 2 and 1 columns, each
    // through the whole plan with its rows held in registers (a tile of 16 is one 64-byte
    // cache line per row). Every column sees the same operations in the same order whatever
    // its tile, so the result does not depend on the tiling.
    let mut col = 0;
    while col < batch {
        let width = [16, 8, 4, 2, 1]
            .into_iter()
            .find(|&w| w <= batch - col)
            .expect("1 always fits");
        match width {
            16 => plan.run_tile::<16>(inputs, batch, col, &mut output, cancel)?,
            8 => plan.run_tile::<8>(inputs, batch, col, &mut output, cancel)?,
            4 => plan.run_tile::<4>(inputs, batch, col, &mut output, cancel)?,
            2 => plan.run_tile::<2>(inputs, batch, col, &mut output, cancel)?,
            _ => plan.run_tile::<1>(inputs, batch, col, &mut output, cancel)?,
        }
        col += width;
    }
    for &(from, to) in passthrough {
        let (from, to) = (from as usize * batch, to as usize * batch);
        output[to..to + batch].copy_from_slice(&inputs[from..from + batch]);
    }
    Ok(output)
}

/// [`run_steps`] compiled for the widest vector unit the CPU has (the same operations in the
/// same order, unfused, at every width: the results do not depend on it).
fn wide_steps<const B: usize>(
    steps: &[Step],
    edges: &[Edge],
    memory: &mut [[f32; B]],
    cancel: &Cancel,
) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { steps_avx512(steps, edges, memory, cancel) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { steps_avx2(steps, edges, memory, cancel) };
        }
    }
    run_steps(steps, edges, memory, cancel)
}

/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn steps_avx512<const B: usize>(
    steps: &[Step],
    edges: &[Edge],
    memory: &mut [[f32; B]],
    cancel: &Cancel,
) -> Result<()> {
    run_steps(steps, edges, memory, cancel)
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn steps_avx2<const B: usize>(
    steps: &[Step],
    edges: &[Edge],
    memory: &mut [[f32; B]],
    cancel: &Cancel,
) -> Result<()> {
    run_steps(steps, edges, memory, cancel)
}

/// Every step of the order on one tile of `B` columns.
#[inline(always)]
fn run_steps<const B: usize>(
    steps: &[Step],
    edges: &[Edge],
    memory: &mut [[f32; B]],
    cancel: &Cancel,
) -> Result<()> {
    {
        let mut start = 0usize;
        for chunk in steps.chunks(CHECK_EVERY) {
            cancel.check()?;
            for step in chunk {
                let end = step.edges_end as usize;
                // The accumulator stays in registers over the neuron's in-edges; each edge
                // costs one record and one operand row.
                let mut acc = [0.0f32; B];
                for e in &edges[start..end] {
                    let x = &memory[e.row as usize];
                    for k in 0..B {
                        acc[k] += e.weight * x[k];
                    }
                }
                start = end;
                if step.relu {
                    for a in acc.iter_mut() {
                        *a = a.max(0.0);
                    }
                }
                memory[step.dest as usize] = acc;
            }
        }
    }
    Ok(())
}

/// Gives every computed value of `order` a memory row for its lifetime: from its own step to
/// the step of its last reader, after which the row is free for the next value (most recently
/// freed first, so a new value lands in a row that is likely still in cache). Values with a
/// preset row in `row_of` (such as the inputs) keep it and are never freed; values nobody
/// reads get no row (`u32::MAX`). Operands read for the last time at a step free their rows
/// only after that step, so a new value never overwrites one of its own operands.
///
/// `order` lists every node once, each after its predecessors (the caller checks this);
/// `in_offsets`/`in_sources` are the in-edge CSR over the same ids; rows `0..first_free` are
/// taken. Returns the number of rows used. Because `row_of` is assigned once per value, the
/// row of an operand is `row_of[u]` at every step that reads it.
pub fn assign_rows(
    order: &[u32],
    in_offsets: &[usize],
    in_sources: &[u32],
    row_of: &mut [u32],
    first_free: u32,
) -> usize {
    let n = order.len();
    let mut position = vec![0u32; n];
    for (t, &v) in order.iter().enumerate() {
        position[v as usize] = t as u32;
    }
    // The step of each value's last reader (NONE: nobody reads it).
    let mut last_reader = vec![NONE; n];
    for v in 0..n {
        let t = position[v];
        for &u in &in_sources[in_offsets[v]..in_offsets[v + 1]] {
            let last = &mut last_reader[u as usize];
            if *last == NONE || *last < t {
                *last = t;
            }
        }
    }
    let preset: Vec<bool> = row_of.iter().map(|&r| r != NONE).collect();
    // Values whose last reader is each step, as CSR over steps (ascending ids).
    let mut offsets = vec![0usize; n + 1];
    for v in 0..n {
        if last_reader[v] != NONE && !preset[v] {
            offsets[last_reader[v] as usize + 1] += 1;
        }
    }
    for t in 0..n {
        offsets[t + 1] += offsets[t];
    }
    let mut released = vec![0u32; offsets[n]];
    let mut cursor = offsets.clone();
    for v in 0..n {
        if last_reader[v] != NONE && !preset[v] {
            let t = last_reader[v] as usize;
            released[cursor[t]] = v as u32;
            cursor[t] += 1;
        }
    }
    let mut free_rows: Vec<u32> = Vec::new();
    let mut rows = first_free;
    for (t, &v) in order.iter().enumerate() {
        if !preset[v as usize] && last_reader[v as usize] != NONE {
            row_of[v as usize] = free_rows.pop().unwrap_or_else(|| {
                rows += 1;
                rows - 1
            });
        }
        for &done in &released[offsets[t]..offsets[t + 1]] {
            free_rows.push(row_of[done as usize]);
        }
    }
    rows as usize
}

/// Plans and runs in one call.
pub fn execute(
    network: &Network,
    order: &[u32],
    weights: &[f32],
    inputs: &[f32],
    batch: usize,
    cancel: &Cancel,
) -> Result<Vec<f32>> {
    ExecutionPlan::new(network, order)?.run(weights, inputs, batch, cancel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::graph::generators::random_dag;
    use crate::iosched::{constructive_order, Constructive};
    use crate::rng::Rng;

    /// Every neuron in id order, sums in in-CSR order from 0, ReLU on hidden neurons.
    fn reference(network: &Network, weights: &[f32], inputs: &[f32], batch: usize) -> Vec<f32> {
        let dag = network.dag;
        let n = dag.num_nodes();
        let (offsets, sources) = dag.in_csr();
        let mut value = vec![vec![0.0f32; batch]; n];
        let mut next_input = 0;
        for (v, row) in value.iter_mut().enumerate() {
            if network.input(v as u32) {
                row.copy_from_slice(&inputs[next_input * batch..][..batch]);
                next_input += 1;
            }
        }
        for v in crate::order::kahn(dag) {
            let v = v as usize;
            if network.input(v as u32) {
                continue;
            }
            let mut acc = vec![0.0f32; batch];
            for e in offsets[v]..offsets[v + 1] {
                for (a, &x) in acc.iter_mut().zip(&value[sources[e] as usize]) {
                    *a += weights[e] * x;
                }
            }
            if !network.output(v as u32) {
                acc.iter_mut().for_each(|a| *a = a.max(0.0));
            }
            value[v] = acc;
        }
        (0..n)
            .filter(|&v| network.output(v as u32))
            .flat_map(|v| value[v].clone())
            .collect()
    }

    #[test]
    fn every_order_and_batch_matches_the_reference_bit_for_bit() {
        let mut rng = Rng::new(7);
        for seed in 0..12 {
            let dag = random_dag(40, Some(0.12), None, seed).unwrap();
            // Explicit outputs with consumers and an input that is also an output, on some.
            let outputs: Option<Vec<u32>> = (seed % 2 == 1).then(|| vec![0, 20, 30, 39]);
            let sources: Vec<u32> = (0..40).filter(|&v| dag.in_degree(v) == 0).collect();
            let outputs = outputs.map(|mut o| {
                o.push(sources[0]);
                o.sort_unstable();
                o.dedup();
                o
            });
            let network = Network::new(&dag, None, outputs.as_deref()).unwrap();
            let weights: Vec<f32> = (0..dag.num_edges())
                .map(|_| rng.uniform(-1.0, 1.0) as f32)
                .collect();
            let mut orders: Vec<Vec<u32>> = Constructive::ALL
                .iter()
                .map(|&c| constructive_order(&network, c, 4, never()).unwrap())
                .collect();
            orders.push(crate::order::kahn(&dag));
            for batch in [1, 2, 3, 7, 16, 17, 31, 40] {
                let inputs: Vec<f32> = (0..sources.len() * batch)
                    .map(|_| rng.uniform(-1.0, 1.0) as f32)
                    .collect();
                let expected = reference(&network, &weights, &inputs, batch);
                for order in &orders {
                    let plan = ExecutionPlan::new(&network, order).unwrap();
                    let got = plan.run(&weights, &inputs, batch, never()).unwrap();
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&expected), "seed {seed} batch {batch}");
                }
            }
        }
    }

    #[test]
    fn bad_weights_and_inputs_are_errors() {
        let dag = random_dag(10, Some(0.3), None, 1).unwrap();
        let network = Network::new(&dag, None, None).unwrap();
        let plan = ExecutionPlan::new(&network, &crate::order::kahn(&dag)).unwrap();
        assert!(plan.bind(&vec![1.0; dag.num_edges() + 1]).is_err());
        let bound = plan.bind(&vec![1.0; dag.num_edges()]).unwrap();
        assert!(bound.run(&[], 0, never()).is_err());
        assert!(bound.run(&[1.0], 2, never()).is_err());
    }
}
