//! `gc`: mark and sweep. Everything reachable from the roots is kept; every
//! other object, and every temporary file of an interrupted write, is
//! deleted (or, with `dry_run`, only listed).
//!
//! `gc` holds the repository lock and the store's exclusive lock, and `add`
//! holds the store's shared lock until its pointers are written, so an
//! object being added is never swept.

use super::retention;
use crate::error::{Error, Result, StoreError};
use crate::repository::roots::{self, Keep};
use crate::repository::Repo;
use crate::store::{Area, ObjectRef};

/// Options for `gc`.
#[derive(Clone, Copy, Debug, Default)]
pub struct GcOptions {
    /// List what would be deleted, delete nothing.
    pub dry_run: bool,
    /// Also keep everything referenced by any pointer in git history.
    pub all_commits: bool,
    /// Run even though the store is shared with other repositories.
    pub force: bool,
    /// Which checkpoints of runs' outputs to keep (all, when inactive).
    pub retention: super::retention::Policy,
}

/// One deleted (or deletable) object.
#[derive(Debug, serde::Serialize)]
pub struct Swept {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub bytes: u64,
}

/// Objects and bytes of one kind.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct KindTotal {
    pub objects: u64,
    pub bytes: u64,
}

/// A pointer or run artefact, found in git history, whose content `gc`
/// deleted: what stopped referencing the deleted objects.
#[derive(Debug, serde::Serialize)]
pub struct Released {
    /// `data.rvc`, or `.rvc/runs/run-1.lock:out/run-1` for a run artefact.
    pub source: String,
    /// Commits (short ids) whose version of it named deleted content.
    pub commits: Vec<String>,
    /// Deleted objects that are the content it named (a file's chunk or
    /// manifest, a directory's tree); the chunks below them are not counted.
    pub objects: u64,
}

/// What `gc` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    /// Pointers whose content was kept.
    pub roots: usize,
    pub kept_objects: u64,
    pub kept_bytes: u64,
    pub deleted: Vec<Swept>,
    pub deleted_bytes: u64,
    /// The deleted objects by kind (`chunk`, `manifest`, `tree`).
    pub deleted_by_kind: std::collections::BTreeMap<String, KindTotal>,
    /// Pointers and run artefacts in git history whose content was deleted,
    /// by path. Empty outside git, or when nothing in history named it.
    pub released: Vec<Released>,
    pub temp_files: u64,
    pub temp_bytes: u64,
    /// Pointers in git history that could not be read.
    pub warnings: Vec<String>,
    /// With `--keep-last` or `--keep-best`: each run's checkpoints, and
    /// which are kept.
    pub retention: Vec<super::retention::RunRetention>,
}

