//! Sparse MLPs trained with SET: `SetMlpCore`, driven by `sparsedag.SparseMLPClassifier` and
//! `SparseMLPRegressor`. Argument conversion only; `sparsedag::set_mlp` does the work, with the
//! GIL released and Ctrl-C honoured between batches.

use std::sync::{Mutex, MutexGuard, TryLockError};

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use sparsedag::nn::{Activation, Loss, Optimizer, OptimizerKind, TrainOptions};
use sparsedag::set_mlp::{DataParallel, LocalPhase, SetMlp, SetSpec, Shards};
use sparsedag::sparse::{Init, SparseLayer};

use crate::arrays::usize_to_int64_array;
use crate::errors::IntoPyResult;
use crate::interrupt::run_interruptible;
use crate::nn::{matrix, stats_tuple, BorrowedData, StatsTuple};

struct Trainer {
    set: SetMlp,
    shared: Option<DataParallel>,
    local: Option<LocalPhase>,
}

#[pyclass(name = "SetMlpCore", module = "sparsedag._core", frozen)]
pub struct PySetMlpCore {
    trainer: Mutex<Trainer>,
}

fn activation_code(name: &str) -> PyResult<u8> {
    Activation::NAMES
        .iter()
        .position(|&n| n == name)
        .map(|c| c as u8)
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown activation {name:?}; choose one of {}",
                Activation::NAMES.join(", ")
            ))
        })
}

#[allow(clippy::too_many_arguments)]
fn train_options(
    loss: &str,
    batch_size: usize,
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    dropout: f32,
    seed: u64,
) -> PyResult<TrainOptions> {
    Ok(TrainOptions {
        loss: loss.parse::<Loss>().into_py_result()?,
        optimizer: Optimizer {
            kind: OptimizerKind::Momentum { momentum },
            lr,
            weight_decay,
        },
        batch_size,
        dropout,
        seed,
        groups: 1,
    })
}

type LayerArrays<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray1<f32>>,
);

impl PySetMlpCore {
    fn lock(&self) -> PyResult<MutexGuard<'_, Trainer>> {
        self.trainer.try_lock().map_err(|e| match e {
            TryLockError::WouldBlock => {
                PyRuntimeError::new_err("the network is in use by another thread")
            }
            TryLockError::Poisoned(_) => PyRuntimeError::new_err("the network's lock is poisoned"),
        })
    }

    fn wrap(set: SetMlp) -> Self {
        PySetMlpCore {
            trainer: Mutex::new(Trainer {
                set,
                shared: None,
                local: None,
            }),
        }
    }
}

#[pymethods]
impl PySetMlpCore {
    /// A new network: `sizes` = (inputs, hidden..., outputs), Erdős–Rényi layers.
    #[new]
    #[pyo3(signature = (sizes, epsilon=20.0, init="he_uniform_neuron", activation="all_relu", alpha=0.6, seed=0))]
    fn new(
        py: Python<'_>,
        sizes: Vec<usize>,
        epsilon: f64,
        init: &str,
        activation: &str,
        alpha: f32,
        seed: u64,
    ) -> PyResult<Self> {
        let spec = SetSpec {
            sizes,
            epsilon,
            init: init.parse::<Init>().into_py_result()?,
            hidden_activation: activation_code(activation)?,
            alpha,
            seed,
        };
        let set = run_interruptible(py, |cancel| SetMlp::new(&spec, cancel))?;
        Ok(Self::wrap(set))
    }

