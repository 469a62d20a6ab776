//! Training and inference over data sets: mini-batches in a seeded order, the loss, the fused
//! backward + optimiser step, cancellation between batches (the model stays consistent: a
//! batch is either fully applied or not at all), prediction in bounded memory.

use super::kernels::Simd;
use super::loss::{check_targets, evaluate_batch, Loss, Stats, Targets};
use super::net::{check_finite, Dropout, Net, Sink, Workspace};
use super::optim::{Optimizer, State, Step};
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::rng::Rng;

/// Rows per chunk of `predict` and `evaluate`.
const INFERENCE_CHUNK: usize = 1024;

/// A data set: row-major `x` (`rows x features`) and its targets.
#[derive(Debug, Clone, Copy)]
pub struct Data<'a> {
    pub x: &'a [f32],
    pub features: usize,
    pub targets: Targets<'a>,
}

impl Data<'_> {
    pub fn rows(&self) -> usize {
        self.x.len() / self.features.max(1)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    pub loss: Loss,
    pub optimizer: Optimizer,
    pub batch_size: usize,
    /// Dropout rate on hidden nodes, in [0, 1).
    pub dropout: f32,
    /// Seeds the dropout masks (together with the step count).
    pub seed: u64,
    /// Number of independent output groups (models); 1 for one network.
    pub groups: usize,
}

/// The order of the samples in epoch `epoch` of a run seeded with `seed`.
pub fn shuffled_order(rows: usize, seed: u64, epoch: u64) -> Vec<u32> {
    Rng::new(seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15)).permutation(rows)
}

/// A network with its optimiser state and activation buffers.
#[derive(Debug, Clone)]
pub struct Model {
    net: Net,
    state: Option<State>,
    ws: Workspace,
    simd: Simd,
}

fn check_x(x: &[f32], features: usize, net: &Net) -> Result<usize> {
    let inputs = net.plan().num_inputs();
    if features != inputs {
        return invalid(format!(
            "X has {features} columns but the network has {inputs} input nodes"
        ));
    }
    if x.is_empty() {
        return invalid("X is empty: it needs at least one row");
    }
    check_finite(x, "X (flattened)")?;
    Ok(x.len() / features)
}

impl Model {
    /// A model that continues with a given optimiser state (whose per-edge slots must follow
    /// the net's in-edge order), for a network whose topology was rebuilt outside.
    pub fn with_state(net: Net, state: Option<State>) -> Result<Model> {
        if let Some(s) = &state {
            let (m, n) = (net.plan().num_edges(), net.plan().num_nodes());
            let ok = |v: &Vec<f32>, len: usize| v.is_empty() || v.len() == len;
            if !(s.weight_slots.iter().all(|v| ok(v, m)) && s.bias_slots.iter().all(|v| ok(v, n))) {
                return invalid("the optimiser state does not match the network's size");
            }
        }
        let mut model = Model::new(net);
        model.state = state;
        Ok(model)
    }

    /// The network and the optimiser state, giving up the buffers.
    pub fn into_parts(self) -> (Net, Option<State>) {
        (self.net, self.state)
    }

    /// Checks a whole data set once (finite values, shapes, targets that fit the loss), so that
    /// per-batch calls such as [`Model::batch_gradients`] need only cheap checks.
    pub fn validate_data(&self, data: &Data, loss: Loss) -> Result<usize> {
        self.check_data(data, loss, 1)
    }

    /// Gradients of one batch's mean loss with respect to every weight (in-edge order) and bias
    /// (internal order), written into `weights` and `biases`, without changing the model. A
    /// data-parallel worker computes its sparse update with this. The data set must have passed
    /// [`Model::validate_data`]; here only the batch's rows and labels are checked.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_gradients(
        &mut self,
        data: &Data,
        samples: &[u32],
        loss: Loss,
        dropout: Option<Dropout>,
        weights: &mut [f32],
        biases: &mut [f32],
    ) -> Result<Stats> {
        let rows = data.rows();
        let outputs = self.net.plan().outputs().len();
        if data.features != self.net.plan().num_inputs()
            || data.targets.num_samples() != rows
            || data.x.len() != rows * data.features
        {
            return invalid("the data set does not match the network (validate it first)");
        }
        if samples.is_empty() || samples.iter().any(|&s| s as usize >= rows) {
            return invalid("a batch needs at least one sample, each a row of X");
        }
        let targets_fit = match (loss, data.targets) {
            (Loss::CrossEntropy, Targets::Labels(labels)) => samples
                .iter()
                .all(|&s| (labels[s as usize] as usize) < outputs),
            (Loss::Mse, Targets::Values { width, .. }) => width == outputs,
            _ => false,
        };
        if !targets_fit {
            return invalid("the targets do not fit the loss and the network's outputs");
        }
        let (m, n) = (self.net.plan().num_edges(), self.net.plan().num_nodes());
        if weights.len() != m || biases.len() != n {
            return invalid("the gradient buffers do not match the network's size");
        }
        self.ws.prepare(n, samples.len());
        self.ws.fill_inputs(data.x, data.features, samples);
        self.net.forward(&mut self.ws, dropout, self.simd);
        self.ws.clear_gradients(self.net.plan().outputs());
        let mut stats = Stats::new(1);
        let (act, grad) = self.ws.activations_and_gradients();
        evaluate_batch(
            loss,
            act,
            Some(grad),
            self.net.plan().outputs(),
            1,
            samples.len(),
            samples,
            &data.targets,
            &mut stats,
        );
        self.net.backward(
            &mut self.ws,
            dropout,
            self.simd,
            Sink::Store { weights, biases },
        );
        Ok(stats)
    }

    /// One optimiser step from gradients computed elsewhere (`batch_gradients` of a worker):
    /// what a parameter server does with each update it receives.
    pub fn apply_gradients(
        &mut self,
        weight_grads: &[f32],
        bias_grads: &[f32],
        optimizer: Optimizer,
    ) -> Result<()> {
        optimizer.validate()?;
        let (m, n) = (self.net.plan().num_edges(), self.net.plan().num_nodes());
        if weight_grads.len() != m || bias_grads.len() != n {
            return invalid("the gradients do not match the network's size");
        }
        if self.state.as_ref().is_none_or(|s| s.kind != optimizer.kind) {
            self.state = Some(State::new(optimizer.kind, m, n));
        }
        let state = self.state.as_mut().expect("state set above");
        let step = Step::new(optimizer, state.steps);
        let train_bias = self.net.train_bias();
        let (weights, biases) = self.net.parameters_mut();
        apply_step(&step, weights, weight_grads, &mut state.weight_slots);
        if train_bias {
            apply_step(&step, biases, bias_grads, &mut state.bias_slots);
        }
        state.steps += 1;
        Ok(())
    }
}

