//! Sparse-training building blocks on numpy arrays. A layer crosses the boundary as scipy's CSR
//! arrays: offsets int64 (n_out + 1), indices int32, weights and momentum float32. Evolution
//! updates the caller's arrays in place (the connection count does not change); importance
//! pruning returns new, shorter arrays.

use numpy::{
    Element, IntoPyArray, PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArray1,
    PyReadonlyArrayDyn, PyReadwriteArray1, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsedag::sparse::{self, EvolveOptions, Init, LayerMut, SparseLayer};

use crate::errors::IntoPyResult;
use crate::interrupt::run_interruptible;

type LayerArrays<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray1<f32>>,
);

/// Checks that `obj` is a 1-D contiguous numpy array of element type `T`.
fn typed_array<'a, 'py, T: Element>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
    dtype: &str,
) -> PyResult<&'a Bound<'py, PyArray1<T>>> {
    let array = obj.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!("{name} must be a numpy array of dtype {dtype}"))
    })?;
    if array.ndim() != 1 {
        return Err(PyValueError::new_err(format!(
            "{name} must be one-dimensional, got shape {:?}",
            array.shape()
        )));
    }
    let typed = obj.cast::<PyArray1<T>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must have dtype {dtype}, got {}",
            array
                .dtype()
                .str()
                .map(|s| s.to_string())
                .unwrap_or_default()
        ))
    })?;
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{name} is not contiguous in memory (a strided view?); pass np.ascontiguousarray({name})"
        )));
    }
    Ok(typed)
}

fn borrow<'py, T: Element>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    dtype: &str,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    typed_array::<T>(obj, name, dtype)?
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("cannot read {name}: {e}")))
}

fn borrow_mut<'py, T: Element>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    dtype: &str,
) -> PyResult<PyReadwriteArray1<'py, T>> {
    typed_array::<T>(obj, name, dtype)?
        .try_readwrite()
        .map_err(|e| {
            PyValueError::new_err(format!(
                "{name} must be writeable and must not share memory with another argument ({e})"
            ))
        })
}

fn reject_negative<T: Copy + Into<i64>>(values: &[T], name: &str) -> PyResult<()> {
    match values.iter().position(|&v| v.into() < 0) {
        Some(k) => Err(PyValueError::new_err(format!(
            "{name}[{k}] = {} is negative",
            values[k].into()
        ))),
        None => Ok(()),
    }
}

fn check_n_in(n_in: usize) -> PyResult<()> {
    if n_in > i32::MAX as usize {
        return Err(PyValueError::new_err(format!(
            "n_in = {n_in} does not fit the int32 indices of a layer (at most 2**31 - 1)"
        )));
    }
    Ok(())
}

// Same size, same alignment, and every bit pattern is valid for both types; negative values
// are rejected before the core sees them.
fn as_u64(values: &mut [i64]) -> &mut [u64] {
    unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<u64>(), values.len()) }
}

fn as_u32(values: &mut [i32]) -> &mut [u32] {
    unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<u32>(), values.len()) }
}

fn layer_to_arrays(py: Python<'_>, layer: SparseLayer) -> LayerArrays<'_> {
    // O(nnz) conversions: without the GIL, like the work that produced the layer.
    let (offsets, indices) = py.detach(|| {
        let offsets: Vec<i64> = layer.offsets.into_iter().map(|o| o as i64).collect();
        let indices: Vec<i32> = layer.indices.into_iter().map(|i| i as i32).collect();
        (offsets, indices)
    });
    (
        offsets.into_pyarray(py),
        indices.into_pyarray(py),
        layer.weights.into_pyarray(py),
        layer.momentum.into_pyarray(py),
    )
}

/// The connection probability epsilon (n_in + n_out) / (n_in n_out), capped at 1.
#[pyfunction]
fn erdos_renyi_probability(n_in: usize, n_out: usize, epsilon: f64) -> PyResult<f64> {
    sparse::erdos_renyi_probability(n_in, n_out, epsilon).into_py_result()
}

/// A new Erdős–Rényi layer: (offsets, indices, weights, momentum).
#[pyfunction]
#[pyo3(signature = (n_in, n_out, epsilon=20.0, init="he_uniform", seed=0))]
fn erdos_renyi_layer<'py>(
    py: Python<'py>,
    n_in: usize,
    n_out: usize,
    epsilon: f64,
    init: &str,
    seed: u64,
) -> PyResult<LayerArrays<'py>> {
    check_n_in(n_in)?;
    let init: Init = init.parse().into_py_result()?;
    let layer = run_interruptible(py, |cancel| {
        sparse::erdos_renyi_layer(n_in, n_out, epsilon, init, seed, cancel)
    })?;
    Ok(layer_to_arrays(py, layer))
}

fn alive_mask(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<Vec<bool>>> {
    obj.map(|o| Ok(borrow::<bool>(o, name, "bool")?.as_slice()?.to_vec()))
        .transpose()
}

/// One SET evolution step, in place; returns the counts of removed and added connections.
#[pyfunction]
#[pyo3(signature = (n_in, n_out, offsets, indices, weights, momentum, zeta=0.3, seed=0,
                    init="he_uniform", input_alive=None, output_alive=None))]
