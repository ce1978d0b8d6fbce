//! Low-level input and output: memory maps, atomic writes, content stamps,
//! progress reporting and the stop flag Ctrl-C sets.

pub mod atomic;
pub mod interrupt;
pub(crate) mod mmap;
pub mod progress;
pub mod stamp;
