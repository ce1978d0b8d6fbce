//! Cooperative cancellation: Ctrl-C and SIGTERM ask long operations to stop
//! at the next safe point.
//!
//! The library never installs signal handlers. The binary installs them and
//! calls [`request`] from its handler (an atomic store is async-signal-safe);
//! work loops call [`check`] between units of work (a file, a chunk), so an
//! interrupted command keeps what is already durable, removes its own
//! temporary files through ordinary drops, and returns
//! [`Error::Interrupted`]. A global flag rather than a parameter, because a
//! signal is process-wide and every loop in the process must see it.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Ask every running operation to stop. Async-signal-safe.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// `Err(Error::Interrupted)` once a stop was requested. Callers that know
/// how much work they kept fill in the error's counts on the way out.
pub fn check() -> Result<()> {
    if requested() {
        Err(Error::Interrupted {
            what: "the operation",
            done: 0,
            total: 0,
            kept_objects: 0,
        })
    } else {
        Ok(())
    }
}
