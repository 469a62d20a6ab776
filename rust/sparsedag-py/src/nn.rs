//! The neural engine: `DagNetCore` (a network with its optimiser state and buffers) and helpers.
//! Argument conversion only; `sparsedag::nn` does the work, with the GIL released.

use std::sync::{Mutex, MutexGuard, TryLockError};

use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;
use sparsedag::layering::method::{layer, Method, Options};
use sparsedag::nn::{
    shuffled_order, Activation, Data, Init, Level, Loss, Model, Net, Optimizer, OptimizerKind,
    Simd, Stats, Targets, TrainOptions,
};

use crate::arrays::{node_values, to_int64_array, usize_to_int64_array};
use crate::errors::IntoPyResult;
use crate::graph::PyDag;
use crate::interrupt::{run_interruptible, run_pooled, run_small_inline};

/// A DAG network with its optimiser state; driven by `sparsedag.DagNet`.
#[pyclass(name = "DagNetCore", module = "sparsedag._core", frozen)]
pub struct PyDagNetCore {
    model: Mutex<Model>,
    /// The layering as computed or given (node-id order), kept to report and save it.
    layers: Vec<u32>,
    /// Activation code per node id.
    codes: Vec<u8>,
}

/// How the constructor gets its layering.
enum Layering {
    Method(Method),
    Given(Vec<u32>),
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

pub(crate) fn matrix<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<PyReadonlyArray2<'py, f32>> {
    let array = obj.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a numpy array, got {}",
            type_name(obj)
        ))
    })?;
    if array.ndim() != 2 {
        return Err(PyValueError::new_err(format!(
            "{name} must be two-dimensional, got shape {:?}",
            array.shape()
        )));
    }
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{name} is not C-contiguous; pass np.ascontiguousarray({name})"
        )));
    }
    array
        .cast::<PyArray2<f32>>()
        .map(|a| a.readonly())
        .map_err(|_| PyTypeError::new_err(format!("{name} must have dtype float32")))
}

fn vector_f32<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<PyReadonlyArray1<'py, f32>> {
    let array = obj
        .cast::<PyArray1<f32>>()
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a 1-D float32 numpy array")))?;
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{name} is not contiguous; pass np.ascontiguousarray({name})"
        )));
    }
    Ok(array.readonly())
}

/// Targets borrowed from Python: float32 rows (mse) or int64 labels (cross-entropy).
pub(crate) enum OwnedTargets<'py> {
    Values(PyReadonlyArray2<'py, f32>),
    Labels(Vec<u32>),
}

impl<'py> OwnedTargets<'py> {
    pub(crate) fn borrow(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(labels) = obj.cast::<PyArray1<i64>>() {
            let labels = labels.readonly();
            let converted = labels
                .as_slice()?
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    u32::try_from(c).map_err(|_| {
                        PyValueError::new_err(format!(
                            "y[{i}] = {c} is not a valid class label (labels are 0, 1, 2, ...)"
                        ))
                    })
                })
                .collect::<PyResult<Vec<u32>>>()?;
            return Ok(OwnedTargets::Labels(converted));
        }
        matrix(obj, "y").map(OwnedTargets::Values)
    }

    pub(crate) fn targets(&self) -> PyResult<Targets<'_>> {
        Ok(match self {
            OwnedTargets::Values(v) => Targets::Values {
                values: v.as_slice()?,
                width: v.shape()[1],
            },
            OwnedTargets::Labels(l) => Targets::Labels(l),
        })
    }
}

/// Data borrowed from Python for one call: X as C-contiguous float32 rows, and y.
pub(crate) struct BorrowedData<'py> {
    x: PyReadonlyArray2<'py, f32>,
    targets: OwnedTargets<'py>,
}

impl<'py> BorrowedData<'py> {
    pub(crate) fn borrow(x: &Bound<'py, PyAny>, y: &Bound<'py, PyAny>) -> PyResult<Self> {
        Ok(BorrowedData {
            x: matrix(x, "X")?,
            targets: OwnedTargets::borrow(y)?,
        })
    }

    pub(crate) fn data(&self) -> PyResult<Data<'_>> {
        Ok(Data {
            x: self.x.as_slice()?,
            features: self.x.shape()[1],
            targets: self.targets.targets()?,
        })
    }
}

