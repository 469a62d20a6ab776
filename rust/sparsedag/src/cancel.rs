//! Cooperative cancellation: long algorithms poll a shared flag so that a Ctrl-C in the host
//! (Python) stops them cleanly instead of leaving a thread running.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub struct Cancel {
    requested: AtomicBool,
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
}

/// A cancel token that is never triggered, for callers that do not need one.
pub fn never() -> &'static Cancel {
    static NEVER: Cancel = Cancel {
        requested: AtomicBool::new(false),
    };
    &NEVER
}
