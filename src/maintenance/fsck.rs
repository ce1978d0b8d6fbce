//! `fsck`: re-hash every object. Each chunk must hash to its id, each tree
//! (in derive-key mode) to its id, and each manifest must rebuild a file
//! that hashes to its file id. Everything the workspace's pointers need
//! must be present. `repair` moves damaged objects, and manifests that can
//! no longer be rebuilt, to `quarantine/`, so a later `add` (or fetch) can
//! store them again.

use std::collections::HashSet;
use std::sync::Mutex;

use rayon::prelude::*;

use crate::error::{Error, Result, StoreError};
use crate::format::id::Id;
use crate::io::progress::Progress;
use crate::repository::roots;
use crate::repository::Repo;
use crate::store::{Area, ObjectRef, Store};

/// Options for `fsck`.
#[derive(Clone, Copy, Debug, Default)]
pub struct FsckOptions {
    /// Move damaged objects to quarantine.
    pub repair: bool,
}

/// Something wrong with one object.
#[derive(Debug, serde::Serialize)]
pub struct Problem {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub problem: String,
    /// Where `repair` moved it.
    pub quarantined: Option<String>,
}

/// An object that something needs but the store lacks.
#[derive(Debug, serde::Serialize)]
pub struct Missing {
    #[serde(flatten)]
    pub object: ObjectRef,
    /// `file` when a whole file's content is absent (neither its chunk nor
    /// its manifest is stored), else the object's kind: `chunk`, `manifest`
    /// or `tree`.
    pub what: String,
    /// The pointers (or manifests) that need it.
    pub needed_by: Vec<String>,
}

/// What `fsck` found.
#[derive(Debug, Default, serde::Serialize)]
pub struct FsckReport {
    pub chunks: u64,
    pub manifests: u64,
    pub trees: u64,
    /// Bytes of file content re-hashed.
    pub bytes_checked: u64,
    pub corrupt: Vec<Problem>,
    pub missing: Vec<Missing>,
    /// Temporary files of interrupted writes (`gc` removes them).
    pub temp_files: u64,
    /// Pack indexes that cannot be read (their objects are invisible).
    pub bad_packs: Vec<Problem>,
}

impl FsckReport {
    pub fn is_clean(&self) -> bool {
        self.corrupt.is_empty() && self.missing.is_empty() && self.bad_packs.is_empty()
    }
}