/// Elementwise optimiser step over parameters with (possibly absent) state slots.
fn apply_step(step: &Step, params: &mut [f32], grads: &[f32], slots: &mut [Vec<f32>; 2]) {
    let [s0, s1] = slots;
    let (mut d0, mut d1) = (0.0, 0.0);
    for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
        let a = if s0.is_empty() { &mut d0 } else { &mut s0[i] };
        let b = if s1.is_empty() { &mut d1 } else { &mut s1[i] };
        step.update(p, g, a, b);
    }
}

impl Model {
    pub fn new(net: Net) -> Model {
        Model {
            net,
            state: None,
            ws: Workspace::default(),
            simd: Simd::detect(),
        }
    }

    /// Uses the kernels of one instruction-set level (tests, benchmarks).
    pub fn set_simd(&mut self, simd: Simd) {
        self.simd = simd;
    }

    pub fn simd(&self) -> Simd {
        self.simd
    }

    pub fn simd_name(&self) -> &'static str {
        self.simd.level().name()
    }

    pub fn net(&self) -> &Net {
        &self.net
    }

    /// The network, writable (its structure cannot change through `Net`'s methods; the
    /// workspace still forgets what it keeps of it, in case the whole net is replaced).
    pub fn net_mut(&mut self) -> &mut Net {
        self.ws.forget_structure();
        &mut self.net
    }

    /// Weights (in-edge order) and biases (internal order), writable, keeping the workspace:
    /// for callers that set every parameter often, such as a data-parallel worker.
    pub fn parameters_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        self.net.parameters_mut()
    }

    /// Forgets the optimiser state (momentum, Adam moments, step count).
    pub fn reset_optimizer(&mut self) {
        self.state = None;
    }

    pub fn optimizer_state(&self) -> Option<&State> {
        self.state.as_ref()
    }

    fn check_data(&self, data: &Data, loss: Loss, groups: usize) -> Result<usize> {
        let rows = check_x(data.x, data.features, &self.net)?;
        if data.targets.num_samples() != rows {
            return invalid(format!(
                "X has {rows} rows but y has {} samples",
                data.targets.num_samples()
            ));
        }
        if let Targets::Values { values, .. } = data.targets {
            check_finite(values, "y (flattened)")?;
        }
        check_targets(loss, &data.targets, self.net.plan().outputs().len(), groups)?;
        Ok(rows)
    }

    /// Trains on batches `first_batch..first_batch + num_batches` of `order` (batch `i` is
    /// `order[i * batch_size..]`, the last one possibly shorter). Checks for cancellation
    /// before every batch; an interrupted call has applied whole batches only.
    pub fn train_batches(
        &mut self,
        data: &Data,
        order: &[u32],
        first_batch: usize,
        num_batches: usize,
        options: &TrainOptions,
        cancel: &Cancel,
    ) -> Result<Stats> {
        let rows = self.check_data(data, options.loss, options.groups)?;
        options.optimizer.validate()?;
        if options.batch_size == 0 {
            return invalid("batch_size must be at least 1");
        }
        if !(0.0..1.0).contains(&options.dropout) {
            return invalid(format!(
                "dropout must lie in [0, 1), got {}",
                options.dropout
            ));
        }
        if let Some(&bad) = order.iter().find(|&&s| s as usize >= rows) {
            return invalid(format!("the sample order names row {bad} of {rows}"));
        }
        let plan_nodes = self.net.plan().num_nodes();
        let kind = options.optimizer.kind;
        if self.state.as_ref().is_none_or(|s| s.kind != kind) {
            self.state = Some(State::new(kind, self.net.plan().num_edges(), plan_nodes));
        }
        let mut stats = Stats::new(options.groups);
        let total_batches = order.len().div_ceil(options.batch_size);
        let last = (first_batch + num_batches).min(total_batches);
        for bi in first_batch..last {
            cancel.check()?;
            let samples =
                &order[bi * options.batch_size..((bi + 1) * options.batch_size).min(order.len())];
            let state = self.state.as_mut().expect("state set above");
            let dropout = (options.dropout > 0.0).then(|| Dropout {
                rate: options.dropout,
                key: options.seed.wrapping_mul(0xA24B_AED4_963E_E407) ^ state.steps,
            });
            self.ws.prepare(plan_nodes, samples.len());
            self.ws.fill_inputs(data.x, data.features, samples);
            self.net.forward(&mut self.ws, dropout, self.simd);
            self.ws.clear_gradients(self.net.plan().outputs());
            let (act, grad) = self.ws.activations_and_gradients();
            evaluate_batch(
                options.loss,
                act,
                Some(grad),
                self.net.plan().outputs(),
                options.groups,
                samples.len(),
                samples,
                &data.targets,
                &mut stats,
            );
            let step = Step::new(options.optimizer, state.steps);
            self.net.backward(
                &mut self.ws,
                dropout,
                self.simd,
                Sink::Apply { step, state },
            );
            state.steps += 1;
        }
        Ok(stats)
    }

    /// Loss (and accuracy counts) on a data set, without dropout.
    pub fn evaluate(
        &mut self,
        data: &Data,
        loss: Loss,
        groups: usize,
        cancel: &Cancel,
    ) -> Result<Stats> {
        let rows = self.check_data(data, loss, groups)?;
        let mut stats = Stats::new(groups);
        let all: Vec<u32> = (0..rows as u32).collect();
        for samples in all.chunks(INFERENCE_CHUNK) {
            cancel.check()?;
            self.run_forward(data.x, data.features, samples);
            evaluate_batch(
                loss,
                self.ws.activations(),
                None,
                self.net.plan().outputs(),
                groups,
                samples.len(),
                samples,
                &data.targets,
                &mut stats,
            );
        }
        Ok(stats)
    }

    fn run_forward(&mut self, x: &[f32], features: usize, samples: &[u32]) {
        self.ws.prepare(self.net.plan().num_nodes(), samples.len());
        self.ws.fill_inputs(x, features, samples);
        self.net.forward(&mut self.ws, None, self.simd);
    }

    /// Outputs for every row of `x`, row-major `rows x outputs`.
    pub fn predict(&mut self, x: &[f32], features: usize, cancel: &Cancel) -> Result<Vec<f32>> {
        let rows = check_x(x, features, &self.net)?;
        let outputs = self.net.plan().outputs().to_vec();
        let mut out = vec![0.0f32; rows * outputs.len()];
        let all: Vec<u32> = (0..rows as u32).collect();
        for (c, samples) in all.chunks(INFERENCE_CHUNK).enumerate() {
            cancel.check()?;
            self.run_forward(x, features, samples);
            for (o, &node) in outputs.iter().enumerate() {
                let row = self.ws.activation(node as usize);
                for (b, &v) in row.iter().enumerate() {
                    out[(c * INFERENCE_CHUNK + b) * outputs.len() + o] = v;
                }
            }
        }
        Ok(out)
    }

    /// Gradients of the loss (mean over all rows as one batch) with respect to every weight
    /// (user edge order) and bias (node-id order), without changing the model.
    pub fn gradients(
        &mut self,
        data: &Data,
        loss: Loss,
        groups: usize,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let rows = self.check_data(data, loss, groups)?;
        let samples: Vec<u32> = (0..rows as u32).collect();
        self.run_forward(data.x, data.features, &samples);
        self.ws.clear_gradients(self.net.plan().outputs());
        let mut stats = Stats::new(groups);
        let (act, grad) = self.ws.activations_and_gradients();
        evaluate_batch(
            loss,
            act,
            Some(grad),
            self.net.plan().outputs(),
            groups,
            rows,
            &samples,
            &data.targets,
            &mut stats,
        );
        let mut gw = vec![0.0; self.net.plan().num_edges()];
        let mut gb = vec![0.0; self.net.plan().num_nodes()];
        self.net.backward(
            &mut self.ws,
            None,
            self.simd,
            Sink::Store {
                weights: &mut gw,
                biases: &mut gb,
            },
        );
        Ok(self.net.to_user_order(&gw, &gb))
    }

    /// Bytes kept per connection while training with an optimiser keeping `slots` floats per
    /// parameter: source index, weight, optimiser state.
    pub fn bytes_per_connection(slots: usize) -> usize {
        4 + 4 + 4 * slots
    }

    pub fn workspace_bytes(&self) -> usize {
        self.ws.bytes()
    }

    /// Frees the batch buffers; the next call that needs them sizes them again.
    pub fn release_workspace(&mut self) {
        self.ws = Workspace::default();
    }
}
