//! Running core work with the GIL released and Ctrl-C honoured. The work runs on a scoped
//! thread while the calling thread waits and polls Python's signal handlers; a pending
//! KeyboardInterrupt raises the core's cancel flag, and the work returns `Interrupted` at its
//! next check. The work runs inside the sparsedag thread pool. The same waiting thread can
//! draw the core's progress reports as a line on `sys.stderr`.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use sparsedag::cancel::Progress;
use sparsedag::Cancel;

use crate::errors::{internal_error, to_pyerr};
use crate::threads;

const SIGNAL_POLL: Duration = Duration::from_millis(50);
const REDRAW: Duration = Duration::from_millis(250);

/// A progress line on Python's `sys.stderr`, drawn from the core's reports once a call has
/// run for `delay`.
pub struct ProgressLine {
    label: &'static str,
    delay: Duration,
}

/// The line for a call named `label`, drawn after `after` seconds; `None` draws nothing.
pub fn progress_line(label: &'static str, after: Option<f64>) -> PyResult<Option<ProgressLine>> {
    match after {
        None => Ok(None),
        Some(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(Some(ProgressLine {
            label,
            delay: Duration::from_secs_f64(seconds),
        })),
        Some(seconds) => Err(PyValueError::new_err(format!(
            "progress delay must be a finite number of seconds >= 0, got {seconds}"
        ))),
    }
}

impl ProgressLine {
    fn draw(&self, py: Python<'_>, progress: Progress, elapsed: Duration, last: bool) {
        let end = if last { "\n" } else { "" };
        // Stages of one unit (a constructive order, one simulation) have no share to show, and
        // stages of unknown length (total 0, such as simplex pivots) show their count alone.
        let share = if progress.total > 1 {
            let done = progress.done.min(progress.total);
            format!(
                " {:5.1}% ({done} of {})",
                100.0 * done as f64 / progress.total as f64,
                progress.total
            )
        } else if progress.total == 0 && progress.done > 0 {
            format!(" {}", progress.done)
        } else {
            String::new()
        };
        let text = format!(
            "\r{}: {}{share} {:.1} s   {end}",
            self.label,
            progress.stage,
            elapsed.as_secs_f64()
        );
        // A missing or closed stderr (pythonw, a detached daemon) only loses the display.
        if let Ok(stderr) = py.import("sys").and_then(|sys| sys.getattr("stderr")) {
            let _ = stderr.call_method1("write", (text,));
            let _ = stderr.call_method0("flush");
        }
    }
}

pub fn run_interruptible<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Cancel) -> sparsedag::Result<T> + Send,
{
    run_with_progress(py, None, work)
}

/// [`run_interruptible`] that also draws the core's progress reports when `line` is given.
pub fn run_with_progress<T, F>(py: Python<'_>, line: Option<ProgressLine>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Cancel) -> sparsedag::Result<T> + Send,
{
    let pool = threads::pool()?;
    let cancel = Cancel::new();
    let mut signal_error: Option<PyErr> = None;
    let started = Instant::now();
    let mut drawn_at: Option<Instant> = None;
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
                        if let Some(line) = &line {
                            let due = drawn_at.map_or(started.elapsed() >= line.delay, |at| {
                                at.elapsed() >= REDRAW
                            });
                            if due {
                                let progress = cancel.progress();
                                Python::attach(|py| {
                                    line.draw(py, progress, started.elapsed(), false)
                                });
                                drawn_at = Some(Instant::now());
                            }
                        }
                    }
                }
            }
            worker.join()
        })
    });
    if let Some(line) = &line {
        // Asked for without delay, the line is drawn even for a quick call, so that it always
        // ends with the final state.
        if drawn_at.is_some() || line.delay.is_zero() {
            line.draw(py, cancel.progress(), started.elapsed(), true);
        }
    }
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
