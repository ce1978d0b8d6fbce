//! `ls`: what a stored dataset or the workspace holds.

use std::path::Path;

use super::{find_pointers, tracked_for, Tracked};
use crate::error::{Error, Result};
use crate::id::{self, Id};
use crate::pointer::PointerKind;
use crate::repo::Repo;
use crate::store::ObjectKind;
use crate::tree::{Entry, Kind};

/// The result of `ls`.
#[derive(Debug)]
pub enum Listing {
    /// No argument: every pointer in the workspace.
    Pointers(Vec<Tracked>),
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
    let (kind, id) = match tracked_for(repo, cwd, Path::new(arg)) {
        Ok(t) => {
            let p = t.pointer?;
            match p.kind {
                PointerKind::File => (ObjectKind::File, p.id),
                PointerKind::Dir => (ObjectKind::Tree, p.id),
            }
        }
        Err(Error::NotTracked { .. }) if id::parse_prefix(arg).is_ok() => {
            let o = repo.store().resolve(arg)?;
            (o.kind, o.id)
        }
        Err(e) => return Err(e),
    };
    let entries = match kind {
        ObjectKind::Tree => repo.store().get_tree(&id)?.entries().to_vec(),
        ObjectKind::File => {
            if !repo.store().contains(&id) {
                return Err(Error::ObjectMissing { id: id.to_hex() });
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
