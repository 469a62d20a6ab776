//! Peak memory of orders and memory-minimising orders.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use sparsedag::memory::{
    exact_order, greedy_order_cancellable, min_memory_order, peak_lower_bound,
    peak_memory as peak_of, profile as profile_of, Effort, GreedyRule, Model, Problem,
};

use crate::arrays::{borrow_f64, node_values, to_int64_array};
use crate::errors::IntoPyResult;
use crate::graph::PyDag;
use crate::interrupt::{progress_line, run_with_progress};

/// Peak memory of `order`, and with `profile=True` also the memory during each step.
#[pyfunction]
#[pyo3(signature = (dag, order, sizes, model="coexist", profile=false))]
fn peak_memory<'py>(
    py: Python<'py>,
    dag: &PyDag,
    order: &Bound<'py, PyAny>,
    sizes: &Bound<'py, PyAny>,
    model: &str,
    profile: bool,
) -> PyResult<(f64, Option<Bound<'py, PyArray1<f64>>>)> {
    let model: Model = model.parse().into_py_result()?;
    let order = node_values(order, "order")?;
    let sizes = borrow_f64(sizes, "sizes")?;
    let sizes = sizes.as_slice()?;
    let problem = Problem::new(&dag.inner, sizes, model).into_py_result()?;
    if profile {
        let steps = py
            .detach(|| profile_of(&problem, &order))
            .into_py_result()?;
        let peak = steps.iter().copied().fold(0.0, f64::max);
        Ok((peak, Some(steps.into_pyarray(py))))
    } else {
        let peak = py.detach(|| peak_of(&problem, &order)).into_py_result()?;
        Ok((peak, None))
    }
}

/// A memory-aware topological order: "min_memory", "exact" or one greedy rule.
#[pyfunction]
#[pyo3(signature = (dag, method, sizes, model="coexist", effort=1.0, seed=0, max_states=2_000_000, progress_after=None))]
#[allow(clippy::too_many_arguments)]
fn memory_order<'py>(
    py: Python<'py>,
    dag: &PyDag,
    method: &str,
    sizes: &Bound<'py, PyAny>,
    model: &str,
    effort: f64,
    seed: u64,
    max_states: usize,
    progress_after: Option<f64>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let model: Model = model.parse().into_py_result()?;
    let sizes = borrow_f64(sizes, "sizes")?;
    let sizes = sizes.as_slice()?;
    let g = &dag.inner;
    let problem = Problem::new(g, sizes, model).into_py_result()?;
    let effort = Effort::scaled(effort, g.num_nodes()).into_py_result()?;
    let line = progress_line("topological_order", progress_after)?;
    let order = match method {
        "min_memory" => run_with_progress(py, line, |cancel| {
            min_memory_order(&problem, effort, seed, cancel)
        })?,
        "exact" => run_with_progress(py, line, |cancel| exact_order(&problem, max_states, cancel))?,
        rule => {
            let rule = GreedyRule::from_name(rule).into_py_result()?;
            run_with_progress(py, line, |cancel| {
                greedy_order_cancellable(&problem, rule, cancel)
            })?
        }
    };
    Ok(to_int64_array(py, order))
}

/// A lower bound on the peak memory of every topological order (minimum cuts).
#[pyfunction]
#[pyo3(signature = (dag, sizes, model="coexist", progress_after=None))]
fn peak_memory_lower_bound<'py>(
    py: Python<'py>,
    dag: &PyDag,
    sizes: &Bound<'py, PyAny>,
    model: &str,
    progress_after: Option<f64>,
) -> PyResult<f64> {
    let model: Model = model.parse().into_py_result()?;
    let sizes = borrow_f64(sizes, "sizes")?;
    let sizes = sizes.as_slice()?;
    let problem = Problem::new(&dag.inner, sizes, model).into_py_result()?;
    let line = progress_line("peak_memory_lower_bound", progress_after)?;
    run_with_progress(py, line, |cancel| peak_lower_bound(&problem, cancel))
}

/// Names of the memory-aware order methods.
#[pyfunction]
fn memory_order_methods() -> Vec<&'static str> {
    let mut names = vec!["min_memory", "exact"];
    names.extend(GreedyRule::ALL.iter().map(|r| r.name()));
    names
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(peak_memory, m)?)?;
    m.add_function(wrap_pyfunction!(memory_order, m)?)?;
    m.add_function(wrap_pyfunction!(memory_order_methods, m)?)?;
    m.add_function(wrap_pyfunction!(peak_memory_lower_bound, m)?)?;
    Ok(())
}
