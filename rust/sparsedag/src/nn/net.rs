//! A DAG network: one f32 weight per edge (stored in the plan's in-edge order), one bias and
//! one activation per node, and the layer-by-layer forward and backward passes over a
//! neuron-major [`Workspace`].
//!
//! Parallel work never changes results: a layer is split into (neuron, column tile) units in
//! the forward pass, into column tiles for the input-gradient scatter and into neurons for the
//! weight gradients; every float is computed by exactly one unit with the same operation order
//! whatever the split, and no reduction crosses units.

use std::str::FromStr;

use rayon::prelude::*;

use super::activation::{all_relu_slope, Activation};
use super::kernels::Simd;
use super::optim::{State, Step};
use super::plan::Plan;
use crate::error::{invalid, Error, Result};
use crate::graph::Dag;

/// Columns per forward work unit (four register blocks of the gather kernel). Units run tile by
/// tile, so at large batches the source rows a layer reads (one 1 KiB slice each) stay in cache
/// while every target of the layer gathers from them. (64 measured slower: more per-unit work.)
const TILE: usize = 256;
/// Columns per unit of the input-gradient scatter (several units even at batch 128).
const SCATTER_TILE: usize = 64;
/// Weight gradients computed per kernel call before the optimiser applies them.
const GRAD_CHUNK: usize = 64;
/// Multiply-adds below which a layer step runs on the calling thread (rayon's fork-join
/// overhead would dominate).
const PARALLEL_WORK: usize = 1 << 17;

/// Weight initialisation schemes; `fan_in`/`fan_out` are each node's own in/out-degree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// PyTorch's `nn.Linear` default as 4Ward uses it: weights and biases U(-1/sqrt(fan_in),
    /// 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5)).
    KaimingUniform,
    /// U(-sqrt(6/fan_in), sqrt(6/fan_in)), zero biases.
    HeUniform,
    /// U(-sqrt(6/(fan_in+fan_out)), +...), zero biases.
    XavierUniform,
    /// N(0, 2/fan_in), zero biases.
    Normal,
}

