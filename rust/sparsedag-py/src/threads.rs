//! The thread pool every parallel core call runs in. Owning it (instead of rayon's global
//! pool, which can be sized only once) lets Python change the thread count at any time.
//! The default follows RAYON_NUM_THREADS, else the number of CPUs.

use std::sync::{Arc, RwLock};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

static POOL: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);

fn build(threads: Option<usize>) -> PyResult<Arc<ThreadPool>> {
    let mut builder = ThreadPoolBuilder::new().thread_name(|i| format!("sparsedag-{i}"));
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    builder
        .build()
        .map(Arc::new)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start worker threads: {e}")))
}

pub fn pool() -> PyResult<Arc<ThreadPool>> {
    if let Some(pool) = POOL.read().ok().and_then(|guard| guard.clone()) {
        return Ok(pool);
    }
    let mut guard = POOL
        .write()
        .map_err(|_| PyRuntimeError::new_err("thread pool lock poisoned"))?;
    if guard.is_none() {
        *guard = Some(build(None)?);
    }
    Ok(guard.clone().expect("just initialised"))
}

/// Sets the number of worker threads used by parallel algorithms (>= 1).
#[pyfunction]
fn set_num_threads(threads: usize) -> PyResult<()> {
    if threads == 0 {
        return Err(PyValueError::new_err("threads must be at least 1"));
    }
    let new_pool = build(Some(threads))?;
    let mut guard = POOL
        .write()
        .map_err(|_| PyRuntimeError::new_err("thread pool lock poisoned"))?;
    *guard = Some(new_pool);
    Ok(())
}

/// The number of worker threads parallel algorithms use.
#[pyfunction]
fn get_num_threads() -> PyResult<usize> {
    Ok(pool()?.current_num_threads())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    Ok(())
}
