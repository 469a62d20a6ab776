//! Inference in a given order of the neurons instead of layer by layer: a memory-minimising
//! topological order (`predict(X, memory="low")`) or an I/O schedule (`predict(X,
//! schedule=s)`). Each activation lives in a memory row from its own step to the step of its
//! last reader and the row is then reused ([`crate::iosched::assign_rows`], the slot machinery
//! of the I/O executor), so the buffer holds the inputs plus the most activations alive at
//! once instead of one row per neuron.
//!
//! Each neuron is computed by the same kernel as the layer-by-layer forward pass, with its
//! in-edges in the plan's order, so the outputs equal those of [`Net::forward`] whatever the
//! order. The weights, biases and activation functions are copied once into the plan's step
//! order ([`BoundParams`], rebuilt when the net's parameters change), so that every order
//! streams its parameters as the layer order streams the net's own arrays. Batches are split into column tiles that run the whole order independently (in
//! parallel when there are several), so the result does not depend on the thread count.

use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;

use super::activation::Activation;
use super::kernels::{madd, Level, Simd};
use super::net::Net;
use super::plan::Plan;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::iosched::assign_rows;

const NONE: u32 = u32::MAX;
/// Rows of X per chunk (as the layer-by-layer prediction).
const CHUNK: usize = 1024;
/// Columns per tile: one tile's rows of a wide network stay in cache far longer than a whole
/// batch's, and tiles are independent units of parallel work.
const TILE: usize = 256;

#[derive(Debug, Clone, Copy)]
struct OrderedStep {
    /// Internal id of the neuron.
    node: u32,
    /// End of its operands in `operand_rows` (which is laid out in step order).
    operands_end: u32,
    /// Its in-edge positions in the net's weights (where [`BoundParams`] copies them from).
    weights: (u32, u32),
    /// Memory row receiving its activation, `NONE` if nothing reads it.
    row: u32,
    /// Column of the output matrix, `NONE` if it is not an output.
    output: u32,
}

/// A net's parameters laid out in a plan's step order: the weights of every step's in-edges
/// (in the same order as `operand_rows`) and each computed neuron's bias and activation.
/// Without this copy an order other than the layer order jumps around the net's in-edge
/// (layer-ordered) arrays, which cost more than the order saves on most networks.
#[derive(Debug)]
struct BoundParams {
    weights: Vec<f32>,
    nodes: Vec<(f32, Activation)>,
}

impl BoundParams {
    fn bytes(&self) -> usize {
        self.weights.capacity() * std::mem::size_of::<f32>()
            + self.nodes.capacity() * std::mem::size_of::<(f32, Activation)>()
    }
}

/// A network's forward pass planned once for one order of its neurons.
#[derive(Debug)]
pub struct OrderedForward {
    num_nodes: usize,
    num_edges: usize,
    num_inputs: usize,
    num_outputs: usize,
    rows: usize,
    steps: Vec<OrderedStep>,
    /// Memory rows of every step's operands, in step order (so they stream whatever the order),
    /// each step's in the plan's in-edge order.
    operand_rows: Vec<u32>,
    /// The parameters of the last net run, in step order.
    bound: ParamCache<BoundParams>,
}

impl Clone for OrderedForward {
    fn clone(&self) -> OrderedForward {
        OrderedForward {
            num_nodes: self.num_nodes,
            num_edges: self.num_edges,
            num_inputs: self.num_inputs,
            num_outputs: self.num_outputs,
            rows: self.rows,
            steps: self.steps.clone(),
            operand_rows: self.operand_rows.clone(),
            bound: self.bound.clone(),
        }
    }
}

