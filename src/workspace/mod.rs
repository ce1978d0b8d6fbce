//! The workspace: tracked paths, their pointer files, and the commands that
//! move data between them and the store (`add`, `status`, `checkout`), and
//! how tracked data differs between commits and the workspace (`diff`).

mod add;
mod checkout;
pub mod diff;
mod ls;
pub mod partial;
mod status;
pub mod walk;

pub use add::{add, AddOutcome, AddReport, NoRows};
pub(crate) use add::{keep_finished_work, store_path};
pub use checkout::{
    checkout, checkout_all, resolve_target, CheckoutOptions, CheckoutReport, Failed, Kept,
    KeptReason, Target,
};
pub use ls::{ls, Listing};
pub use status::{narrow, status, Changes, PartialStatus, PointerStatus, State, StatusItem};

use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, PathError, Result};
use crate::format::hash;
use crate::format::id::Id;
use crate::format::pointer::{self, Pointer, PointerKind};
use crate::format::tree::{self, Entry, Kind, Tree};
use crate::io::progress::Progress;
use crate::io::stamp::Stamp;
use crate::repository::statcache::{Known, StatCache};
use crate::repository::{Repo, RVC_DIR};
use walk::{FileEntry, Scanned};

/// A pointer file found in the workspace, with its parsed content.
#[derive(Debug)]
pub struct Tracked {
    /// Repository-relative path of the pointer file (`data.rvc`).
    pub pointer_file: String,
    /// Repository-relative tracked path (`data`).
    pub path: String,
    pub pointer: Result<Pointer>,
    /// What of a tracked directory to cover.
    pub part: Part,
}

/// Which part of a tracked path an operation covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// What the workspace holds: all of it, or the parts recorded as
    /// checked out ([`partial`]). What `checkout` and `pull` without
    /// arguments cover.
    Recorded,
    /// All of it: the tracked path was named.
    Whole,
    /// One path inside a tracked directory (`images/cat` of `data`).
    Sub(String),
}

/// Every pointer file in the repository, sorted by path. Directories that
/// git ignores (tracked data among them), `.git` and `.rvc` are not
/// searched. A malformed pointer is returned with its error, not dropped.
pub fn find_pointers(repo: &Repo) -> Result<Vec<Tracked>> {
    let root = repo.root().to_path_buf();
    let walker = ignore::WalkBuilder::new(&root)
        .hidden(false)
        .parents(false)
        .require_git(false)
        .git_global(false)
        .filter_entry(move |e| {
            let name = e.file_name();
            if name == ".git" || (name == RVC_DIR && e.depth() == 1) {
                return false;
            }
            // Do not descend into a directory tracked by a sibling pointer.
            !(e.file_type().is_some_and(|t| t.is_dir())
                && pointer::pointer_path_for(e.path()).is_file())
        })
        .build();
    let mut found = Vec::new();
    for entry in walker {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel) = entry.path().strip_prefix(&root).ok().and_then(Path::to_str) else {
            continue;
        };
        if rel.ends_with(pointer::SUFFIX) && pointer::pointed_name(entry.path()).is_some() {
            found.push(tracked(repo, rel.to_string()));
        }
    }
    found.sort_by(|a, b| a.pointer_file.cmp(&b.pointer_file));
    Ok(found)
}

/// Load the pointer file at repository-relative `pointer_file`.
pub fn tracked(repo: &Repo, pointer_file: String) -> Tracked {
    let path = pointer_file
        .strip_suffix(pointer::SUFFIX)
        .unwrap_or(&pointer_file)
        .to_string();
    let pointer = Pointer::load(&repo.abs(&pointer_file));
    Tracked {
        pointer_file,
        path,
        pointer,
        part: Part::Recorded,
    }
}

