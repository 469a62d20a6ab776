//! Topological order entry points.

use numpy::PyArray1;
use pyo3::prelude::*;
use sparsedag::order;

use crate::arrays::{borrow_f64, node_values, to_int64_array, usize_to_int64_array};
use crate::errors::IntoPyResult;
use crate::graph::PyDag;

#[pyfunction]
#[pyo3(signature = (dag, method="kahn", key=None))]
fn topological_order<'py>(
    py: Python<'py>,
    dag: &PyDag,
    method: &str,
    key: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let chosen: order::Method = method.parse().into_py_result()?;
    let key = key.map(|k| borrow_f64(k, "key")).transpose()?;
    let key_slice = key.as_ref().map(|k| k.as_slice()).transpose()?;
    let g = &dag.inner;
    let result = py
        .detach(|| order::order(g, chosen, key_slice))
        .into_py_result()?;
    Ok(to_int64_array(py, result))
}

#[pyfunction]
fn order_methods() -> Vec<&'static str> {
    order::Method::ALL.iter().map(|m| m.name()).collect()
}

/// Generations as CSR: (offsets, nodes); generation g is nodes[offsets[g]:offsets[g+1]].
#[pyfunction]
fn topological_generations<'py>(
    py: Python<'py>,
    dag: &PyDag,
) -> (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>) {
    let g = &dag.inner;
    let (offsets, nodes) = py.detach(|| order::generations(g));
    (usize_to_int64_array(py, offsets), to_int64_array(py, nodes))
}

#[pyfunction]
fn check_order(py: Python<'_>, dag: &PyDag, order: &Bound<'_, PyAny>) -> PyResult<()> {
    let order = node_values(order, "order")?;
    let g = &dag.inner;
    py.detach(|| order::check_order(g, &order)).into_py_result()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(topological_order, m)?)?;
    m.add_function(wrap_pyfunction!(order_methods, m)?)?;
    m.add_function(wrap_pyfunction!(topological_generations, m)?)?;
    m.add_function(wrap_pyfunction!(check_order, m)?)?;
    Ok(())
}
