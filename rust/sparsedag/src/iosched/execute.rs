//! Sparse inference in a given order, with activation slots freed after their last use and
//! reused (most recently freed first, so a new value lands in a slot that is likely still in
//! cache). This is the executor through which an I/O-aware order becomes wall-clock time.
//!
//! Activations are neuron-major: one row of `batch` floats per value. Neuron v computes
//! `sum over in-edges (u, v) of w_uv * a_u`, with its in-edges in the order of the DAG's in-CSR
//! (predecessor ids ascending), so every order gives bit-identical results; hidden neurons
//! apply ReLU, outputs are linear.

use super::network::Network;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::order::check_order;

const NO_SLOT: u32 = u32::MAX;

/// Runs inference. `weights` has one entry per edge in in-CSR order; `inputs` holds one row of
/// `batch` values per input node (inputs in ascending id order); the result holds one row per
/// output node (ascending id order).
pub fn execute(
    network: &Network,
    order: &[u32],
    weights: &[f32],
    inputs: &[f32],
    batch: usize,
    cancel: &Cancel,
) -> Result<Vec<f32>> {
    let dag = network.dag;
    let n = network.num_nodes();
    check_order(dag, order)?;
    if weights.len() != dag.num_edges() {
        return invalid(format!(
            "weights has {} entries but the graph has {} edges",
            weights.len(),
            dag.num_edges()
        ));
    }
    if batch == 0 {
        return invalid("batch must be at least 1");
    }
    let input_ids: Vec<u32> = (0..n as u32).filter(|&v| network.input(v)).collect();
    let output_ids: Vec<u32> = (0..n as u32).filter(|&v| network.output(v)).collect();
    if inputs.len() != input_ids.len() * batch {
        return invalid(format!(
            "inputs has {} values but {} inputs x batch {batch} are needed",
            inputs.len(),
            input_ids.len()
        ));
    }
    let mut input_row = vec![NO_SLOT; n];
    for (row, &v) in input_ids.iter().enumerate() {
        input_row[v as usize] = row as u32;
    }
    let mut output_row = vec![NO_SLOT; n];
    for (row, &v) in output_ids.iter().enumerate() {
        output_row[v as usize] = row as u32;
    }
    let mut position = vec![0u32; n];
    for (t, &v) in order.iter().enumerate() {
        position[v as usize] = t as u32;
    }
    // Step after which each computed value is no longer read.
    let last_read: Vec<u32> = (0..n as u32)
        .map(|v| {
            dag.successors(v)
                .iter()
                .map(|&w| position[w as usize])
                .max()
                .unwrap_or(position[v as usize])
        })
        .collect();
    // Values whose slot frees at each step, as CSR over steps.
    let mut frees_at = vec![0u32; n + 1];
    for v in 0..n as u32 {
        if !network.input(v) {
            frees_at[last_read[v as usize] as usize + 1] += 1;
        }
    }
    for t in 0..n {
        frees_at[t + 1] += frees_at[t];
    }
    let mut freeing = vec![0u32; frees_at[n] as usize];
    let mut cursor = frees_at.clone();
    for v in 0..n as u32 {
        if !network.input(v) {
            let t = last_read[v as usize] as usize;
            freeing[cursor[t] as usize] = v;
            cursor[t] += 1;
        }
    }

    let (in_offsets, _) = dag.in_csr();
    let mut slot = vec![NO_SLOT; n];
    let mut free_slots: Vec<u32> = Vec::new();
    let mut slots_used = 0u32;
    let mut memory: Vec<f32> = Vec::new();
    let mut output = vec![0.0f32; output_ids.len() * batch];
    let mut acc = vec![0.0f32; batch];
    for (t, &v) in order.iter().enumerate() {
        if t % 16_384 == 0 {
            cancel.check()?;
        }
        if network.input(v) {
            if network.output(v) {
                // An input that is also an output passes through.
                let (from, to) = (
                    input_row[v as usize] as usize,
                    output_row[v as usize] as usize,
                );
                output[to * batch..(to + 1) * batch]
                    .copy_from_slice(&inputs[from * batch..(from + 1) * batch]);
            }
        } else {
            acc.fill(0.0);
            let edges = in_offsets[v as usize]..in_offsets[v as usize + 1];
            for (&u, &w) in dag.predecessors(v).iter().zip(&weights[edges]) {
                let source = if network.input(u) {
                    let row = input_row[u as usize] as usize * batch;
                    &inputs[row..row + batch]
                } else {
                    let row = slot[u as usize] as usize * batch;
                    &memory[row..row + batch]
                };
                for (a, &x) in acc.iter_mut().zip(source) {
                    *a += w * x;
                }
            }
            if network.output(v) {
                let row = output_row[v as usize] as usize * batch;
                output[row..row + batch].copy_from_slice(&acc);
            } else {
                for a in acc.iter_mut() {
                    *a = a.max(0.0);
                }
            }
            if !dag.successors(v).is_empty() {
                let s = free_slots.pop().unwrap_or_else(|| {
                    slots_used += 1;
                    memory.resize(slots_used as usize * batch, 0.0);
                    slots_used - 1
                });
                slot[v as usize] = s;
                let row = s as usize * batch;
                memory[row..row + batch].copy_from_slice(&acc);
            }
        }
        for &done in &freeing[frees_at[t] as usize..frees_at[t + 1] as usize] {
            if slot[done as usize] != NO_SLOT {
                free_slots.push(slot[done as usize]);
            }
        }
    }
    Ok(output)
}
