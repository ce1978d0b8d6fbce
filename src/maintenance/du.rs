//! `du`: how much the tracked data takes, before and after dedup and
//! compression.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::error::Result;
use crate::repository::roots::{self, Keep};
use crate::repository::Repo;
use crate::store::{Area, ObjectRef};

/// Bytes before and after dedup and compression.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Usage {
    /// Bytes of the tracked content, as files.
    pub logical: u64,
    /// Bytes of the distinct chunks needed, before compression: what is
    /// left after dedup.
    pub unique: u64,
    /// Bytes on disk of the objects needed (each counted once), chunk
    /// lists and tree listings included.
    pub stored: u64,
    /// `logical / unique`: what dedup saves.
    pub dedup: Option<f64>,
    /// `unique / stored`: what compression saves (net of the metadata).
    pub compression: Option<f64>,
    /// `logical / stored`, the two together; `None` when nothing is stored.
    pub ratio: Option<f64>,
}

impl Usage {
    fn new(logical: u64, unique: u64, stored: u64) -> Usage {
        let ratio = |a: u64, b: u64| (a > 0 && b > 0).then(|| a as f64 / b as f64);
        Usage {
            logical,
            unique,
            stored,
            dedup: ratio(logical, unique),
            compression: ratio(unique, stored),
            ratio: ratio(logical, stored),
        }
    }
}

/// Usage of one pointer or run artefact.
#[derive(Debug, serde::Serialize)]
pub struct PointerUsage {
    pub pointer_file: String,
    #[serde(flatten)]
    pub usage: Usage,
    /// Objects it needs that the store lacks.
    pub missing: usize,
}

/// Usage of everything together (the sum of the logical bytes; every
/// object needed counted once), and of the store as a whole.
#[derive(Debug, serde::Serialize)]
pub struct DuReport {
    pub pointers: Vec<PointerUsage>,
    #[serde(flatten)]
    pub total: Usage,
    /// Everything in the store, referenced or not.
    pub store_objects: u64,
    pub store_bytes: u64,
    /// What `gc` would delete.
    pub unreferenced_objects: u64,
    pub unreferenced_bytes: u64,
}

/// Measure the workspace's pointers against the store.
pub fn du(repo: &Repo) -> Result<DuReport> {
    let _lock = repo.lock(false)?;
    let store = repo.store();
    let mut keep: Vec<Keep> = roots::workspace(repo)?;
    // A run's patch, metrics series or log is a stored file the lockfile
    // names without a size: its logical size is the file's.
    for k in keep.iter_mut().filter(|k| k.logical == 0) {
        if let crate::store::Root::File(id) = k.root {
            k.logical = store.file_size(&id).unwrap_or(0);
        }
    }
    // A run output with released checkpoints counts only what it keeps.
    for k in keep.iter_mut().filter(|k| !k.except.is_empty()) {
        if let crate::store::Root::Tree(id) = k.root {
            if let Ok(tree) = store.get_tree(&id) {
                k.logical = tree
                    .entries()
                    .iter()
                    .filter(|e| !super::retention::is_released(&k.except, &e.path))
                    .map(|e| e.size)
                    .sum();
            }
        }
    }
    let reaches: Vec<_> = keep
        .iter()
        .map(|k| roots::reach(store, std::slice::from_ref(k)))
        .collect();
    // The decoded size of every chunk needed, from its header.
    let chunks: HashSet<ObjectRef> = reaches
        .iter()
        .flat_map(|r| r.present.keys())
        .filter(|o| o.area == Area::Chunk)
        .copied()
        .collect();
    let decoded: HashMap<ObjectRef, u64> = chunks
        .into_par_iter()
        .map(|o| Ok((o, store.chunk_size(&o.id)?.unwrap_or(0))))
        .collect::<Result<_>>()?;
    let unique_of = |objects: &mut dyn Iterator<Item = &ObjectRef>| -> u64 {
        objects.filter_map(|o| decoded.get(o)).sum()
    };
    let mut pointers = Vec::new();
    let mut all: HashSet<ObjectRef> = HashSet::new();
    let mut stored = 0;
    for (k, reach) in keep.iter().zip(&reaches) {
        let bytes = reach.stored_bytes();
        for (o, size) in &reach.present {
            if all.insert(*o) {
                stored += size;
            }
        }
        let unique = unique_of(&mut reach.present.keys());
        pointers.push(PointerUsage {
            pointer_file: k.source.clone(),
            usage: Usage::new(k.logical, unique, bytes),
            missing: reach.missing.len(),
        });
    }
    let logical = keep.iter().map(|k| k.logical).sum();
    let unique = unique_of(&mut all.iter());
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
        total: Usage::new(logical, unique, stored),
        store_objects,
        store_bytes,
        unreferenced_objects,
        unreferenced_bytes,
    })
}
