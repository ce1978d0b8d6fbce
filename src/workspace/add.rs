//! `add`: hash tracked paths, store their content, write their pointers.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::partial::{in_parts, Partial};
use super::walk::{self, FileEntry};
use super::{cache_key, dir_pointer, pointer_for, remember, scanned_files, tree_of, Current};
use crate::error::{Error, PathError, Result};
use crate::format::pointer::{self, Pointer, PointerKind};
use crate::io::progress::Progress;
use crate::repository::statcache::{Known, StatCache};
use crate::repository::{self, Repo};
use crate::store::{Batch, BatchStats};

/// What `add` did for one path.
#[derive(Debug, serde::Serialize)]
pub struct AddOutcome {
    /// Repository-relative path of the pointer file.
    pub pointer_file: String,
    pub pointer: Pointer,
    /// Whether the pointer file was created or changed.
    pub updated: bool,
    /// Files that had to be read; the rest were vouched for by the stat cache.
    pub hashed: u64,
    /// Whether `.gitignore` gained a line for the path.
    pub gitignore_updated: bool,
    /// Tables (Parquet, Arrow) that could not be read as rows: they are
    /// tracked by their file id alone.
    pub no_rows: Vec<NoRows>,
}

/// A table tracked without a rows hash, and why.
#[derive(Debug, serde::Serialize)]
pub struct NoRows {
    /// Repository-relative path of the file.
    pub path: String,
    pub reason: String,
}

/// What `add` did.
#[derive(Debug, serde::Serialize)]
pub struct AddReport {
    pub paths: Vec<AddOutcome>,
    /// Objects new to the store, and their bytes on disk.
    pub stored: BatchStats,
}

/// Track `paths` (relative to `cwd`): hash them, store their content and
/// write `PATH.rvc` beside each. Nothing is written until every path has
/// been read and stored, and objects are durable before any pointer names
/// them. Holds the repository lock throughout. A path that git tracks is
/// refused unless `force`, so that the bytes do not end up in both.
pub fn add(
    repo: &Repo,
    cwd: &Path,
    paths: &[PathBuf],
    force: bool,
    progress: &dyn Progress,
) -> Result<AddReport> {
    let _lock = repo.lock(true)?;
    let mut rels: Vec<String> = Vec::new();
    for p in paths {
        let rel = resolve(repo, cwd, p)?;
        if !rels.contains(&rel) {
            rels.push(rel);
        }
    }
    if !force {
        for (p, rel) in paths.iter().zip(&rels) {
            let files = repository::git_tracked_below(repo, rel);
            if !files.is_empty() {
                return Err(Error::Path(PathError::TrackedByGit {
                    path: p.clone(),
                    files: if files.len() > 3 {
                        vec![rel.clone()]
                    } else {
                        files
                    },
                }));
            }
        }
    }
    for (i, a) in rels.iter().enumerate() {
        for b in &rels[i + 1..] {
            let (outer, inner) = if a.len() < b.len() { (a, b) } else { (b, a) };
            if inner.starts_with(outer.as_str()) && inner.as_bytes()[outer.len()] == b'/' {
                return Err(Error::Path(PathError::AlreadyTracked {
                    path: PathBuf::from(inner),
                    pointer: PathBuf::from(format!("{outer}{}", pointer::SUFFIX)),
                }));
            }
        }
    }

    let mut cache = repo.stat_cache();
    let store = repo.store();
    // Held until the pointers are written, so `gc` cannot sweep new objects
    // before a pointer names them.
    let _store_lock = store.lock(false, repo.lock_timeout())?;
    let batch = store.batch();
    let mut pending = Vec::new();
    for rel in rels {
        match store_path(repo, &mut cache, &batch, &rel, progress) {
            Ok((pointer, hashed, no_rows)) => pending.push((rel, pointer, hashed, no_rows)),
            Err(e) => return Err(keep_finished_work(batch, &mut cache, e, "add", progress)),
        }
    }
    // Objects become durable and visible before any pointer refers to them.
    progress.start("committing", 0, 0);
    let stored = batch.commit();
    progress.finish();
    let stored = stored?;

    let mut outcomes = Vec::new();
    for (rel, pointer, hashed, no_rows) in pending {
        let pointer_file = format!("{rel}{}", pointer::SUFFIX);
        let abs = repo.abs(&pointer_file);
        let text = pointer.encode();
        let updated = std::fs::read_to_string(&abs).ok().as_deref() != Some(text.as_str());
        if updated {
            crate::io::atomic::write_atomic(&abs, text.as_bytes())?;
        }
        let gitignore_updated = repo.ignore_in_git(&rel)?;
        outcomes.push(AddOutcome {
            pointer_file,
            pointer,
            updated,
            hashed,
            gitignore_updated,
            no_rows,
        });
    }
    cache.save()?;
    Ok(AddReport {
        paths: outcomes,
        stored,
    })
}

