//! A DagNet's forward pass in a general order of its edges (`predict(X, schedule=s)` with an
//! edge schedule such as `io_schedule(net, M, method="tiled")`), on the edge-order executor of
//! the I/O scheduler ([`crate::iosched`]): runs of edges sharing a source, accumulators in a
//! compact scratch, activation rows reused after their last reader.
//!
//! A neuron's value is `activation(sum + bias)` where `sum` adds its in-edges in the order the
//! edge order lists them, from zero; the layer-by-layer pass starts from the bias and adds in
//! in-edge order. The outputs therefore equal [`super::Net::forward`]'s to float rounding, not
//! bit for bit. For one edge order they are deterministic and do not depend on the thread
//! count or the batch size (every column sees the same operations in the same order).

use std::sync::Arc;

use super::activation::Activation;
use super::kernels::{Level, Simd};
use super::net::Net;
use super::ordered::{ParamCache, Shape};
use super::plan::Plan;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::iosched::{EdgeProgram, Entry, Final, Finish};

const NONE: u32 = u32::MAX;

/// A final neuron with its parameters bound: bias and activation.
#[derive(Debug, Clone, Copy)]
struct NetFinal {
    slot: u32,
    row: u32,
    bias: f32,
    activation: Activation,
}

impl Finish for NetFinal {
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
        let mut z = *sum;
        for v in z.iter_mut() {
            *v += self.bias;
        }
        self.activation.apply(&z, value);
    }
}

/// A net's parameters in the program's order.
#[derive(Debug)]
struct EdgeParams {
    entries: Vec<Entry>,
    finals: Vec<NetFinal>,
    prologue: Vec<NetFinal>,
}

impl EdgeParams {
    fn bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + (self.finals.capacity() + self.prologue.capacity()) * std::mem::size_of::<NetFinal>()
    }
}

/// A network's forward pass planned once for one order of its edges.
#[derive(Debug)]
pub struct EdgeOrderedForward {
    num_nodes: usize,
    num_edges: usize,
    num_inputs: usize,
    program: EdgeProgram,
    /// Memory row of every output column.
    output_rows: Vec<u32>,
    bound: ParamCache<EdgeParams>,
}

impl EdgeOrderedForward {
    /// Plans the edge order `order`: edge ids of the user's graph (indices into
    /// `Dag::edges()`, edges sorted by source, then target). An invalid order (an edge
    /// missing or repeated, an out-edge of `u` before all of `u`'s in-edges) is an error naming
    /// the edge in the user's node ids.
    pub fn new(plan: &Plan, order: &[u32]) -> Result<EdgeOrderedForward> {
        let (n, m) = (plan.num_nodes(), plan.num_edges());
        if order.len() != m {
            return invalid(format!(
                "the edge order has {} entries but the network has {m} edges",
                order.len()
            ));
        }
        let positions_of_ids = plan.user_edge_positions();
        let mut positions = Vec::with_capacity(m);
        for (i, &e) in order.iter().enumerate() {
            match positions_of_ids.get(e as usize) {
                Some(&p) => positions.push(p),
                None => {
                    return invalid(format!(
                        "edge order entry {i} = {e} is not an edge id; ids must lie in 0..{m}"
                    ))
                }
            }
        }
        let num_inputs = plan.num_inputs();
        let mut row_of = vec![NONE; n];
        for (j, row) in row_of.iter_mut().enumerate().take(num_inputs) {
            *row = j as u32;
        }
        // Outputs keep a row of their own for the whole run, read in place by any consumer and
        // copied out at the end.
        let mut next = num_inputs as u32;
        for &j in plan.outputs() {
            if row_of[j as usize] == NONE {
                row_of[j as usize] = next;
                next += 1;
            }
        }
        let node_of = plan.node_of();
        let program = EdgeProgram::compile(
            plan.in_offsets(),
            plan.in_sources(),
            &positions,
            |j| j as usize >= num_inputs,
            &mut row_of,
            next,
            |j| node_of[j as usize],
        )?;
        let output_rows = plan.outputs().iter().map(|&j| row_of[j as usize]).collect();
        Ok(EdgeOrderedForward {
            num_nodes: n,
            num_edges: m,
            num_inputs,
            program,
            output_rows,
            bound: ParamCache::default(),
        })
    }

    /// `net`'s parameters in the program's order (copied once per parameters version).
    fn bind(&self, net: &Net) -> Arc<EdgeParams> {
        self.bound.get_or_build(net.parameters_version(), || {
            let (weights, biases, activations) = (net.weights(), net.biases(), net.activations());
            let with_params = |f: &Final| NetFinal {
                slot: f.slot,
                row: f.row,
                bias: biases[f.node as usize],
                activation: activations[f.node as usize],
            };
            EdgeParams {
                entries: self.program.entries(|p| weights[p]),
                finals: self.program.finals.iter().map(with_params).collect(),
                prologue: self.program.prologue.iter().map(with_params).collect(),
            }
        })
    }