#[allow(clippy::too_many_arguments)]
fn evolve_layer<'py>(
    py: Python<'py>,
    n_in: usize,
    n_out: usize,
    offsets: &Bound<'py, PyAny>,
    indices: &Bound<'py, PyAny>,
    weights: &Bound<'py, PyAny>,
    momentum: &Bound<'py, PyAny>,
    zeta: f64,
    seed: u64,
    init: &str,
    input_alive: Option<&Bound<'py, PyAny>>,
    output_alive: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    check_n_in(n_in)?;
    let init: Init = init.parse().into_py_result()?;
    let input_alive = alive_mask(input_alive, "input_alive")?;
    let output_alive = alive_mask(output_alive, "output_alive")?;
    let mut offsets = borrow_mut::<i64>(offsets, "offsets", "int64")?;
    let mut indices = borrow_mut::<i32>(indices, "indices", "int32")?;
    let mut weights = borrow_mut::<f32>(weights, "weights", "float32")?;
    let mut momentum = borrow_mut::<f32>(momentum, "momentum", "float32")?;
    let offsets = offsets.as_slice_mut()?;
    let indices = indices.as_slice_mut()?;
    reject_negative(offsets, "offsets")?;
    reject_negative(indices, "indices")?;
    let mut layer = LayerMut {
        n_in,
        n_out,
        offsets: as_u64(offsets),
        indices: as_u32(indices),
        weights: weights.as_slice_mut()?,
        momentum: momentum.as_slice_mut()?,
    };
    let options = EvolveOptions {
        zeta,
        init,
        seed,
        input_alive: input_alive.as_deref(),
        output_alive: output_alive.as_deref(),
    };
    let stats = run_interruptible(py, |cancel| {
        layer.check()?;
        sparse::evolve(&mut layer, &options, cancel)
    })?;
    let out = PyDict::new(py);
    out.set_item("removed_positive", stats.removed_positive)?;
    out.set_item("removed_negative", stats.removed_negative)?;
    out.set_item("removed_zero", stats.removed_zero)?;
    out.set_item("added", stats.added)?;
    Ok(out)
}

/// Copies one layer given as (n_in, n_out, offsets, indices, weights, momentum), validated.
fn owned_layer(item: &Bound<'_, PyAny>, label: &str) -> PyResult<SparseLayer> {
    let parts: (
        usize,
        usize,
        Bound<'_, PyAny>,
        Bound<'_, PyAny>,
        Bound<'_, PyAny>,
        Bound<'_, PyAny>,
    ) = item.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "{label} must be a tuple (n_in, n_out, offsets, indices, weights, momentum)"
        ))
    })?;
    let (n_in, n_out, offsets, indices, weights, momentum) = parts;
    check_n_in(n_in)?;
    let name = |what: &str| format!("{label}.{what}");
    let offsets = borrow::<i64>(&offsets, &name("offsets"), "int64")?;
    let indices = borrow::<i32>(&indices, &name("indices"), "int32")?;
    let weights = borrow::<f32>(&weights, &name("weights"), "float32")?;
    let momentum = borrow::<f32>(&momentum, &name("momentum"), "float32")?;
    let (offsets, indices) = (offsets.as_slice()?, indices.as_slice()?);
    let (weights, momentum) = (weights.as_slice()?, momentum.as_slice()?);
    let (offsets_name, indices_name) = (name("offsets"), name("indices"));
    // The copy and the checks are O(nnz): without the GIL (the arrays stay borrowed).
    item.py().detach(|| {
        reject_negative(offsets, &offsets_name)?;
        reject_negative(indices, &indices_name)?;
        SparseLayer::from_parts(
            n_in,
            n_out,
            offsets.iter().map(|&o| o as u64).collect(),
            indices.iter().map(|&i| i as u32).collect(),
            weights.to_vec(),
            momentum.to_vec(),
        )
        .map_err(|e| PyValueError::new_err(format!("{label}: {e}")))
    })
}

type PruneResult<'py> = (
    Vec<LayerArrays<'py>>,
    Vec<Bound<'py, PyArray1<i64>>>,
    Vec<Bound<'py, PyArray1<f64>>>,
    Vec<Option<f64>>,
    usize,
);

