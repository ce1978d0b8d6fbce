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

/// The child `rvc run` waits for, to which stop signals are passed on.
static CHILD: AtomicI32 = AtomicI32::new(0);
/// The last stop signal `rvc run` received while its child ran, and how many.
static CHILD_SIGNAL: AtomicI32 = AtomicI32::new(0);
static CHILD_SIGNALS: AtomicU32 = AtomicU32::new(0);

/// Pass stop signals on to the process `pid` (0: to none) from now on.
pub fn set_child(pid: i32) {
    CHILD.store(pid, Ordering::SeqCst);
}

/// A stop signal reached `rvc run`: remember it, and pass it on to the
/// child when `forward` (the binary's handler forwards what was sent to
/// rvc alone; Ctrl-C at a terminal reaches the child's process group
/// directly). Returns how many stop signals arrived so far.
/// Async-signal-safe.
pub fn child_signal(signal: i32, forward: bool) -> u32 {
    CHILD_SIGNAL.store(signal, Ordering::SeqCst);
    let pid = CHILD.load(Ordering::SeqCst);
    if forward && pid > 0 {
        // SAFETY: kill(2) is async-signal-safe; `pid` is the child rvc
        // spawned and has not reaped (it is reset to 0 before reaping).
        unsafe {
            libc::kill(pid, signal);
        }
    }
    CHILD_SIGNALS.fetch_add(1, Ordering::SeqCst) + 1
}

/// The last stop signal that reached `rvc run` while its child ran.
pub fn child_signal_received() -> Option<i32> {
    match CHILD_SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}
