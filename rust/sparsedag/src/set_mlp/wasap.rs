//! WASAP-style data-parallel training (after Curci, Mocanu, Pechenizkiy 2021), in two phases
//! with a clean worker/server split, so that a multi-machine version only has to replace the
//! calls between them by messages:
//!
//! 1. **Shared phase** ([`DataParallel::train_shared`]): each of K workers holds a copy of the
//!    server's sparse model and its own data shard. In every round each worker computes the
//!    gradient of its next batch at the current server parameters (a *sparse update*: one
//!    value per existing connection); the server then applies the K updates one after another
//!    in a seeded random order. The j-th update applied was computed j - 1 updates ago, which
//!    is asynchronous SGD with staleness at most K - 1, but scheduled deterministically, so the
//!    result depends only on the seed (not on thread timing). The server evolves the topology
//!    after each epoch (the caller does, through [`SetMlp::evolve`]).
//! 2. **Local phase** ([`LocalPhase`]): each worker takes a copy of the server model, trains on
//!    its shard and evolves its own topology with its own seed. At the end the server averages
//!    the workers' weights over the union of their topologies (a connection missing in a
//!    worker counts as 0) and prunes by magnitude back to the target connection count of every
//!    layer (the count when the local phase began).

use rayon::prelude::*;

use super::model::{check_optimizer, derive, Layers, SetMlp};
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::nn::net::Dropout;
use crate::nn::{Data, Model, Stats, TrainOptions};
use crate::rng::Rng;
use crate::sparse::{prune_to_count, SparseLayer};

/// The rows of each worker: a seeded random partition into near-equal shards, fixed for the
/// whole run (each worker sees only its own data, as on separate machines).
#[derive(Debug, Clone)]
pub struct Shards {
    shards: Vec<Vec<u32>>,
    seed: u64,
}

impl Shards {
    pub fn new(rows: usize, workers: usize, seed: u64) -> Result<Shards> {
        if workers == 0 {
            return invalid("data-parallel training needs at least one worker");
        }
        if rows < workers {
            return invalid(format!(
                "{rows} samples cannot be split among {workers} workers"
            ));
        }
        let perm = Rng::new(derive(seed, 0x5EED)).permutation(rows);
        let mut shards: Vec<Vec<u32>> = vec![Vec::with_capacity(rows / workers + 1); workers];
        for (i, &r) in perm.iter().enumerate() {
            shards[i % workers].push(r);
        }
        for shard in &mut shards {
            shard.sort_unstable();
        }
        Ok(Shards { shards, seed })
    }

    pub fn workers(&self) -> usize {
        self.shards.len()
    }

    pub fn rows(&self) -> usize {
        self.shards.iter().map(Vec::len).sum()
    }

    /// Worker `k`'s samples in the order of epoch `epoch`.
    fn epoch_order(&self, k: usize, epoch: u64) -> Vec<u32> {
        let shard = &self.shards[k];
        let perm =
            Rng::new(derive(self.seed ^ derive(epoch, 1), k as u64)).permutation(shard.len());
        perm.iter().map(|&i| shard[i as usize]).collect()
    }

    /// Rounds of one shared epoch: the batch count of the largest shard.
    pub fn rounds(&self, batch_size: usize) -> usize {
        self.shards
            .iter()
            .map(|s| s.len().div_ceil(batch_size.max(1)))
            .max()
            .unwrap_or(0)
    }
}

/// A worker of the shared phase: a copy of the server model and a gradient buffer.
#[derive(Debug, Clone)]
struct Worker {
    model: Option<Model>,
    version: u64,
    weight_grads: Vec<f32>,
    bias_grads: Vec<f32>,
}

impl Worker {
    /// Takes the server's current parameters (and its topology, when that changed).
    fn sync(&mut self, server: &SetMlp) -> Result<()> {
        let net = server.model.net();
        match &mut self.model {
            Some(model) if self.version == server.version => {
                let (w, b) = model.parameters_mut();
                w.copy_from_slice(net.weights());
                b.copy_from_slice(net.biases());
            }
            _ => {
                self.model = Some(Model::new(net.clone()));
                self.version = server.version;
                self.weight_grads = vec![0.0; net.plan().num_edges()];
                self.bias_grads = vec![0.0; net.plan().num_nodes()];
            }
        }
        Ok(())
    }

