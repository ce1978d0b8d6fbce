//! The formats rvc reads and writes, as described in docs/format.md: ids,
//! rows hashes, tree listings, pointer files, run lockfiles and remote
//! index objects. Everything read here is treated as untrusted.

pub mod hash;
pub mod id;
pub mod lockfile;
pub mod pages;
pub mod pointer;
pub mod remote_index;
pub mod table;
pub mod tree;
