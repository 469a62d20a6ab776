//! The single place where core errors become Python exceptions.

use pyo3::create_exception;
use pyo3::exceptions::{
    PyKeyboardInterrupt, PyMemoryError, PyOverflowError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::PyList;
use sparsedag::Error;

create_exception!(
    sparsedag._core,
    GraphError,
    PyValueError,
    "Base class of graph input errors; a ValueError."
);
create_exception!(
    sparsedag._core,
    CycleError,
    GraphError,
    "The edges contain a directed cycle; `.cycle` lists one, in order."
);
create_exception!(
    sparsedag._core,
    NodeIdError,
    GraphError,
    "A node id is negative or not below the node count."
);
create_exception!(
    sparsedag._core,
    SelfLoopError,
    GraphError,
    "An edge joins a node to itself."
);
create_exception!(
    sparsedag._core,
    DuplicateEdgeError,
    GraphError,
    "The same edge is given twice and duplicates were not merged."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GraphError", py.get_type::<GraphError>())?;
    m.add("CycleError", py.get_type::<CycleError>())?;
    m.add("NodeIdError", py.get_type::<NodeIdError>())?;
    m.add("SelfLoopError", py.get_type::<SelfLoopError>())?;
    m.add("DuplicateEdgeError", py.get_type::<DuplicateEdgeError>())?;
    Ok(())
}

pub fn to_pyerr(error: Error) -> PyErr {
    let message = error.to_string();
    match error {
        Error::Cycle(cycle) => Python::attach(|py| {
            let err = CycleError::new_err(message);
            let attached =
                PyList::new(py, &cycle).and_then(|list| err.value(py).setattr("cycle", list));
            match attached {
                Ok(()) => err,
                Err(e) => e,
            }
        }),
        Error::NodeOutOfRange { .. } => NodeIdError::new_err(message),
        Error::SelfLoop { .. } => SelfLoopError::new_err(message),
        Error::DuplicateEdge { .. } => DuplicateEdgeError::new_err(message),
        Error::TooLarge { .. } => PyOverflowError::new_err(message),
        Error::InvalidArgument(_) => PyValueError::new_err(message),
        Error::OutOfMemory { .. } => PyMemoryError::new_err(message),
        Error::Interrupted => PyKeyboardInterrupt::new_err(message),
    }
}

/// Converts a core result, for use with `?`.
pub trait IntoPyResult<T> {
    fn into_py_result(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for sparsedag::Result<T> {
    fn into_py_result(self) -> PyResult<T> {
        self.map_err(to_pyerr)
    }
}

/// A panic in the core is a bug; it must surface as an exception, never abort the interpreter.
pub fn internal_error(detail: &str) -> PyErr {
    PyRuntimeError::new_err(format!(
        "internal error in sparsedag ({detail}); please report it with the input that caused it"
    ))
}
