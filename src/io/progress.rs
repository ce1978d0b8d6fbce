//! Progress reporting, as a trait the library calls and the CLI renders.

/// Receives progress from long operations. Every method has a no-op
/// default; implementations must be cheap, as they are called per file.
pub trait Progress: Sync {
    /// A phase begins, with its expected totals.
    fn start(&self, _phase: &'static str, _files: u64, _bytes: u64) {}
    /// Some files (and their bytes) are done.
    fn advance(&self, _files: u64, _bytes: u64) {}
    /// The phase ended.
    fn finish(&self) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}
