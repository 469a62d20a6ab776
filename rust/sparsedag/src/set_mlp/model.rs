//! [`SetMlp`]: a sparse MLP held as an engine [`Model`]. Node ids are in execution order
//! (inputs, hidden layer 1, ..., outputs), so layer `l` of the SET view (inputs of size
//! `sizes[l]`, outputs of size `sizes[l + 1]`) is a contiguous block of the engine's in-edge
//! CSR, with sources shifted by the first id of layer `l`. Evolution and pruning copy the
//! blocks out as [`SparseLayer`]s (weights with their momentum), run the `sparse` rules and
//! build the new CSR: a few linear passes, O(nnz), with a transient second copy (the old
//! network is freed before the new CSR is assembled, and each layer copy as soon as it has
//! been appended, so at most about two copies are alive at once).
//!
//! Between calls the network keeps only its persistent state: per connection a u32 source
//! index, an f32 weight and an f32 momentum (12 bytes); per neuron its CSR offset, bias, bias
//! momentum, activation and ids. The batch workspace of training and inference (three rows of
//! `batch` floats per neuron: about 3 KiB per neuron at batch 128, more than the connections
//! themselves at epsilon 20) lives only for the duration of a call; see [`SetMlp::memory`].

use rayon::prelude::*;

use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::nn::net::check_finite;
use crate::nn::optim::{Kind, State};
use crate::nn::{all_relu_slope, Activation, Data, Loss, Model, Net, Plan, Stats, TrainOptions};
use crate::sparse::{
    erdos_renyi_layer, evolve, importance_prune, EvolveOptions, Init, SparseLayer,
};

/// What a new network looks like.
#[derive(Debug, Clone)]
pub struct SetSpec {
    /// Layer widths: inputs, hidden layers, outputs.
    pub sizes: Vec<usize>,
    /// Erdős–Rényi density parameter: p = epsilon (n_in + n_out) / (n_in n_out).
    pub epsilon: f64,
    pub init: Init,
    /// Activation of the hidden neurons (an [`Activation`] code); outputs are linear.
    pub hidden_activation: u8,
    /// All-ReLU slope magnitude: hidden layer 1 has slope -alpha, layer 2 +alpha, ...
    pub alpha: f32,
    pub seed: u64,
}