pub(crate) type StatsTuple = (Vec<f64>, Vec<u64>, u64);

pub(crate) fn stats_tuple(stats: Stats) -> StatsTuple {
    (stats.loss_sum, stats.correct, stats.samples)
}

impl PyDagNetCore {
    pub(crate) fn lock(&self) -> PyResult<MutexGuard<'_, Model>> {
        // Never block while holding the GIL: the thread that owns the lock may need the GIL
        // to poll for Ctrl-C.
        self.model.try_lock().map_err(|e| match e {
            TryLockError::WouldBlock => PyRuntimeError::new_err(
                "the network is in use by another thread (training or predicting)",
            ),
            TryLockError::Poisoned(_) => PyRuntimeError::new_err("the network's lock is poisoned"),
        })
    }
}

#[pymethods]
impl PyDagNetCore {
    /// Builds the network in one call: default inputs (sources with out-edges) and outputs
    /// (sinks with in-edges) when `None`, the layering when `layers` names a method, one
    /// activation code for every node or one per node, and `output_activation` (a code) on the
    /// outputs.
    #[new]
    #[pyo3(signature = (dag, inputs, outputs, layers, activations, all_relu_alpha=0.6, init="kaiming_uniform", seed=0, bias=true, output_activation=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        dag: &PyDag,
        inputs: Option<&Bound<'_, PyAny>>,
        outputs: Option<&Bound<'_, PyAny>>,
        layers: &Bound<'_, PyAny>,
        activations: &Bound<'_, PyAny>,
        all_relu_alpha: f32,
        init: &str,
        seed: u64,
        bias: bool,
        output_activation: Option<u8>,
    ) -> PyResult<Self> {
        let g = &dag.inner;
        let n = g.num_nodes();
        let inputs = match inputs {
            Some(ids) => node_values(ids, "inputs")?,
            None => (0..n as u32)
                .filter(|&v| g.in_degree(v) == 0 && g.out_degree(v) > 0)
                .collect(),
        };
        let outputs = match outputs {
            Some(ids) => node_values(ids, "outputs")?,
            None => (0..n as u32)
                .filter(|&v| g.out_degree(v) == 0 && g.in_degree(v) > 0)
                .collect(),
        };
        let layering = match layers.cast::<PyString>() {
            Ok(name) => Layering::Method(name.to_cow()?.parse().into_py_result()?),
            Err(_) => Layering::Given(node_values(layers, "layers")?),
        };
        let mut codes = match activations.extract::<i64>() {
            Ok(code) => vec![u8::try_from(code).unwrap_or(u8::MAX); n],
            Err(_) => node_values(activations, "activations")?
                .into_iter()
                .map(|c| u8::try_from(c).unwrap_or(u8::MAX))
                .collect::<Vec<u8>>(),
        };
        if let Some(code) = output_activation {
            for &o in &outputs {
                if let Some(c) = codes.get_mut(o as usize) {
                    *c = code;
                }
            }
        }
        let init: Init = init.parse().into_py_result()?;
        // min_width layers in parallel: it needs the pool. Everything else is sequential.
        let size = if matches!(layering, Layering::Method(Method::MinWidth)) {
            usize::MAX
        } else {
            n + g.num_edges()
        };
        // A computed layering is valid by construction; only a given one is checked.
        let check_layering = matches!(layering, Layering::Given(_));
        let (net, layers) = run_small_inline(py, size, |cancel| {
            let layers = match layering {
                Layering::Method(method) => layer(g, method, Options::default(), cancel)?,
                Layering::Given(layers) => layers,
            };
            let net = Net::build(
                g,
                &inputs,
                &outputs,
                &layers,
                check_layering,
                &codes,
                all_relu_alpha,
                init,
                seed,
                bias,
            )?;
            Ok((net, layers))
        })?;
        Ok(PyDagNetCore {
            model: Mutex::new(Model::new(net)),
            layers,
            codes,
        })
    }

    /// The layer of every node as the layering gave it (node-id order).
    fn node_layers<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        to_int64_array(py, self.layers.clone())
    }

    /// The activation code of every node (node-id order).
    fn activation_codes<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.codes
            .iter()
            .map(|&c| i64::from(c))
            .collect::<Vec<i64>>()
            .into_pyarray(py)
    }

    /// The input node ids in the column order of X.
    fn input_nodes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let model = self.lock()?;
        let plan = model.net().plan();
        Ok(to_int64_array(
            py,
            plan.node_of()[..plan.num_inputs()].to_vec(),
        ))
    }

    /// The output node ids in the order of the output columns.
    fn output_nodes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let model = self.lock()?;
        let plan = model.net().plan();
        let ids = plan
            .outputs()
            .iter()
            .map(|&o| plan.node_of()[o as usize])
            .collect();
        Ok(to_int64_array(py, ids))
    }

    #[getter]
    fn num_nodes(&self) -> PyResult<usize> {
        Ok(self.lock()?.net().plan().num_nodes())
    }

    #[getter]
    fn num_edges(&self) -> PyResult<usize> {
        Ok(self.lock()?.net().plan().num_edges())
    }

    #[getter]
    fn num_inputs(&self) -> PyResult<usize> {
        Ok(self.lock()?.net().plan().num_inputs())
    }

    #[getter]
    fn num_outputs(&self) -> PyResult<usize> {
        Ok(self.lock()?.net().plan().outputs().len())
    }

    #[getter]
    fn num_layers(&self) -> PyResult<usize> {
        Ok(self.lock()?.net().plan().num_layers())
    }

    /// Number of nodes in each computed layer (inputs excluded).
    fn layer_sizes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let model = self.lock()?;
        let plan = model.net().plan();
        let sizes = (0..plan.num_layers())
            .map(|k| plan.layer(k).len())
            .collect();
        Ok(usize_to_int64_array(py, sizes))
    }

    /// Node ids in execution order (inputs first, then layer by layer).
    fn execution_order<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Ok(to_int64_array(
            py,
            self.lock()?.net().plan().node_of().to_vec(),
        ))
    }

    /// Weights in the order of `Dag.edges()`.
    fn weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let model = self.lock()?;
        Ok(py
            .detach(|| model.net().weights_user_order())
            .into_pyarray(py))
    }

    fn set_weights(&self, weights: &Bound<'_, PyAny>) -> PyResult<()> {
        let weights = vector_f32(weights, "weights")?;
        self.lock()?
            .net_mut()
            .set_weights_user_order(weights.as_slice()?)
            .into_py_result()
    }

    /// Biases by node id (inputs have none: their entries are zero).
    fn biases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(self.lock()?.net().biases_node_order().into_pyarray(py))
    }

    fn set_biases(&self, biases: &Bound<'_, PyAny>) -> PyResult<()> {
        let biases = vector_f32(biases, "biases")?;
        self.lock()?
            .net_mut()
            .set_biases_node_order(biases.as_slice()?)
            .into_py_result()
    }

    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let x = matrix(x, "X")?;
        let (rows, features) = (x.shape()[0], x.shape()[1]);
        let xs = x.as_slice()?;
        let mut guard = self.lock()?;
        let model: &mut Model = &mut guard;
        let outputs = model.net().plan().outputs().len();
        let work = rows.saturating_mul(model.net().plan().num_edges().max(1));
        let values = run_pooled(py, work, |cancel| model.predict(xs, features, cancel))?;
        numpy::ndarray::Array2::from_shape_vec((rows, outputs), values)
            .map(|a| a.into_pyarray(py))
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Trains on batches `first_batch .. first_batch + num_batches` of `order`; returns the
    /// per-group loss sums, correct counts and the number of samples seen.
    #[pyo3(signature = (x, y, order, first_batch, num_batches, batch_size, loss="mse", optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=0.0, dropout=0.0, seed=0, groups=1))]
    #[allow(clippy::too_many_arguments)]
    fn train(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        order: &Bound<'_, PyAny>,
        first_batch: usize,
        num_batches: usize,
        batch_size: usize,
        loss: &str,
        optimizer: &str,
        lr: f32,
        momentum: f32,
        weight_decay: f32,
        dropout: f32,
        seed: u64,
        groups: usize,
    ) -> PyResult<StatsTuple> {
        let borrowed = BorrowedData::borrow(x, y)?;
        let order = node_values(order, "order")?;
        let options = TrainOptions {
            loss: loss.parse::<Loss>().into_py_result()?,
            optimizer: Optimizer {
                kind: OptimizerKind::parse(optimizer, momentum).into_py_result()?,
                lr,
                weight_decay,
            },
            batch_size,
            dropout,
            seed,
            groups,
        };
        let data = borrowed.data()?;
        let mut guard = self.lock()?;
        let model: &mut Model = &mut guard;
        // Forward and backward: about three multiply-adds per edge and sample.
        let work = num_batches
            .saturating_mul(batch_size)
            .saturating_mul(3 * model.net().plan().num_edges().max(1));
        run_pooled(py, work, |cancel| {
            model.train_batches(&data, &order, first_batch, num_batches, &options, cancel)
        })
        .map(stats_tuple)
    }

    #[pyo3(signature = (x, y, loss="mse", groups=1))]
    fn evaluate(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        loss: &str,
        groups: usize,
    ) -> PyResult<StatsTuple> {
        let borrowed = BorrowedData::borrow(x, y)?;
        let loss: Loss = loss.parse().into_py_result()?;
        let data = borrowed.data()?;
        let mut guard = self.lock()?;
        let model: &mut Model = &mut guard;
        run_interruptible(py, |cancel| model.evaluate(&data, loss, groups, cancel)).map(stats_tuple)
    }

    /// Gradients of the mean loss over all rows: (weights in edge order, biases by node id).
    #[pyo3(signature = (x, y, loss="mse", groups=1))]
    #[allow(clippy::type_complexity)]
    fn gradients<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        loss: &str,
        groups: usize,
    ) -> PyResult<(Bound<'py, PyArray1<f32>>, Bound<'py, PyArray1<f32>>)> {
        let borrowed = BorrowedData::borrow(x, y)?;
        let loss: Loss = loss.parse().into_py_result()?;
        let data = borrowed.data()?;
        let mut guard = self.lock()?;
        let model: &mut Model = &mut guard;
        let (w, b) = run_interruptible(py, |_| model.gradients(&data, loss, groups))?;
        Ok((w.into_pyarray(py), b.into_pyarray(py)))
    }

    /// Forgets momentum / Adam state and the step count.
    fn reset_optimizer(&self) -> PyResult<()> {
        self.lock()?.reset_optimizer();
        Ok(())
    }

    /// The instruction set the kernels use.
    #[getter]
    fn simd_level(&self) -> PyResult<String> {
        Ok(self.lock()?.simd_name().to_string())
    }

    /// Selects the kernels of one supported instruction set (see `simd_levels()`).
    fn set_simd_level(&self, level: &str) -> PyResult<()> {
        let chosen = Level::ALL
            .into_iter()
            .find(|l| l.name() == level)
            .and_then(Simd::with_level)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "instruction set {level:?} is unknown or not supported here; \
                     supported: {}",
                    simd_levels().join(", ")
                ))
            })?;
        self.lock()?.set_simd(chosen);
        Ok(())
    }

    /// Bytes kept per connection: source index + weight + optimiser state.
    #[staticmethod]
    fn bytes_per_connection(optimizer: &str) -> PyResult<usize> {
        let kind = OptimizerKind::parse(optimizer, 0.9).into_py_result()?;
        Ok(Model::bytes_per_connection(kind.slots()))
    }
}

/// The instruction sets this machine can run, reference first.
#[pyfunction]
fn simd_levels() -> Vec<&'static str> {
    Level::ALL
        .into_iter()
        .filter(|l| l.is_supported())
        .map(|l| l.name())
        .collect()
}

/// Activation names in code order.
#[pyfunction]
fn activation_names() -> Vec<&'static str> {
    Activation::NAMES.to_vec()
}

/// The sample order of one epoch (a seeded permutation of 0..rows).
#[pyfunction]
fn shuffle_order<'py>(
    py: Python<'py>,
    rows: usize,
    seed: u64,
    epoch: u64,
) -> Bound<'py, PyArray1<i64>> {
    to_int64_array(py, shuffled_order(rows, seed, epoch))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDagNetCore>()?;
    m.add_function(wrap_pyfunction!(simd_levels, m)?)?;
    m.add_function(wrap_pyfunction!(activation_names, m)?)?;
    m.add_function(wrap_pyfunction!(shuffle_order, m)?)?;
    Ok(())
}