/// Resolve a user-given path to the pointer that tracks it: either the
/// pointer file itself (`data.rvc`) or the tracked path (`data`). A path
/// inside a tracked directory is [`Error::InsideTracked`]; anything else
/// that no pointer tracks is [`Error::NotTracked`].
pub fn tracked_for(repo: &Repo, cwd: &Path, arg: &Path) -> Result<Tracked> {
    let rel = match repo.relative(cwd, arg) {
        Ok(rel) => rel,
        // `rvc checkout data` when data/ does not exist yet is fine.
        Err(Error::Path(PathError::NotFound { .. })) => {
            return Err(Error::Path(PathError::NotTracked {
                path: arg.to_path_buf(),
            }))
        }
        Err(e) => return Err(e),
    };
    if rel.ends_with(pointer::SUFFIX) && repo.abs(&rel).is_file() {
        return Ok(whole(tracked(repo, rel)));
    }
    let pointer_file = format!("{rel}{}", pointer::SUFFIX);
    if repo.abs(&pointer_file).is_file() {
        return Ok(whole(tracked(repo, pointer_file)));
    }
    if let Some((dir, pointer_file)) = enclosing_pointer(repo, &rel) {
        return Err(Error::Path(PathError::InsideTracked {
            path: arg.to_path_buf(),
            dir,
            pointer: pointer_file.into(),
        }));
    }
    Err(Error::Path(PathError::NotTracked {
        path: arg.to_path_buf(),
    }))
}

fn whole(t: Tracked) -> Tracked {
    Tracked {
        part: Part::Whole,
        ..t
    }
}

/// Like [`tracked_for`], but a path inside a tracked directory, whether
/// it is on disk or not, is that directory's [`Part::Sub`].
pub fn tracked_or_part(repo: &Repo, cwd: &Path, arg: &Path) -> Result<Tracked> {
    match tracked_for(repo, cwd, arg) {
        Err(Error::Path(PathError::InsideTracked { dir, pointer, .. })) => {
            let rel = repo.relative(cwd, arg)?;
            let sub = rel[dir.len() + 1..].to_string();
            Ok(Tracked {
                part: Part::Sub(sub),
                ..tracked(repo, pointer.to_string_lossy().into_owned())
            })
        }
        Err(e @ Error::Path(PathError::NotTracked { .. })) => {
            // Not on disk (a part not checked out yet): look for the
            // tracked directory by name alone.
            let Some(rel) = repo.relative_lexical(cwd, arg) else {
                return Err(e);
            };
            match enclosing_pointer(repo, &rel) {
                Some((dir, pointer_file)) => Ok(Tracked {
                    part: Part::Sub(rel[dir.len() + 1..].to_string()),
                    ..tracked(repo, pointer_file)
                }),
                None => Err(e),
            }
        }
        other => other,
    }
}

/// The tracked directory that holds the repository-relative `rel`, and its
/// pointer file, when there is one.
pub fn enclosing_pointer(repo: &Repo, rel: &str) -> Option<(String, String)> {
    let mut at = rel;
    while let Some((parent, _)) = at.rsplit_once('/') {
        let pointer_file = format!("{parent}{}", pointer::SUFFIX);
        if matches!(
            Pointer::load(&repo.abs(&pointer_file)),
            Ok(Pointer {
                kind: PointerKind::Dir,
                ..
            })
        ) {
            return Some((parent.to_string(), pointer_file));
        }
        at = parent;
    }
    None
}

/// One file's current id, and whether it had to be hashed to learn it.
pub(crate) struct Current {
    pub entry: FileEntry,
    pub known: Known,
    pub hashed: bool,
}

/// The ids of `files` now, from the stat cache where it can vouch for them
/// and by hashing otherwise. `prefix` is the files' repository-relative
/// root, used as the cache key; `None` bypasses the cache.
pub(crate) fn current_ids(
    cache: &StatCache,
    prefix: Option<&str>,
    files: Vec<FileEntry>,
    progress: &dyn Progress,
) -> Result<Vec<Current>> {
    files
        .into_par_iter()
        .map(|entry| {
            let key = prefix.map(|p| cache_key(p, &entry.rel));
            let cached = key.as_deref().and_then(|k| cache.lookup(k, &entry.stamp));
            let (known, hashed) = match cached {
                Some(known) => (known, false),
                None => {
                    let d = hash::digest_file(&entry.abs)?;
                    (
                        Known {
                            id: d.id,
                            rows: d.rows,
                        },
                        true,
                    )
                }
            };
            progress.advance(1, entry.stamp.size);
            Ok(Current {
                entry,
                known,
                hashed,
            })
        })
        // Collect with an exact size (an indexed collect), then check:
        // collecting into `Result<Vec<_>>` directly grows and copies.
        .collect::<Vec<Result<Current>>>()
        .into_iter()
        .collect()
}

