//! A DAG network: one f32 weight per edge (stored in the plan's in-edge order), one bias and
//! one activation per node, and the layer-by-layer forward and backward passes over a
//! neuron-major [`Workspace`].
//!
//! Parallel work never changes results: a layer is split into (neuron, column tile) units in
//! the forward pass and into neurons in the backward pass; every float is computed by exactly
//! one unit with the same operation order whatever the split, and no reduction crosses units.
//!
//! The backward pass goes source by source: neuron i of a layer gathers its input gradient
//! `sum_j w_ij delta_j` over its out-edges (whose targets lie in later layers, already done),
//! and in the same pass over the delta rows takes each out-edge's weight gradient
//! `dot(a_i, delta_j)` and applies the optimiser step to that weight (after its last read).

use std::str::FromStr;

use rayon::prelude::*;

use super::activation::{all_relu_slope, Activation};
use super::kernels::{Simd, EDGE_CHUNK};
use super::optim::{State, Step};
use super::plan::Plan;
use crate::error::{invalid, Error, Result};
use crate::graph::Dag;

/// Columns per forward work unit (four register blocks of the gather kernel). Units run tile by
/// tile, so at large batches the source rows a layer reads (one 1 KiB slice each) stay in cache
/// while every target of the layer gathers from them. (64 measured slower: more per-unit work.)
const TILE: usize = 256;
/// Multiply-adds below which a layer step runs on the calling thread (rayon's fork-join
/// overhead would dominate).
const PARALLEL_WORK: usize = 1 << 17;
/// Edges from which the optimiser step runs after the backward pass, over the stored
/// gradients in in-edge order, instead of fused into it. The backward pass reaches a source's
/// out-edge parameters at scattered in-edge positions: once the weights and optimiser state
/// outgrow the caches, each fused update waits on two random cache misses (the weight and its
/// state), where the deferred step pays one (the weight read; the gradient store does not wait)
/// and then streams through the arrays. Both give the same bits.
const DEFERRED_STEP_EDGES: usize = 1 << 16;
/// Parameters per unit of the deferred optimiser step.
const STEP_CHUNK: usize = 1 << 14;
/// Consecutive sources per unit of a streamed backward pass (see
/// [`Simd::backprop_sources`]): enough that the call and the prefetch restart at its ends
/// cost nothing, few enough that 2 threads share the 4000-node layers evenly.
const STREAM_SOURCES: usize = 32;
/// Out-edges per streaming kernel call at most (their weights and gradients live on the
/// stack, 8 KiB each).
const STREAM_EDGES: usize = 2048;

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

/// Identifies one state of a net's weights and biases, so that copies laid out for another
/// order (`nn::ordered`) know when they are stale. Every write access draws a fresh value from
/// one process-wide counter, so two nets share a value only when one is an unchanged clone of
/// the other. It is bookkeeping, not a parameter: nets compare equal whatever their versions.
#[derive(Debug, Clone, Copy)]
struct ParamsVersion(u64);

impl ParamsVersion {
    fn fresh() -> ParamsVersion {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        ParamsVersion(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

impl PartialEq for ParamsVersion {
    fn eq(&self, _: &ParamsVersion) -> bool {
        true
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
    /// Which state of the parameters this is (see [`ParamsVersion`]).
    version: ParamsVersion,
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
///
/// A workspace serves one network: it also keeps the out-edge index of the network's plan
/// for the backward pass (built on first use; [`Workspace::forget_structure`] drops it when the
/// topology changes).
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    batch: usize,
    /// Pre-activations, kept only for neurons whose derivative needs them
    /// ([`Activation::needs_input`]).
    z: AlignedRows,
    /// Activations (after dropout); rows `0..num_inputs` hold the inputs.
    a: AlignedRows,
    /// dL/da of the outputs from the loss; the backward pass turns every computed row into
    /// dL/dz.
    g: AlignedRows,
    out: Option<OutEdges>,
    /// Gradients of one batch (weights in in-edge order, biases) when the optimiser step is
    /// deferred to after the backward pass (see [`DEFERRED_STEP_EDGES`]).
    weight_grads: Vec<f32>,
    bias_grads: Vec<f32>,
    /// The weights in out-edge order, gathered before a deferred-step backward pass.
    out_weights: Vec<f32>,
}

/// Two cache lines of floats: the unit of [`AlignedRows`].
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(128))]
struct Line([f32; 32]);

/// A float buffer that starts on a cache line. With batches a multiple of 16 columns every
/// activation row then starts on a line too, so each 512-bit load of the kernels touches one
/// line instead of two (measured about 20 % off the forward gather at batch 128). It starts on
/// a pair of lines, so that with batches a multiple of 32 the kernels' one prefetch per pair of
/// lines (the L2 fetches the pair) covers whole rows.
#[derive(Debug, Clone, Default)]
struct AlignedRows {
    lines: Vec<Line>,
    len: usize,
}

impl AlignedRows {
    /// As `Vec::resize` with zeros: floats past the old length read as zero.
    fn resize(&mut self, len: usize) {
        let old = self.len;
        self.lines.resize(len.div_ceil(32), Line::default());
        self.len = len;
        if len > old {
            self[old..].fill(0.0);
        }
    }

    fn capacity(&self) -> usize {
        32 * self.lines.capacity()
    }
}

impl std::ops::Deref for AlignedRows {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        // SAFETY: `lines` holds at least `len` initialised floats, laid out contiguously
        // (`Line` is `repr(C)` over an array of f32 with no padding: 128 bytes, align 128).
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f32>(), self.len) }
    }
}

