//! rvc: content-addressed versioning for datasets, checkpoints and runs.
//!
//! The library does all the work and never prints; the `rvc` binary
//! (`src/main.rs`, `src/cli/`) parses arguments and renders results.
//!
//! * [`id`], [`hash`] and [`tree`] define the ids (file id, rows hash,
//!   tree id).
//! * [`store`] keeps content by id (tensor-aware chunks, byte planes,
//!   packs); [`statcache`] avoids re-hashing.
//! * [`pointer`] reads and writes the `PATH.rvc` files committed to git.
//! * [`repo`], [`config`] and [`lock`] find the repository, read its
//!   settings and take its file locks.
//! * [`workspace`] implements `add`, `status`, `checkout`, `ls` and the
//!   data `diff`.
//! * [`run`] records, runs, compares and tabulates training runs;
//!   [`plots`] draws them.
//! * [`remote`] implements `push`, `fetch` and `pull` through object storage.
//! * [`maintenance`] keeps the store healthy: roots, retention, `gc`,
//!   `fsck`, `du`.
//! * [`hooks`] installs and runs the git hooks.
//! * [`interrupt`] lets Ctrl-C stop long work at a safe point;
//!   [`progress`] reports how far it got.
//!
//! docs/architecture.md maps the modules and how data flows through them.

pub mod config;
pub mod error;
pub mod hash;
pub mod hooks;
pub mod id;
pub mod interrupt;
pub mod lock;
pub mod maintenance;
mod mmap;
pub mod plots;
pub mod pointer;
pub mod progress;
pub mod remote;
pub mod repo;
pub mod run;
pub mod statcache;
pub mod store;
pub mod tree;
pub mod workspace;

pub use error::{Error, Result};
pub use id::Id;
pub use repo::Repo;
