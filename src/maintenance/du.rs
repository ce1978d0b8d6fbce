//! `du`: how much the tracked data takes, before and after dedup and
//! compression.

use std::collections::HashSet;

use super::roots::{self, Keep};
use crate::error::Result;
use crate::repo::Repo;
use crate::store::{Area, ObjectRef};

/// Usage of one pointer.
#[derive(Debug, serde::Serialize)]
pub struct PointerUsage {
    pub pointer_file: String,
    /// Bytes of the tracked content, as files.
    pub logical: u64,
    /// Bytes on disk of the objects it needs (each counted once).
    pub stored: u64,
    /// `logical / stored`; `None` when nothing is stored.
    pub ratio: Option<f64>,
    /// Objects it needs that the store lacks.
    pub missing: usize,
}

/// Usage of everything together, and of the store as a whole.
#[derive(Debug, serde::Serialize)]
pub struct DuReport {
    pub pointers: Vec<PointerUsage>,
    /// Sum of the pointers' logical bytes.
    pub logical: u64,
    /// Bytes on disk of every object some pointer needs, each once.
    pub stored: u64,
    pub ratio: Option<f64>,
    /// Everything in the store, referenced or not.
    pub store_objects: u64,
    pub store_bytes: u64,
    /// What `gc` would delete.
    pub unreferenced_objects: u64,
    pub unreferenced_bytes: u64,
}

fn ratio(logical: u64, stored: u64) -> Option<f64> {
    (stored > 0 && logical > 0).then(|| logical as f64 / stored as f64)
}

/// Measure the workspace's pointers against the store.
pub fn du(repo: &Repo) -> Result<DuReport> {
    let _lock = repo.lock(false)?;
    let store = repo.store();
    let keep: Vec<Keep> = roots::workspace(repo)?;
    let mut pointers = Vec::new();
    let mut all: HashSet<ObjectRef> = HashSet::new();
    let mut stored = 0;
    for k in &keep {
        let reach = store.reachable([k.root()]);
        let bytes = reach.stored_bytes();
        for (o, size) in &reach.present {
            if all.insert(*o) {
                stored += size;
            }
        }
        pointers.push(PointerUsage {
            pointer_file: k.source.clone(),
            logical: k.logical,
            stored: bytes,
            ratio: ratio(k.logical, bytes),
            missing: reach.missing.len(),
        });
    }
    let logical = keep.iter().map(|k| k.logical).sum();
    let mut store_objects = 0;
    let mut store_bytes = 0;
    let mut unreferenced_objects = 0;
    let mut unreferenced_bytes = 0;
    for area in Area::ALL {
        for (id, bytes) in store.list_area(area)? {
            store_objects += 1;
            store_bytes += bytes;
            if !all.contains(&ObjectRef { area, id }) {
                unreferenced_objects += 1;
                unreferenced_bytes += bytes;
            }
        }
    }
    Ok(DuReport {
        pointers,
        logical,
        stored,
        ratio: ratio(logical, stored),
        store_objects,
        store_bytes,
        unreferenced_objects,
        unreferenced_bytes,
    })
}
