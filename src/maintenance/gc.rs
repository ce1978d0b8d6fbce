//! `gc`: mark and sweep. Everything reachable from the roots is kept; every
//! other object, and every temporary file of an interrupted write, is
//! deleted (or, with `dry_run`, only listed).
//!
//! `gc` holds the repository lock and the store's exclusive lock, and `add`
//! holds the store's shared lock until its pointers are written, so an
//! object being added is never swept.

use super::roots::{self, Keep};
use crate::error::{Error, Result};
use crate::repo::Repo;
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
}

/// One deleted (or deletable) object.
#[derive(Debug, serde::Serialize)]
pub struct Swept {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub bytes: u64,
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
    pub temp_files: u64,
    pub temp_bytes: u64,
    /// Pointers in git history that could not be read.
    pub warnings: Vec<String>,
}

/// Delete what no root references.
pub fn gc(repo: &Repo, opts: GcOptions) -> Result<GcReport> {
    let _repo_lock = repo.lock(true)?;
    let store = repo.store();
    if !store.root().starts_with(repo.rvc_dir()) && !opts.force {
        return Err(Error::Refused {
            what: "gc",
            reason: format!("the store {} is outside this repository and may be shared", store.root().display()),
            hint: "other repositories' data would be deleted; run gc with --force only if no other repository uses this store".into(),
        });
    }
    let _store_lock = store.lock(true, repo.lock_timeout())?;
    let mut keep: Vec<Keep> = roots::workspace(repo)?;
    let mut report = GcReport {
        dry_run: opts.dry_run,
        ..GcReport::default()
    };
    if opts.all_commits {
        let (history, warnings) = roots::git_history(repo)?;
        keep.extend(history);
        report.warnings = warnings;
    }
    report.roots = keep.len();
    let reach = store.reachable(keep.iter().map(Keep::root));
    if let Some((o, why)) = reach.unreadable.first() {
        return Err(Error::Refused {
            what: "gc",
            reason: format!(
                "{} {} cannot be read ({why}), so what it keeps alive is unknown",
                o.area, o.id
            ),
            hint: "run `rvc fsck --repair` first".into(),
        });
    }
    report.kept_objects = reach.present.len() as u64;
    report.kept_bytes = reach.stored_bytes();
    // Packed chunks: rewrite each pack that holds unreferenced ones.
    let keep_chunk = |id: &crate::id::Id| {
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
    for area in Area::ALL {
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
