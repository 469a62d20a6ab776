//! Borrowing numpy arrays without copying, with the dtype/shape/contiguity checks every entry
//! point shares, and handing results back as owned numpy arrays.

use numpy::{
    IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A borrowed 1-D integer array of one of the accepted id dtypes.
pub enum IdArray<'py> {
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
    U32(PyReadonlyArray1<'py, u32>),
    U64(PyReadonlyArray1<'py, u64>),
}

/// Checks that `obj` is a 1-D C-contiguous numpy array and returns it untyped.
fn one_dimensional<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
) -> PyResult<&'a Bound<'py, PyUntypedArray>> {
    let array = obj.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a numpy array, got {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    if array.ndim() != 1 {
        return Err(PyValueError::new_err(format!(
            "{name} must be one-dimensional, got shape {:?}",
            array.shape()
        )));
    }
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{name} is not contiguous in memory (a strided view?); pass np.ascontiguousarray({name})"
        )));
    }
    Ok(array)
}

impl<'py> IdArray<'py> {
    pub fn borrow(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Self> {
        let array = one_dimensional(obj, name)?;
        if let Ok(a) = array.cast::<PyArray1<i64>>() {
            return Ok(IdArray::I64(a.readonly()));
        }
        if let Ok(a) = array.cast::<PyArray1<i32>>() {
            return Ok(IdArray::I32(a.readonly()));
        }
        if let Ok(a) = array.cast::<PyArray1<u32>>() {
            return Ok(IdArray::U32(a.readonly()));
        }
        if let Ok(a) = array.cast::<PyArray1<u64>>() {
            return Ok(IdArray::U64(a.readonly()));
        }
        Err(PyTypeError::new_err(format!(
            "{name} must have an integer dtype (int32, int64, uint32 or uint64), got {}",
            array
                .dtype()
                .str()
                .map(|s| s.to_string())
                .unwrap_or_default()
        )))
    }
}

/// Borrows a 1-D contiguous float64 array.
pub fn borrow_f64<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<PyReadonlyArray1<'py, f64>> {
    let array = one_dimensional(obj, name)?;
    array
        .cast::<PyArray1<f64>>()
        .map(|a| a.readonly())
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{name} must have dtype float64, got {}",
                array
                    .dtype()
                    .str()
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            ))
        })
}

/// Borrows a 1-D contiguous integer array and converts it to u32 node values (layers, orders),
/// rejecting negatives and values beyond u32.
pub fn node_values(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<u32>> {
    fn convert<T: Copy + TryInto<u32> + std::fmt::Display>(
        values: &[T],
        name: &str,
    ) -> PyResult<Vec<u32>> {
        values
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                x.try_into().map_err(|_| {
                    PyValueError::new_err(format!(
                        "{name}[{i}] = {x} is out of range; values must lie in 0..2**32"
                    ))
                })
            })
            .collect()
    }
    match IdArray::borrow(obj, name)? {
        IdArray::I32(a) => convert(a.as_slice()?, name),
        IdArray::I64(a) => convert(a.as_slice()?, name),
        IdArray::U32(a) => Ok(a.as_slice()?.to_vec()),
        IdArray::U64(a) => convert(a.as_slice()?, name),
    }
}

/// Node ids or layers leave as int64: numpy's default integer, safe under subtraction.
pub fn to_int64_array(py: Python<'_>, values: Vec<u32>) -> Bound<'_, PyArray1<i64>> {
    values
        .into_iter()
        .map(i64::from)
        .collect::<Vec<i64>>()
        .into_pyarray(py)
}

pub fn usize_to_int64_array(py: Python<'_>, values: Vec<usize>) -> Bound<'_, PyArray1<i64>> {
    values
        .into_iter()
        .map(|v| v as i64)
        .collect::<Vec<i64>>()
        .into_pyarray(py)
}
