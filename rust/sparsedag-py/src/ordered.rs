//! `OrderedForward`: a DagNet's forward pass planned for one order of its neurons (a
//! memory-minimising order or an I/O schedule) or of its edges (an edge schedule such as a
//! tiled one). Conversion only; `sparsedag::nn::ordered` and `ordered_edges` do the work, with
//! the GIL released.

use numpy::{IntoPyArray, PyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use sparsedag::nn::{EdgeOrderedForward, OrderedForward};

use crate::arrays::node_values;
use crate::errors::IntoPyResult;
use crate::interrupt::run_interruptible;
use crate::nn::{matrix, PyDagNetCore};

enum Planned {
    Neurons(OrderedForward),
    Edges(EdgeOrderedForward),
}

#[pyclass(name = "OrderedForward", module = "sparsedag._core", frozen)]
pub struct PyOrderedForward {
    plan: Planned,
}

#[pymethods]
impl PyOrderedForward {
    /// Plans `net`'s forward pass in `order` (node ids, every node once, topological).
    #[new]
    fn new(py: Python<'_>, net: &PyDagNetCore, order: &Bound<'_, PyAny>) -> PyResult<Self> {
        let order = node_values(order, "order")?;
        let model = net.lock()?;
        let plan = py
            .detach(|| OrderedForward::new(model.net().plan(), &order))
            .into_py_result()?;
        Ok(PyOrderedForward {
            plan: Planned::Neurons(plan),
        })
    }

    /// Plans `net`'s forward pass in the edge order `edge_ids` (indices into the graph's
    /// `edges()`, every edge once, each after all in-edges of its source).
    #[staticmethod]
    fn from_edges(
        py: Python<'_>,
        net: &PyDagNetCore,
        edge_ids: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let order = node_values(edge_ids, "edge order")?;
        let model = net.lock()?;
        let plan = py
            .detach(|| EdgeOrderedForward::new(model.net().plan(), &order))
            .into_py_result()?;
        Ok(PyOrderedForward {
            plan: Planned::Edges(plan),
        })
    }

    /// Activation rows: the inputs plus the most activations alive at once.
    #[getter]
    fn rows(&self) -> usize {
        match &self.plan {
            Planned::Neurons(p) => p.rows(),
            Planned::Edges(p) => p.rows(),
        }
    }

    /// Bytes of the net's parameters copied in this order's step order (0 until the first
    /// prediction and after `release_parameters`).
    #[getter]
    fn parameter_bytes(&self) -> usize {
        match &self.plan {
            Planned::Neurons(p) => p.parameter_bytes(),
            Planned::Edges(p) => p.parameter_bytes(),
        }
    }

    /// Frees the parameters copied in step order; the next prediction copies them again.
    fn release_parameters(&self) {
        match &self.plan {
            Planned::Neurons(p) => p.release_parameters(),
            Planned::Edges(p) => p.release_parameters(),
        }
    }

    /// Outputs of `net` for `x` (rows x inputs, float32), computed in the planned order.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        net: &PyDagNetCore,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let x = matrix(x, "X")?;
        let (rows, features) = (x.shape()[0], x.shape()[1]);
        let xs = x.as_slice()?;
        let model = net.lock()?;
        let outputs = model.net().plan().outputs().len();
        let (plan, net_ref, simd) = (&self.plan, model.net(), model.simd());
        let values = run_interruptible(py, |cancel| match plan {
            Planned::Neurons(p) => p.predict(net_ref, simd, xs, features, cancel),
            Planned::Edges(p) => p.predict(net_ref, simd, xs, features, cancel),
        })?;
        numpy::ndarray::Array2::from_shape_vec((rows, outputs), values)
            .map(|a| a.into_pyarray(py))
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyOrderedForward>()?;
    Ok(())
}
