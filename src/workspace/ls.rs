//! `ls`: what a stored dataset or the workspace holds.

use std::path::Path;

use super::{find_pointers, tracked_for, Tracked};
use crate::error::{Error, LookupError, PathError, Result, StoreError};
use crate::format::id::{self, Id};
use crate::format::pointer::PointerKind;
use crate::format::tree::{Entry, Kind};
use crate::repository::Repo;
use crate::store::ObjectKind;

/// The result of `ls`.
#[derive(Debug)]
pub enum Listing {
    /// No argument: every pointer in the workspace.
    Pointers(Vec<Tracked>),
    /// The inputs and outputs a run recorded.
    Run(Box<crate::run::Run>),
    /// The files of one stored file or tree.
    Files {
        id: Id,
        kind: ObjectKind,
        entries: Vec<Entry>,
    },
}

/// List the pointers of the workspace, or the files of the stored content
/// named by `arg` (a pointer file, a tracked path, or an id prefix).
pub fn ls(repo: &Repo, cwd: &Path, arg: Option<&str>) -> Result<Listing> {
    let Some(arg) = arg else {
        return Ok(Listing::Pointers(find_pointers(repo)?));
    };
    // Inside a tracked directory, only the part below `within` is listed.
    let mut within: Option<String> = None;
    let (kind, id) = match tracked_for(repo, cwd, Path::new(arg)) {
        Ok(t) => {
            let p = t.pointer?;
            match p.kind {
                PointerKind::File => (ObjectKind::File, p.id),
                PointerKind::Dir => (ObjectKind::Tree, p.id),
            }
        }
        Err(Error::Path(PathError::InsideTracked { dir, pointer, .. })) => {
            let rel = repo.relative(cwd, Path::new(arg))?;
            let part = rel.strip_prefix(&format!("{dir}/")).unwrap_or(&rel);
            let p = crate::format::pointer::Pointer::load(&repo.abs(&pointer.to_string_lossy()))?;
            // A name that is no part of the stored directory may be a run.
            let tree = repo.store().get_tree(&p.id)?;
            if !tree.entries().iter().any(|e| under(&e.path, part)) {
                return run_listing(repo, arg);
            }
            within = Some(part.to_string());
            (ObjectKind::Tree, p.id)
        }
        Err(Error::Path(PathError::NotTracked { .. })) => {
            // A stored id first, then a run by name or run id.
            if id::parse_prefix(arg).is_ok() {
                match repo.store().resolve(arg) {
                    Ok(o) => (o.kind, o.id),
                    Err(Error::Lookup(LookupError::UnknownId { .. })) => {
                        return run_listing(repo, arg)
                    }
                    Err(e) => return Err(e),
                }
            } else {
                return run_listing(repo, arg);
            }
        }
        Err(e) => return Err(e),
    };
    let entries = match kind {
        ObjectKind::Tree => {
            let mut entries = repo.store().get_tree(&id)?.entries().to_vec();
            if let Some(w) = &within {
                entries.retain(|e| under(&e.path, w));
            }
            entries
        }
        ObjectKind::File => {
            if !repo.store().contains(&id) {
                return Err(Error::Store(StoreError::ObjectMissing { id: id.to_hex() }));
            }
            let size = repo.store().file_size(&id)?;
            vec![Entry {
                path: String::new(),
                kind: Kind::File,
                size,
                id,
            }]
        }
    };
    Ok(Listing::Files { id, kind, entries })
}

/// `rvc ls RUN`: the run's inputs and outputs; an unknown name is an
/// unknown target, with the run names close to it.
fn run_listing(repo: &Repo, arg: &str) -> Result<Listing> {
    match crate::run::resolve(repo, arg) {
        Ok(run) => Ok(Listing::Run(Box::new(run))),
        Err(Error::Lookup(LookupError::UnknownRun { similar, .. })) => {
            Err(Error::Lookup(LookupError::UnknownTarget {
                arg: arg.to_string(),
                similar,
            }))
        }
        Err(e) => Err(e),
    }
}

/// Whether `path` is `part` or below it.
fn under(path: &str, part: &str) -> bool {
    path == part || (path.starts_with(part) && path.as_bytes().get(part.len()) == Some(&b'/'))
}
