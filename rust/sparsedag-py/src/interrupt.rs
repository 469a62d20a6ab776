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