/// Importance pruning of the hidden neurons of a chain of layers. Returns the new layers'
/// arrays, the removed neurons and the scores per hidden layer, the thresholds and the number
/// of connections dropped.
#[pyfunction]
fn importance_prune<'py>(
    py: Python<'py>,
    layers: Vec<Bound<'py, PyAny>>,
    percentile: f64,
) -> PyResult<PruneResult<'py>> {
    let mut owned: Vec<SparseLayer> = layers
        .iter()
        .enumerate()
        .map(|(l, item)| owned_layer(item, &format!("layers[{l}]")))
        .collect::<PyResult<_>>()?;
    let outcome = run_interruptible(py, |cancel| {
        sparse::importance_prune(&mut owned, percentile, cancel)
    })?;
    let arrays = owned
        .into_iter()
        .map(|layer| layer_to_arrays(py, layer))
        .collect();
    let removed = outcome
        .removed
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(i64::from)
                .collect::<Vec<_>>()
                .into_pyarray(py)
        })
        .collect();
    let scores = outcome
        .scores
        .into_iter()
        .map(|s| s.into_pyarray(py))
        .collect();
    Ok((
        arrays,
        removed,
        scores,
        outcome.thresholds,
        outcome.removed_connections,
    ))
}

/// Magnitude pruning down to `target` connections; returns the new layer's arrays.
#[pyfunction]
fn prune_to_count<'py>(
    py: Python<'py>,
    layer: Bound<'py, PyAny>,
    target: usize,
) -> PyResult<(LayerArrays<'py>, usize)> {
    let mut owned = owned_layer(&layer, "layer")?;
    let dropped = py.detach(|| sparse::prune_to_count(&mut owned, target));
    Ok((layer_to_arrays(py, owned), dropped))
}

/// NumPy's default percentile, for callers that want the same rule.
#[pyfunction]
fn percentile_linear(values: &Bound<'_, PyAny>, q: f64) -> PyResult<f64> {
    let mut v = borrow::<f64>(values, "values", "float64")?
        .as_slice()?
        .to_vec();
    sparse::percentile_linear(&mut v, q).into_py_result()
}

fn check_alpha(alpha: f32) -> PyResult<()> {
    if !alpha.is_finite() {
        return Err(PyValueError::new_err(format!(
            "alpha must be finite, got {alpha}"
        )));
    }
    Ok(())
}

/// The All-ReLU slope of hidden layer `layer` (0-based): -alpha, +alpha, -alpha, ...
#[pyfunction]
fn all_relu_slope(layer: usize, alpha: f32) -> PyResult<f32> {
    check_alpha(alpha)?;
    Ok(sparse::all_relu_slope(layer, alpha))
}

fn elementwise<'py>(
    py: Python<'py>,
    z: &Bound<'py, PyAny>,
    layer: usize,
    alpha: f32,
    f: fn(&[f32], f32, &mut [f32]),
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    check_alpha(alpha)?;
    let array = z
        .cast::<PyUntypedArray>()
        .map_err(|_| PyTypeError::new_err("z must be a numpy array of dtype float32"))?;
    let typed = z.cast::<PyArrayDyn<f32>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "z must have dtype float32, got {}",
            array
                .dtype()
                .str()
                .map(|s| s.to_string())
                .unwrap_or_default()
        ))
    })?;
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(
            "z is not contiguous in memory; pass np.ascontiguousarray(z)",
        ));
    }
    let z: PyReadonlyArrayDyn<'py, f32> = typed.readonly();
    let values = z.as_slice()?;
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "z contains a non-finite value ({} at flat position {k})",
            values[k]
        )));
    }
    let mut out = vec![0.0f32; values.len()];
    f(values, sparse::all_relu_slope(layer, alpha), &mut out);
    out.into_pyarray(py).reshape(z.shape())
}

/// All-ReLU of hidden layer `layer`, elementwise on a float32 array of any shape.
#[pyfunction]
#[pyo3(signature = (z, layer, alpha=0.6))]
fn all_relu<'py>(
    py: Python<'py>,
    z: &Bound<'py, PyAny>,
    layer: usize,
    alpha: f32,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    elementwise(py, z, layer, alpha, sparse::all_relu)
}

/// The derivative of All-ReLU (1 for z >= 0, the layer's slope below 0).
#[pyfunction]
#[pyo3(signature = (z, layer, alpha=0.6))]
fn all_relu_derivative<'py>(
    py: Python<'py>,
    z: &Bound<'py, PyAny>,
    layer: usize,
    alpha: f32,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    elementwise(py, z, layer, alpha, sparse::all_relu_derivative)
}

#[pyfunction]
fn sparse_inits() -> Vec<&'static str> {
    Init::ALL.iter().map(|i| i.name()).collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(erdos_renyi_probability, m)?)?;
    m.add_function(wrap_pyfunction!(erdos_renyi_layer, m)?)?;
    m.add_function(wrap_pyfunction!(evolve_layer, m)?)?;
    m.add_function(wrap_pyfunction!(importance_prune, m)?)?;
    m.add_function(wrap_pyfunction!(percentile_linear, m)?)?;
    m.add_function(wrap_pyfunction!(prune_to_count, m)?)?;
    m.add_function(wrap_pyfunction!(all_relu_slope, m)?)?;
    m.add_function(wrap_pyfunction!(all_relu, m)?)?;
    m.add_function(wrap_pyfunction!(all_relu_derivative, m)?)?;
    m.add_function(wrap_pyfunction!(sparse_inits, m)?)?;
    Ok(())
}