impl FromStr for Init {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "kaiming_uniform" => Ok(Init::KaimingUniform),
            "he_uniform" => Ok(Init::HeUniform),
            "xavier_uniform" => Ok(Init::XavierUniform),
            "normal" => Ok(Init::Normal),
            _ => invalid(format!(
                "unknown init {name:?}; choose kaiming_uniform, he_uniform, xavier_uniform or \
                 normal (or pass an array of weights)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    plan: Plan,
    /// One weight per edge, in the plan's in-edge order.
    weights: Vec<f32>,
    /// One bias per node, internal order.
    biases: Vec<f32>,
    activations: Vec<Activation>,
    train_bias: bool,
}

/// Inverted dropout on hidden nodes: the keep decision of (node, column) is a hash of the
/// batch key, so the backward pass recomputes it and nothing is stored.
#[derive(Debug, Clone, Copy)]
pub struct Dropout {
    pub rate: f32,
    pub key: u64,
}

impl Dropout {
    #[inline]
    fn keep(&self, node: usize, column: usize) -> bool {
        let mut x = self
            .key
            .wrapping_add((node as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_add((column as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        ((x >> 40) as f32) * (1.0 / (1u64 << 24) as f32) >= self.rate
    }

    fn apply(&self, node: usize, col0: usize, row: &mut [f32]) {
        let scale = 1.0 / (1.0 - self.rate);
        for (c, v) in row.iter_mut().enumerate() {
            *v = if self.keep(node, col0 + c) {
                *v * scale
            } else {
                0.0
            };
        }
    }
}

/// Activation buffers of one batch, neuron-major: row `j` of each holds `batch` floats.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    batch: usize,
    /// Pre-activations.
    z: Vec<f32>,
    /// Activations (after dropout); rows `0..num_inputs` hold the inputs.
    a: Vec<f32>,
    /// dL/da, then dL/dz in place.
    g: Vec<f32>,
}

impl Workspace {
    /// Sizes the buffers for `nodes` rows of `batch` columns.
    pub fn prepare(&mut self, nodes: usize, batch: usize) {
        self.batch = batch;
        let len = nodes * batch;
        self.z.resize(len, 0.0);
        self.a.resize(len, 0.0);
        self.g.resize(len, 0.0);
    }

    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Copies the features of the chosen samples (rows of the row-major `x`) into the input rows.
    pub fn fill_inputs(&mut self, x: &[f32], features: usize, samples: &[u32]) {
        let batch = self.batch;
        debug_assert_eq!(samples.len(), batch);
        for (b, &s) in samples.iter().enumerate() {
            let row = &x[s as usize * features..(s as usize + 1) * features];
            for (i, &v) in row.iter().enumerate() {
                self.a[i * batch + b] = v;
            }
        }
    }

    /// The activation row of internal node `j`.
    pub fn activation(&self, j: usize) -> &[f32] {
        &self.a[j * self.batch..(j + 1) * self.batch]
    }

    pub fn activations(&self) -> &[f32] {
        &self.a
    }

    /// Zeroes the gradient rows of the computed nodes, ready for the loss.
    pub fn clear_gradients(&mut self, num_inputs: usize) {
        self.g[num_inputs * self.batch..].fill(0.0);
    }

    /// Activations (read) and gradient rows (written by the loss).
    pub fn activations_and_gradients(&mut self) -> (&[f32], &mut [f32]) {
        (&self.a, &mut self.g)
    }

    pub fn bytes(&self) -> usize {
        4 * (self.z.capacity() + self.a.capacity() + self.g.capacity())
    }
}

/// Where the backward pass puts each parameter's gradient.
pub enum Sink<'a> {
    /// Write the gradients (weights in in-edge order, biases in internal order).
    Store {
        weights: &'a mut [f32],
        biases: &'a mut [f32],
    },
    /// Apply an optimiser step at once, fused into the backward pass.
    Apply { step: Step, state: &'a mut State },
}

/// A mutable slice shared by parallel units that each touch a disjoint range.
#[derive(Clone, Copy)]
struct Shared<T> {
    ptr: *mut T,
    len: usize,
}

// SAFETY: units only reach the data through `range`, whose callers guarantee disjointness.
unsafe impl<T: Send> Send for Shared<T> {}
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    fn new(slice: &mut [T]) -> Self {
        Shared {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
        }
    }

    fn as_ptr(&self) -> *mut T {
        self.ptr
    }

    fn len(&self) -> usize {
        self.len
    }

    /// # Safety
    /// No two live results may overlap, and the source slice must outlive them.
    #[allow(clippy::mut_from_ref)]
    unsafe fn range(&self, start: usize, len: usize) -> &mut [T] {
        assert!(start + len <= self.len, "shared range out of bounds");
        std::slice::from_raw_parts_mut(self.ptr.add(start), len)
    }
}

fn min_len_for(work_per_unit: usize) -> usize {
    (4096 / work_per_unit.max(1)).max(1)
}

/// The stream of the initial weights.
const WEIGHT_STREAM: u64 = 0x5EED_0F3D;

/// The stream key of one kind of draw (weights, biases) for a seed.
fn draw_key(seed: u64, stream: u64) -> u64 {
    mix64(seed ^ mix64(stream))
}

/// 64 random bits for position `counter` of the stream `key`: wyrand's output at that position
/// (its state advances by a constant, so position n is key + n * constant), one wide multiply
/// per draw, and draws are independent of the order they are made in.
#[inline]
fn draw_bits(key: u64, counter: u64) -> u64 {
    let state = key.wrapping_add(counter.wrapping_mul(0xA076_1D64_78BD_642F));
    let product = u128::from(state) * u128::from(state ^ 0xE703_7ED1_A0B4_28DB);
    (product as u64) ^ ((product >> 64) as u64)
}

#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in [-1, 1) on a grid of 2^-23 (the top 24 bits).
#[inline]
fn symmetric_unit(bits: u64) -> f32 {
    (bits >> 40) as f32 * (1.0 / (1u32 << 23) as f32) - 1.0
}

/// Standard normal by Box–Muller from the two 32-bit halves (tails cut at about 6.7 sigma).
fn standard_normal(bits: u64) -> f64 {
    let scale = 1.0 / (1u64 << 32) as f64;
    let u1 = 1.0 - (bits >> 32) as f64 * scale;
    let u2 = (bits & 0xFFFF_FFFF) as f64 * scale;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl Net {
    /// A network on `plan`. `activation_codes` names one activation per node id (see
    /// [`Activation::NAMES`]); all-ReLU nodes get slope -alpha in odd computed layers and +alpha
    /// in even ones (counting from 1).
    pub fn new(
        plan: Plan,
        activation_codes: &[u8],
        all_relu_alpha: f32,
        init: Init,
        seed: u64,
        train_bias: bool,
    ) -> Result<Net> {
        let weights = vec![0.0; plan.num_edges()];
        let mut net = Self::assemble(plan, weights, activation_codes, all_relu_alpha, train_bias)?;
        net.initialise(init, seed);
        Ok(net)
    }

    /// Plans and initialises a network in one go: [`Plan::with_edge_values`] draws every
    /// initial weight as it places the edge, so construction makes a single pass over the edges
    /// after the layering. The weights and biases are exactly those of
    /// `Net::new(Plan::new(..), ..)`. `layering_checked` false trusts `layers` to be valid
    /// (a computed layering); a layering from the caller must be checked.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        dag: &Dag,
        inputs: &[u32],
        outputs: &[u32],
        layers: &[u32],
        layering_checked: bool,
        activation_codes: &[u8],
        all_relu_alpha: f32,
        init: Init,
        seed: u64,
        train_bias: bool,
    ) -> Result<Net> {
        let key = draw_key(seed, WEIGHT_STREAM);
        let counter = |u: u32, v: u32| (u64::from(u) << 32) | u64::from(v);
        let fan_in = |v: u32| (dag.in_degree(v) as f32).max(1.0);
        // A macro rather than a closure taking `&mut dyn FnMut`: the per-edge draw must inline.
        macro_rules! plan_with {
            ($value:expr) => {
                Plan::with_edge_values(dag, inputs, outputs, layers, layering_checked, $value)
            };
        }
        // Per-target scales are computed once per node, with the formulas of `initialise`.
        let (plan, weights) = match init {
            Init::KaimingUniform | Init::HeUniform => {
                let scale: Vec<f32> = (0..dag.num_nodes() as u32)
                    .map(|v| {
                        if init == Init::KaimingUniform {
                            fan_in(v).sqrt().recip()
                        } else {
                            (6.0 / fan_in(v)).sqrt()
                        }
                    })
                    .collect();
                plan_with!(|u, v| {
                    scale[v as usize] * symmetric_unit(draw_bits(key, counter(u, v)))
                })?
            }
            Init::XavierUniform => plan_with!(|u, v| {
                let scale = (6.0 / (fan_in(v) + dag.out_degree(u) as f32)).sqrt();
                scale * symmetric_unit(draw_bits(key, counter(u, v)))
            })?,
            Init::Normal => {
                let scale: Vec<f64> = (0..dag.num_nodes() as u32)
                    .map(|v| f64::from((2.0 / fan_in(v)).sqrt()))
                    .collect();
                plan_with!(|u, v| {
                    (scale[v as usize] * standard_normal(draw_bits(key, counter(u, v)))) as f32
                })?
            }
        };
        let mut net = Self::assemble(plan, weights, activation_codes, all_relu_alpha, train_bias)?;
        net.initialise_biases(init, seed);
        Ok(net)
    }

    /// The network on `plan` with the given weights (plan order) and zero biases.
    fn assemble(
        plan: Plan,
        weights: Vec<f32>,
        activation_codes: &[u8],
        all_relu_alpha: f32,
        train_bias: bool,
    ) -> Result<Net> {
        let n = plan.num_nodes();
        if activation_codes.len() != n {
            return invalid(format!(
                "{} activations given for {n} nodes",
                activation_codes.len()
            ));
        }
        if !all_relu_alpha.is_finite() {
            return invalid("the all_relu alpha must be finite");
        }
        let mut activations = Vec::with_capacity(n);
        let code_of = |j: usize| activation_codes[plan.node_of()[j] as usize];
        for j in 0..plan.num_inputs() {
            activations.push(Activation::from_code(code_of(j), all_relu_alpha)?);
        }
        for k in 0..plan.num_layers() {
            let slope = all_relu_slope(k, all_relu_alpha);
            for j in plan.layer(k) {
                activations.push(Activation::from_code(code_of(j), slope)?);
            }
        }
        Ok(Net {
            weights,
            biases: vec![0.0; n],
            activations,
            train_bias,
            plan,
        })
    }

    /// Counter-based draws: the weight of edge u -> v is a function of (seed, u, v) and the bias
    /// of node v one of (seed, v), so they depend on neither the layering nor the internal order
    /// nor the thread count, and need no sort into the user's edge order. One pass, no temporaries
    /// except the out-degrees Xavier needs.
    fn initialise(&mut self, init: Init, seed: u64) {
        let plan = &self.plan;
        let n = plan.num_nodes();
        let node_of = plan.node_of();
        let in_sources = plan.in_sources();
        let mut out_degree = Vec::new();
        if init == Init::XavierUniform {
            out_degree.resize(n, 0u32);
            for &s in in_sources {
                out_degree[s as usize] += 1;
            }
        }
        let weight_key = draw_key(seed, WEIGHT_STREAM);
        for j in plan.num_inputs()..n {
            let range = plan.in_range(j);
            let fan_in = (range.len() as f32).max(1.0);
            let target = u64::from(node_of[j]);
            let sources = &in_sources[range.clone()];
            let weights = &mut self.weights[range];
            let counter = |s: u32| (u64::from(node_of[s as usize]) << 32) | target;
            match init {
                Init::KaimingUniform | Init::HeUniform => {
                    let scale = if init == Init::KaimingUniform {
                        fan_in.sqrt().recip()
                    } else {
                        (6.0 / fan_in).sqrt()
                    };
                    for (w, &s) in weights.iter_mut().zip(sources) {
                        *w = scale * symmetric_unit(draw_bits(weight_key, counter(s)));
                    }
                }
                Init::XavierUniform => {
                    for (w, &s) in weights.iter_mut().zip(sources) {
                        let scale = (6.0 / (fan_in + out_degree[s as usize] as f32)).sqrt();
                        *w = scale * symmetric_unit(draw_bits(weight_key, counter(s)));
                    }
                }
                Init::Normal => {
                    let scale = f64::from((2.0 / fan_in).sqrt());
                    for (w, &s) in weights.iter_mut().zip(sources) {
                        *w = (scale * standard_normal(draw_bits(weight_key, counter(s)))) as f32;
                    }
                }
            }
        }
        self.initialise_biases(init, seed);
    }

    fn initialise_biases(&mut self, init: Init, seed: u64) {
        let plan = &self.plan;
        let node_of = plan.node_of();
        self.biases.fill(0.0);
        if init == Init::KaimingUniform && self.train_bias {
            let bias_key = draw_key(seed, 0xB1A5_B1A5);
            let computed = node_of.iter().enumerate().skip(plan.num_inputs());
            for (j, &node) in computed {
                let fan_in = plan.in_range(j).len();
                if fan_in > 0 {
                    let draw = symmetric_unit(draw_bits(bias_key, u64::from(node)));
                    self.biases[j] = draw / (fan_in as f32).sqrt();
                }
            }
        }
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Weights in the plan's in-edge order.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    pub fn activation(&self, j: usize) -> Activation {
        self.activations[j]
    }

    /// One activation per node, internal order.
    pub fn activations(&self) -> &[Activation] {
        &self.activations
    }

    pub fn train_bias(&self) -> bool {
        self.train_bias
    }

    /// Weights in the user's edge order (that of `Dag::edges`).
    pub fn weights_user_order(&self) -> Vec<f32> {
        self.plan
            .user_edge_positions()
            .into_iter()
            .map(|p| self.weights[p as usize])
            .collect()
    }

    pub fn set_weights_user_order(&mut self, weights: &[f32]) -> Result<()> {
        if weights.len() != self.weights.len() {
            return invalid(format!(
                "{} weights given for {} edges",
                weights.len(),
                self.weights.len()
            ));
        }
        check_finite(weights, "weights")?;
        for (r, p) in self.plan.user_edge_positions().into_iter().enumerate() {
            self.weights[p as usize] = weights[r];
        }
        Ok(())
    }

    /// Biases by node id.
    pub fn biases_node_order(&self) -> Vec<f32> {
        self.plan
            .internal_of()
            .iter()
            .map(|&j| self.biases[j as usize])
            .collect()
    }

    pub fn set_biases_node_order(&mut self, biases: &[f32]) -> Result<()> {
        if biases.len() != self.biases.len() {
            return invalid(format!(
                "{} biases given for {} nodes",
                biases.len(),
                self.biases.len()
            ));
        }
        check_finite(biases, "biases")?;
        for (v, &j) in self.plan.internal_of().iter().enumerate() {
            self.biases[j as usize] = biases[v];
        }
        Ok(())
    }

    /// Maps gradients from internal orders to the user's (edges as `Dag::edges`, biases by id).
    pub fn to_user_order(&self, weight_grads: &[f32], bias_grads: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let w = self
            .plan
            .user_edge_positions()
            .into_iter()
            .map(|p| weight_grads[p as usize])
            .collect();
        let b = self
            .plan
            .internal_of()
            .iter()
            .map(|&j| bias_grads[j as usize])
            .collect();
        (w, b)
    }

    fn is_hidden(&self, j: usize) -> bool {
        j >= self.plan.num_inputs() && !self.plan.is_output(j)
    }

    /// Computes every layer; the input rows of `ws` must be filled.
    pub fn forward(&self, ws: &mut Workspace, dropout: Option<Dropout>, simd: Simd) {
        let batch = ws.batch;
        let plan = &self.plan;
        let offsets = plan.in_offsets();
        for k in 0..plan.num_layers() {
            let range = plan.layer(k);
            let (lo, hi) = (range.start, range.end);
            let edges = offsets[hi] - offsets[lo];
            let (done, pending) = ws.a.split_at_mut(lo * batch);
            let done: &[f32] = done;
            let a_layer = &mut pending[..(hi - lo) * batch];
            let z_layer = &mut ws.z[lo * batch..hi * batch];
            let unit = |j: usize, col0: usize, z: &mut [f32], a: &mut [f32]| {
                let r = plan.in_range(j);
                simd.weighted_sum(
                    z,
                    self.biases[j],
                    &plan.in_sources()[r.clone()],
                    &self.weights[r],
                    done,
                    batch,
                    col0,
                );
                self.activations[j].apply(z, a);
                if let Some(d) = dropout.filter(|_| self.is_hidden(j)) {
                    d.apply(j, col0, a);
                }
            };
            let tiles = batch.div_ceil(TILE);
            let units = (hi - lo) * tiles;
            if (edges + hi - lo) * batch < PARALLEL_WORK || units == 1 {
                for (jj, (z, a)) in z_layer
                    .chunks_mut(batch)
                    .zip(a_layer.chunks_mut(batch))
                    .enumerate()
                {
                    unit(lo + jj, 0, z, a);
                }
            } else {
                let zs = Shared::new(z_layer);
                let as_ = Shared::new(a_layer);
                let per_unit = (edges / (hi - lo) + 1) * batch.min(TILE);
                (0..units)
                    .into_par_iter()
                    .with_min_len(min_len_for(per_unit))
                    .for_each(|u| {
                        let (t, jj) = (u / (hi - lo), u % (hi - lo));
                        let col0 = t * TILE;
                        let width = TILE.min(batch - col0);
                        let start = jj * batch + col0;
                        // SAFETY: each unit owns row jj, columns col0..col0+width.
                        let (z, a) = unsafe { (zs.range(start, width), as_.range(start, width)) };
                        unit(lo + jj, col0, z, a);
                    });
            }
        }
    }

    /// Back-propagates dL/da (already in the gradient rows of `ws`, see
    /// [`Workspace::clear_gradients`]) through every layer after a forward pass with the same
    /// dropout, and hands each parameter's gradient to `sink`.
    pub fn backward(
        &mut self,
        ws: &mut Workspace,
        dropout: Option<Dropout>,
        simd: Simd,
        sink: Sink<'_>,
    ) {
        let batch = ws.batch;
        let num_inputs = self.plan.num_inputs();
        let (mut store, mut apply) = match sink {
            Sink::Store { weights, biases } => (Some((weights, biases)), None),
            Sink::Apply { step, state } => (None, Some((step, state))),
        };
        for k in (0..self.plan.num_layers()).rev() {
            let range = self.plan.layer(k);
            let (lo, hi) = (range.start, range.end);
            let offsets = self.plan.in_offsets();
            let edges = offsets[hi] - offsets[lo];
            let parallel = (edges + hi - lo) * batch >= PARALLEL_WORK;
            let (low, layer_g) = ws.g.split_at_mut(lo * batch);
            let layer_g = &mut layer_g[..(hi - lo) * batch];
            let z_layer = &ws.z[lo * batch..hi * batch];

            // dL/da -> dL/dz, in place.
            let to_delta = |(jj, (g, z)): (usize, (&mut [f32], &[f32]))| {
                let j = lo + jj;
                if let Some(d) = dropout.filter(|_| self.is_hidden(j)) {
                    d.apply(j, 0, g);
                }
                self.activations[j].backprop(z, g);
            };
            if parallel {
                layer_g
                    .par_chunks_mut(batch)
                    .zip(z_layer.par_chunks(batch))
                    .enumerate()
                    .for_each(to_delta);
            } else {
                layer_g
                    .chunks_mut(batch)
                    .zip(z_layer.chunks(batch))
                    .enumerate()
                    .for_each(to_delta);
            }
            let deltas: &[f32] = layer_g;

            // Input gradients of the non-input sources, by column tiles: within a tile every
            // row is updated in edge order, whatever the number of threads.
            if lo > num_inputs {
                let plan = &self.plan;
                let weights = &self.weights;
                let lows = Shared::new(low);
                let scatter = |t: usize| {
                    let col0 = t * SCATTER_TILE;
                    let width = SCATTER_TILE.min(batch - col0);
                    for j in lo..hi {
                        let delta = &deltas[(j - lo) * batch + col0..][..width];
                        let r = plan.in_range(j);
                        let sources = &plan.in_sources()[r.clone()];
                        let first = sources.partition_point(|&s| (s as usize) < num_inputs);
                        // SAFETY: tiles own disjoint column ranges of the rows below the
                        // layer; nothing else touches them during the scatter.
                        unsafe {
                            simd.scatter(
                                lows.as_ptr(),
                                lows.len(),
                                &sources[first..],
                                &weights[r][first..],
                                batch,
                                col0,
                                delta,
                            )
                        };
                    }
                };
                let tiles = batch.div_ceil(SCATTER_TILE);
                if parallel && tiles > 1 {
                    (0..tiles).into_par_iter().for_each(scatter);
                } else {
                    (0..tiles).for_each(scatter);
                }
            }

            // Weight and bias gradients at the existing edges only, by neuron.
            let acts: &[f32] = &ws.a;
            let plan = &self.plan;
            let train_bias = self.train_bias;
            let w_all = Shared::new(&mut self.weights);
            let b_all = Shared::new(&mut self.biases);
            // Gradients of the in-edges of j, `GRAD_CHUNK` at a time, into `out`.
            let gradients_of = |j: usize, start: usize, out: &mut [f32]| {
                let sources = &plan.in_sources()[start..start + out.len()];
                simd.dots(
                    out,
                    sources,
                    acts,
                    batch,
                    &deltas[(j - lo) * batch..][..batch],
                );
            };
            let bias_gradient = |j: usize| simd.sum(&deltas[(j - lo) * batch..][..batch]);
            match (&mut store, &mut apply) {
                (Some((gw, gb)), _) => {
                    let gws = Shared::new(gw);
                    let gbs = Shared::new(gb);
                    let node = |j: usize| {
                        let r = plan.in_range(j);
                        // SAFETY: node j owns its in-edge positions and its bias.
                        let out = unsafe { gws.range(r.start, r.len()) };
                        gradients_of(j, r.start, out);
                        unsafe { gbs.range(j, 1)[0] = bias_gradient(j) };
                    };
                    run_nodes(lo..hi, parallel, node);
                }
                (None, Some((step, state))) => {
                    let slots = [
                        Shared::new(&mut state.weight_slots[0]),
                        Shared::new(&mut state.weight_slots[1]),
                    ];
                    let bias_slots = [
                        Shared::new(&mut state.bias_slots[0]),
                        Shared::new(&mut state.bias_slots[1]),
                    ];
                    let node = |j: usize| {
                        let r = plan.in_range(j);
                        let (start, len) = (r.start, r.len());
                        // SAFETY: node j owns its in-edge positions and its bias.
                        let w = unsafe { w_all.range(start, len) };
                        let mut s0 = unsafe { slot(&slots[0], start, len) };
                        let mut s1 = unsafe { slot(&slots[1], start, len) };
                        let mut grads = [0.0f32; GRAD_CHUNK];
                        for chunk in (0..len).step_by(GRAD_CHUNK) {
                            let count = GRAD_CHUNK.min(len - chunk);
                            gradients_of(j, start + chunk, &mut grads[..count]);
                            for (k, &g) in grads[..count].iter().enumerate() {
                                let i = chunk + k;
                                let (mut d0, mut d1) = (0.0, 0.0);
                                step.update(
                                    &mut w[i],
                                    g,
                                    s0.as_deref_mut().map_or(&mut d0, |s| &mut s[i]),
                                    s1.as_deref_mut().map_or(&mut d1, |s| &mut s[i]),
                                );
                            }
                        }
                        if train_bias {
                            let g = bias_gradient(j);
                            let b = unsafe { &mut b_all.range(j, 1)[0] };
                            let s0 = unsafe { slot(&bias_slots[0], j, 1) };
                            let s1 = unsafe { slot(&bias_slots[1], j, 1) };
                            let (mut d0, mut d1) = (0.0, 0.0);
                            step.update(
                                b,
                                g,
                                s0.map_or(&mut d0, |s| &mut s[0]),
                                s1.map_or(&mut d1, |s| &mut s[0]),
                            );
                        }
                    };
                    run_nodes(lo..hi, parallel, node);
                }
                _ => unreachable!("exactly one sink"),
            }
        }
    }
}

impl Net {
    /// A network from its parts, all in the plan's internal order: one weight per in-edge
    /// position, one bias and one activation per node. Used to swap in a rebuilt topology
    /// (sparse evolution, neuron pruning, weight averaging) without re-drawing anything.
    pub fn from_parts(
        plan: Plan,
        weights: Vec<f32>,
        biases: Vec<f32>,
        activations: Vec<Activation>,
        train_bias: bool,
    ) -> Result<Net> {
        let (n, m) = (plan.num_nodes(), plan.num_edges());
        if weights.len() != m || biases.len() != n || activations.len() != n {
            return invalid(format!(
                "a network of {n} nodes and {m} edges needs {m} weights, {n} biases and {n} \
                 activations; got {}, {} and {}",
                weights.len(),
                biases.len(),
                activations.len()
            ));
        }
        check_finite(&weights, "weights")?;
        check_finite(&biases, "biases")?;
        Ok(Net {
            plan,
            weights,
            biases,
            activations,
            train_bias,
        })
    }

    /// Biases in the plan's internal order.
    pub fn biases(&self) -> &[f32] {
        &self.biases
    }

    /// Weights (in-edge order) and biases (internal order), writable: for callers that set
    /// parameters wholesale, such as a data-parallel worker taking the server's values.
    pub fn parameters_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.weights, &mut self.biases)
    }
}

/// The optimiser slot range of a node, or `None` when the optimiser keeps no such slot.
///
/// # Safety
/// As [`Shared::range`].
#[allow(clippy::mut_from_ref)]
unsafe fn slot(shared: &Shared<f32>, start: usize, len: usize) -> Option<&mut [f32]> {
    (shared.len > 0).then(|| shared.range(start, len))
}

fn run_nodes(nodes: std::ops::Range<usize>, parallel: bool, f: impl Fn(usize) + Sync + Send) {
    if parallel {
        nodes.into_par_iter().for_each(f);
    } else {
        nodes.for_each(f);
    }
}

pub(crate) fn check_finite(values: &[f32], what: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => invalid(format!(
            "{what}[{i}] = {} is not finite (NaN or infinity)",
            values[i]
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Dag, DuplicatePolicy};

    #[test]
    fn one_pass_build_equals_plan_then_init() {
        let g = crate::graph::generators::random_dag(300, Some(0.05), None, 3).unwrap();
        let inputs: Vec<u32> = (0..300)
            .filter(|&v| g.in_degree(v) == 0 && g.out_degree(v) > 0)
            .collect();
        let outputs: Vec<u32> = (0..300)
            .filter(|&v| g.out_degree(v) == 0 && g.in_degree(v) > 0)
            .collect();
        let layers = crate::layering::asap(&g);
        let codes: Vec<u8> = (0..300).map(|v| (v % 3) as u8).collect();
        for init in [
            Init::KaimingUniform,
            Init::HeUniform,
            Init::XavierUniform,
            Init::Normal,
        ] {
            for (seed, bias) in [(0, true), (7, false)] {
                let plan = Plan::new(&g, &inputs, &outputs, &layers).unwrap();
                let two_pass = Net::new(plan, &codes, 0.6, init, seed, bias).unwrap();
                for checked in [true, false] {
                    let one_pass = Net::build(
                        &g, &inputs, &outputs, &layers, checked, &codes, 0.6, init, seed, bias,
                    )
                    .unwrap();
                    assert_eq!(one_pass, two_pass, "{init:?}");
                }
            }
        }
    }

    #[test]
    fn initial_weights_depend_on_the_seed_not_on_the_layering() {
        // 0 -> 2 -> 3, 1 -> 3, 0 -> 3, 1 -> 4: two valid layerings of the computed nodes.
        let g = Dag::from_edges(
            &[0u32, 2, 1, 0, 1],
            &[2, 3, 3, 3, 4],
            Some(5),
            DuplicatePolicy::Reject,
        )
        .unwrap();
        let build = |layers: &[u32], init: Init, seed: u64| {
            let plan = Plan::new(&g, &[0, 1], &[3, 4], layers).unwrap();
            Net::new(plan, &[1; 5], 0.6, init, seed, true).unwrap()
        };
        for init in [
            Init::KaimingUniform,
            Init::HeUniform,
            Init::XavierUniform,
            Init::Normal,
        ] {
            let a = build(&[0, 0, 1, 2, 1], init, 7);
            let b = build(&[0, 0, 1, 2, 3], init, 7);
            assert_eq!(a.weights_user_order(), b.weights_user_order());
            assert_eq!(a.biases_node_order(), b.biases_node_order());
            assert_ne!(
                a.weights_user_order(),
                build(&[0, 0, 1, 2, 1], init, 8).weights_user_order()
            );
        }
        // Kaiming: |w| <= 1/sqrt(fan_in). User order: (0,2) (0,3) (1,3) (1,4) (2,3); node 3
        // has fan-in 3.
        let net = build(&[0, 0, 1, 2, 1], Init::KaimingUniform, 1);
        let w = net.weights_user_order();
        assert!(w.iter().all(|x| x.abs() <= 1.0));
        assert!([1, 2, 4].iter().all(|&e| w[e].abs() <= 1.0 / 3f32.sqrt()));
    }
}