/// After a stop part way (Ctrl-C): make the objects already staged
/// durable, and remember the files already hashed, so that the re-run
/// reads and writes only what is left. No pointer is written, so nothing
/// names the partial work; `gc` may sweep it until a re-run does. After
/// any other error the batch is dropped, its temporary files with it, and
/// nothing becomes visible. Returns the error to report.
pub(crate) fn keep_finished_work(
    batch: Batch<'_>,
    cache: &mut StatCache,
    error: Error,
    what: &'static str,
    progress: &dyn Progress,
) -> Error {
    if !matches!(error, Error::Interrupted { .. }) {
        return error;
    }
    progress.start("committing", 0, 0);
    let kept = batch.commit();
    progress.finish();
    // The stat cache only vouches for ids the store holds, so saving it is
    // harmless even when the commit failed.
    let _ = cache.save();
    match (error, kept) {
        (Error::Interrupted { done, total, .. }, Ok(stats)) => Error::Interrupted {
            what,
            done,
            total,
            kept_objects: stats.new_objects,
        },
        (error, _) => error,
    }
}

/// The repository-relative path to track for the argument `p`.
fn resolve(repo: &Repo, cwd: &Path, p: &Path) -> Result<String> {
    let mut rel = repo.relative(cwd, p)?;
    // `rvc add data.rvc` re-adds the path that pointer tracks.
    if let Some(stem) = rel.strip_suffix(pointer::SUFFIX) {
        if !stem.is_empty()
            && repo.abs(&rel).is_file()
            && std::fs::symlink_metadata(repo.abs(stem)).is_ok()
        {
            rel = stem.to_string();
        }
    }
    if std::fs::symlink_metadata(repo.abs(&rel)).is_err() {
        return Err(Error::Path(PathError::NotFound {
            path: p.to_path_buf(),
        }));
    }
    // A path inside an already tracked directory belongs to that pointer.
    let mut prefix = String::new();
    for comp in rel.split('/') {
        if !prefix.is_empty() {
            let pointer_file = format!("{prefix}{}", pointer::SUFFIX);
            if let Ok(Pointer {
                kind: PointerKind::Dir,
                ..
            }) = Pointer::load(&repo.abs(&pointer_file))
            {
                return Err(Error::Path(PathError::AlreadyTracked {
                    path: p.to_path_buf(),
                    pointer: PathBuf::from(pointer_file),
                }));
            }
            prefix.push('/');
        }
        prefix.push_str(comp);
    }
    Ok(rel)
}

/// A directory that holds a pointer file cannot be tracked as one: its
/// tree would hold the pointer, and the data under it would be tracked
/// twice. Files that end in `.rvc` but are not pointers are plain data.
fn refuse_tracked_inside(rel: &str, files: &[FileEntry]) -> Result<()> {
    for f in files {
        let Some(stem) = f.rel.strip_suffix(pointer::SUFFIX) else {
            continue;
        };
        if stem.is_empty() || stem.ends_with('/') || Pointer::load(&f.abs).is_err() {
            continue;
        }
        return Err(Error::Path(PathError::ContainsTracked {
            path: PathBuf::from(rel),
            inner: PathBuf::from(format!("{rel}/{stem}")),
            pointer: PathBuf::from(format!("{rel}/{}", f.rel)),
        }));
    }
    Ok(())
}

