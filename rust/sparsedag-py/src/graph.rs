//! The `Dag` class and the graph generators.

use std::sync::Arc;

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use sparsedag::graph::generators;
use sparsedag::{Dag, DuplicatePolicy};

use crate::arrays::{to_int64_array, IdArray};
use crate::errors::IntoPyResult;
use crate::interrupt::{run_interruptible, run_small_inline};

/// A validated directed acyclic graph with nodes 0..num_nodes, stored as CSR both ways.
#[pyclass(name = "Dag", module = "sparsedag._core", frozen)]
pub struct PyDag {
    pub inner: Arc<Dag>,
}

impl PyDag {
    pub fn new(dag: Dag) -> Self {
        PyDag {
            inner: Arc::new(dag),
        }
    }
}

#[pymethods]
impl PyDag {
    /// Builds a DAG from integer id arrays, borrowing them without a copy.
    #[staticmethod]
    #[pyo3(signature = (src, dst, num_nodes=None, duplicates="reject"))]
    fn from_edges(
        py: Python<'_>,
        src: &Bound<'_, PyAny>,
        dst: &Bound<'_, PyAny>,
        num_nodes: Option<u64>,
        duplicates: &str,
    ) -> PyResult<Self> {
        let policy: DuplicatePolicy = duplicates.parse().into_py_result()?;
        let src = IdArray::borrow(src, "src")?;
        let dst = IdArray::borrow(dst, "dst")?;
        macro_rules! build {
            ($s:expr, $d:expr) => {{
                let (s, d) = ($s.as_slice()?, $d.as_slice()?);
                run_small_inline(py, s.len(), |_| Dag::from_edges(s, d, num_nodes, policy))?
            }};
        }
        let dag = match (&src, &dst) {
            (IdArray::I64(s), IdArray::I64(d)) => build!(s, d),
            (IdArray::I32(s), IdArray::I32(d)) => build!(s, d),
            (IdArray::U32(s), IdArray::U32(d)) => build!(s, d),
            (IdArray::U64(s), IdArray::U64(d)) => build!(s, d),
            _ => {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "src and dst must have the same dtype",
                ))
            }
        };
        Ok(PyDag::new(dag))
    }

    #[getter]
    fn num_nodes(&self) -> usize {
        self.inner.num_nodes()
    }

    #[getter]
    fn num_edges(&self) -> usize {
        self.inner.num_edges()
    }

    /// The edges as (src, dst) int64 arrays, sorted by source then target.
    fn edges<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>) {
        let (src, dst) = py.detach(|| self.inner.edges());
        (to_int64_array(py, src), to_int64_array(py, dst))
    }

    /// Out-edge CSR as (indptr, indices) int64 arrays.
    fn out_csr<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>) {
        let (offsets, targets) = self.inner.out_csr();
        (
            offsets
                .iter()
                .map(|&o| o as i64)
                .collect::<Vec<_>>()
                .into_pyarray(py),
            targets
                .iter()
                .map(|&t| t as i64)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )
    }

    fn in_degree<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let g = &self.inner;
        let degrees: Vec<i64> = (0..g.num_nodes() as u32)
            .map(|v| g.in_degree(v) as i64)
            .collect();
        degrees.into_pyarray(py)
    }

    fn out_degree<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let g = &self.inner;
        let degrees: Vec<i64> = (0..g.num_nodes() as u32)
            .map(|v| g.out_degree(v) as i64)
            .collect();
        degrees.into_pyarray(py)
    }

    /// Pickles (and copies) as the edge list: unpickling rebuilds the graph through
    /// `from_edges`, which validates it again, so a tampered pickle cannot make an invalid Dag.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Rebuild<'py>)> {
        let build = py.get_type::<PyDag>().getattr("from_edges")?;
        let (src, dst) = self.edges(py);
        Ok((build, (src, dst, self.inner.num_nodes())))
    }

    fn __repr__(&self) -> String {
        format!(
            "Dag(num_nodes={}, num_edges={})",
            self.inner.num_nodes(),
            self.inner.num_edges()
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyDag>()
            .is_ok_and(|o| *o.get().inner == *self.inner)
    }

    fn __hash__(&self) -> isize {
        // Equal graphs must hash alike; node and edge counts are a cheap, consistent digest.
        (self.inner.num_nodes() as isize).wrapping_mul(1_000_003) ^ self.inner.num_edges() as isize
    }
}

/// The arguments of `from_edges` that rebuild a pickled Dag.
type Rebuild<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>, usize);

#[pyfunction]
#[pyo3(signature = (n, p=None, m=None, seed=0))]
fn random_dag(
    py: Python<'_>,
    n: u64,
    p: Option<f64>,
    m: Option<u64>,
    seed: u64,
) -> PyResult<PyDag> {
    run_interruptible(py, |_| generators::random_dag(n, p, m, seed)).map(PyDag::new)
}

type Layered<'py> = (PyDag, Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<f64>>);

#[pyfunction]
#[pyo3(signature = (n, seed=0))]
fn layered_graph(py: Python<'_>, n: u64, seed: u64) -> PyResult<Layered<'_>> {
    let g = run_interruptible(py, |cancel| {
        generators::layered_graph_cancellable(n, seed, cancel)
    })?;
    Ok((
        PyDag::new(g.dag),
        to_int64_array(py, g.layer),
        g.sizes.into_pyarray(py),
    ))
}

#[pyfunction]
#[pyo3(signature = (n, layers, density=0.1, seed=0))]
fn planted_layered_dag(
    py: Python<'_>,
    n: u64,
    layers: u64,
    density: f64,
    seed: u64,
) -> PyResult<(PyDag, Bound<'_, PyArray1<i64>>)> {
    let g = run_interruptible(py, |cancel| {
        generators::planted_layered_cancellable(n, layers, density, seed, cancel)
    })?;
    Ok((PyDag::new(g.dag), to_int64_array(py, g.layer)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDag>()?;
    m.add_function(wrap_pyfunction!(random_dag, m)?)?;
    m.add_function(wrap_pyfunction!(layered_graph, m)?)?;
    m.add_function(wrap_pyfunction!(planted_layered_dag, m)?)?;
    Ok(())
}
