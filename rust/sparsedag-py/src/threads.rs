//! The thread pool every parallel core call runs in. Owning it (instead of rayon's global
//! pool, which can be sized only once) lets Python change the thread count at any time.
//! The default follows RAYON_NUM_THREADS, else the number of CPUs.
//!
//! A forked child (`multiprocessing` with the "fork" start method) inherits the pool object
//! but none of its worker threads, so a call into it would wait forever. The pool therefore
//! remembers the process that started it, and a child builds its own on first use.

use std::sync::{Arc, RwLock};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

struct OwnedPool {
    pool: Arc<ThreadPool>,
    /// The process whose threads serve `pool`.
    pid: u32,
    /// The count set by `set_num_threads`, kept so a forked child starts the same number.
    requested: Option<usize>,
}

static POOL: RwLock<Option<OwnedPool>> = RwLock::new(None);

fn build(threads: Option<usize>) -> PyResult<OwnedPool> {
    let mut builder = ThreadPoolBuilder::new().thread_name(|i| format!("sparsedag-{i}"));
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    let pool = builder
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start worker threads: {e}")))?;
    Ok(OwnedPool {
        pool: Arc::new(pool),
        pid: std::process::id(),
        requested: threads,
    })
}

fn poisoned<T>(_: T) -> PyErr {
    PyRuntimeError::new_err("thread pool lock poisoned")
}

pub fn pool() -> PyResult<Arc<ThreadPool>> {
    let pid = std::process::id();
    if let Some(owned) = POOL.read().map_err(poisoned)?.as_ref() {
        if owned.pid == pid {
            return Ok(owned.pool.clone());
        }
    }
    let mut guard = POOL.write().map_err(poisoned)?;
    let requested = match guard.take() {
        Some(owned) if owned.pid == pid => {
            let pool = owned.pool.clone();
            *guard = Some(owned);
            return Ok(pool);
        }
        Some(inherited) => {
            let requested = inherited.requested;
            // Dropping it would signal worker threads that do not exist in this process,
            // through locks a parent thread may have held at the fork.
            std::mem::forget(inherited);
            requested
        }
        None => None,
    };
    let owned = build(requested)?;
    let pool = owned.pool.clone();
    *guard = Some(owned);
    Ok(pool)
}

/// The most worker threads a pool may have: far beyond any core count, small enough to start
/// (a pool of a million threads spent minutes starting and exhausted memory).
const MAX_THREADS: i64 = 1024;

/// Sets the number of worker threads used by parallel algorithms (1 to `MAX_THREADS`).
#[pyfunction]
fn set_num_threads(threads: i64) -> PyResult<()> {
    // Signed, so that a negative count gets this message; bounded, because every thread is
    // started at once: a million of them took the process down instead of an error.
    if !(1..=MAX_THREADS).contains(&threads) {
        return Err(PyValueError::new_err(format!(
            "threads must lie in 1..={MAX_THREADS}, got {threads}"
        )));
    }
    let new_pool = build(Some(threads as usize))?;
    let mut guard = POOL.write().map_err(poisoned)?;
    if let Some(old) = guard.replace(new_pool) {
        if old.pid != std::process::id() {
            std::mem::forget(old);
        }
    }
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