/// The directory pointer that a partial record for `rel` refers to, or
/// `None` when there is no pointer file or it names a single file. A
/// pointer that cannot be read is an error: the record cannot be judged.
fn partial_pointer(repo: &Repo, rel: &str) -> Result<Option<Pointer>> {
    let pointer_file = repo.abs(&format!("{rel}{}", pointer::SUFFIX));
    match Pointer::load(&pointer_file) {
        Ok(p) => Ok((p.kind == PointerKind::Dir).then_some(p)),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Add to `current` (what is on disk of the directory `old` points to)
/// the files of its tree that are outside `parts` and not on disk: they were
/// never checked out, and stay as they are. They get an empty `abs`, so
/// the caller can drop them again after building the tree. Returns whether
/// any of them has rows (then the directory's combined rows are unknown).
fn keep_parts_not_checked_out(
    repo: &Repo,
    old: &Pointer,
    parts: &std::collections::BTreeSet<String>,
    current: &mut Vec<Current>,
) -> Result<bool> {
    let tree = repo.store().get_tree(&old.id)?;
    let present: std::collections::HashSet<String> =
        current.iter().map(|c| c.entry.rel.clone()).collect();
    let mut rows_unknown = false;
    for e in tree.entries() {
        if in_parts(&e.path, parts) || present.contains(&e.path) {
            continue;
        }
        rows_unknown |= crate::format::hash::has_rows(&e.path);
        current.push(Current {
            entry: FileEntry {
                rel: e.path.clone(),
                abs: PathBuf::new(),
                stamp: crate::io::stamp::Stamp {
                    size: e.size,
                    mtime_ns: 0,
                    ctime_ns: 0,
                    ino: 0,
                },
                exec: e.kind == crate::format::tree::Kind::Exec,
            },
            known: Known {
                id: e.id,
                rows: None,
            },
            hashed: false,
        });
    }
    current.sort_unstable_by(|a, b| a.entry.rel.as_bytes().cmp(b.entry.rel.as_bytes()));
    Ok(rows_unknown)
}

/// Hash the repository-relative path `rel` (through the stat cache) and
/// stage its content in `batch`. Returns the pointer it gets, how many
/// files had to be read, and the tables it holds that have no rows hash.
/// Nothing is visible until the batch commits.
pub(crate) fn store_path(
    repo: &Repo,
    cache: &mut StatCache,
    batch: &Batch<'_>,
    rel: &str,
    progress: &dyn Progress,
) -> Result<(Pointer, u64, Vec<NoRows>)> {
    let store = repo.store();
    let abs = repo.abs(rel);
    let (is_dir, files) = scanned_files(walk::scan(&abs, repo.root())?)
        .ok_or(Error::Path(PathError::NotFound { path: abs.clone() }))?;
    if is_dir {
        refuse_tracked_inside(rel, &files)?;
    }
    let bytes = files.iter().map(|f| f.stamp.size).sum();
    progress.start("storing", files.len() as u64, bytes);
    let total = files.len() as u64;
    let cache_ref = &*cache;
    // After the first failure, the files not yet started are skipped.
    let failed = std::sync::atomic::AtomicBool::new(false);
    let results: Vec<Result<Current>> = files
        .into_par_iter()
        .map(|entry| {
            if failed.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(crate::io::interrupt::stopped());
            }
            crate::io::interrupt::check()?;
            let size = entry.stamp.size;
            let known = cache_ref
                .lookup(&cache_key(rel, &entry.rel), &entry.stamp)
                .filter(|k| store.contains(&k.id));
            let current = match known {
                Some(known) => Current {
                    entry,
                    known,
                    hashed: false,
                },
                None => {
                    let (digest, stamp) = batch.put_file(&entry.abs)?;
                    Current {
                        entry: FileEntry { stamp, ..entry },
                        known: Known {
                            id: digest.id,
                            rows: digest.rows,
                        },
                        hashed: true,
                    }
                }
            };
            progress.advance(1, size);
            Ok(current)
        })
        .inspect(|r: &Result<Current>| {
            if r.is_err() {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .collect();
    progress.finish();
    // Files finished before a failure or a stop are kept in the stat cache
    // (their objects are committed by the caller), so a re-run skips them.
    let mut current = Vec::with_capacity(results.len());
    let mut failure: Option<Error> = None;
    for r in results {
        match r {
            Ok(c) => current.push(c),
            // A real error says more than the stop it may have caused.
            Err(e) if matches!(failure, None | Some(Error::Interrupted { .. })) => {
                failure = Some(e)
            }
            Err(_) => {}
        }
    }
    if let Some(e) = failure {
        remember(cache, rel, &current);
        return Err(match e {
            Error::Interrupted { .. } => Error::Interrupted {
                what: "storing",
                done: current.len() as u64,
                total,
                kept_objects: 0,
            },
            e => e,
        });
    }
    // A directory checked out in part keeps what is not checked out as
    // its pointer names it.
    let mut rows_unknown = false;
    if is_dir {
        let mut partial = Partial::load(repo)?;
        if let Some(parts) = partial.parts(rel) {
            match partial_pointer(repo, rel)? {
                Some(old) => {
                    rows_unknown = keep_parts_not_checked_out(repo, &old, parts, &mut current)?;
                }
                // The directory's pointer is gone (or now names a file):
                // the record is stale, and what is on disk is all of it.
                None => {
                    partial.clear(rel);
                    partial.save(repo)?;
                }
            }
        }
    }
    // A directory's tree is stored, and its id (hashed once) names it.
    let pointer = if is_dir {
        let mut p = dir_pointer(rel, batch.put_tree(&tree_of(&current)?)?, &current);
        if rows_unknown {
            p.rows = None;
        }
        p
    } else {
        pointer_for(rel, false, &current)?
    };
    remember(cache, rel, &current);
    if is_dir {
        let present: std::collections::HashSet<String> = current
            .iter()
            .map(|c| cache_key(rel, &c.entry.rel))
            .collect();
        cache.prune_below(rel, &|k| present.contains(k));
    }
    current.retain(|c| !c.entry.abs.as_os_str().is_empty());
    let hashed = current.iter().filter(|c| c.hashed).count() as u64;
    // A table that cannot be read is still tracked by its bytes; say why
    // it has no rows (reading it again: this is the rare case).
    // (A single file's entry has an empty `rel`: judge by the whole path.)
    let no_rows = current
        .iter()
        .map(|c| (c, cache_key(rel, &c.entry.rel)))
        .filter(|(c, path)| {
            c.known.rows.is_none() && crate::format::table::table_format(path).is_some()
        })
        .filter_map(|(c, path)| {
            let why = crate::format::hash::table_rows_error(&c.entry.abs)?;
            Some(NoRows {
                path,
                reason: why.to_string(),
            })
        })
        .collect();
    Ok((pointer, hashed, no_rows))
}