impl std::ops::DerefMut for AlignedRows {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `deref`, and `&mut self` makes the borrow exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f32>(), self.len) }
    }
}

/// The out-edges of every node as a CSR over internal ids, targets ascending, each with the
/// position of its weight in the plan's in-edge order. Part of the training workspace (4 + 4
/// bytes per connection), freed with it.
#[derive(Debug, Clone)]
struct OutEdges {
    nodes: usize,
    offsets: Vec<usize>,
    targets: Vec<u32>,
    positions: Vec<u32>,
}

impl OutEdges {
    fn new(plan: &Plan) -> OutEdges {
        let n = plan.num_nodes();
        let sources = plan.in_sources();
        let mut offsets = vec![0usize; n + 1];
        for &s in sources {
            offsets[s as usize + 1] += 1;
        }
        for v in 0..n {
            offsets[v + 1] += offsets[v];
        }
        let mut cursor = offsets[..n].to_vec();
        let mut targets = vec![0u32; sources.len()];
        let mut positions = vec![0u32; sources.len()];
        // Targets in ascending order fill every row already sorted.
        for j in plan.num_inputs()..n {
            for p in plan.in_range(j) {
                let slot = &mut cursor[sources[p] as usize];
                targets[*slot] = j as u32;
                positions[*slot] = p as u32;
                *slot += 1;
            }
        }
        OutEdges {
            nodes: n,
            offsets,
            targets,
            positions,
        }
    }

    fn fits(&self, plan: &Plan) -> bool {
        self.nodes == plan.num_nodes() && self.targets.len() == plan.num_edges()
    }

    fn bytes(&self) -> usize {
        8 * self.offsets.capacity() + 4 * (self.targets.capacity() + self.positions.capacity())
    }
}