    /// A network from saved layers `(n_in, n_out, offsets, indices, weights)` and biases by
    /// neuron id.
    #[staticmethod]
    #[pyo3(signature = (layers, biases, init="he_uniform_neuron", activation="all_relu", alpha=0.6))]
    #[allow(clippy::type_complexity)]
    fn from_layers(
        layers: Vec<(
            usize,
            usize,
            PyReadonlyArray1<'_, i64>,
            PyReadonlyArray1<'_, i64>,
            PyReadonlyArray1<'_, f32>,
        )>,
        biases: PyReadonlyArray1<'_, f32>,
        init: &str,
        activation: &str,
        alpha: f32,
    ) -> PyResult<Self> {
        let mut parts = Vec::with_capacity(layers.len());
        for (n_in, n_out, offsets, indices, weights) in layers {
            let offsets = offsets
                .as_slice()?
                .iter()
                .map(|&o| u64::try_from(o))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| PyValueError::new_err("offsets must be non-negative"))?;
            let indices = indices
                .as_slice()?
                .iter()
                .map(|&i| u32::try_from(i))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| PyValueError::new_err("indices must lie in 0..2**32"))?;
            let weights = weights.as_slice()?.to_vec();
            let momentum = vec![0.0; weights.len()];
            parts.push(
                SparseLayer::from_parts(n_in, n_out, offsets, indices, weights, momentum)
                    .into_py_result()?,
            );
        }
        let set = SetMlp::from_parts(
            parts,
            biases.as_slice()?.to_vec(),
            activation_code(activation)?,
            alpha,
            init.parse::<Init>().into_py_result()?,
        )
        .into_py_result()?;
        Ok(Self::wrap(set))
    }

    /// Layer widths: inputs, hidden layers, outputs.
    fn sizes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Ok(usize_to_int64_array(py, self.lock()?.set.sizes().to_vec()))
    }

    fn layer_connections<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Ok(usize_to_int64_array(
            py,
            self.lock()?.set.layer_connections(),
        ))
    }

    #[getter]
    fn num_connections(&self) -> PyResult<usize> {
        Ok(self.lock()?.set.num_connections())
    }

    #[getter]
    fn num_hidden_neurons(&self) -> PyResult<usize> {
        Ok(self.lock()?.set.num_hidden_neurons())
    }

    /// Heap bytes of the network: (per-connection state, per-neuron state, batch workspace).
    fn memory(&self) -> PyResult<(usize, usize, usize)> {
        let m = self.lock()?.set.memory();
        Ok((m.connection_bytes, m.neuron_bytes, m.workspace_bytes))
    }

    /// Frees the batch buffers that `train` keeps between its calls (the end of a fit).
    fn release_workspace(&self) -> PyResult<()> {
        self.lock()?.set.release_workspace();
        return_free_memory();
        Ok(())
    }

    /// Layer `l` as CSR by output neuron: (offsets, indices, weights, momentum).
    fn layer<'py>(&self, py: Python<'py>, l: usize) -> PyResult<LayerArrays<'py>> {
        let layer = self.lock()?.set.layer(l).into_py_result()?;
        let to_i64 = |v: Vec<i64>| v.into_pyarray(py);
        Ok((
            to_i64(layer.offsets.iter().map(|&o| o as i64).collect()),
            to_i64(layer.indices.iter().map(|&i| i as i64).collect()),
            layer.weights.into_pyarray(py),
            layer.momentum.into_pyarray(py),
        ))
    }

    /// Biases by neuron id (inputs included, always zero).
    fn biases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(self.lock()?.set.biases().to_vec().into_pyarray(py))
    }

    /// Trains on batches `first_batch .. first_batch + num_batches` of `order` with SGD and
    /// momentum; returns the loss sums, correct counts and samples seen.
    #[pyo3(signature = (x, y, order, first_batch, num_batches, batch_size, loss, lr, momentum, weight_decay, dropout, seed))]
    #[allow(clippy::too_many_arguments)]
    fn train(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        order: PyReadonlyArray1<'_, i64>,
        first_batch: usize,
        num_batches: usize,
        batch_size: usize,
        loss: &str,
        lr: f32,
        momentum: f32,
        weight_decay: f32,
        dropout: f32,
        seed: u64,
    ) -> PyResult<StatsTuple> {
        let borrowed = BorrowedData::borrow(x, y)?;
        let order: Vec<u32> = order
            .as_slice()?
            .iter()
            .map(|&i| u32::try_from(i))
            .collect::<Result<_, _>>()
            .map_err(|_| PyValueError::new_err("order must hold row numbers"))?;
        let options = train_options(loss, batch_size, lr, momentum, weight_decay, dropout, seed)?;
        let data = borrowed.data()?;
        let mut guard = self.lock()?;
        let set = &mut guard.set;
        run_interruptible(py, |cancel| {
            set.train_batches(&data, &order, first_batch, num_batches, &options, cancel)
        })
        .map(stats_tuple)
    }

    /// One SET evolution step; returns the number of connections replaced.
    fn evolve(
        &self,
        py: Python<'_>,
        zeta: f64,
        evolve_output_layer: bool,
        seed: u64,
    ) -> PyResult<usize> {
        let mut guard = self.lock()?;
        let set = &mut guard.set;
        run_interruptible(py, |cancel| {
            set.evolve(zeta, evolve_output_layer, seed, cancel)
        })
    }

    /// Importance pruning at `percentile`; returns the number of neurons removed.
    fn importance_prune(&self, py: Python<'_>, percentile: f64) -> PyResult<usize> {
        let mut guard = self.lock()?;
        let set = &mut guard.set;
        run_interruptible(py, |cancel| set.importance_prune(percentile, cancel))
    }

    #[pyo3(signature = (x, y, loss))]
    fn evaluate(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        loss: &str,
    ) -> PyResult<StatsTuple> {
        let borrowed = BorrowedData::borrow(x, y)?;
        let loss: Loss = loss.parse().into_py_result()?;
        let data = borrowed.data()?;
        let mut guard = self.lock()?;
        let set = &mut guard.set;
        run_interruptible(py, |cancel| set.evaluate(&data, loss, cancel)).map(stats_tuple)
    }

    /// Output activations, shape (rows, outputs).
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let x = matrix(x, "X")?;
        let (rows, features) = (x.shape()[0], x.shape()[1]);
        let xs = x.as_slice()?;
        let mut guard = self.lock()?;
        let set = &mut guard.set;
        let outputs = *set.sizes().last().expect("at least two layers");
        let values = run_interruptible(py, |cancel| set.predict(xs, features, cancel))?;
        numpy::ndarray::Array2::from_shape_vec((rows, outputs), values)
            .map(|a| a.into_pyarray(py))
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Starts data-parallel training: `workers` fixed, seeded shards of `rows` samples.
    fn start_data_parallel(&self, rows: usize, workers: usize, seed: u64) -> PyResult<()> {
        let shards = Shards::new(rows, workers, seed).into_py_result()?;
        let mut guard = self.lock()?;
        guard.shared = Some(DataParallel::new(shards));
        guard.local = None;
        Ok(())
    }

    /// Rounds of one shared epoch at this batch size.
    fn shared_rounds(&self, batch_size: usize) -> PyResult<usize> {
        let guard = self.lock()?;
        match &guard.shared {
            Some(dp) => Ok(dp.shards().rounds(batch_size)),
            None => Err(PyRuntimeError::new_err("call start_data_parallel first")),
        }
    }

    /// Rounds of the shared (parameter-server) phase.
    #[pyo3(signature = (x, y, epoch, first_round, num_rounds, batch_size, loss, lr, momentum, weight_decay, dropout, seed))]
    #[allow(clippy::too_many_arguments)]
    fn train_shared(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        epoch: u64,
        first_round: usize,
        num_rounds: usize,
        batch_size: usize,
        loss: &str,
        lr: f32,
        momentum: f32,
        weight_decay: f32,
        dropout: f32,
        seed: u64,
    ) -> PyResult<StatsTuple> {
        let borrowed = BorrowedData::borrow(x, y)?;
        let options = train_options(loss, batch_size, lr, momentum, weight_decay, dropout, seed)?;
        let data = borrowed.data()?;
        let mut guard = self.lock()?;
        let Trainer { set, shared, .. } = &mut *guard;
        let dp = shared
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("call start_data_parallel first"))?;
        run_interruptible(py, |cancel| {
            dp.train_shared(set, &data, epoch, first_round, num_rounds, &options, cancel)
        })
        .map(stats_tuple)
    }

    /// One epoch of the local phase on every worker (started on first use), each followed by
    /// a local evolution step when `evolve` is true.
    #[pyo3(signature = (x, y, epoch, batch_size, loss, lr, momentum, weight_decay, dropout, seed, evolve, zeta, evolve_output_layer))]
    #[allow(clippy::too_many_arguments)]
    fn train_local(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        epoch: u64,
        batch_size: usize,
        loss: &str,
        lr: f32,
        momentum: f32,
        weight_decay: f32,
        dropout: f32,
        seed: u64,
        evolve: bool,
        zeta: f64,
        evolve_output_layer: bool,
    ) -> PyResult<StatsTuple> {
        let borrowed = BorrowedData::borrow(x, y)?;
        let options = train_options(loss, batch_size, lr, momentum, weight_decay, dropout, seed)?;
        let data = borrowed.data()?;
        let mut guard = self.lock()?;
        let Trainer { set, shared, local } = &mut *guard;
        if local.is_none() {
            let dp = shared
                .as_ref()
                .ok_or_else(|| PyRuntimeError::new_err("call start_data_parallel first"))?;
            *local = Some(LocalPhase::start(set, dp.shards().clone()));
        }
        let phase = local.as_mut().expect("started above");
        let evolution = evolve.then_some((zeta, evolve_output_layer, seed ^ epoch));
        run_interruptible(py, |cancel| {
            phase.epoch(&data, epoch, &options, evolution, cancel)
        })
        .map(stats_tuple)
    }

    /// Drops the data-parallel state (shards, and the workers' copies of the network) without
    /// merging anything into the model: the end of a fit that failed.
    fn abandon_data_parallel(&self) -> PyResult<()> {
        let mut guard = self.lock()?;
        guard.shared = None;
        guard.local = None;
        Ok(())
    }

    /// Ends data-parallel training: averages the local workers (if any) into the model and
    /// prunes back to the target connection counts.
    fn finish_data_parallel(&self, py: Python<'_>) -> PyResult<bool> {
        let mut guard = self.lock()?;
        let Trainer { set, shared, local } = &mut *guard;
        *shared = None;
        set.release_workspace();
        match local.take() {
            Some(phase) => {
                run_interruptible(py, |_| phase.merge(set))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Hands the pages glibc keeps in its free lists back to the system. The batch buffers of a
/// mid-sized network (tens of MiB each) are allocated on the heaps of the worker threads, below
/// glibc's mmap threshold, so freeing them alone would not lower the process's RSS.
fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only releases free memory; it takes no pointers.
        unsafe {
            malloc_trim(0);
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySetMlpCore>()
}
