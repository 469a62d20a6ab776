//! I/O-aware scheduling of sparse inference: simulator, bounds, schedules, generator.

use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsedag::iosched::{
    edge_ids_of_pairs, io_bounds as bounds_of, io_cost as cost_of, io_cost_edges as edge_cost_of,
    io_efficient_network_cancellable as efficient, io_schedule as schedule_of, BoundEdgePlan,
    BoundPlan, EdgeExecutionPlan, ExecutionPlan, IoCost, Method, Network,
};

use crate::arrays::{node_values, to_int64_array};
use crate::errors::IntoPyResult;
use crate::graph::PyDag;
use crate::interrupt::{progress_line, run_interruptible, run_with_progress};

fn ids(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<Vec<u32>>> {
    obj.map(|o| node_values(o, name)).transpose()
}

/// The array's values, or a `ValueError` naming it when it is not C-contiguous.
fn contiguous<'a, D: numpy::ndarray::Dimension>(
    array: &'a numpy::PyReadonlyArray<'_, f32, D>,
    name: &str,
) -> PyResult<&'a [f32]> {
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{name} must be a C-contiguous float32 array"
        )));
    }
    Ok(array.as_slice()?)
}

/// Runs an executor on `inputs` ((number of inputs, batch), neuron-major) with the GIL
/// released and Ctrl-C honoured; returns (outputs, batch).
fn run_batch<'py, F>(
    py: Python<'py>,
    inputs: &PyReadonlyArray2<'py, f32>,
    outputs: usize,
    run: F,
) -> PyResult<Bound<'py, PyArray2<f32>>>
where
    F: FnOnce(&[f32], usize, &sparsedag::cancel::Cancel) -> sparsedag::Result<Vec<f32>> + Send,
{
    let batch = inputs.shape()[1];
    let x = contiguous(inputs, "inputs")?;
    let result = run_interruptible(py, |cancel| run(x, batch, cancel))?;
    result.into_pyarray(py).reshape([outputs, batch])
}

/// Loads, stores (and weight reads) of computing the network in `order`.
#[pyfunction]
#[pyo3(signature = (dag, order, fast_memory, inputs=None, outputs=None, count_weights=false, trace=false))]
#[allow(clippy::too_many_arguments)]
fn io_cost<'py>(
    py: Python<'py>,
    dag: &PyDag,
    order: &Bound<'py, PyAny>,
    fast_memory: usize,
    inputs: Option<&Bound<'py, PyAny>>,
    outputs: Option<&Bound<'py, PyAny>>,
    count_weights: bool,
    trace: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let order = node_values(order, "order")?;
    let args = CostArgs {
        dag,
        order,
        fast_memory,
        inputs,
        outputs,
        count_weights,
        trace,
    };
    args.simulate(py, cost_of)
}

/// Loads, stores (and weight reads) of computing the network in the edge order `order`
/// (edge ids: indices into `Dag.edges()`).
#[pyfunction]
#[pyo3(signature = (dag, order, fast_memory, inputs=None, outputs=None, count_weights=false, trace=false))]
#[allow(clippy::too_many_arguments)]
fn io_cost_edges<'py>(
    py: Python<'py>,
    dag: &PyDag,
    order: &Bound<'py, PyAny>,
    fast_memory: usize,
    inputs: Option<&Bound<'py, PyAny>>,
    outputs: Option<&Bound<'py, PyAny>>,
    count_weights: bool,
    trace: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let order = node_values(order, "edge order")?;
    let args = CostArgs {
        dag,
        order,
        fast_memory,
        inputs,
        outputs,
        count_weights,
        trace,
    };
    args.simulate(py, edge_cost_of)
}

/// What both simulators take: the neuron-order and the edge-order bindings differ only in how
/// the order is read and which simulator runs.
struct CostArgs<'a, 'py> {
    dag: &'a PyDag,
    order: Vec<u32>,
    fast_memory: usize,
    inputs: Option<&'a Bound<'py, PyAny>>,
    outputs: Option<&'a Bound<'py, PyAny>>,
    count_weights: bool,
    trace: bool,
}

type Simulator = fn(
    &Network,
    &[u32],
    usize,
    bool,
    bool,
    &sparsedag::cancel::Cancel,
) -> sparsedag::Result<IoCost>;