/// Delete what no root references.
pub fn gc(repo: &Repo, opts: GcOptions) -> Result<GcReport> {
    let _repo_lock = repo.lock(true)?;
    let store = repo.store();
    if !store.root().starts_with(repo.rvc_dir()) && !opts.force {
        return Err(Error::Store(StoreError::Shared {
            path: store.root().to_path_buf(),
        }));
    }
    let _store_lock = store.lock(true, repo.lock_timeout())?;
    let mut report = GcReport {
        dry_run: opts.dry_run,
        ..GcReport::default()
    };
    // Checkpoints released now or by an earlier gc. The record is durable
    // before anything it allows is deleted.
    let mut let_go = retention::load(store)?;
    if opts.retention.is_active() {
        let runs = crate::run::all(repo)?;
        let plan = retention::plan(store, &runs, &let_go, opts.retention)?;
        let more = retention::released_by(&plan);
        if !opts.dry_run && !more.is_empty() {
            retention::record(store, &more)?;
        }
        for (id, prefixes) in more {
            let_go.entry(id).or_default().extend(prefixes);
        }
        report.retention = plan;
    }
    let mut keep: Vec<Keep> = roots::workspace_with(repo, &let_go)?;
    if opts.all_commits {
        let (history, warnings) = roots::git_history(repo)?;
        keep.extend(roots::apply_released(history, &let_go));
        report.warnings = warnings;
    }
    report.roots = keep.len();
    let reach = roots::reach(store, &keep);
    if let Some((o, why)) = reach.unreadable.first() {
        return Err(Error::Store(StoreError::UnreadableRoot {
            area: o.area.to_string(),
            id: o.id.to_hex(),
            reason: why.to_string(),
        }));
    }
    report.kept_objects = reach.present.len() as u64;
    report.kept_bytes = reach.stored_bytes();
    // Referrers go before what they refer to, the reverse of the order
    // objects are written in: trees, then manifests, then chunks (loose,
    // then packed). A gc killed part way thus never leaves a manifest or
    // tree whose chunks are gone, which a later `add` of the same bytes
    // would trust (the store "contains" a file whose manifest exists).
    for area in [Area::Tree, Area::Manifest, Area::Chunk] {
        for (id, bytes) in store.list_loose_area(area)? {
            let object = ObjectRef { area, id };
            if reach.present.contains_key(&object) {
                continue;
            }
            if !opts.dry_run {
                store.remove(object)?;
            }
            report.deleted_bytes += bytes;
            report.deleted.push(Swept { object, bytes });
        }
    }
    // Packed chunks: rewrite each pack that holds unreferenced ones.
    let keep_chunk = |id: &crate::format::id::Id| {
        reach.present.contains_key(&ObjectRef {
            area: Area::Chunk,
            id: *id,
        })
    };
    let (dropped, _) = store.sweep_packs(&keep_chunk, opts.dry_run)?;
    for (id, bytes) in dropped {
        report.deleted_bytes += bytes;
        report.deleted.push(Swept {
            object: ObjectRef {
                area: Area::Chunk,
                id,
            },
            bytes,
        });
    }
    for s in &report.deleted {
        let t = report
            .deleted_by_kind
            .entry(s.object.area.to_string())
            .or_default();
        t.objects += 1;
        t.bytes += s.bytes;
    }
    if !report.deleted.is_empty() && !opts.all_commits {
        report.released = released(repo, &report.deleted);
    }
    // No writer holds the store lock now, so every temporary file is stale.
    for (path, bytes) in store.temp_files()? {
        if !opts.dry_run {
            let _ = std::fs::remove_file(&path);
        }
        report.temp_files += 1;
        report.temp_bytes += bytes;
    }
    Ok(report)
}

/// The pointers and run artefacts of git history whose content is among
/// `deleted`, grouped by path. Best effort: outside git, or with a history
/// that cannot be read, it is empty (the report still counts everything).
fn released(repo: &Repo, deleted: &[Swept]) -> Vec<Released> {
    use std::collections::{BTreeMap, HashSet};
    let Ok((history, _)) = roots::git_history(repo) else {
        return Vec::new();
    };
    let gone: HashSet<ObjectRef> = deleted.iter().map(|s| s.object).collect();
    let mut by_path: BTreeMap<String, (Vec<String>, HashSet<ObjectRef>)> = BTreeMap::new();
    for k in history {
        let objects: Vec<ObjectRef> = match k.root() {
            crate::store::Root::File(id) => vec![
                ObjectRef {
                    area: Area::Chunk,
                    id,
                },
                ObjectRef {
                    area: Area::Manifest,
                    id,
                },
            ],
            crate::store::Root::Tree(id) => vec![ObjectRef {
                area: Area::Tree,
                id,
            }],
        };
        let hit: Vec<ObjectRef> = objects.into_iter().filter(|o| gone.contains(o)).collect();
        if hit.is_empty() {
            continue;
        }
        // `source` is `<commit>:<path>`.
        let (commit, path) = k.source.split_once(':').unwrap_or(("", &k.source));
        let entry = by_path.entry(path.to_string()).or_default();
        if !commit.is_empty() && !entry.0.iter().any(|c| c == commit) {
            entry.0.push(commit.to_string());
        }
        entry.1.extend(hit);
    }
    by_path
        .into_iter()
        .map(|(source, (commits, objects))| Released {
            source,
            commits,
            objects: objects.len() as u64,
        })
        .collect()
}