impl Workspace {
    /// Sizes the buffers for `nodes` rows of `batch` columns.
    pub fn prepare(&mut self, nodes: usize, batch: usize) {
        self.batch = batch;
        let len = nodes * batch;
        self.z.resize(len);
        self.a.resize(len);
        self.g.resize(len);
    }

    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Copies the features of the chosen samples (rows of the row-major `x`) into the input rows.
    pub fn fill_inputs(&mut self, x: &[f32], features: usize, samples: &[u32]) {
        let batch = self.batch;
        debug_assert_eq!(samples.len(), batch);
        // A transpose in blocks of 16 samples: their rows stay in L1 while every input row gets
        // a run of 16 floats, where one sample at a time wrote one float per input row (a
        // 512-byte stride at batch 128): 0.13 ms of a 3 ms SET step, now 0.02.
        const SAMPLES: usize = 16;
        for (block, group) in samples.chunks(SAMPLES).enumerate() {
            let b0 = block * SAMPLES;
            let rows: Vec<&[f32]> = group
                .iter()
                .map(|&s| &x[s as usize * features..(s as usize + 1) * features])
                .collect();
            for i in 0..features {
                let out = &mut self.a[i * batch + b0..][..group.len()];
                for (o, row) in out.iter_mut().zip(&rows) {
                    *o = row[i];
                }
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

    /// Zeroes the gradient rows of the outputs, ready for the loss (the backward pass writes
    /// every other row before reading it).
    pub fn clear_gradients(&mut self, outputs: &[u32]) {
        let batch = self.batch;
        for &o in outputs {
            self.g[o as usize * batch..][..batch].fill(0.0);
        }
    }

    /// Drops what the workspace keeps of the network's structure: needed after the topology
    /// of the network it serves changes.
    pub fn forget_structure(&mut self) {
        self.out = None;
    }

    /// Activations (read) and gradient rows (written by the loss).
    pub fn activations_and_gradients(&mut self) -> (&[f32], &mut [f32]) {
        (&self.a, &mut self.g)
    }

    /// The out-edge index of `plan`, built on first use.
    fn out_edges(&mut self, plan: &Plan) -> &OutEdges {
        if self.out.as_ref().is_none_or(|o| !o.fits(plan)) {
            self.out = Some(OutEdges::new(plan));
        }
        self.out.as_ref().expect("built above")
    }

    pub fn bytes(&self) -> usize {
        4 * (self.z.capacity() + self.a.capacity() + self.g.capacity())
            + self.out.as_ref().map_or(0, OutEdges::bytes)
            + 4 * (self.weight_grads.capacity()
                + self.bias_grads.capacity()
                + self.out_weights.capacity())
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
            version: ParamsVersion::fresh(),
        })
    }

    /// Counter-based draws: the weight of edge u -> v is a function of (seed, u, v) and the bias
    /// of node v one of (seed, v), so they depend on neither the layering nor the internal order
    /// nor the thread count, and need no sort into the user's edge order. One pass, no temporaries
    /// except the out-degrees Xavier needs.
    fn initialise(&mut self, init: Init, seed: u64) {
        self.version = ParamsVersion::fresh();
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
        self.version = ParamsVersion::fresh();
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
        self.version = ParamsVersion::fresh();
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
        self.version = ParamsVersion::fresh();
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

    /// The dropout of node `j` (hidden nodes only).
    #[inline]
    fn dropout_of(&self, j: usize, dropout: Option<Dropout>) -> Option<Dropout> {
        dropout.filter(|_| self.is_hidden(j))
    }

    /// Computes every layer; the input rows of `ws` must be filled.
    pub fn forward(&self, ws: &mut Workspace, dropout: Option<Dropout>, simd: Simd) {
        let batch = ws.batch;
        let plan = &self.plan;
        let offsets = plan.in_offsets();
        let layer_work = |k: usize| {
            let r = plan.layer(k);
            (offsets[r.end] - offsets[r.start] + r.len()) * batch
        };
        for k in 0..plan.num_layers() {
            let range = plan.layer(k);
            let (lo, hi) = (range.start, range.end);
            let edges = offsets[hi] - offsets[lo];
            let (done, pending) = ws.a.split_at_mut(lo * batch);
            let done: &[f32] = done;
            let a_layer = &mut pending[..(hi - lo) * batch];
            let z_layer = &mut ws.z[lo * batch..hi * batch];
            let unit = |j: usize, col0: usize, z: &mut [f32], a: &mut [f32]| {
                self.forward_unit(j, col0, done, batch, z, a, dropout, simd);
            };
            let tiles = batch.div_ceil(TILE);
            let units = (hi - lo) * tiles;
            if layer_work(k) < PARALLEL_WORK || units == 1 {
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

    /// Columns `col0..col0 + a.len()` of node `j`: its pre-activations (into `z` when the
    /// derivative needs them, else straight into `a`), activation and dropout. `done` holds
    /// the activation rows of every earlier layer.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn forward_unit(
        &self,
        j: usize,
        col0: usize,
        done: &[f32],
        batch: usize,
        z: &mut [f32],
        a: &mut [f32],
        dropout: Option<Dropout>,
        simd: Simd,
    ) {
        let r = self.plan.in_range(j);
        let (sources, weights) = (&self.plan.in_sources()[r.clone()], &self.weights[r]);
        let drop = self.dropout_of(j, dropout);
        let f = self.activations[j];
        if f.needs_input(drop.is_some()) {
            simd.weighted_sum(z, self.biases[j], sources, weights, done, batch, col0);
            f.apply(z, a);
        } else {
            simd.weighted_sum(a, self.biases[j], sources, weights, done, batch, col0);
            simd.activate(f, a);
        }
        if let Some(d) = drop {
            d.apply(j, col0, a);
        }
    }

    /// Back-propagates dL/da of the outputs (already in their gradient rows of `ws`, see
    /// [`Workspace::clear_gradients`]) through every layer after a forward pass with the same
    /// dropout, and hands each parameter's gradient to `sink`.
    pub fn backward(
        &mut self,
        ws: &mut Workspace,
        dropout: Option<Dropout>,
        simd: Simd,
        sink: Sink<'_>,
    ) {
        let deferred = self.plan.num_edges() >= DEFERRED_STEP_EDGES;
        self.backward_with(ws, dropout, simd, sink, deferred, true);
    }

    /// [`Net::backward`], with the optimiser step deferred or fused as asked, and the sources
    /// streamed (where the kernels can, see [`Simd::streams_sources`]) or not.
    fn backward_with(
        &mut self,
        ws: &mut Workspace,
        dropout: Option<Dropout>,
        simd: Simd,
        sink: Sink<'_>,
        deferred: bool,
        stream: bool,
    ) {
        // Any backward pass may step the parameters (the fused and deferred optimiser steps).
        self.version = ParamsVersion::fresh();
        let (m, n) = (self.plan.num_edges(), self.plan.num_nodes());
        match sink {
            Sink::Apply { step, state } if deferred => {
                let mut weight_grads = std::mem::take(&mut ws.weight_grads);
                let mut bias_grads = std::mem::take(&mut ws.bias_grads);
                weight_grads.resize(m, 0.0);
                bias_grads.resize(n, 0.0);
                let parallel = m * ws.batch >= PARALLEL_WORK;
                // The weights each source reads, gathered in one streaming pass whose scattered
                // loads are independent (so they overlap) rather than inside the backward pass,
                // where each source waits for its own before its arithmetic can start.
                let mut out_weights = std::mem::take(&mut ws.out_weights);
                out_weights.resize(m, 0.0);
                let positions = &ws.out_edges(&self.plan).positions;
                let (weights, gathered) = (&self.weights[..], Shared::new(&mut out_weights));
                run_nodes(0..m.div_ceil(STEP_CHUNK), parallel, |k| {
                    let start = k * STEP_CHUNK;
                    let len = STEP_CHUNK.min(m - start);
                    // SAFETY: unit k alone writes start..start + len.
                    let out = unsafe { gathered.range(start, len) };
                    for (w, &p) in out.iter_mut().zip(&positions[start..start + len]) {
                        *w = weights[p as usize];
                    }
                });
                self.backward_to(
                    ws,
                    dropout,
                    simd,
                    Sink::Store {
                        weights: &mut weight_grads,
                        biases: &mut bias_grads,
                    },
                    Some(&out_weights),
                    stream,
                );
                ws.out_weights = out_weights;
                let [w0, w1] = &mut state.weight_slots;
                let (grads, weights) = (&weight_grads[..], &mut self.weights[..]);
                deferred_step(&step, weights, grads, [w0, w1], parallel);
                if self.train_bias {
                    // Inputs have no bias gradient (and the fused path never moves theirs).
                    let k = self.plan.num_inputs();
                    let [b0, b1] = &mut state.bias_slots;
                    let tail = |v: &mut Vec<f32>| if v.is_empty() { 0 } else { k };
                    let (k0, k1) = (tail(b0), tail(b1));
                    let slots = [&mut b0[k0..], &mut b1[k1..]];
                    deferred_step(&step, &mut self.biases[k..], &bias_grads[k..], slots, false);
                }
                ws.weight_grads = weight_grads;
                ws.bias_grads = bias_grads;
            }
            sink => self.backward_to(ws, dropout, simd, sink, None, stream),
        }
    }

    /// The backward pass; `out_weights`, when given, holds the weights in out-edge order (read
    /// instead of the scattered in-edge positions). With `stream` (and a kernel that streams
    /// this batch), units of consecutive sources run as one kernel call each.
    #[allow(clippy::too_many_arguments)]
    fn backward_to(
        &mut self,
        ws: &mut Workspace,
        dropout: Option<Dropout>,
        simd: Simd,
        sink: Sink<'_>,
        out_weights: Option<&[f32]>,
        stream: bool,
    ) {
        let batch = ws.batch;
        ws.out_edges(&self.plan);
        let Workspace { z, a, g, out, .. } = ws;
        let out = out.as_ref().expect("built above");
        let (z, a): (&[f32], &[f32]) = (z, a);
        let mut params = Params::new(&mut self.weights, &mut self.biases, self.train_bias, sink);
        if let Some(w) = out_weights {
            assert_eq!(w.len(), out.targets.len(), "one weight per out-edge");
            assert!(
                matches!(params.kind, ParamsKind::Store { .. }),
                "gathered weights serve a backward pass that stores its gradients"
            );
            params.out_weights = Some(w);
        }
        let params = params;
        let this: &Net = self;
        let plan = &this.plan;
        let num_inputs = plan.num_inputs();
        let streamed = stream && simd.streams_sources(batch);
        for k in (0..plan.num_layers()).rev() {
            let range = plan.layer(k);
            let (lo, hi) = (range.start, range.end);
            let work = (out.offsets[hi] - out.offsets[lo] + hi - lo) * batch;
            let (low, deltas) = g.split_at_mut(hi * batch);
            let deltas: &[f32] = deltas;
            let rows = Shared::new(&mut low[lo * batch..]);
            // The rest of node i's backward once its input gradient `acc` is complete: dropout,
            // the activation derivative, the bias gradient.
            let finish = |i: usize, acc: &mut [f32]| {
                let a_row = &a[i * batch..][..batch];
                let drop = this.dropout_of(i, dropout);
                if let Some(d) = drop {
                    d.apply(i, 0, acc);
                }
                let f = this.activations[i];
                if f.needs_input(drop.is_some()) {
                    f.backprop(&z[i * batch..][..batch], acc);
                } else {
                    simd.backprop_from_output(f, a_row, acc);
                }
                // SAFETY: unit i owns bias i.
                unsafe { params.bias(i, simd.sum(acc)) };
            };
            if streamed {
                run_source_units(lo..hi, work >= PARALLEL_WORK, |(s0, s1)| {
                    // SAFETY: unit u owns gradient rows s0..s1; the rows read lie above the
                    // layer.
                    let acc = unsafe { rows.range((s0 - lo) * batch, (s1 - s0) * batch) };
                    this.backprop_sources(
                        s0..s1,
                        Some(acc),
                        batch,
                        a,
                        out,
                        deltas,
                        hi,
                        simd,
                        &params,
                    );
                    for (i, row) in (s0..s1).zip(acc.chunks_exact_mut(batch)) {
                        finish(i, row);
                    }
                });
            } else {
                let node = |i: usize| {
                    // SAFETY: unit i owns gradient row i; the rows read lie above the layer.
                    let acc = unsafe { rows.range((i - lo) * batch, batch) };
                    let a_row = &a[i * batch..][..batch];
                    this.backprop_node(i, Some(&mut *acc), a_row, out, deltas, hi, simd, &params);
                    finish(i, acc);
                };
                run_nodes(lo..hi, work >= PARALLEL_WORK, node);
            }
        }
        // The inputs: weight gradients of their out-edges only.
        let work = (out.offsets[num_inputs] + num_inputs) * batch;
        let deltas: &[f32] = &g[num_inputs * batch..];
        if streamed {
            run_source_units(0..num_inputs, work >= PARALLEL_WORK, |(s0, s1)| {
                let p = &params;
                this.backprop_sources(s0..s1, None, batch, a, out, deltas, num_inputs, simd, p);
            });
        } else {
            let node = |i: usize| {
                let a_row = &a[i * batch..][..batch];
                this.backprop_node(i, None, a_row, out, deltas, num_inputs, simd, &params);
            };
            run_nodes(0..num_inputs, work >= PARALLEL_WORK, node);
        }
    }

    /// [`Net::backprop_node`] for the consecutive nodes `nodes` (`acc` holding their gradient
    /// rows), as few streaming kernel calls as the scratch allows: the weights and gradients
    /// of up to [`STREAM_EDGES`] out-edges at a time. A node with more out-edges than that
    /// runs on its own through `backprop_node`.
    #[allow(clippy::too_many_arguments)]
    fn backprop_sources(
        &self,
        nodes: std::ops::Range<usize>,
        mut acc: Option<&mut [f32]>,
        batch: usize,
        a: &[f32],
        out: &OutEdges,
        deltas: &[f32],
        base: usize,
        simd: Simd,
        params: &Params,
    ) {
        let lo = nodes.start;
        let mut weights = [0.0f32; STREAM_EDGES];
        let mut grads = [0.0f32; STREAM_EDGES];
        let mut zero = [false; STREAM_SOURCES];
        let mut s0 = nodes.start;
        while s0 < nodes.end {
            let e0 = out.offsets[s0];
            if out.offsets[s0 + 1] - e0 > STREAM_EDGES {
                let a_row = &a[s0 * batch..][..batch];
                let row = acc
                    .as_deref_mut()
                    .map(|r| &mut r[(s0 - lo) * batch..][..batch]);
                self.backprop_node(s0, row, a_row, out, deltas, base, simd, params);
                s0 += 1;
                continue;
            }
            let mut s1 = s0 + 1;
            while s1 < nodes.end && out.offsets[s1 + 1] - e0 <= STREAM_EDGES {
                s1 += 1;
            }
            let e1 = out.offsets[s1];
            let len = e1 - e0;
            let positions = &out.positions[e0..e1];
            // SAFETY: this unit alone touches the weights of its nodes' out-edges.
            let current = unsafe { params.current_weights(e0, positions, &mut weights) };
            for (z, i) in zero.iter_mut().zip(s0..s1) {
                *z = !self.plan.is_output(i);
            }
            let rows = acc
                .as_deref_mut()
                .map(|r| &mut r[(s0 - lo) * batch..(s1 - lo) * batch]);
            simd.backprop_sources(
                rows,
                &zero[..s1 - s0],
                batch,
                &a[s0 * batch..s1 * batch],
                &out.offsets[s0..=s1],
                &out.targets[e0..e1],
                current,
                deltas,
                base,
                &mut grads[..len],
            );
            // The optimiser's per-call scratch holds EDGE_CHUNK weights; the steps are
            // elementwise, so cutting them anywhere changes nothing.
            let mut c = 0;
            while c < len {
                let n = EDGE_CHUNK.min(len - c);
                // SAFETY: this unit alone touches the weights of its nodes' out-edges. (With
                // `out_weights` the sink stores gradients and ignores `weights`.)
                unsafe {
                    params.weight_gradients(
                        &positions[c..c + n],
                        &mut weights[c..c + n],
                        &grads[c..c + n],
                    )
                };
                c += n;
            }
            s0 = s1;
        }
    }

    /// The out-edges of node `i`: their weight gradients to `params`, and with `acc` (node i's
    /// gradient row) the input gradient `sum_j w_ij delta_j`, from zero unless i is an output.
    /// The rows of `deltas` are the nodes from `base` on.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn backprop_node(
        &self,
        i: usize,
        mut acc: Option<&mut [f32]>,
        a_row: &[f32],
        out: &OutEdges,
        deltas: &[f32],
        base: usize,
        simd: Simd,
        params: &Params,
    ) {
        let zero = !self.plan.is_output(i);
        let (start, end) = (out.offsets[i], out.offsets[i + 1]);
        if start == end {
            if let Some(acc) = acc.as_deref_mut().filter(|_| zero) {
                acc.fill(0.0);
            }
            return;
        }
        let mut weights = [0.0f32; EDGE_CHUNK];
        let mut grads = [0.0f32; EDGE_CHUNK];
        let mut chunk = start;
        while chunk < end {
            let len = EDGE_CHUNK.min(end - chunk);
            let positions = &out.positions[chunk..chunk + len];
            // SAFETY: node i alone touches the weights of its out-edges.
            let current = unsafe { params.current_weights(chunk, positions, &mut weights) };
            simd.backprop_source(
                acc.as_deref_mut(),
                zero && chunk == start,
                a_row,
                &out.targets[chunk..chunk + len],
                current,
                deltas,
                base,
                &mut grads[..len],
            );
            // SAFETY: node i alone touches the weights of its out-edges. (With `out_weights`
            // the sink stores gradients and ignores `weights`.)
            unsafe { params.weight_gradients(positions, &mut weights[..len], &grads[..len]) };
            chunk += len;
        }
    }
}

/// Where the gradients go, shared by the units of a layer: each unit touches only the weights
/// of its own out-edges and its own bias.
struct Params<'w> {
    /// The weights in out-edge order, when the caller gathered them (read-only then).
    out_weights: Option<&'w [f32]>,
    weights: Shared<f32>,
    biases: Shared<f32>,
    kind: ParamsKind,
}

enum ParamsKind {
    Store {
        weights: Shared<f32>,
        biases: Shared<f32>,
    },
    Apply {
        step: Step,
        train_bias: bool,
        weight_slots: [Shared<f32>; 2],
        bias_slots: [Shared<f32>; 2],
    },
}

impl Params<'_> {
    fn new<'w>(
        weights: &mut [f32],
        biases: &mut [f32],
        train_bias: bool,
        sink: Sink<'_>,
    ) -> Params<'w> {
        let kind = match sink {
            Sink::Store {
                weights: gw,
                biases: gb,
            } => {
                assert!(gw.len() == weights.len() && gb.len() == biases.len());
                ParamsKind::Store {
                    weights: Shared::new(gw),
                    biases: Shared::new(gb),
                }
            }
            Sink::Apply { step, state } => {
                let [w0, w1] = &mut state.weight_slots;
                let [b0, b1] = &mut state.bias_slots;
                for (slot, len) in [(&*w0, weights.len()), (&*w1, weights.len())]
                    .into_iter()
                    .chain([(&*b0, biases.len()), (&*b1, biases.len())])
                {
                    assert!(slot.is_empty() || slot.len() == len, "optimiser state size");
                }
                ParamsKind::Apply {
                    step,
                    train_bias,
                    weight_slots: [Shared::new(w0), Shared::new(w1)],
                    bias_slots: [Shared::new(b0), Shared::new(b1)],
                }
            }
        };
        Params {
            out_weights: None,
            weights: Shared::new(weights),
            biases: Shared::new(biases),
            kind,
        }
    }

    /// # Safety
    /// Nobody may write weight `p` concurrently.
    #[inline]
    unsafe fn weight(&self, p: usize) -> f32 {
        assert!(p < self.weights.len(), "weight out of bounds");
        *self.weights.as_ptr().add(p)
    }

    /// The current weights of the out-edges from out-edge index `first` on, whose in-edge
    /// positions are `positions`: read from the out-edge copy when the caller gathered one,
    /// else gathered into `scratch`.
    ///
    /// # Safety
    /// Nobody may write those weights concurrently.
    #[inline]
    unsafe fn current_weights<'a>(
        &'a self,
        first: usize,
        positions: &[u32],
        scratch: &'a mut [f32],
    ) -> &'a [f32] {
        match self.out_weights {
            Some(w) => &w[first..first + positions.len()],
            None => {
                for (w, &p) in scratch.iter_mut().zip(positions) {
                    *w = self.weight(p as usize);
                }
                &scratch[..positions.len()]
            }
        }
    }

    /// The gradients of the weights at `positions`, whose current values are `weights`
    /// (overwritten).
    ///
    /// # Safety
    /// The caller alone touches these weights (and their state) during the call.
    #[inline]
    unsafe fn weight_gradients(&self, positions: &[u32], weights: &mut [f32], grads: &[f32]) {
        match &self.kind {
            ParamsKind::Store { weights: out, .. } => {
                for (&p, &g) in positions.iter().zip(grads) {
                    out.range(p as usize, 1)[0] = g;
                }
            }
            ParamsKind::Apply {
                step, weight_slots, ..
            } => {
                let len = positions.len();
                let mut slots = [[0.0f32; EDGE_CHUNK]; 2];
                let used = [weight_slots[0].len() > 0, weight_slots[1].len() > 0];
                for k in 0..2 {
                    if used[k] {
                        for (s, &p) in slots[k].iter_mut().zip(positions) {
                            *s = weight_slots[k].range(p as usize, 1)[0];
                        }
                    }
                }
                let [s0, s1] = &mut slots;
                let s0 = if used[0] {
                    &mut s0[..len]
                } else {
                    &mut s0[..0]
                };
                let s1 = if used[1] {
                    &mut s1[..len]
                } else {
                    &mut s1[..0]
                };
                step.update_slice(weights, grads, s0, s1);
                for (&p, &w) in positions.iter().zip(weights.iter()) {
                    self.weights.range(p as usize, 1)[0] = w;
                }
                for (k, values) in [&*s0, &*s1].into_iter().enumerate() {
                    for (&p, &v) in positions.iter().zip(values) {
                        weight_slots[k].range(p as usize, 1)[0] = v;
                    }
                }
            }
        }
    }

    /// # Safety
    /// The caller alone touches bias `j` (and its state) during the call.
    #[inline]
    unsafe fn bias(&self, j: usize, gradient: f32) {
        match &self.kind {
            ParamsKind::Store { biases, .. } => biases.range(j, 1)[0] = gradient,
            ParamsKind::Apply {
                step,
                train_bias: true,
                bias_slots,
                ..
            } => update(step, &self.biases, bias_slots, j, gradient),
            ParamsKind::Apply { .. } => {}
        }
    }
}