impl<'py> CostArgs<'_, 'py> {
    fn simulate(self, py: Python<'py>, simulator: Simulator) -> PyResult<Bound<'py, PyDict>> {
        let (inputs, outputs) = (ids(self.inputs, "inputs")?, ids(self.outputs, "outputs")?);
        let net = Network::new(&self.dag.inner, inputs.as_deref(), outputs.as_deref())
            .into_py_result()?;
        let cost = run_interruptible(py, |cancel| {
            simulator(
                &net,
                &self.order,
                self.fast_memory,
                self.count_weights,
                self.trace,
                cancel,
            )
        })?;
        cost_dict(py, cost, self.trace)
    }
}

/// The edge ids of the pairs `(src[i], dst[i])`.
#[pyfunction]
fn edge_ids<'py>(
    py: Python<'py>,
    dag: &PyDag,
    src: &Bound<'py, PyAny>,
    dst: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let (src, dst) = (node_values(src, "sources")?, node_values(dst, "targets")?);
    let ids = py
        .detach(|| edge_ids_of_pairs(&dag.inner, &src, &dst))
        .into_py_result()?;
    Ok(to_int64_array(py, ids))
}

fn cost_dict(py: Python<'_>, cost: IoCost, trace: bool) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("loads", cost.loads)?;
    out.set_item("stores", cost.stores)?;
    out.set_item("weight_reads", cost.weight_reads)?;
    out.set_item("total", cost.total())?;
    if trace {
        let step: Vec<u32> = cost.trace.iter().map(|e| e.step).collect();
        let node: Vec<u32> = cost.trace.iter().map(|e| e.node).collect();
        let load: Vec<bool> = cost.trace.iter().map(|e| e.load).collect();
        out.set_item("trace_step", to_int64_array(py, step))?;
        out.set_item("trace_node", to_int64_array(py, node))?;
        out.set_item("trace_load", load.into_pyarray(py))?;
    }
    Ok(out)
}

/// Lower and upper bounds on the I/O of any schedule.
#[pyfunction]
#[pyo3(signature = (dag, fast_memory, inputs=None, outputs=None, count_weights=false))]
fn io_bounds<'py>(
    py: Python<'py>,
    dag: &PyDag,
    fast_memory: usize,
    inputs: Option<&Bound<'py, PyAny>>,
    outputs: Option<&Bound<'py, PyAny>>,
    count_weights: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (inputs, outputs) = (ids(inputs, "inputs")?, ids(outputs, "outputs")?);
    let net = Network::new(&dag.inner, inputs.as_deref(), outputs.as_deref()).into_py_result()?;
    let b = py.detach(|| bounds_of(&net, fast_memory, count_weights));
    let out = PyDict::new(py);
    out.set_item("lower", b.lower)?;
    out.set_item("lower_from_counts", b.lower_from_counts)?;
    out.set_item("upper", b.upper)?;
    out.set_item("lower_edges", b.lower_edges)?;
    out.set_item("upper_edges", b.upper_edges)?;
    out.set_item("inputs_used", b.inputs_used)?;
    out.set_item("outputs_written", b.outputs_written)?;
    out.set_item("neurons", b.neurons)?;
    out.set_item("connections", b.connections)?;
    Ok(out)
}

