//! k-MIS coarsening entry points: argument conversion only; the work is in `sparsedag::coarsen`.

use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use sparsedag::coarsen::{
    self, EdgeList, Feature, Heuristic, PoolReduce, RankSpec, Reduce, Strategy,
};

use crate::arrays::{borrow_f64, node_values, to_int64_array, IdArray};
use crate::errors::IntoPyResult;
use crate::interrupt::run_interruptible;

/// Validates the edge arrays into the core's edge list (in the worker pool, GIL released).
fn edge_list(
    py: Python<'_>,
    src: &Bound<'_, PyAny>,
    dst: &Bound<'_, PyAny>,
    num_nodes: Option<u64>,
) -> PyResult<EdgeList> {
    let src = IdArray::borrow(src, "src")?;
    let dst = IdArray::borrow(dst, "dst")?;
    macro_rules! build {
        ($s:expr, $d:expr) => {{
            let (s, d) = ($s.as_slice()?, $d.as_slice()?);
            run_interruptible(py, |_| EdgeList::new(s, d, num_nodes))
        }};
    }
    match (&src, &dst) {
        (IdArray::I64(s), IdArray::I64(d)) => build!(s, d),
        (IdArray::I32(s), IdArray::I32(d)) => build!(s, d),
        (IdArray::U32(s), IdArray::U32(d)) => build!(s, d),
        (IdArray::U64(s), IdArray::U64(d)) => build!(s, d),
        _ => Err(PyTypeError::new_err("src and dst must have the same dtype")),
    }
}

fn hops(k: i64) -> PyResult<usize> {
    usize::try_from(k)
        .map_err(|_| PyValueError::new_err(format!("k must be a non-negative integer, got {k}")))
}

fn rank_spec(
    rank: Option<&Bound<'_, PyAny>>,
    scores: Option<&Bound<'_, PyAny>>,
    heuristic: Option<&str>,
    seed: Option<u64>,
) -> PyResult<RankSpec> {
    let scores = scores
        .map(|s| borrow_f64(s, "scores").and_then(|a| Ok(a.as_slice()?.to_vec())))
        .transpose()?;
    let chosen = [rank.is_some(), heuristic.is_some()]
        .iter()
        .filter(|&&x| x)
        .count();
    if chosen > 1 {
        return Err(PyValueError::new_err(
            "give either rank or heuristic, not both",
        ));
    }
    if let Some(rank) = rank {
        if scores.is_some() || seed.is_some() {
            return Err(PyValueError::new_err(
                "an explicit rank cannot be combined with scores or seed",
            ));
        }
        return Ok(RankSpec::Explicit(node_values(rank, "rank")?));
    }
    let needs_no_scores = |name: &str| {
        if scores.is_some() {
            Err(PyValueError::new_err(format!(
                "heuristic={name:?} does not use scores"
            )))
        } else {
            Ok(())
        }
    };
    match heuristic {
        Some("random") => {
            needs_no_scores("random")?;
            Ok(RankSpec::Random(seed.unwrap_or(0)))
        }
        Some("id") => {
            needs_no_scores("id")?;
            Ok(RankSpec::Id)
        }
        Some(name) => {
            let h: Heuristic = name.parse().map_err(|_| {
                PyValueError::new_err(format!(
                    "heuristic must be \"greedy\", \"w-greedy\", \"random\" or \"id\", not {name:?}"
                ))
            })?;
            Ok(RankSpec::Heuristic(h, scores))
        }
        None => match (scores, seed) {
            (Some(s), _) => Ok(RankSpec::Scores(s)),
            (None, Some(seed)) => Ok(RankSpec::Random(seed)),
            (None, None) => Ok(RankSpec::Id),
        },
    }
}

type KmisResult<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    usize,
    usize,
);