/// One optimiser step on parameter `k` of `params`.
///
/// # Safety
/// As [`Shared::range`].
#[inline]
unsafe fn update(step: &Step, params: &Shared<f32>, slots: &[Shared<f32>; 2], k: usize, g: f32) {
    let (mut d0, mut d1) = (0.0, 0.0);
    let s0 = slot(&slots[0], k, 1).map_or(&mut d0, |s| &mut s[0]);
    let s1 = slot(&slots[1], k, 1).map_or(&mut d1, |s| &mut s[0]);
    step.update(&mut params.range(k, 1)[0], g, s0, s1);
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
            version: ParamsVersion::fresh(),
        })
    }

    /// The state of the weights and biases: it changes at every write access (training,
    /// setting them), and a clone keeps it until either copy is written.
    pub fn parameters_version(&self) -> u64 {
        self.version.0
    }

    /// Biases in the plan's internal order.
    pub fn biases(&self) -> &[f32] {
        &self.biases
    }

    /// Weights (in-edge order) and biases (internal order), writable: for callers that set
    /// parameters wholesale, such as a data-parallel worker taking the server's values.
    pub fn parameters_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        self.version = ParamsVersion::fresh();
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

/// The optimiser step on every parameter of `params` from its gradient: elementwise, so
/// cutting it into units changes nothing. Slots the optimiser does not keep are empty.
fn deferred_step(
    step: &Step,
    params: &mut [f32],
    grads: &[f32],
    slots: [&mut [f32]; 2],
    parallel: bool,
) {
    let n = params.len();
    assert_eq!(grads.len(), n);
    let params = Shared::new(params);
    let [s0, s1] = slots;
    let (s0, s1) = (Shared::new(s0), Shared::new(s1));
    let unit = |k: usize| {
        let start = k * STEP_CHUNK;
        let len = STEP_CHUNK.min(n - start);
        // SAFETY: unit k alone touches parameters (and slots) start..start + len.
        unsafe {
            let (mut e0, mut e1) = ([], []);
            let a = slot(&s0, start, len).unwrap_or(&mut e0);
            let b = slot(&s1, start, len).unwrap_or(&mut e1);
            step.update_slice(params.range(start, len), &grads[start..start + len], a, b);
        }
    };
    run_nodes(0..n.div_ceil(STEP_CHUNK), parallel, unit);
}

