//! A file's content stamp: the metadata that changes whenever its bytes do,
//! used to notice a file changing while it is read and to trust the stat
//! cache.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

/// The parts of a file's metadata that change whenever its content does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
}

impl Stamp {
    pub fn of(meta: &Metadata) -> Stamp {
        Stamp {
            size: meta.len(),
            mtime_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
            ctime_ns: meta
                .ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.ctime_nsec()),
            ino: meta.ino(),
        }
    }
}

/// Whether two metadata snapshots of one open file show no change.
pub(crate) fn same_content_stamp(a: &Metadata, b: &Metadata) -> bool {
    Stamp::of(a) == Stamp::of(b)
}