/// Returns (selected ids ascending, cluster of each node, parallel rounds, sequential picks).
#[pyfunction]
#[pyo3(signature = (src, dst, num_nodes=None, k=1, rank=None, scores=None, heuristic=None, seed=None, strategy="auto"))]
#[allow(clippy::too_many_arguments)]
fn kmis<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    dst: &Bound<'py, PyAny>,
    num_nodes: Option<u64>,
    k: i64,
    rank: Option<&Bound<'py, PyAny>>,
    scores: Option<&Bound<'py, PyAny>>,
    heuristic: Option<&str>,
    seed: Option<u64>,
    strategy: &str,
) -> PyResult<KmisResult<'py>> {
    let k = hops(k)?;
    let strategy: Strategy = strategy.parse().into_py_result()?;
    let spec = rank_spec(rank, scores, heuristic, seed)?;
    // The core reads the borrowed id arrays directly: no converted copy of the edges.
    let src = IdArray::borrow(src, "src")?;
    let dst = IdArray::borrow(dst, "dst")?;
    macro_rules! run {
        ($s:expr, $d:expr) => {{
            let (s, d) = ($s.as_slice()?, $d.as_slice()?);
            run_interruptible(py, |cancel| {
                coarsen::kmis_clusters_from_ids(s, d, num_nodes, k, spec, strategy, cancel)
            })
        }};
    }
    let found = match (&src, &dst) {
        (IdArray::I64(s), IdArray::I64(d)) => run!(s, d),
        (IdArray::I32(s), IdArray::I32(d)) => run!(s, d),
        (IdArray::U32(s), IdArray::U32(d)) => run!(s, d),
        (IdArray::U64(s), IdArray::U64(d)) => run!(s, d),
        _ => Err(PyTypeError::new_err("src and dst must have the same dtype")),
    }?;
    Ok((
        to_int64_array(py, found.selected),
        to_int64_array(py, found.cluster),
        found.rounds,
        found.sequential_picks,
    ))
}

type EdgesResult<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
);

/// The coarsened edges (src, dst, weight), sorted, self-loops dropped.
#[pyfunction]
#[pyo3(signature = (src, dst, cluster, num_clusters, weights=None, reduce="sum", undirected=true))]
#[allow(clippy::too_many_arguments)]
fn contract_edges<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    dst: &Bound<'py, PyAny>,
    cluster: &Bound<'py, PyAny>,
    num_clusters: usize,
    weights: Option<&Bound<'py, PyAny>>,
    reduce: &str,
    undirected: bool,
) -> PyResult<EdgesResult<'py>> {
    let reduce: Reduce = reduce.parse().into_py_result()?;
    let cluster = node_values(cluster, "cluster")?;
    let weights = weights.map(|w| borrow_f64(w, "weights")).transpose()?;
    let weights = weights.as_ref().map(|w| w.as_slice()).transpose()?;
    let edges = edge_list(py, src, dst, Some(cluster.len() as u64))?;
    let coarse = run_interruptible(py, |_| {
        coarsen::contract(&edges, weights, &cluster, num_clusters, reduce, undirected)
    })?;
    Ok((
        to_int64_array(py, coarse.src),
        to_int64_array(py, coarse.dst),
        coarse.weight.into_pyarray(py),
    ))
}

fn pooled<'py, T: Feature + numpy::Element>(
    py: Python<'py>,
    features: PyReadonlyArray2<'py, T>,
    cluster: &[u32],
    num_clusters: usize,
    reduce: PoolReduce,
) -> PyResult<Bound<'py, PyAny>> {
    let dim = features.shape()[1];
    let values = features.as_slice()?;
    let out = run_interruptible(py, |_| {
        coarsen::pool(values, dim, cluster, num_clusters, reduce)
    })?;
    let array = Array2::from_shape_vec((num_clusters, dim), out)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(array.into_pyarray(py).into_any())
}

/// Pools (n, d) float32/float64 features into (num_clusters, d), same dtype.
#[pyfunction]
#[pyo3(signature = (features, cluster, num_clusters, reduce="sum"))]
fn pool<'py>(
    py: Python<'py>,
    features: &Bound<'py, PyAny>,
    cluster: &Bound<'py, PyAny>,
    num_clusters: usize,
    reduce: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let reduce: PoolReduce = reduce.parse().into_py_result()?;
    let array = features.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err("features must be a numpy array of shape (num_nodes, num_features)")
    })?;
    if array.ndim() != 2 {
        return Err(PyValueError::new_err(format!(
            "features must be two-dimensional (num_nodes, num_features), got shape {:?}",
            array.shape()
        )));
    }
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(
            "features is not C-contiguous; pass np.ascontiguousarray(features)",
        ));
    }
    let cluster = node_values(cluster, "cluster")?;
    if array.shape()[0] != cluster.len() {
        return Err(PyValueError::new_err(format!(
            "features has {} rows but cluster has {} entries; they must match",
            array.shape()[0],
            cluster.len()
        )));
    }
    if let Ok(a) = array.cast::<PyArray2<f32>>() {
        return pooled(py, a.readonly(), &cluster, num_clusters, reduce);
    }
    if let Ok(a) = array.cast::<PyArray2<f64>>() {
        return pooled(py, a.readonly(), &cluster, num_clusters, reduce);
    }
    Err(PyTypeError::new_err(format!(
        "features must have dtype float32 or float64, got {}",
        array
            .dtype()
            .str()
            .map(|s| s.to_string())
            .unwrap_or_default()
    )))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kmis, m)?)?;
    m.add_function(wrap_pyfunction!(contract_edges, m)?)?;
    m.add_function(wrap_pyfunction!(pool, m)?)?;
    Ok(())
}