/// `f(s0, s1)` on units of up to [`STREAM_SOURCES`] consecutive nodes `s0..s1` of `nodes`, as
/// [`run_nodes`] runs single nodes.
fn run_source_units(
    nodes: std::ops::Range<usize>,
    parallel: bool,
    f: impl Fn((usize, usize)) + Sync + Send,
) {
    let units = nodes.len().div_ceil(STREAM_SOURCES);
    run_nodes(0..units, parallel, |u| {
        let s0 = nodes.start + u * STREAM_SOURCES;
        f((s0, nodes.end.min(s0 + STREAM_SOURCES)));
    });
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

    /// A random DAG network of `n` nodes: its sources with a consumer as inputs, its sinks
    /// with a producer as outputs, ASAP layers, and activations cycling through three codes.
    fn random_network(n: u32, p: f64, seed: u64) -> (Dag, Vec<u32>, Vec<u32>, Vec<u32>, Vec<u8>) {
        let g = crate::graph::generators::random_dag(n as u64, Some(p), None, seed).unwrap();
        let inputs: Vec<u32> = (0..n)
            .filter(|&v| g.in_degree(v) == 0 && g.out_degree(v) > 0)
            .collect();
        let outputs: Vec<u32> = (0..n)
            .filter(|&v| g.out_degree(v) == 0 && g.in_degree(v) > 0)
            .collect();
        let layers = crate::layering::asap(&g);
        let codes: Vec<u8> = (0..n).map(|v| (v % 3) as u8).collect();
        (g, inputs, outputs, layers, codes)
    }

    #[test]
    fn one_pass_build_equals_plan_then_init() {
        let (g, inputs, outputs, layers, codes) = random_network(300, 0.05, 3);
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

    /// A training forward of `samples` of `x` (one row of inputs each), then the gradient of
    /// `sum (a - 0.5)^2 / 2` at the outputs: what the tests' backward passes start from.
    fn forward_with_loss_gradient(
        net: &Net,
        ws: &mut Workspace,
        x: &[f32],
        samples: &[u32],
        dropout: Option<Dropout>,
        simd: Simd,
    ) {
        let (n, inputs, batch) = (
            net.plan().num_nodes(),
            net.plan().num_inputs(),
            samples.len(),
        );
        ws.prepare(n, batch);
        ws.fill_inputs(x, inputs, samples);
        net.forward(ws, dropout, simd);
        let outs = net.plan().outputs().to_vec();
        ws.clear_gradients(&outs);
        let (act, grad) = ws.activations_and_gradients();
        for &o in &outs {
            let o = o as usize * batch;
            for c in 0..batch {
                grad[o + c] = act[o + c] - 0.5;
            }
        }
    }

    #[test]
    fn deferred_and_fused_steps_give_the_same_bits() {
        use super::super::optim::{Kind, Optimizer};
        let (g, inputs, outputs, layers, codes) = random_network(400, 0.04, 5);
        // Enough work (edges x batch) for the parallel gather and step.
        let batch = 61;
        let mut rng = crate::rng::Rng::new(3);
        let x: Vec<f32> = (0..batch * inputs.len())
            .map(|_| rng.uniform(-1.0, 1.0) as f32)
            .collect();
        let samples: Vec<u32> = (0..batch as u32).collect();
        let kinds = [
            Kind::Sgd,
            Kind::Momentum { momentum: 0.9 },
            Kind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
        ];
        for kind in kinds {
            for train_bias in [true, false] {
                let optimizer = Optimizer {
                    kind,
                    lr: 0.01,
                    weight_decay: 1e-3,
                };
                let run = |deferred: bool| {
                    let plan = Plan::new(&g, &inputs, &outputs, &layers).unwrap();
                    let init = Init::KaimingUniform;
                    let mut net = Net::new(plan, &codes, 0.6, init, 1, train_bias).unwrap();
                    let (m, n) = (net.plan().num_edges(), net.plan().num_nodes());
                    let mut state = State::new(kind, m, n);
                    let mut ws = Workspace::default();
                    let simd = Simd::detect();
                    assert!(
                        m * batch >= PARALLEL_WORK,
                        "the test must reach the parallel path"
                    );
                    for t in 0..3 {
                        let dropout = Some(Dropout { rate: 0.2, key: t });
                        forward_with_loss_gradient(&net, &mut ws, &x, &samples, dropout, simd);
                        let step = Step::new(optimizer, t);
                        let sink = Sink::Apply {
                            step,
                            state: &mut state,
                        };
                        net.backward_with(&mut ws, dropout, simd, sink, deferred, true);
                    }
                    (net, state)
                };
                let (fused, fused_state) = run(false);
                for threads in [1, 2] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let (deferred, deferred_state) = pool.install(|| run(true));
                    assert_eq!(fused.weights, deferred.weights, "{kind:?} {threads}");
                    assert_eq!(fused.biases, deferred.biases, "{kind:?} {threads}");
                    assert_eq!(fused_state, deferred_state, "{kind:?} {threads}");
                }
                // The steps did move the parameters.
                let plan = Plan::new(&g, &inputs, &outputs, &layers).unwrap();
                let initial = Net::new(plan, &codes, 0.6, Init::KaimingUniform, 1, train_bias);
                assert_ne!(fused.weights, initial.unwrap().weights);
            }
        }
    }

    /// A network with one input feeding more than `STREAM_EDGES` hidden nodes (the streamed
    /// backward runs that source on its own) and an output that feeds another output.
    fn hub_network() -> (Dag, Vec<u32>, Vec<u32>, Vec<u32>, Vec<u8>) {
        let hidden = STREAM_EDGES as u32 + 100;
        let (h0, o0) = (3u32, 3 + hidden);
        let mut rng = crate::rng::Rng::new(11);
        let (mut src, mut dst) = (Vec::new(), Vec::new());
        for h in h0..o0 {
            src.push(0);
            dst.push(h);
            for &i in &[1u32, 2] {
                if rng.uniform(0.0, 1.0) < 0.3 {
                    src.push(i);
                    dst.push(h);
                }
            }
            for o in o0..o0 + 4 {
                if rng.uniform(0.0, 1.0) < 0.5 {
                    src.push(h);
                    dst.push(o);
                }
            }
        }
        src.push(o0);
        dst.push(o0 + 4);
        let n = o0 + 5;
        let g = Dag::from_edges(&src, &dst, Some(n as u64), DuplicatePolicy::Reject).unwrap();
        let inputs = vec![0, 1, 2];
        let outputs: Vec<u32> = (o0..n).collect();
        let layers = crate::layering::asap(&g);
        let codes: Vec<u8> = (0..n).map(|v| (v % 3) as u8).collect();
        (g, inputs, outputs, layers, codes)
    }

    #[test]
    fn streamed_backward_gives_the_same_bits_as_one_call_per_source() {
        use super::super::optim::{Kind, Optimizer};
        let simd = Simd::detect();
        if !simd.streams_sources(128) {
            eprintln!("no streaming backward kernel on this machine; nothing to compare");
            return;
        }
        let nets = [random_network(400, 0.04, 5), hub_network()];
        for (g, inputs, outputs, layers, codes) in &nets {
            for batch in [128usize, 64] {
                let mut rng = crate::rng::Rng::new(3);
                let x: Vec<f32> = (0..batch * inputs.len())
                    .map(|_| rng.uniform(-1.0, 1.0) as f32)
                    .collect();
                let samples: Vec<u32> = (0..batch as u32).collect();
                let kind = Kind::Momentum { momentum: 0.9 };
                let optimizer = Optimizer {
                    kind,
                    lr: 0.01,
                    weight_decay: 1e-3,
                };
                // `None`: store the gradients; otherwise optimiser steps, deferred or fused.
                let run = |deferred: Option<bool>, stream: bool| {
                    let plan = Plan::new(g, inputs, outputs, layers).unwrap();
                    let init = Init::KaimingUniform;
                    let mut net = Net::new(plan, codes, 0.6, init, 1, true).unwrap();
                    let (m, n) = (net.plan().num_edges(), net.plan().num_nodes());
                    assert!(
                        m * batch >= PARALLEL_WORK,
                        "the test must reach the parallel path"
                    );
                    let mut state = State::new(kind, m, n);
                    let mut ws = Workspace::default();
                    let (mut gw, mut gb) = (vec![0.0f32; m], vec![0.0f32; n]);
                    for t in 0..3 {
                        let dropout = Some(Dropout { rate: 0.2, key: t });
                        forward_with_loss_gradient(&net, &mut ws, &x, &samples, dropout, simd);
                        match deferred {
                            None => {
                                let sink = Sink::Store {
                                    weights: &mut gw,
                                    biases: &mut gb,
                                };
                                net.backward_with(&mut ws, dropout, simd, sink, false, stream);
                            }
                            Some(deferred) => {
                                let step = Step::new(optimizer, t);
                                let sink = Sink::Apply {
                                    step,
                                    state: &mut state,
                                };
                                net.backward_with(&mut ws, dropout, simd, sink, deferred, stream);
                            }
                        }
                    }
                    (net, state, gw, gb)
                };
                for deferred in [None, Some(false), Some(true)] {
                    let (one, one_state, one_gw, one_gb) = run(deferred, false);
                    for threads in [1, 2] {
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(threads)
                            .build()
                            .unwrap();
                        let (s, s_state, s_gw, s_gb) = pool.install(|| run(deferred, true));
                        let what = format!("batch {batch}, {deferred:?}, {threads} threads");
                        assert_eq!(one.weights, s.weights, "{what}");
                        assert_eq!(one.biases, s.biases, "{what}");
                        assert_eq!(one_state, s_state, "{what}");
                        assert_eq!(one_gw, s_gw, "{what}");
                        assert_eq!(one_gb, s_gb, "{what}");
                    }
                    if deferred.is_none() {
                        assert!(
                            one_gw.iter().any(|&v| v != 0.0) && one_gb.iter().any(|&v| v != 0.0)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn fill_inputs_transposes_the_chosen_rows() {
        let mut rng = crate::rng::Rng::new(8);
        for (features, batch) in [(70usize, 37usize), (64, 16), (3, 1), (130, 128)] {
            let rows = 50;
            let x: Vec<f32> = (0..rows * features)
                .map(|_| rng.uniform(-1.0, 1.0) as f32)
                .collect();
            let samples: Vec<u32> = (0..batch).map(|b| ((b * 7 + 3) % rows) as u32).collect();
            let mut ws = Workspace::default();
            ws.prepare(features + 2, batch);
            ws.fill_inputs(&x, features, &samples);
            for i in 0..features {
                for (b, &s) in samples.iter().enumerate() {
                    assert_eq!(ws.a[i * batch + b], x[s as usize * features + i]);
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