    /// Bytes held by the parameters copied in the program's order (0 before the first
    /// prediction or after [`Self::release_parameters`]).
    pub fn parameter_bytes(&self) -> usize {
        self.bound.bytes(EdgeParams::bytes)
    }

    /// Frees the parameters copied in the program's order.
    pub fn release_parameters(&self) {
        self.bound.clear();
    }

    /// Activation rows (inputs, outputs and the most other values alive at once) plus the
    /// accumulator slots.
    pub fn rows(&self) -> usize {
        self.program.memory_rows - 1 + self.program.acc_slots
    }

    /// Outputs for every row of the row-major `x` (`rows x num_inputs`), row-major
    /// `rows x outputs`.
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
            outputs: self.output_rows.len(),
        };
        shape.check(net, x, features, "edge order")?;
        let params = self.bind(net);
        let params = &*params;
        let fused = matches!(simd.level(), Level::Avx2Fma | Level::Avx512);
        shape.run_samples(x, cancel, |xs, o| {
            self.run_tile(params, fused, xs, o, cancel)
        })
    }

    /// Samples `x` (row-major) through the program in column tiles of 16, 8, 4, 2 and 1.
    fn run_tile(
        &self,
        params: &EdgeParams,
        fused: bool,
        x: &[f32],
        out: &mut [f32],
        cancel: &Cancel,
    ) -> Result<()> {
        let inputs = self.num_inputs;
        let width = x.len() / inputs;
        let mut col = 0;
        while col < width {
            let w = [16, 8, 4, 2, 1]
                .into_iter()
                .find(|&w| w <= width - col)
                .expect("1 always fits");
            let (xs, ctx) = (
                &x[col * inputs..(col + w) * inputs],
                (params, fused, cancel),
            );
            match w {
                16 => self.narrow::<16>(ctx, xs, col, out)?,
                8 => self.narrow::<8>(ctx, xs, col, out)?,
                4 => self.narrow::<4>(ctx, xs, col, out)?,
                2 => self.narrow::<2>(ctx, xs, col, out)?,
                _ => self.narrow::<1>(ctx, xs, col, out)?,
            }
            col += w;
        }
        Ok(())
    }

    /// `B` samples (`x`, row-major) through the program; their outputs go to rows
    /// `col..col + B` of `out`.
    fn narrow<const B: usize>(
        &self,
        (params, fused, cancel): (&EdgeParams, bool, &Cancel),
        x: &[f32],
        col: usize,
        out: &mut [f32],
    ) -> Result<()> {
        let (inputs, outs) = (self.num_inputs, self.output_rows.len());
        let mut memory = vec![[0.0f32; B]; self.program.memory_rows];
        // Row by row: one pass over the (possibly much larger than cache) input rows, reading
        // the B samples as B sequential streams.
        let samples = x.len() / inputs;
        for (i, row) in memory.iter_mut().take(inputs).enumerate() {
            for (b, value) in row.iter_mut().take(samples).enumerate() {
                *value = x[b * inputs + i];
            }
        }
        let mut acc = vec![[0.0f32; B]; self.program.acc_slots];
        let args = (
            &self.program,
            &params.entries[..],
            &params.finals[..],
            &params.prologue[..],
        );
        #[cfg(target_arch = "x86_64")]
        if fused {
            // SAFETY: `fused` holds only for the AVX2+FMA and AVX-512 kernel levels, and a
            // `Simd` of those levels exists only when the CPU supports them (and FMA).
            unsafe {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    crate::iosched::avx512::<B, true, NetFinal>(
                        args,
                        &mut memory,
                        &mut acc,
                        cancel,
                    )?
                } else {
                    crate::iosched::avx2::<B, true, NetFinal>(args, &mut memory, &mut acc, cancel)?
                }
            }
        } else {
            crate::iosched::wide::<B, NetFinal>(args, &mut memory, &mut acc, cancel)?;
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            debug_assert!(!fused, "fused kernel levels exist only on x86-64");
            crate::iosched::wide::<B, NetFinal>(args, &mut memory, &mut acc, cancel)?;
        }
        for (o, &row) in self.output_rows.iter().enumerate() {
            for (b, &v) in memory[row as usize].iter().enumerate() {
                out[(col + b) * outs + o] = v;
            }
        }
        Ok(())
    }
}