impl OrderedForward {
    /// Plans the order `order` of the user's node ids (every node once, each after its
    /// predecessors; inputs may appear anywhere, their rows are fixed).
    pub fn new(plan: &Plan, order: &[u32]) -> Result<OrderedForward> {
        let n = plan.num_nodes();
        if order.len() != n {
            return invalid(format!(
                "the order has {} entries but the network has {n} nodes; it must list every \
                 node once",
                order.len()
            ));
        }
        let mut internal_order = Vec::with_capacity(n);
        let mut position = vec![u32::MAX; n];
        for (t, &v) in order.iter().enumerate() {
            if v as usize >= n {
                return invalid(format!(
                    "order[{t}] = {v} is not a node of the network (ids 0..{n})"
                ));
            }
            let j = plan.internal_of()[v as usize];
            if position[j as usize] != u32::MAX {
                return invalid(format!("node {v} appears twice in the order"));
            }
            position[j as usize] = t as u32;
            internal_order.push(j);
        }
        let (offsets, sources) = (plan.in_offsets(), plan.in_sources());
        for j in 0..n {
            for &s in &sources[offsets[j]..offsets[j + 1]] {
                if position[s as usize] > position[j] {
                    let node_of = plan.node_of();
                    return invalid(format!(
                        "the order is not topological: node {} comes before its predecessor {}",
                        node_of[j], node_of[s as usize]
                    ));
                }
            }
        }
        let num_inputs = plan.num_inputs();
        let mut row_of = vec![NONE; n];
        for (j, row) in row_of.iter_mut().enumerate().take(num_inputs) {
            *row = j as u32;
        }
        let rows = assign_rows(
            &internal_order,
            offsets,
            sources,
            &mut row_of,
            num_inputs as u32,
        );
        let mut output_of = vec![NONE; n];
        for (o, &j) in plan.outputs().iter().enumerate() {
            output_of[j as usize] = o as u32;
        }
        let mut steps = Vec::with_capacity(n - num_inputs);
        let mut operand_rows = Vec::with_capacity(plan.num_edges());
        for &j in internal_order.iter().filter(|&&j| j as usize >= num_inputs) {
            let edges = offsets[j as usize]..offsets[j as usize + 1];
            operand_rows.extend(sources[edges.clone()].iter().map(|&s| row_of[s as usize]));
            steps.push(OrderedStep {
                node: j,
                weights: (edges.start as u32, edges.end as u32),
                operands_end: operand_rows.len() as u32,
                row: row_of[j as usize],
                output: output_of[j as usize],
            });
        }
        Ok(OrderedForward {
            num_nodes: n,
            num_edges: plan.num_edges(),
            num_inputs,
            num_outputs: plan.outputs().len(),
            rows,
            steps,
            operand_rows,
            bound: ParamCache::default(),
        })
    }

    /// `net`'s parameters in step order (copied once per parameters version).
    fn bind(&self, net: &Net) -> Arc<BoundParams> {
        self.bound.get_or_build(net.parameters_version(), || {
            let (weights, biases, activations) = (net.weights(), net.biases(), net.activations());
            let mut packed = Vec::with_capacity(self.operand_rows.len());
            let mut nodes = Vec::with_capacity(self.steps.len());
            for step in &self.steps {
                packed
                    .extend_from_slice(&weights[step.weights.0 as usize..step.weights.1 as usize]);
                let j = step.node as usize;
                nodes.push((biases[j], activations[j]));
            }
            BoundParams {
                weights: packed,
                nodes,
            }
        })
    }

    /// Bytes held by the parameters copied in step order (0 before the first prediction or
    /// after [`Self::release_parameters`]); about 4 per edge plus 12 per computed neuron.
    pub fn parameter_bytes(&self) -> usize {
        self.bound.bytes(BoundParams::bytes)
    }

    /// Frees the parameters copied in step order; the next prediction copies them again.
    pub fn release_parameters(&self) {
        self.bound.clear();
    }

    /// Activation rows the plan needs: the inputs plus the most activations alive at once.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Outputs for every row of the row-major `x` (`rows x num_inputs`), row-major
    /// `rows x outputs`, as [`super::Model::predict`] computes them.
    pub fn predict(
        &self,
        net: &Net,
        simd: Simd,
        x: &[f32],
        features: usize,
        cancel: &Cancel,
    ) -> Result<Vec<f32>> {
        let shape = Shape {
            nodes: self.num_nodes,
            edges: self.num_edges,
            inputs: self.num_inputs,
            outputs: self.num_outputs,
        };
        shape.check(net, x, features, "order")?;
        let params = self.bind(net);
        let params = &*params;
        shape.run_samples(x, cancel, |xs, o| {
            self.run_tile(params, simd, xs, o);
            Ok(())
        })
    }