/// A schedule (order of all nodes, or of all edges for `tiled`) with its I/O count and
/// annealing trace.
#[pyfunction]
#[pyo3(signature = (dag, fast_memory, method="anneal", steps=0, seed=0, inputs=None, outputs=None, count_weights=false, checkpoints=16, progress_after=None))]
#[allow(clippy::too_many_arguments)]
fn io_schedule<'py>(
    py: Python<'py>,
    dag: &PyDag,
    fast_memory: usize,
    method: &str,
    steps: u64,
    seed: u64,
    inputs: Option<&Bound<'py, PyAny>>,
    outputs: Option<&Bound<'py, PyAny>>,
    count_weights: bool,
    checkpoints: usize,
    progress_after: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let method: Method = method.parse().into_py_result()?;
    let (inputs, outputs) = (ids(inputs, "inputs")?, ids(outputs, "outputs")?);
    let net = Network::new(&dag.inner, inputs.as_deref(), outputs.as_deref()).into_py_result()?;
    let line = progress_line("io_schedule", progress_after)?;
    let s = run_with_progress(py, line, |cancel| {
        schedule_of(
            &net,
            fast_memory,
            method,
            steps,
            checkpoints,
            seed,
            count_weights,
            cancel,
        )
    })?;
    let b = bounds_of(&net, fast_memory, count_weights);
    let out = PyDict::new(py);
    out.set_item("order", to_int64_array(py, s.order))?;
    out.set_item("edges", s.edges)?;
    out.set_item("block", s.block)?;
    out.set_item("io", s.io)?;
    // Each schedule is compared with the bounds of its own class.
    let (lower, upper) = if s.edges {
        (b.lower_edges, b.upper_edges)
    } else {
        (b.lower, b.upper)
    };
    out.set_item("lower", lower)?;
    out.set_item("upper", upper)?;
    out.set_item("start", s.start)?;
    let moves: Vec<i64> = s.trace.moves.iter().map(|&m| m as i64).collect();
    let io: Vec<i64> = s.trace.io.iter().map(|&m| m as i64).collect();
    out.set_item("trace_moves", moves.into_pyarray(py))?;
    out.set_item("trace_io", io.into_pyarray(py))?;
    Ok(out)
}

/// A network whose generation order does exactly the lower-bound I/O.
#[pyfunction]
#[pyo3(signature = (inputs, neurons, degree, fast_memory, seed=0))]
fn io_efficient_network<'py>(
    py: Python<'py>,
    inputs: usize,
    neurons: usize,
    degree: usize,
    fast_memory: usize,
    seed: u64,
) -> PyResult<(PyDag, Bound<'py, PyArray1<i64>>)> {
    let (dag, order) = run_interruptible(py, |cancel| {
        efficient(inputs, neurons, degree, fast_memory, seed, cancel)
    })?;
    Ok((PyDag::new(dag), to_int64_array(py, order)))
}

/// An execution plan: slots and operand rows for one order, reusable across batches.
#[pyclass(name = "IoPlan", module = "sparsedag._core", frozen)]
pub struct PyIoPlan {
    plan: ExecutionPlan,
}

#[pymethods]
impl PyIoPlan {
    #[new]
    #[pyo3(signature = (dag, order, input_ids=None, output_ids=None))]
    fn new(
        py: Python<'_>,
        dag: &PyDag,
        order: &Bound<'_, PyAny>,
        input_ids: Option<&Bound<'_, PyAny>>,
        output_ids: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let order = node_values(order, "order")?;
        let (ins, outs) = (ids(input_ids, "inputs")?, ids(output_ids, "outputs")?);
        let net = Network::new(&dag.inner, ins.as_deref(), outs.as_deref()).into_py_result()?;
        let plan = py
            .detach(|| ExecutionPlan::new(&net, &order))
            .into_py_result()?;
        Ok(PyIoPlan { plan })
    }

    /// Rows of activation memory: inputs plus the most values alive at once.
    #[getter]
    fn rows(&self) -> usize {
        self.plan.rows()
    }

    /// Runs inference; `inputs` is (number of inputs, batch), neuron-major float32.
    fn run<'py>(
        &self,
        py: Python<'py>,
        weights: PyReadonlyArray1<'py, f32>,
        inputs: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let w = contiguous(&weights, "weights")?;
        let plan = &self.plan;
        run_batch(py, &inputs, plan.num_outputs(), |x, batch, cancel| {
            plan.run(w, x, batch, cancel)
        })
    }

    /// The plan with `weights` (one per edge, in-CSR order) laid out in execution order.
    fn bind(&self, py: Python<'_>, weights: PyReadonlyArray1<'_, f32>) -> PyResult<PyIoBoundPlan> {
        let w = contiguous(&weights, "weights")?;
        let plan = &self.plan;
        let bound = py.detach(|| plan.bind(w)).into_py_result()?;
        Ok(PyIoBoundPlan { plan: bound })
    }
}

/// An execution plan with its weights bound: runs inference on inputs alone.
#[pyclass(name = "IoBoundPlan", module = "sparsedag._core", frozen)]
pub struct PyIoBoundPlan {
    plan: BoundPlan,
}

