//! Running core work with the GIL released and Ctrl-C honoured. The work runs on a scoped
//! thread while the calling thread waits and polls Python's signal handlers; a pending
//! KeyboardInterrupt raises the core's cancel flag, and the work returns `Interrupted` at its
//! next check. The work runs inside the sparsedag thread pool.

use std::sync::mpsc;
use std::time::Duration;

use pyo3::prelude::*;
use sparsedag::Cancel;

use crate::errors::{internal_error, to_pyerr};
use crate::threads;

const SIGNAL_POLL: Duration = Duration::from_millis(50);

pub fn run_interruptible<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Cancel) -> sparsedag::Result<T> + Send,
{
    let pool = threads::pool()?;
    let cancel = Cancel::new();
    let mut signal_error: Option<PyErr> = None;
    let outcome = py.detach(|| {
        std::thread::scope(|scope| {
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let cancel_ref = &cancel;
            let worker = scope.spawn(move || {
                let result = pool.install(|| work(cancel_ref));
                // The receiver only disappears if the waiting side is gone, which cannot
                // happen inside this scope; ignoring the send error is safe.
                let _ = done_tx.send(());
                result
            });
            loop {
                match done_rx.recv_timeout(SIGNAL_POLL) {
                    Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if signal_error.is_none() {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                signal_error = Some(e);
                                cancel.request();
                            }
                        }
                    }
                }
            }
            worker.join()
        })
    });
    let result = outcome.map_err(|_| internal_error("a worker thread panicked"))?;
    // A Ctrl-C consumed while waiting must reach the caller even if the work won the race.
    if let Some(interrupt) = signal_error {
        return Err(interrupt);
    }
    result.map_err(to_pyerr)
}

/// Work of at most this size (nodes plus edges, say) runs on the calling thread: it ends long
/// before anyone could press Ctrl-C, and handing it to a worker (a thread start and two
/// wake-ups, much slower on a loaded machine) would cost more than the work itself. Core code
/// keeps inputs this small off rayon, so nothing reaches the global pool.
pub const INLINE_WORK: usize = 1 << 16;

/// [`run_interruptible`], except that work of `size` up to [`INLINE_WORK`] runs right here
/// (GIL released, never cancelled).
pub fn run_small_inline<T, F>(py: Python<'_>, size: usize, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Cancel) -> sparsedag::Result<T> + Send,
{
    if size > INLINE_WORK {
        return run_interruptible(py, work);
    }
    let cancel = Cancel::new();
    py.detach(|| work(&cancel)).map_err(to_pyerr)
}

/// Pooled work below this many units (multiply-adds, say: a few milliseconds) skips the
/// watcher thread of [`run_interruptible`]: starting a thread per call costs as much as a
/// small training step, and Ctrl-C is still seen as soon as the call returns to Python.
pub const QUICK_POOLED_WORK: usize = 1 << 24;

/// [`run_interruptible`], except that work of `size` up to [`QUICK_POOLED_WORK`] runs in the
/// pool straight from this thread (GIL released, never cancelled).
pub fn run_pooled<T, F>(py: Python<'_>, size: usize, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Cancel) -> sparsedag::Result<T> + Send,
{
    if size > QUICK_POOLED_WORK {
        return run_interruptible(py, work);
    }
    let pool = threads::pool()?;
    let cancel = Cancel::new();
    py.detach(|| pool.install(|| work(&cancel)))
        .map_err(to_pyerr)
}