    /// Runs the whole order on `x.len() / num_inputs` samples; `out` is their rows of outputs.
    fn run_tile(&self, params: &BoundParams, simd: Simd, x: &[f32], out: &mut [f32]) {
        let (inputs, outs) = (self.num_inputs, self.num_outputs);
        let width = x.len() / inputs;
        // Narrow tiles (small batches) keep a row in registers: the per-call overhead of the
        // general kernel would cost more than the few columns it computes.
        let fused = matches!(simd.level(), Level::Avx2Fma | Level::Avx512);
        match width {
            1 => return self.run_narrow::<1>(params, fused, x, out),
            2 => return self.run_narrow::<2>(params, fused, x, out),
            4 => return self.run_narrow::<4>(params, fused, x, out),
            8 => return self.run_narrow::<8>(params, fused, x, out),
            16 => return self.run_narrow::<16>(params, fused, x, out),
            _ => {}
        }
        let mut memory = vec![0.0f32; self.rows * width];
        for (b, sample) in x.chunks_exact(inputs).enumerate() {
            for (i, &v) in sample.iter().enumerate() {
                memory[i * width + b] = v;
            }
        }
        let mut z = vec![0.0f32; width];
        let mut scratch = vec![0.0f32; width];
        let mut operands_start = 0usize;
        for (step, &(bias, activation)) in self.steps.iter().zip(&params.nodes) {
            let operands = operands_start..step.operands_end as usize;
            operands_start = step.operands_end as usize;
            simd.weighted_sum(
                &mut z,
                bias,
                &self.operand_rows[operands.clone()],
                &params.weights[operands],
                &memory,
                width,
                0,
            );
            let a = if step.row == NONE {
                &mut scratch[..]
            } else {
                &mut memory[step.row as usize * width..][..width]
            };
            activation.apply(&z, a);
            if step.output != NONE {
                let o = step.output as usize;
                for (b, &v) in a.iter().enumerate() {
                    out[b * outs + o] = v;
                }
            }
        }
    }
}

impl OrderedForward {
    /// [`Self::run_tile`] for a tile of exactly `B` columns: per column, the same operations
    /// in the same order as [`Simd::weighted_sum`] at the level in use (fused multiply-adds
    /// from the bias, in in-edge order, when `fused`), so the outputs are bit-identical.
    fn run_narrow<const B: usize>(
        &self,
        params: &BoundParams,
        fused: bool,
        x: &[f32],
        out: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if fused {
            // SAFETY: `fused` holds only for the AVX2+FMA and AVX-512 kernel levels, and a
            // `Simd` of those levels exists only when the CPU supports FMA.
            unsafe { narrow_fma::<B>(self, params, x, out) };
            return;
        }
        debug_assert!(!fused, "fused kernel levels exist only on x86-64");
        narrow_body::<B, false>(self, params, x, out)
    }
}

/// # Safety
/// The CPU must support FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn narrow_fma<const B: usize>(
    plan: &OrderedForward,
    params: &BoundParams,
    x: &[f32],
    out: &mut [f32],
) {
    narrow_body::<B, true>(plan, params, x, out)
}

#[inline(always)]
fn narrow_body<const B: usize, const FUSED: bool>(
    plan: &OrderedForward,
    params: &BoundParams,
    x: &[f32],
    out: &mut [f32],
) {
    let (inputs, outs) = (plan.num_inputs, plan.num_outputs);
    let mut memory = vec![[0.0f32; B]; plan.rows];
    // Row by row: one pass over the (possibly much larger than cache) input rows, reading
    // the B samples as B sequential streams.
    let samples = x.len() / inputs;
    for (i, row) in memory.iter_mut().take(inputs).enumerate() {
        for (b, value) in row.iter_mut().take(samples).enumerate() {
            *value = x[b * inputs + i];
        }
    }
    let mut scratch = [0.0f32; B];
    let mut operands_start = 0usize;
    for (step, &(bias, activation)) in plan.steps.iter().zip(&params.nodes) {
        let range = operands_start..step.operands_end as usize;
        operands_start = step.operands_end as usize;
        let (operands, w) = (&plan.operand_rows[range.clone()], &params.weights[range]);
        let mut z = [bias; B];
        for (&s, &w) in operands.iter().zip(w) {
            let row = &memory[s as usize];
            for k in 0..B {
                z[k] = madd::<FUSED>(w, row[k], z[k]);
            }
        }
        let a = if step.row == NONE {
            &mut scratch
        } else {
            &mut memory[step.row as usize]
        };
        activation.apply(&z, a);
        if step.output != NONE {
            let o = step.output as usize;
            for (b, &v) in a.iter().enumerate() {
                out[b * outs + o] = v;
            }
        }
    }
}