#[pymethods]
impl PyIoBoundPlan {
    /// Runs inference; `inputs` is (number of inputs, batch), neuron-major float32.
    fn run<'py>(
        &self,
        py: Python<'py>,
        inputs: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let plan = &self.plan;
        run_batch(py, &inputs, plan.num_outputs(), |x, batch, cancel| {
            plan.run(x, batch, cancel)
        })
    }
}

/// An execution plan for an edge order (edge ids): runs of edges sharing a source, a compact
/// scratch of accumulators, activation rows reused after their last reader.
#[pyclass(name = "IoEdgePlan", module = "sparsedag._core", frozen)]
pub struct PyIoEdgePlan {
    plan: EdgeExecutionPlan,
}

#[pymethods]
impl PyIoEdgePlan {
    #[new]
    #[pyo3(signature = (dag, edge_order, input_ids=None, output_ids=None))]
    fn new(
        py: Python<'_>,
        dag: &PyDag,
        edge_order: &Bound<'_, PyAny>,
        input_ids: Option<&Bound<'_, PyAny>>,
        output_ids: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let order = node_values(edge_order, "edge order")?;
        let (ins, outs) = (ids(input_ids, "inputs")?, ids(output_ids, "outputs")?);
        let net = Network::new(&dag.inner, ins.as_deref(), outs.as_deref()).into_py_result()?;
        let plan = py
            .detach(|| EdgeExecutionPlan::new(&net, &order))
            .into_py_result()?;
        Ok(PyIoEdgePlan { plan })
    }

    /// Rows of activation memory (inputs plus the most values alive at once) plus the
    /// accumulator slots.
    #[getter]
    fn rows(&self) -> usize {
        self.plan.rows()
    }

    /// Accumulator slots: the most neurons with a partial sum at once.
    #[getter]
    fn accumulators(&self) -> usize {
        self.plan.accumulator_slots()
    }

    /// Runs of consecutive edges sharing a source.
    #[getter]
    fn runs(&self) -> usize {
        self.plan.num_runs()
    }

    /// Runs inference; `inputs` is (number of inputs, batch), neuron-major float32.
    fn run<'py>(
        &self,
        py: Python<'py>,
        weights: PyReadonlyArray1<'py, f32>,
        inputs: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let w = contiguous(&weights, "weights")?;
        let plan = &self.plan;
        run_batch(py, &inputs, plan.num_outputs(), |x, batch, cancel| {
            plan.run(w, x, batch, cancel)
        })
    }

    /// The plan with `weights` (one per edge, in-CSR order) laid out in execution order.
    fn bind(
        &self,
        py: Python<'_>,
        weights: PyReadonlyArray1<'_, f32>,
    ) -> PyResult<PyIoEdgeBoundPlan> {
        let w = contiguous(&weights, "weights")?;
        let plan = &self.plan;
        let bound = py.detach(|| plan.bind(w)).into_py_result()?;
        Ok(PyIoEdgeBoundPlan { plan: bound })
    }
}

/// An edge-order execution plan with its weights bound.
#[pyclass(name = "IoEdgeBoundPlan", module = "sparsedag._core", frozen)]
pub struct PyIoEdgeBoundPlan {
    plan: BoundEdgePlan,
}

#[pymethods]
impl PyIoEdgeBoundPlan {
    /// Runs inference; `inputs` is (number of inputs, batch), neuron-major float32.
    fn run<'py>(
        &self,
        py: Python<'py>,
        inputs: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let plan = &self.plan;
        run_batch(py, &inputs, plan.num_outputs(), |x, batch, cancel| {
            plan.run(x, batch, cancel)
        })
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(io_cost, m)?)?;
    m.add_function(wrap_pyfunction!(io_cost_edges, m)?)?;
    m.add_function(wrap_pyfunction!(edge_ids, m)?)?;
    m.add_function(wrap_pyfunction!(io_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(io_schedule, m)?)?;
    m.add_function(wrap_pyfunction!(io_efficient_network, m)?)?;
    m.add_class::<PyIoPlan>()?;
    m.add_class::<PyIoBoundPlan>()?;
    m.add_class::<PyIoEdgePlan>()?;
    m.add_class::<PyIoEdgeBoundPlan>()?;
    Ok(())
}