/// Record freshly hashed files in the stat cache.
pub(crate) fn remember(cache: &mut StatCache, prefix: &str, current: &[Current]) {
    for c in current.iter().filter(|c| c.hashed) {
        cache.insert(cache_key(prefix, &c.entry.rel), c.entry.stamp, c.known);
    }
}

/// The tracked path `rel` as it is on disk now: whether it is a directory,
/// its files with their current ids (through the stat cache, which learns
/// what had to be read), and the pointer it would get. `None` when it is
/// absent.
pub(crate) fn on_disk(
    repo: &Repo,
    cache: &mut StatCache,
    rel: &str,
    progress: &dyn Progress,
) -> Result<Option<(bool, Vec<Current>, Pointer)>> {
    let Some((is_dir, files)) = scanned_files(walk::scan(&repo.abs(rel), repo.root())?) else {
        return Ok(None);
    };
    let current = current_ids(cache, Some(rel), files, progress)?;
    remember(cache, rel, &current);
    let now = pointer_for(rel, is_dir, &current)?;
    Ok(Some((is_dir, current, now)))
}

/// The stat cache key of a file `rel` below the tracked path `prefix`.
pub(crate) fn cache_key(prefix: &str, rel: &str) -> String {
    if rel.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}/{rel}")
    }
}

/// A tracked directory's content as a tree, built from current ids.
pub(crate) fn tree_of(current: &[Current]) -> Result<Tree> {
    let entries = current
        .iter()
        .map(|c| Entry {
            path: c.entry.rel.clone(),
            kind: if c.entry.exec { Kind::Exec } else { Kind::File },
            size: c.entry.stamp.size,
            id: c.known.id,
        })
        .collect();
    Tree::from_entries(entries)
}

/// The pointer describing current content.
pub(crate) fn pointer_for(path: &str, scanned_dir: bool, current: &[Current]) -> Result<Pointer> {
    if scanned_dir {
        // A scan gives valid entries sorted by path: hash the listing as it
        // is written, without building a tree (status does this for every
        // pointer on every run).
        let id = tree::id_of_sorted(current.iter().map(|c| {
            let kind = if c.entry.exec { Kind::Exec } else { Kind::File };
            (c.entry.rel.as_str(), kind, c.entry.stamp.size, c.known.id)
        }));
        return Ok(dir_pointer(path, id, current));
    }
    let c = &current[0];
    Ok(Pointer {
        path: pointer_name(path),
        kind: PointerKind::File,
        id: c.known.id,
        size: c.entry.stamp.size,
        files: 1,
        rows: c.known.rows,
    })
}

/// The pointer of a directory whose tree id is `id`.
pub(crate) fn dir_pointer(path: &str, id: Id, current: &[Current]) -> Pointer {
    let rows = tree::combined_rows(
        current
            .iter()
            .filter_map(|c| c.known.rows.map(|r| (c.entry.rel.as_str(), r))),
    );
    Pointer {
        path: pointer_name(path),
        kind: PointerKind::Dir,
        id,
        size: current.iter().map(|c| c.entry.stamp.size).sum(),
        files: current.len() as u64,
        rows,
    }
}

fn pointer_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Split a scan into its files and whether it was a directory.
pub(crate) fn scanned_files(scanned: Scanned) -> Option<(bool, Vec<FileEntry>)> {
    match scanned {
        Scanned::Missing => None,
        Scanned::File(f) => Some((false, vec![f])),
        Scanned::Dir(files) => Some((true, files)),
    }
}

/// The stamp of a file just written at `path`.
pub(crate) fn stamp_now(path: &Path) -> Option<Stamp> {
    std::fs::metadata(path).ok().map(|m| Stamp::of(&m))
}

/// Hash `path` as `add` would, without storing anything: the pointer it
/// would get. Symlinks are followed only to files inside `boundary`.
pub fn hash_path(path: &Path, boundary: &Path, progress: &dyn Progress) -> Result<Pointer> {
    let (is_dir, files) = scanned_files(walk::scan(path, boundary)?).ok_or_else(|| {
        Error::Path(PathError::NotFound {
            path: path.to_path_buf(),
        })
    })?;
    let bytes = files.iter().map(|f| f.stamp.size).sum();
    progress.start("hashing", files.len() as u64, bytes);
    let empty = StatCache::load(Path::new("/nonexistent"));
    let current = current_ids(&empty, None, files, progress)?;
    progress.finish();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(".")
        .to_string();
    pointer_for(&name, is_dir, &current)
}
