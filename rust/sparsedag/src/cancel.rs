//! The host's handle on a long call. Long algorithms poll a shared flag so that a Ctrl-C in the
//! host (Python) stops them cleanly instead of leaving a thread running, and report how far
//! they are so that the host can show progress while a person waits.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub struct Cancel {
    requested: AtomicBool,
    stage: Mutex<&'static str>,
    done: AtomicU64,
    total: AtomicU64,
}

/// How far a call is: the stage it is in, and units done out of the stage's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: &'static str,
    pub done: u64,
    pub total: u64,
}

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn request(&self) {
        self.requested.store(true, Ordering::Relaxed);
    }

    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    /// Returns `Err(Interrupted)` once cancellation has been requested.
    pub fn check(&self) -> Result<()> {
        if self.is_requested() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// Starts a stage of `total` units (none done yet).
    pub fn begin_stage(&self, stage: &'static str, total: u64) {
        if let Ok(mut current) = self.stage.lock() {
            *current = stage;
        }
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    /// Records that `done` units of the current stage are finished.
    pub fn advance_to(&self, done: u64) {
        self.done.store(done, Ordering::Relaxed);
    }

    /// The latest report; the stage is empty until a call begins one.
    pub fn progress(&self) -> Progress {
        Progress {
            stage: self.stage.lock().map(|s| *s).unwrap_or(""),
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }
}

/// A cancel token that is never triggered, for callers that do not need one. Progress
/// reported to it is ignored by everyone.
pub fn never() -> &'static Cancel {
    static NEVER: Cancel = Cancel {
        requested: AtomicBool::new(false),
        stage: Mutex::new(""),
        done: AtomicU64::new(0),
        total: AtomicU64::new(0),
    };
    &NEVER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_starts_at_zero_and_advances() {
        let cancel = Cancel::new();
        assert_eq!(cancel.progress().stage, "");
        cancel.begin_stage("anneal", 10);
        cancel.advance_to(4);
        let expected = Progress {
            stage: "anneal",
            done: 4,
            total: 10,
        };
        assert_eq!(cancel.progress(), expected);
        cancel.begin_stage("simulate", 3);
        assert_eq!(cancel.progress().done, 0);
    }
}