/// The parameters of the last net a schedule-ordered forward ran, copied in the schedule's
/// order, with the [`Net::parameters_version`] they were copied at. Any write to the
/// parameters gets a new version, so a stale copy is never used; at most one copy is held (the
/// stale one is dropped before the new one is built). An `Arc`, so that a run keeps its copy
/// while another call rebinds.
pub(super) struct ParamCache<T> {
    slot: Mutex<Option<(u64, Arc<T>)>>,
}

impl<T> Default for ParamCache<T> {
    fn default() -> Self {
        ParamCache {
            slot: Mutex::new(None),
        }
    }
}

impl<T> Clone for ParamCache<T> {
    fn clone(&self) -> Self {
        ParamCache {
            slot: Mutex::new(self.lock().clone()),
        }
    }
}

impl<T> std::fmt::Debug for ParamCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let version = self.lock().as_ref().map(|(v, _)| *v);
        f.debug_struct("ParamCache")
            .field("version", &version)
            .finish()
    }
}

impl<T> ParamCache<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(u64, Arc<T>)>> {
        // The guarded value is replaced whole, so a panic elsewhere cannot leave it half-built.
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The copy made at `version`, or a new one from `build`.
    pub fn get_or_build(&self, version: u64, build: impl FnOnce() -> T) -> Arc<T> {
        let mut slot = self.lock();
        if let Some((_, copy)) = slot.as_ref().filter(|(v, _)| *v == version) {
            return Arc::clone(copy);
        }
        *slot = None;
        let copy = Arc::new(build());
        *slot = Some((version, Arc::clone(&copy)));
        copy
    }

    /// `size` of the copy held, 0 if none.
    pub fn bytes(&self, size: impl Fn(&T) -> usize) -> usize {
        self.lock().as_ref().map_or(0, |(_, copy)| size(copy))
    }

    pub fn clear(&self) {
        *self.lock() = None;
    }
}

/// What both schedule-ordered forwards (neuron orders here, edge orders in
/// `ordered_edges`) were planned for, and the input checks and sample loop they share.
pub(super) struct Shape {
    pub nodes: usize,
    pub edges: usize,
    pub inputs: usize,
    pub outputs: usize,
}

impl Shape {
    /// `net` must be the network the `kind` of schedule was planned for, and `x` (row-major,
    /// `features` columns) one or more finite samples of its inputs.
    pub fn check(&self, net: &Net, x: &[f32], features: usize, kind: &str) -> Result<()> {
        let plan = net.plan();
        if plan.num_nodes() != self.nodes
            || plan.num_edges() != self.edges
            || plan.num_inputs() != self.inputs
        {
            return invalid(format!(
                "the {kind} was planned for a network of a different shape"
            ));
        }
        if features != self.inputs {
            return invalid(format!(
                "X has {features} columns but the network has {} input nodes",
                self.inputs
            ));
        }
        if x.is_empty() {
            return invalid("X is empty: it needs at least one row");
        }
        super::net::check_finite(x, "X (flattened)")
    }

    /// Row-major outputs of every sample of `x`: chunks of `CHUNK` samples (a cancellation
    /// check each), cut into tiles of `TILE` that `run_tile(samples, outputs)` computes, in
    /// parallel when the work is worth a thread.
    pub fn run_samples<F>(&self, x: &[f32], cancel: &Cancel, run_tile: F) -> Result<Vec<f32>>
    where
        F: Fn(&[f32], &mut [f32]) -> Result<()> + Sync,
    {
        let (features, outs) = (self.inputs, self.outputs);
        let samples = x.len() / features;
        let mut out = vec![0.0f32; samples * outs];
        for (c, chunk) in out.chunks_mut(CHUNK * outs).enumerate() {
            cancel.check()?;
            let first = c * CHUNK;
            let batch = chunk.len() / outs;
            let tiles: Vec<(usize, &mut [f32])> = chunk
                .chunks_mut(TILE * outs)
                .enumerate()
                .map(|(t, o)| (first + t * TILE, o))
                .collect();
            let run = |(start, o): (usize, &mut [f32])| -> Result<()> {
                let width = o.len() / outs;
                run_tile(&x[start * features..][..width * features], o)
            };
            if tiles.len() > 1 && batch * (self.edges + self.nodes) >= 1 << 15 {
                tiles
                    .into_par_iter()
                    .map(run)
                    .collect::<Result<Vec<()>>>()?;
            } else {
                tiles.into_iter().try_for_each(run)?;
            }
        }
        Ok(out)
    }
}