    fn gradients(
        &mut self,
        data: &Data,
        samples: &[u32],
        options: &TrainOptions,
        key: u64,
    ) -> Result<Stats> {
        let dropout = (options.dropout > 0.0).then_some(Dropout {
            rate: options.dropout,
            key,
        });
        let model = self.model.as_mut().expect("synced before use");
        model.batch_gradients(
            data,
            samples,
            options.loss,
            dropout,
            &mut self.weight_grads,
            &mut self.bias_grads,
        )
    }
}

/// The shared phase: workers computing sparse updates for the server.
#[derive(Debug, Clone)]
pub struct DataParallel {
    shards: Shards,
    workers: Vec<Worker>,
    orders: Option<(u64, Vec<Vec<u32>>)>,
}

impl DataParallel {
    pub fn new(shards: Shards) -> DataParallel {
        let workers = vec![
            Worker {
                model: None,
                version: u64::MAX,
                weight_grads: Vec::new(),
                bias_grads: Vec::new(),
            };
            shards.workers()
        ];
        DataParallel {
            shards,
            workers,
            orders: None,
        }
    }

    pub fn shards(&self) -> &Shards {
        &self.shards
    }

    /// Rounds `first_round..first_round + num_rounds` of shared epoch `epoch`; checks for
    /// cancellation before every round (a round is applied whole or not at all).
    #[allow(clippy::too_many_arguments)]
    pub fn train_shared(
        &mut self,
        server: &mut SetMlp,
        data: &Data,
        epoch: u64,
        first_round: usize,
        num_rounds: usize,
        options: &TrainOptions,
        cancel: &Cancel,
    ) -> Result<Stats> {
        check_optimizer(options)?;
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
        if data.rows() != self.shards.rows() {
            return invalid(format!(
                "the shards cover {} rows but X has {}",
                self.shards.rows(),
                data.rows()
            ));
        }
        server.model.validate_data(data, options.loss)?;
        if self.orders.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let orders = (0..self.shards.workers())
                .map(|k| self.shards.epoch_order(k, epoch))
                .collect();
            self.orders = Some((epoch, orders));
        }
        let orders = &self.orders.as_ref().expect("set above").1;
        let batch = options.batch_size;
        let last = (first_round + num_rounds).min(self.shards.rounds(batch));
        let mut stats = Stats::new(1);
        for round in first_round..last {
            cancel.check()?;
            let server_ref: &SetMlp = server;
            let results: Vec<Option<Stats>> = self
                .workers
                .par_iter_mut()
                .zip(orders)
                .enumerate()
                .map(|(k, (worker, order))| {
                    let start = round * batch;
                    if start >= order.len() {
                        return Ok(None);
                    }
                    let samples = &order[start..(start + batch).min(order.len())];
                    worker.sync(server_ref)?;
                    let key = derive(options.seed ^ derive(epoch, round as u64), k as u64);
                    worker.gradients(data, samples, options, key).map(Some)
                })
                .collect::<Result<_>>()?;
            let active: Vec<usize> = (0..results.len())
                .filter(|&k| results[k].is_some())
                .collect();
            let arrival = Rng::new(derive(options.seed ^ derive(epoch, 2), round as u64))
                .permutation(active.len());
            for &a in &arrival {
                let worker = &self.workers[active[a as usize]];
                server.model.apply_gradients(
                    &worker.weight_grads,
                    &worker.bias_grads,
                    options.optimizer,
                )?;
            }
            for s in results.iter().flatten() {
                stats.add(s);
            }
        }
        Ok(stats)
    }
}

/// The local phase: every worker trains and evolves its own copy on its shard.
#[derive(Debug, Clone)]
pub struct LocalPhase {
    locals: Vec<SetMlp>,
    targets: Vec<usize>,
    shards: Shards,
}

impl LocalPhase {
    /// Every worker starts from the server's model; the server's per-layer connection counts
    /// become the targets of the final merge.
    pub fn start(server: &SetMlp, shards: Shards) -> LocalPhase {
        LocalPhase {
            locals: vec![server.clone(); shards.workers()],
            targets: server.layer_connections(),
            shards,
        }
    }

