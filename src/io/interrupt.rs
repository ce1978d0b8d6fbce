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

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

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
        Err(stopped())
    } else {
        Ok(())
    }
}

/// The error of work stopped before its end, with no counts yet.
pub fn stopped() -> Error {
    Error::Interrupted {
        what: "the operation",
        done: 0,
        total: 0,
        kept_objects: 0,
    }
}

/// The last stop signal `rvc run` received while its child ran, how many
/// arrived, and one waiting to be passed on to the child's process tree.
static CHILD_SIGNAL: AtomicI32 = AtomicI32::new(0);
static CHILD_SIGNALS: AtomicU32 = AtomicU32::new(0);
static TO_FORWARD: AtomicI32 = AtomicI32::new(0);

/// A stop signal reached `rvc run`: remember it and, when `forward`, leave
/// it for [`take_forward`] to pass on to the command and everything below
/// it (the binary's handler forwards what was sent to rvc alone; a Ctrl-C
/// at a terminal reaches the command's process group directly). Returns
/// how many stop signals arrived so far. Async-signal-safe.
pub fn child_signal(signal: i32, forward: bool) -> u32 {
    CHILD_SIGNAL.store(signal, Ordering::SeqCst);
    if forward {
        TO_FORWARD.store(signal, Ordering::SeqCst);
    }
    CHILD_SIGNALS.fetch_add(1, Ordering::SeqCst) + 1
}

/// The signal waiting to be passed on, if any (taken: asked once).
pub fn take_forward() -> Option<i32> {
    match TO_FORWARD.swap(0, Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The last stop signal that reached `rvc run` while its child ran.
pub fn child_signal_received() -> Option<i32> {
    match CHILD_SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}
