//! Layering entry points.

use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsedag::layering::{layering_metrics as metrics_of, method, promote_cancellable};

use crate::arrays::{node_values, to_int64_array};
use crate::errors::IntoPyResult;
use crate::graph::PyDag;
use crate::interrupt::{progress_line, run_interruptible, run_with_progress};

#[pyfunction]
#[pyo3(signature = (dag, method="longest_path", width=None, promote=false, progress_after=None))]
fn layering<'py>(
    py: Python<'py>,
    dag: &PyDag,
    method: &str,
    width: Option<usize>,
    promote: bool,
    progress_after: Option<f64>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let chosen: method::Method = method.parse().into_py_result()?;
    let options = method::Options { width, promote };
    let g = &dag.inner;
    let line = progress_line("layering", progress_after)?;
    let layers = run_with_progress(py, line, |cancel| method::layer(g, chosen, options, cancel))?;
    Ok(to_int64_array(py, layers))
}

/// Node promotion: lowers the dummy count of any valid layering.
#[pyfunction]
fn promote_layering<'py>(
    py: Python<'py>,
    dag: &PyDag,
    layers: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let layers = node_values(layers, "layers")?;
    let g = &dag.inner;
    let promoted = run_interruptible(py, |cancel| promote_cancellable(g, &layers, cancel))?;
    Ok(to_int64_array(py, promoted))
}

#[pyfunction]
fn layering_methods() -> Vec<&'static str> {
    method::Method::ALL.iter().map(|m| m.name()).collect()
}

#[pyfunction]
fn layering_metrics<'py>(
    py: Python<'py>,
    dag: &PyDag,
    layers: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let layers = node_values(layers, "layers")?;
    let g = &dag.inner;
    let m = py.detach(|| metrics_of(g, &layers)).into_py_result()?;
    let out = PyDict::new(py);
    out.set_item("height", m.height)?;
    out.set_item("width", m.width)?;
    out.set_item("width_with_dummies", m.width_with_dummies)?;
    out.set_item("dummies", m.dummies)?;
    out.set_item("total_span", m.total_span)?;
    Ok(out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(layering, m)?)?;
    m.add_function(wrap_pyfunction!(layering_methods, m)?)?;
    m.add_function(wrap_pyfunction!(promote_layering, m)?)?;
    m.add_function(wrap_pyfunction!(layering_metrics, m)?)?;
    Ok(())
}
