//! rvc: content-addressed versioning for datasets, checkpoints and runs.
//!
//! The library does all the work and never prints; the `rvc` binary
//! (`src/main.rs`, `src/cli/`) parses arguments and renders results.
//!
//! * [`format`] defines what rvc writes and reads back: ids, rows hashes,
//!   tree listings and pointer files (docs/format.md).
//! * [`repository`] finds the repository and holds its state: settings,
//!   file locks, the stat cache, and the roots that keep stored data alive.
//! * [`store`] keeps content by id (tensor-aware chunks, byte planes,
//!   packs).
//! * [`workspace`] implements `add`, `status`, `checkout`, `ls` and the
//!   data `diff`.
//! * [`run`] records, runs, compares and tabulates training runs;
//!   [`plots`] draws them.
//! * [`remote`] implements `push`, `fetch` and `pull` through object storage.
//! * [`maintenance`] keeps the store healthy: retention, `gc`, `fsck`, `du`.
//! * [`hooks`] installs and runs the git hooks.
//! * [`import`] brings data and runs over from DVC (`rvc import dvc`).
//! * [`io`] is the low level: memory maps, atomic writes, content stamps,
//!   progress reports, and the stop flag Ctrl-C sets.
//! * [`error`] is what goes wrong, as data.
//!
//! docs/architecture.md maps the modules and how data flows through them.

pub mod error;
pub mod format;
pub mod hooks;
pub mod import;
pub mod io;
pub mod maintenance;
pub mod plots;
pub mod remote;
pub mod repository;
pub mod run;
pub mod store;
pub mod workspace;

pub use error::{Error, Result};
pub use format::id::Id;
pub use repository::Repo;