/// The seed of the random stream `stream` under `seed` (layers, epochs, workers).
pub(crate) fn derive(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_add(1).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Heap bytes held by a network (see [`SetMlp::memory`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Per-connection state: source index, weight and optimiser state (momentum).
    pub connection_bytes: usize,
    /// Per-neuron state: CSR offset, ids, output flag, activation, bias and its momentum.
    pub neuron_bytes: usize,
    /// Batch buffers of the engine (pre-activations, activations, gradients): zero between
    /// calls, since every training, evaluation and prediction call releases them.
    pub workspace_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct SetMlp {
    pub(crate) model: Model,
    sizes: Vec<usize>,
    hidden_activation: u8,
    alpha: f32,
    init: Init,
    /// Bumped whenever the topology changes (workers use it to know when to re-copy it).
    pub(crate) version: u64,
}

/// The SET view of a network: its layers (weights and momentum) and per-node biases with
/// their momentum, all in node-id order.
pub(crate) struct Layers {
    pub layers: Vec<SparseLayer>,
    pub biases: Vec<f32>,
    pub bias_momentum: Vec<f32>,
    pub state: Option<(Kind, u64)>,
}

impl SetMlp {
    pub fn new(spec: &SetSpec, cancel: &Cancel) -> Result<SetMlp> {
        let sizes = &spec.sizes;
        if sizes.len() < 3 {
            return invalid("a sparse MLP needs at least one hidden layer");
        }
        if let Some(k) = sizes.iter().position(|&s| s == 0) {
            return invalid(format!("layer {k} of the sparse MLP has no neurons"));
        }
        if !(spec.alpha.is_finite()) {
            return invalid("alpha must be finite");
        }
        Activation::from_code(spec.hidden_activation, spec.alpha)?;
        let layers = (0..sizes.len() - 1)
            .map(|l| {
                erdos_renyi_layer(
                    sizes[l],
                    sizes[l + 1],
                    spec.epsilon,
                    spec.init,
                    derive(spec.seed, l as u64),
                    cancel,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let n: usize = sizes.iter().sum();
        let mut set = SetMlp {
            model: Model::new(placeholder_net()?),
            sizes: sizes.clone(),
            hidden_activation: spec.hidden_activation,
            alpha: spec.alpha,
            init: spec.init,
            version: 0,
        };
        set.rebuild(Layers {
            layers,
            biases: vec![0.0; n],
            bias_momentum: vec![0.0; n],
            state: None,
        })?;
        Ok(set)
    }

    /// A network from its layers (for example a saved model): each layer is checked, they must
    /// form a chain, and `biases` holds one value per neuron in node-id order (inputs included,
    /// where it is ignored). The optimiser starts fresh.
    pub fn from_parts(
        layers: Vec<SparseLayer>,
        biases: Vec<f32>,
        hidden_activation: u8,
        alpha: f32,
        init: Init,
    ) -> Result<SetMlp> {
        if layers.len() < 2 {
            return invalid("a sparse MLP needs at least one hidden layer");
        }
        for (l, layer) in layers.iter().enumerate() {
            layer.check()?;
            if l > 0 && layer.n_in != layers[l - 1].n_out {
                return invalid(format!(
                    "layer {l} reads {} inputs but layer {} has {} outputs",
                    layer.n_in,
                    l - 1,
                    layers[l - 1].n_out
                ));
            }
        }
        let n = layers[0].n_in + layers.iter().map(|l| l.n_out).sum::<usize>();
        if biases.len() != n {
            return invalid(format!("{} biases given for {n} neurons", biases.len()));
        }
        Activation::from_code(hidden_activation, alpha)?;
        let mut set = SetMlp {
            model: Model::new(placeholder_net()?),
            sizes: Vec::new(),
            hidden_activation,
            alpha,
            init,
            version: 0,
        };
        set.rebuild(Layers {
            layers,
            biases,
            bias_momentum: vec![0.0; n],
            state: None,
        })?;
        Ok(set)
    }

    /// Biases in node-id order.
    pub fn biases(&self) -> &[f32] {
        self.model.net().biases()
    }

    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn num_connections(&self) -> usize {
        self.model.net().plan().num_edges()
    }

    /// Connections per layer.
    pub fn layer_connections(&self) -> Vec<usize> {
        let plan = self.model.net().plan();
        (0..plan.num_layers())
            .map(|k| {
                let r = plan.layer(k);
                plan.in_offsets()[r.end] - plan.in_offsets()[r.start]
            })
            .collect()
    }

    pub fn num_hidden_neurons(&self) -> usize {
        self.sizes[1..self.sizes.len() - 1].iter().sum()
    }

    /// What the network holds on the heap, from the lengths of its arrays (each is built with
    /// exactly that capacity, see [`SetMlp::rebuild`]).
    pub fn memory(&self) -> Memory {
        let net = self.model.net();
        let plan = net.plan();
        let (m, n) = (plan.num_edges(), plan.num_nodes());
        let state = self.model.optimizer_state();
        let slot_floats = |slots: Option<&[Vec<f32>; 2]>| -> usize {
            slots.map_or(0, |s| s.iter().map(Vec::len).sum())
        };
        let f32s = std::mem::size_of::<f32>();
        let connection_bytes = m * (std::mem::size_of::<u32>() + f32s)
            + f32s * slot_floats(state.map(|s| &s.weight_slots));
        let neuron_bytes = std::mem::size_of_val(plan.in_offsets())
            + std::mem::size_of_val(plan.node_of())
            + std::mem::size_of_val(plan.internal_of())
            + std::mem::size_of_val(plan.outputs())
            + n * (std::mem::size_of::<bool>() + std::mem::size_of::<Activation>() + f32s)
            + f32s * slot_floats(state.map(|s| &s.bias_slots))
            + std::mem::size_of_val(self.sizes.as_slice());
        Memory {
            connection_bytes,
            neuron_bytes,
            workspace_bytes: self.model.workspace_bytes(),
        }
    }

    /// Frees the engine's batch buffers (they are sized again by the next call that needs
    /// them). Every training, evaluation and prediction call ends with this.
    pub fn release_workspace(&mut self) {
        self.model.release_workspace();
    }

    /// Layer `l` as a sparse layer (weights and momentum).
    pub fn layer(&self, l: usize) -> Result<SparseLayer> {
        if l + 1 >= self.sizes.len() {
            return invalid(format!(
                "layer {l} does not exist: the network has {} layers of connections",
                self.sizes.len() - 1
            ));
        }
        Ok(self.extract_layer(l))
    }

    fn first_id(&self, l: usize) -> usize {
        self.sizes[..l].iter().sum()
    }

    fn extract_layer(&self, l: usize) -> SparseLayer {
        let net = self.model.net();
        let plan = net.plan();
        let momentum = self
            .model
            .optimizer_state()
            .map(|s| &s.weight_slots[0])
            .filter(|v| !v.is_empty());
        let (input_start, out_start) = (self.first_id(l), self.first_id(l + 1));
        let n_out = self.sizes[l + 1];
        let base = plan.in_offsets()[out_start];
        let end = plan.in_offsets()[out_start + n_out];
        let offsets = plan.in_offsets()[out_start..=out_start + n_out]
            .iter()
            .map(|&o| (o - base) as u64)
            .collect();
        let indices = plan.in_sources()[base..end]
            .iter()
            .map(|&s| s - input_start as u32)
            .collect();
        SparseLayer {
            n_in: self.sizes[l],
            n_out,
            offsets,
            indices,
            weights: net.weights()[base..end].to_vec(),
            momentum: momentum.map_or_else(|| vec![0.0; end - base], |m| m[base..end].to_vec()),
        }
    }

    pub(crate) fn to_layers(&self) -> Layers {
        let layers = (0..self.sizes.len() - 1)
            .into_par_iter()
            .map(|l| self.extract_layer(l))
            .collect();
        let state = self.model.optimizer_state();
        let n: usize = self.sizes.iter().sum();
        let bias_momentum = state
            .map(|s| &s.bias_slots[0])
            .filter(|v| !v.is_empty())
            .map_or_else(|| vec![0.0; n], |v| v.clone());
        Layers {
            layers,
            biases: self.model.net().biases().to_vec(),
            bias_momentum,
            state: state.map(|s| (s.kind, s.steps)),
        }
    }

    /// Replaces the network by the given layers (layer widths may have changed).
    pub(crate) fn rebuild(&mut self, parts: Layers) -> Result<()> {
        let Layers {
            layers,
            biases,
            bias_momentum,
            state,
        } = parts;
        let mut sizes = vec![layers[0].n_in];
        sizes.extend(layers.iter().map(|l| l.n_out));
        let n: usize = sizes.iter().sum();
        let m: usize = layers.iter().map(|l| l.nnz()).sum();
        let mut in_offsets = Vec::with_capacity(n + 1);
        in_offsets.resize(sizes[0] + 1, 0);
        let mut in_sources = Vec::with_capacity(m);
        let mut weights = Vec::with_capacity(m);
        let mut momentum = Vec::with_capacity(if state.is_some() { m } else { 0 });
        let mut input_start = 0u32;
        // Each layer copy is dropped as soon as it is appended: the new arrays grow while the
        // old ones shrink, so the two copies never coexist in full.
        for layer in layers {
            let base = in_sources.len();
            in_offsets.extend(layer.offsets[1..].iter().map(|&o| base + o as usize));
            in_sources.extend(layer.indices.iter().map(|&i| i + input_start));
            weights.extend_from_slice(&layer.weights);
            if state.is_some() {
                momentum.extend_from_slice(&layer.momentum);
            }
            input_start += layer.n_in as u32;
        }
        let (mut biases, mut bias_momentum) = (biases, bias_momentum);
        biases.shrink_to_fit();
        bias_momentum.shrink_to_fit();
        let plan = Plan::layered(&sizes, in_offsets, in_sources)?;
        let mut activations = vec![Activation::Identity; n];
        let mut start = sizes[0];
        for (k, &width) in sizes[1..sizes.len() - 1].iter().enumerate() {
            let slope = all_relu_slope(k, self.alpha);
            let act = Activation::from_code(self.hidden_activation, slope)?;
            activations[start..start + width].fill(act);
            start += width;
        }
        let net = Net::from_parts(plan, weights, biases, activations, true)?;
        let state = state.map(|(kind, steps)| {
            let mut s = State::new(kind, 0, 0);
            if kind.slots() >= 1 {
                s.weight_slots[0] = momentum;
                s.bias_slots[0] = bias_momentum;
            }
            s.steps = steps;
            s
        });
        self.model = Model::with_state(net, state)?;
        self.sizes = sizes;
        self.version += 1;
        Ok(())
    }

    /// One SET evolution step on every evolved layer (all hidden layers, and the output layer
    /// when asked); returns the number of connections replaced. Layers evolve in parallel,
    /// each with its own seed, so the result does not depend on the thread count. A cancelled
    /// call leaves the network untouched.
    pub fn evolve(
        &mut self,
        zeta: f64,
        evolve_output_layer: bool,
        seed: u64,
        cancel: &Cancel,
    ) -> Result<usize> {
        if !(zeta.is_finite() && (0.0..1.0).contains(&zeta)) {
            return invalid(format!("zeta must lie in [0, 1), got {zeta}"));
        }
        self.check_parameters()?;
        self.release_workspace();
        let mut parts = self.to_layers();
        let last = parts.layers.len() - 1;
        let init = self.init;
        let replaced = parts
            .layers
            .par_iter_mut()
            .enumerate()
            .filter(|(l, _)| *l < last || evolve_output_layer)
            .map(|(l, layer)| {
                let options = EvolveOptions {
                    zeta,
                    init,
                    seed: derive(seed, l as u64),
                    input_alive: None,
                    output_alive: None,
                };
                evolve(&mut layer.view_mut(), &options, cancel).map(|s| s.added)
            })
            .collect::<Result<Vec<_>>>()?;
        self.drop_network();
        self.rebuild(parts)?;
        Ok(replaced.iter().sum())
    }

    /// Importance pruning: hidden neurons whose summed |incoming weight| is at or below the
    /// `percentile` of their layer lose their incoming and outgoing connections and are
    /// removed from the network (which really shrinks; hidden neurons left without any
    /// connection are removed too). A layer always keeps at least one neuron. Returns the
    /// number of neurons removed.
    pub fn importance_prune(&mut self, percentile: f64, cancel: &Cancel) -> Result<usize> {
        self.check_parameters()?;
        self.release_workspace();
        let mut parts = self.to_layers();
        importance_prune(&mut parts.layers, percentile, cancel)?;
        let hidden = parts.layers.len() - 1;
        let mut removed = 0;
        let mut node_start = parts.layers[0].n_in;
        let mut keep_nodes = vec![true; node_start];
        for h in 0..hidden {
            let (left, right) = parts.layers.split_at_mut(h + 1);
            let (layer, next) = (&mut left[h], &mut right[0]);
            let mut alive: Vec<bool> = (0..layer.n_out).map(|j| !layer.row(j).is_empty()).collect();
            for &i in &next.indices {
                alive[i as usize] = true;
            }
            if !alive.iter().any(|&a| a) {
                alive[0] = true;
            }
            removed += alive.iter().filter(|&&a| !a).count();
            drop_neurons(layer, next, &alive);
            keep_nodes.extend_from_slice(&alive);
            node_start += alive.len();
        }
        keep_nodes.resize(node_start + parts.layers[hidden].n_out, true);
        let keep = |v: &Vec<f32>| -> Vec<f32> {
            v.iter()
                .zip(&keep_nodes)
                .filter(|(_, &k)| k)
                .map(|(&x, _)| x)
                .collect()
        };
        parts.biases = keep(&parts.biases);
        parts.bias_momentum = keep(&parts.bias_momentum);
        self.drop_network();
        self.rebuild(parts)?;
        Ok(removed)
    }

    /// Fails (leaving the network as it is) when a weight or bias is not finite, as after a
    /// diverged training run: the rebuild would reject them after the old network is gone.
    fn check_parameters(&self) -> Result<()> {
        let net = self.model.net();
        check_finite(net.weights(), "weights")?;
        check_finite(net.biases(), "biases")
    }

    /// Frees the engine model (its layers must already be copied out): the rebuild that
    /// follows then never holds the old and the new CSR at once.
    fn drop_network(&mut self) {
        self.model = Model::new(placeholder_net().expect("a valid one-edge network"));
    }

    /// Trains on the given batches, keeping the batch workspace for the next call (a fit
    /// trains in several calls); [`SetMlp::release_workspace`] frees it.
    pub fn train_batches(
        &mut self,
        data: &Data,
        order: &[u32],
        first_batch: usize,
        num_batches: usize,
        options: &TrainOptions,
        cancel: &Cancel,
    ) -> Result<Stats> {
        check_optimizer(options)?;
        self.model
            .train_batches(data, order, first_batch, num_batches, options, cancel)
    }

    pub fn evaluate(&mut self, data: &Data, loss: Loss, cancel: &Cancel) -> Result<Stats> {
        let stats = self.model.evaluate(data, loss, 1, cancel);
        self.release_workspace();
        stats
    }

    pub fn predict(&mut self, x: &[f32], features: usize, cancel: &Cancel) -> Result<Vec<f32>> {
        let out = self.model.predict(x, features, cancel);
        self.release_workspace();
        out
    }
}

pub(crate) fn check_optimizer(options: &TrainOptions) -> Result<()> {
    match options.optimizer.kind {
        Kind::Sgd | Kind::Momentum { .. } => Ok(()),
        Kind::Adam { .. } => invalid("sparse MLPs train with SGD (with or without momentum)"),
    }
}

/// Removes the neurons of `layer`'s outputs that are not `alive`: their rows here, and their
/// columns (renumbered) in `next`. Their connections must already be gone.
fn drop_neurons(layer: &mut SparseLayer, next: &mut SparseLayer, alive: &[bool]) {
    let mut offsets = vec![0u64];
    offsets.extend(
        (0..layer.n_out)
            .filter(|&j| alive[j])
            .map(|j| layer.offsets[j + 1]),
    );
    layer.offsets = offsets;
    let mut new_id = vec![u32::MAX; alive.len()];
    let mut count = 0;
    for (i, &a) in alive.iter().enumerate() {
        if a {
            new_id[i] = count;
            count += 1;
        }
    }
    layer.n_out = count as usize;
    for i in &mut next.indices {
        *i = new_id[*i as usize];
    }
    next.n_in = count as usize;
}

/// A one-edge network to stand in before the first rebuild.
fn placeholder_net() -> Result<Net> {
    let plan = Plan::layered(&[1, 1], vec![0, 0, 1], vec![0])?;
    Net::from_parts(
        plan,
        vec![0.0],
        vec![0.0; 2],
        vec![Activation::Identity; 2],
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;

    fn spec(sizes: &[usize]) -> SetSpec {
        SetSpec {
            sizes: sizes.to_vec(),
            epsilon: 3.0,
            init: Init::HeUniformNeuron,
            hidden_activation: 5,
            alpha: 0.6,
            seed: 7,
        }
    }

    #[test]
    fn layers_round_trip_through_the_engine() {
        let set = SetMlp::new(&spec(&[20, 30, 25, 4]), never()).unwrap();
        for l in 0..3 {
            set.layer(l).unwrap().check().unwrap();
        }
        let before: Vec<SparseLayer> = (0..3).map(|l| set.layer(l).unwrap()).collect();
        let mut copy = set.clone();
        copy.rebuild(set.to_layers()).unwrap();
        let after: Vec<SparseLayer> = (0..3).map(|l| copy.layer(l).unwrap()).collect();
        assert_eq!(before, after);
        assert_eq!(
            set.model().net().activation(20),
            Activation::AllRelu { slope: -0.6 }
        );
        assert_eq!(
            set.model().net().activation(50),
            Activation::AllRelu { slope: 0.6 }
        );
    }

    #[test]
    fn evolution_is_the_sparse_rule_on_each_layer() {
        let set = SetMlp::new(&spec(&[20, 30, 25, 4]), never()).unwrap();
        let mut evolved = set.clone();
        evolved.evolve(0.3, true, 9, never()).unwrap();
        for l in 0..3 {
            let mut expected = set.layer(l).unwrap();
            let options = EvolveOptions {
                zeta: 0.3,
                init: Init::HeUniformNeuron,
                seed: derive(9, l as u64),
                input_alive: None,
                output_alive: None,
            };
            evolve(&mut expected.view_mut(), &options, never()).unwrap();
            assert_eq!(evolved.layer(l).unwrap(), expected);
        }
        let mut bad = set.clone();
        assert!(bad.evolve(1.0, false, 0, never()).is_err());
        assert_eq!(bad.layer(0).unwrap(), set.layer(0).unwrap());
    }

    #[test]
    fn calls_leave_only_the_persistent_state() {
        use crate::nn::{Loss, Optimizer, OptimizerKind, Targets};
        let mut set = SetMlp::new(&spec(&[20, 30, 25, 4]), never()).unwrap();
        let x: Vec<f32> = (0..20 * 16).map(|i| (i % 7) as f32 - 3.0).collect();
        let labels: Vec<u32> = (0..16).map(|i| i % 4).collect();
        let data = Data {
            x: &x,
            features: 20,
            targets: Targets::Labels(&labels),
        };
        let options = TrainOptions {
            loss: Loss::CrossEntropy,
            optimizer: Optimizer {
                kind: OptimizerKind::Momentum { momentum: 0.9 },
                lr: 0.01,
                weight_decay: 0.0,
            },
            batch_size: 8,
            dropout: 0.0,
            seed: 0,
            groups: 1,
        };
        let order: Vec<u32> = (0..16).collect();
        set.train_batches(&data, &order, 0, 2, &options, never())
            .unwrap();
        let (m, n): (usize, usize) = (set.num_connections(), 20 + 30 + 25 + 4);
        let memory = set.memory();
        assert_eq!(memory.connection_bytes, 12 * m);
        // Three activation buffers (whole cache lines of 16 floats) and the backward pass's
        // out-edge index.
        let rows = (8 * n).next_multiple_of(16);
        assert_eq!(memory.workspace_bytes, 3 * 4 * rows + 8 * m + 8 * (n + 1));
        set.release_workspace();
        assert_eq!(set.memory().workspace_bytes, 0);
        set.predict(&x, 20, never()).unwrap();
        set.evaluate(&data, Loss::CrossEntropy, never()).unwrap();
        assert_eq!(set.memory().workspace_bytes, 0);
        // Evolution and pruning keep the momentum (12 bytes per connection) and free the rest.
        set.train_batches(&data, &order, 0, 1, &options, never())
            .unwrap();
        set.evolve(0.3, false, 3, never()).unwrap();
        set.importance_prune(20.0, never()).unwrap();
        let memory = set.memory();
        assert_eq!(memory.connection_bytes, 12 * set.num_connections());
        assert_eq!(memory.workspace_bytes, 0);
        assert!(memory.neuron_bytes <= 64 * (20 + set.num_hidden_neurons() + 4));

        // A diverged network cannot be rebuilt: evolution and pruning fail and keep it whole.
        let huge: Vec<f32> = x.iter().map(|v| v * 1e30).collect();
        let diverging = Data { x: &huge, ..data };
        let mut wild = options;
        wild.optimizer.lr = 1e30;
        set.train_batches(&diverging, &order, 0, 2, &wild, never())
            .unwrap();
        assert!(set.model().net().weights().iter().any(|w| !w.is_finite()));
        let (sizes, count) = (set.sizes().to_vec(), set.num_connections());
        let err = set.evolve(0.3, false, 4, never()).unwrap_err();
        assert!(err.to_string().contains("not finite"), "{err}");
        assert!(set.importance_prune(20.0, never()).is_err());
        assert_eq!((set.sizes(), set.num_connections()), (&sizes[..], count));
        for l in 0..3 {
            assert!(set.layer(l).is_ok());
        }
    }

    #[test]
    fn evolution_keeps_counts_and_pruning_shrinks() {
        let mut set = SetMlp::new(&spec(&[20, 30, 25, 4]), never()).unwrap();
        let counts = set.layer_connections();
        let replaced = set.evolve(0.3, false, 1, never()).unwrap();
        assert!(replaced > 0);
        assert_eq!(set.layer_connections(), counts);
        let before = set.layer(2).unwrap();
        assert_eq!(before, set.layer(2).unwrap());
        let removed = set.importance_prune(50.0, never()).unwrap();
        assert!(removed > 0);
        assert_eq!(set.num_hidden_neurons(), 55 - removed);
        assert!(set.num_connections() < counts.iter().sum::<usize>());
        for l in 0..3 {
            set.layer(l).unwrap().check().unwrap();
        }
    }
}