/// Check the whole store and what the workspace needs from it.
pub fn fsck(repo: &Repo, opts: FsckOptions, progress: &dyn Progress) -> Result<FsckReport> {
    // Exclusive when repairing, so no add writes what we move away.
    let _repo_lock = repo.lock(opts.repair)?;
    let store = repo.store();
    let _store_lock = store.lock(opts.repair, repo.lock_timeout())?;
    let mut report = FsckReport::default();
    let bad: Mutex<Vec<(ObjectRef, String)>> = Mutex::new(Vec::new());
    let missing: Mutex<Vec<(ObjectRef, String)>> = Mutex::new(Vec::new());
    let verified: Mutex<HashSet<Id>> = Mutex::new(HashSet::new());
    let checked = std::sync::atomic::AtomicU64::new(0);

    let chunks = store.list_area(Area::Chunk)?;
    let manifests = store.list_area(Area::Manifest)?;
    let trees = store.list_area(Area::Tree)?;
    report.chunks = chunks.len() as u64;
    report.manifests = manifests.len() as u64;
    report.trees = trees.len() as u64;
    let total: u64 = chunks.iter().map(|c| c.1).sum();
    progress.start(
        "checking",
        (chunks.len() + manifests.len() + trees.len()) as u64,
        total,
    );

    // Manifests first: rebuilding a file checks its chunks on the way.
    manifests.par_iter().for_each(|(id, _)| {
        let object = ObjectRef {
            area: Area::Manifest,
            id: *id,
        };
        match check_manifest(store, id, &verified, &missing) {
            Ok(n) => {
                checked.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            }
            Err(e) => bad.lock().unwrap().push((object, e.problem())),
        }
        progress.advance(1, 0);
    });
    let verified = verified.into_inner().unwrap();
    chunks
        .par_iter()
        .filter(|(id, _)| !verified.contains(id))
        .for_each(|(id, size)| {
            if let Err(e) = store.read_chunk(id) {
                bad.lock().unwrap().push((
                    ObjectRef {
                        area: Area::Chunk,
                        id: *id,
                    },
                    e.to_string(),
                ));
            } else {
                checked.fetch_add(*size, std::sync::atomic::Ordering::Relaxed);
            }
            progress.advance(1, *size);
        });
    trees.par_iter().for_each(|(id, _)| {
        if let Err(e) = store.get_tree(id) {
            bad.lock().unwrap().push((
                ObjectRef {
                    area: Area::Tree,
                    id: *id,
                },
                e.to_string(),
            ));
        }
        progress.advance(1, 0);
    });
    progress.finish();

    // What the workspace needs.
    let keep = roots::workspace(repo)?;
    // A directory checked out in part needs only its parts here.
    let partial = crate::workspace::partial::Partial::load(repo)?;
    let mut missing_files = HashSet::new();
    for k in &keep {
        let parts = k
            .source
            .strip_suffix(crate::format::pointer::SUFFIX)
            .and_then(|path| partial.parts(path));
        let reach = match parts {
            Some(parts) => store.reachable_except(std::iter::once(k.root()), &|_, path| {
                !crate::workspace::partial::in_parts(path, parts)
            }),
            None => roots::reach(store, std::slice::from_ref(k)),
        };
        missing_files.extend(reach.missing_files);
        for object in reach.missing {
            missing.lock().unwrap().push((object, k.source.clone()));
        }
    }

    let mut bad = bad.into_inner().unwrap();
    bad.sort_by_key(|b| b.0);
    for (object, problem) in bad {
        let quarantined = if opts.repair {
            Some(store.quarantine(object)?.display().to_string())
        } else {
            None
        };
        report.corrupt.push(Problem {
            object,
            problem,
            quarantined,
        });
    }
    let mut grouped: std::collections::BTreeMap<ObjectRef, Vec<String>> = Default::default();
    for (object, by) in missing.into_inner().unwrap() {
        grouped.entry(object).or_default().push(by);
    }
    report.missing = grouped
        .into_iter()
        .map(|(object, mut needed_by)| {
            needed_by.sort();
            needed_by.dedup();
            let what = if object.area == Area::Chunk && missing_files.contains(&object.id) {
                "file".to_string()
            } else {
                object.area.to_string()
            };
            Missing {
                object,
                what,
                needed_by,
            }
        })
        .collect();
    for (path, why) in store.bad_packs() {
        let quarantined = if opts.repair {
            Some(store.quarantine_pack(&path)?.display().to_string())
        } else {
            None
        };
        report.bad_packs.push(Problem {
            object: ObjectRef {
                area: Area::Chunk,
                id: Id::from_bytes([0; 32]),
            },
            problem: format!("pack index {}: {why}", path.display()),
            quarantined,
        });
    }
    report.bytes_checked = checked.into_inner();
    report.temp_files = store.temp_files()?.len() as u64;
    Ok(report)
}

/// Rebuild the file a manifest describes and compare it with the file id.
/// Returns the bytes checked, or why the manifest is unusable. Chunks that
/// verify are recorded; missing ones are reported as needed by the manifest.
fn check_manifest(
    store: &Store,
    id: &Id,
    verified: &Mutex<HashSet<Id>>,
    missing: &Mutex<Vec<(ObjectRef, String)>>,
) -> Result<u64> {
    let corrupt = |problem: String| {
        Error::Store(StoreError::ObjectCorrupt {
            id: id.to_hex(),
            problem,
        })
    };
    let manifest = store
        .manifest(id)?
        .ok_or_else(|| corrupt("disappeared during the check".into()))?;
    let mut hasher = blake3::Hasher::new();
    let mut lost = Vec::new();
    for piece in &manifest.pieces {
        match store.read_chunk(&piece.id) {
            Ok(data) => {
                if data.len() as u64 != piece.size {
                    return Err(corrupt(format!(
                        "chunk {} has {} bytes, the manifest says {}",
                        piece.id,
                        data.len(),
                        piece.size
                    )));
                }
                hasher.update(&data);
                verified.lock().unwrap().insert(piece.id);
            }
            Err(crate::Error::Store(crate::error::StoreError::ObjectMissing { .. })) => {
                lost.push(piece.id)
            }
            Err(e) => return Err(corrupt(format!("its chunk {} is unusable: {e}", piece.id))),
        }
    }
    if !lost.is_empty() {
        let mut m = missing.lock().unwrap();
        for chunk in &lost {
            m.push((
                ObjectRef {
                    area: Area::Chunk,
                    id: *chunk,
                },
                format!("manifest {id}"),
            ));
        }
        return Err(corrupt(format!("{} of its chunks are missing", lost.len())));
    }
    let actual = Id::from(hasher.finalize());
    if actual != *id {
        return Err(corrupt(format!("it rebuilds a file whose id is {actual}")));
    }
    Ok(manifest.size())
}
