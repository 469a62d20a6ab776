//! Sparse inference in a given order, with activation slots freed after their last use and
//! reused (most recently freed first, so a new value lands in a slot that is likely still in
//! cache). This is the executor through which an I/O-aware order becomes wall-clock time.
//!
//! Activations are neuron-major: one row of `batch` floats per value. Neuron v computes
//! `sum over in-edges (u, v) of w_uv * a_u`, with its in-edges in the order of the DAG's in-CSR
//! (predecessor ids ascending), so every order gives bit-identical results; hidden neurons
//! apply ReLU, outputs are linear. Planning (slots, row of every operand) is done once per
//! order by [`ExecutionPlan::new`]; [`ExecutionPlan::run`] then only streams through it.

use super::network::Network;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::order::check_order;

const NONE: u32 = u32::MAX;

/// One computed neuron of the plan, in order.
#[derive(Debug, Clone, Copy)]
struct Step {
    /// Range of its in-edges in `operand_row`/`weight_index`.
    edges_end: usize,
    /// Row of `memory` receiving its value, `NONE` if nothing reads it.
    row: u32,
    /// Row of the output matrix, `NONE` if it is not an output.
    output: u32,
}

#[derive(Debug, Clone)]
pub struct ExecutionPlan {
    inputs: usize,
    outputs: usize,
    /// Memory rows: the inputs first, then the reusable slots.
    rows: usize,
    steps: Vec<Step>,
    operand_row: Vec<u32>,
    weight_index: Vec<u32>,
    /// Inputs that are also outputs: (input row, output row).
    passthrough: Vec<(u32, u32)>,
    num_weights: usize,
}

impl ExecutionPlan {
    pub fn new(network: &Network, order: &[u32]) -> Result<Self> {
        let dag = network.dag;
        let n = network.num_nodes();
        check_order(dag, order)?;
        let mut row_of = vec![NONE; n];
        let mut inputs = 0usize;
        for v in 0..n as u32 {
            if network.input(v) {
                row_of[v as usize] = inputs as u32;
                inputs += 1;
            }
        }
        let mut output_row = vec![NONE; n];
        let mut outputs = 0u32;
        for v in 0..n as u32 {
            if network.output(v) {
                output_row[v as usize] = outputs;
                outputs += 1;
            }
        }
        let mut position = vec![0u32; n];
        for (t, &v) in order.iter().enumerate() {
            position[v as usize] = t as u32;
        }
        // Values whose last reader is each step, as CSR over steps.
        let mut offsets = vec![0usize; n + 1];
        let last_reader = |v: u32| {
            dag.successors(v)
                .iter()
                .map(|&w| position[w as usize])
                .max()
        };
        for v in 0..n as u32 {
            if let Some(t) = last_reader(v).filter(|_| !network.input(v)) {
                offsets[t as usize + 1] += 1;
            }
        }
        for t in 0..n {
            offsets[t + 1] += offsets[t];
        }
        let mut released = vec![0u32; offsets[n]];
        let mut cursor = offsets.clone();
        for v in 0..n as u32 {
            if let Some(t) = last_reader(v).filter(|_| !network.input(v)) {
                released[cursor[t as usize]] = v;
                cursor[t as usize] += 1;
            }
        }
        let (in_offsets, _) = dag.in_csr();
        let mut free_rows: Vec<u32> = Vec::new();
        let mut rows = inputs as u32;
        let mut steps = Vec::with_capacity(n - inputs);
        let mut operand_row = Vec::with_capacity(dag.num_edges());
        let mut weight_index = Vec::with_capacity(dag.num_edges());
        let mut passthrough = Vec::new();
        for (t, &v) in order.iter().enumerate() {
            if network.input(v) {
                if network.output(v) {
                    passthrough.push((row_of[v as usize], output_row[v as usize]));
                }
                continue;
            }
            for (i, &u) in dag.predecessors(v).iter().enumerate() {
                operand_row.push(row_of[u as usize]);
                weight_index.push((in_offsets[v as usize] + i) as u32);
            }
            // Operands read for the last time here free their rows only after this step, so
            // the new value never overwrites one of its own operands.
            let row = if dag.successors(v).is_empty() {
                NONE
            } else {
                free_rows.pop().unwrap_or_else(|| {
                    rows += 1;
                    rows - 1
                })
            };
            row_of[v as usize] = row;
            steps.push(Step {
                edges_end: operand_row.len(),
                row,
                output: output_row[v as usize],
            });
            for &done in &released[offsets[t]..offsets[t + 1]] {
                free_rows.push(row_of[done as usize]);
            }
        }
        Ok(ExecutionPlan {
            inputs,
            outputs: outputs as usize,
            rows: rows as usize,
            steps,
            operand_row,
            weight_index,
            passthrough,
            num_weights: dag.num_edges(),
        })
    }

    /// Rows of activation memory the plan needs (inputs plus the most values alive at once).
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn num_outputs(&self) -> usize {
        self.outputs
    }

    /// Runs inference. `weights` has one entry per edge in in-CSR order; `inputs` holds one
    /// row of `batch` values per input node (ascending id); the result one row per output.
    pub fn run(
        &self,
        weights: &[f32],
        inputs: &[f32],
        batch: usize,
        cancel: &Cancel,
    ) -> Result<Vec<f32>> {
        if weights.len() != self.num_weights {
            return invalid(format!(
                "weights has {} entries but the graph has {} edges",
                weights.len(),
                self.num_weights
            ));
        }
        if batch == 0 {
            return invalid("batch must be at least 1");
        }
        if inputs.len() != self.inputs * batch {
            return invalid(format!(
                "inputs has {} values but {} inputs x batch {batch} are needed",
                inputs.len(),
                self.inputs
            ));
        }
        let mut memory = vec![0.0f32; self.rows * batch];
        memory[..inputs.len()].copy_from_slice(inputs);
        let mut output = vec![0.0f32; self.outputs * batch];
        for &(from, to) in &self.passthrough {
            let (from, to) = (from as usize * batch, to as usize * batch);
            output[to..to + batch].copy_from_slice(&inputs[from..from + batch]);
        }
        let mut acc = vec![0.0f32; batch];
        let mut start = 0usize;
        for (i, step) in self.steps.iter().enumerate() {
            if i % 16_384 == 0 {
                cancel.check()?;
            }
            acc.fill(0.0);
            let edges = start..step.edges_end;
            start = step.edges_end;
            for (&row, &w) in self.operand_row[edges.clone()]
                .iter()
                .zip(&self.weight_index[edges])
            {
                let w = weights[w as usize];
                let at = row as usize * batch;
                for (a, &x) in acc.iter_mut().zip(&memory[at..at + batch]) {
                    *a += w * x;
                }
            }
            if step.output != NONE {
                let at = step.output as usize * batch;
                output[at..at + batch].copy_from_slice(&acc);
            } else {
                for a in acc.iter_mut() {
                    *a = a.max(0.0);
                }
            }
            if step.row != NONE {
                let at = step.row as usize * batch;
                memory[at..at + batch].copy_from_slice(&acc);
            }
        }
        Ok(output)
    }
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