    /// One local epoch on every worker (in parallel), then, when `evolve` is given as
    /// `(zeta, evolve_output_layer, seed)`, a local evolution step with a per-worker seed.
    pub fn epoch(
        &mut self,
        data: &Data,
        epoch: u64,
        options: &TrainOptions,
        evolve: Option<(f64, bool, u64)>,
        cancel: &Cancel,
    ) -> Result<Stats> {
        check_optimizer(options)?;
        let shards = &self.shards;
        let results = self
            .locals
            .par_iter_mut()
            .enumerate()
            .map(|(k, local)| {
                let order = shards.epoch_order(k, epoch);
                let worker_options = TrainOptions {
                    seed: derive(options.seed, k as u64),
                    ..*options
                };
                let batches = order.len().div_ceil(options.batch_size.max(1));
                let stats =
                    local.train_batches(data, &order, 0, batches, &worker_options, cancel)?;
                if let Some((zeta, output, seed)) = evolve {
                    local.evolve(zeta, output, derive(seed, k as u64), cancel)?;
                }
                Ok(stats)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut stats = Stats::new(1);
        for s in &results {
            stats.add(s);
        }
        Ok(stats)
    }

    /// Averages the workers into `server` (union of topologies, missing = 0), then prunes every
    /// layer by magnitude back to its target connection count.
    pub fn merge(&self, server: &mut SetMlp) -> Result<()> {
        let parts: Vec<Layers> = self.locals.iter().map(SetMlp::to_layers).collect();
        let count = parts.len() as f32;
        let num_layers = parts[0].layers.len();
        let layers = (0..num_layers)
            .into_par_iter()
            .map(|l| {
                let members: Vec<&SparseLayer> = parts.iter().map(|p| &p.layers[l]).collect();
                let mut merged = average_union(&members, count);
                prune_to_count(&mut merged, self.targets[l]);
                merged
            })
            .collect();
        let average = |f: fn(&Layers) -> &Vec<f32>| -> Vec<f32> {
            let mut out = vec![0.0; f(&parts[0]).len()];
            for p in &parts {
                for (o, v) in out.iter_mut().zip(f(p)) {
                    *o += v / count;
                }
            }
            out
        };
        let merged = Layers {
            layers,
            biases: average(|p| &p.biases),
            bias_momentum: average(|p| &p.bias_momentum),
            state: parts[0].state,
        };
        server.rebuild(merged)
    }
}

/// The union of the members' connections, weights and momentum summed and divided by `count`.
fn average_union(members: &[&SparseLayer], count: f32) -> SparseLayer {
    let first = members[0];
    let mut out = SparseLayer {
        n_in: first.n_in,
        n_out: first.n_out,
        offsets: vec![0],
        indices: Vec::new(),
        weights: Vec::new(),
        momentum: Vec::new(),
    };
    let mut row: Vec<(u32, f32, f32)> = Vec::new();
    for j in 0..first.n_out {
        row.clear();
        for m in members {
            for p in m.row(j) {
                row.push((m.indices[p], m.weights[p], m.momentum[p]));
            }
        }
        row.sort_by_key(|e| e.0);
        for &(i, w, v) in &row {
            if out.indices.len() as u64 > *out.offsets.last().expect("offsets start at 0")
                && out.indices.last() == Some(&i)
            {
                *out.weights.last_mut().expect("non-empty") += w / count;
                *out.momentum.last_mut().expect("non-empty") += v / count;
            } else {
                out.indices.push(i);
                out.weights.push(w / count);
                out.momentum.push(v / count);
            }
        }
        out.offsets.push(out.indices.len() as u64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_average_and_magnitude_pruning() {
        let a = SparseLayer::from_parts(
            3,
            2,
            vec![0, 2, 3],
            vec![0, 2, 1],
            vec![1.0, -4.0, 2.0],
            vec![0.0; 3],
        )
        .unwrap();
        let b = SparseLayer::from_parts(
            3,
            2,
            vec![0, 1, 3],
            vec![0, 0, 2],
            vec![3.0, 6.0, 0.5],
            vec![0.0; 3],
        )
        .unwrap();
        let mut m = average_union(&[&a, &b], 2.0);
        m.check().unwrap();
        assert_eq!(m.indices, vec![0, 2, 0, 1, 2]);
        assert_eq!(m.weights, vec![2.0, -2.0, 3.0, 1.0, 0.25]);
        prune_to_count(&mut m, 3);
        m.check().unwrap();
        assert_eq!(m.weights, vec![2.0, -2.0, 3.0]);
        assert_eq!(m.offsets, vec![0, 2, 3]);
    }

    #[test]
    fn shards_partition_the_rows() {
        let s = Shards::new(10, 3, 1).unwrap();
        let mut all: Vec<u32> = s.shards.concat();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(s.rounds(2), 2);
        assert!(Shards::new(2, 3, 1).is_err());
    }
}
