//! `status`: how each tracked path compares with its pointer.

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;

use super::partial::{in_parts, Partial};
use super::{on_disk, Current, Tracked};
use crate::error::Result;
use crate::format::id::Id;
use crate::format::pointer::{Pointer, PointerKind};
use crate::format::tree::Tree;
use crate::io::progress::Progress;
use crate::repository::Repo;
use crate::store::Store;

/// How a tracked path compares with its pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Unchanged,
    Modified,
    Missing,
}

/// Files that differ inside a tracked directory.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub modified: Vec<String>,
}

/// The status of one pointer.
#[derive(Debug, serde::Serialize)]
pub struct PointerStatus {
    pub state: State,
    /// Whether everything the pointer names is in the local store.
    pub in_cache: bool,
    /// The id the path has now, when it differs from the pointer's.
    pub current_id: Option<Id>,
    /// For a modified directory whose stored tree is available.
    pub changes: Option<Changes>,
    /// For a directory checked out in part: which parts, and how many of
    /// its files are not checked out (and are not counted as removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<PartialStatus>,
}

/// The parts of a directory that are checked out.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PartialStatus {
    pub parts: Vec<String>,
    pub not_checked_out: u64,
}

/// The status of one pointer file, or why it could not be determined.
#[derive(Debug)]
pub struct StatusItem {
    pub pointer_file: String,
    pub path: String,
    pub result: Result<PointerStatus>,
}

/// Compare every pointer in `tracked` with the workspace. Each pointer
/// gets its own result, so one malformed pointer does not hide the rest.
/// Updates the stat cache with what had to be hashed.
pub fn status(
    repo: &Repo,
    tracked: Vec<Tracked>,
    progress: &dyn Progress,
) -> Result<Vec<StatusItem>> {
    let _lock = repo.lock(false)?;
    let mut cache = repo.stat_cache();
    let partial = Partial::load(repo)?;
    let mut items = Vec::with_capacity(tracked.len());
    for t in tracked {
        let parts = partial.parts(&t.path);
        let result = t.pointer.and_then(|pointer| match (pointer.kind, parts) {
            (PointerKind::Dir, Some(parts)) => {
                in_part(repo, &mut cache, &t.path, &pointer, parts, progress)
            }
            _ => one(repo, &mut cache, &t.path, &pointer, progress),
        });
        items.push(StatusItem {
            pointer_file: t.pointer_file,
            path: t.path,
            result,
        });
    }
    cache.save()?;
    Ok(items)
}

fn one(
    repo: &Repo,
    cache: &mut crate::repository::statcache::StatCache,
    rel: &str,
    pointer: &Pointer,
    progress: &dyn Progress,
) -> Result<PointerStatus> {
    let store = repo.store();
    let Some((is_dir, current, now)) = on_disk(repo, cache, rel, progress)? else {
        return Ok(PointerStatus {
            state: State::Missing,
            in_cache: in_cache(store, pointer, None),
            current_id: None,
            changes: None,
            partial: None,
        });
    };
    let unchanged = now.id == pointer.id && now.kind == pointer.kind;
    let state = if unchanged {
        State::Unchanged
    } else {
        State::Modified
    };
    // The stored tree of a changed directory is read once, for the list of
    // changes and for the check that its content is in the store.
    let stored = match (unchanged, pointer.kind) {
        (false, PointerKind::Dir) => store.get_tree(&pointer.id).ok(),
        _ => None,
    };
    let changes = stored
        .as_ref()
        .map(|tree| diff(tree, if is_dir { &current } else { &[] }));
    let ids: Option<Vec<Id>> = if unchanged {
        Some(current.iter().map(|c| c.known.id).collect())
    } else {
        stored.map(|tree| tree.entries().iter().map(|e| e.id).collect())
    };
    Ok(PointerStatus {
        state,
        in_cache: in_cache(store, pointer, ids.as_deref()),
        current_id: (!unchanged).then_some(now.id),
        changes,
        partial: None,
    })
}

/// The status of a directory checked out in part: files outside `parts`
/// that are absent are not checked out, not removed, and only the files
/// in the parts need to be in the store.
fn in_part(
    repo: &Repo,
    cache: &mut crate::repository::statcache::StatCache,
    rel: &str,
    pointer: &Pointer,
    parts: &BTreeSet<String>,
    progress: &dyn Progress,
) -> Result<PointerStatus> {
    let store = repo.store();
    let current = match on_disk(repo, cache, rel, progress)? {
        Some((true, current, _)) => current,
        _ => Vec::new(),
    };
    let tree = store.get_tree(&pointer.id)?;
    let mut changes = diff(&tree, &current);
    let before = changes.removed.len();
    changes.removed.retain(|p| in_parts(p, parts));
    let not_checked_out = (before - changes.removed.len()) as u64;
    let clean =
        changes.added.is_empty() && changes.removed.is_empty() && changes.modified.is_empty();
    let in_cache = tree
        .entries()
        .par_iter()
        .filter(|e| in_parts(&e.path, parts))
        .all(|e| store.contains(&e.id));
    let now = (!clean)
        .then(|| super::tree_of(&current).map(|t| t.id()))
        .transpose()?;
    Ok(PointerStatus {
        state: if clean {
            State::Unchanged
        } else {
            State::Modified
        },
        in_cache,
        current_id: now,
        changes: (!clean).then_some(changes),
        partial: Some(PartialStatus {
            parts: parts.iter().cloned().collect(),
            not_checked_out,
        }),
    })
}

/// Narrow the status of a tracked directory to the part of it below
/// `within` (a path inside it, as `rvc status data/raw/x.csv` names it):
/// only changes there count.
pub fn narrow(item: &mut StatusItem, within: &str) {
    let Ok(s) = &mut item.result else { return };
    let Some(c) = &mut s.changes else { return };
    let keep = |p: &String| {
        p == within || (p.starts_with(within) && p.as_bytes().get(within.len()) == Some(&b'/'))
    };
    for list in [&mut c.added, &mut c.removed, &mut c.modified] {
        list.retain(keep);
    }
    if s.state == State::Modified
        && c.added.is_empty()
        && c.removed.is_empty()
        && c.modified.is_empty()
    {
        s.state = State::Unchanged;
        s.current_id = None;
        s.changes = None;
    }
}

/// Whether the store holds everything `pointer` names. `files` are the
/// file ids of the tree when already known.
fn in_cache(store: &Store, pointer: &Pointer, files: Option<&[Id]>) -> bool {
    match pointer.kind {
        PointerKind::File => store.contains(&pointer.id),
        PointerKind::Dir => {
            if !store.contains_tree(&pointer.id) {
                return false;
            }
            match files {
                Some(ids) => ids.par_iter().all(|id| store.contains(id)),
                None => store
                    .get_tree(&pointer.id)
                    .map(|t| t.entries().par_iter().all(|e| store.contains(&e.id)))
                    .unwrap_or(false),
            }
        }
    }
}

fn diff(tree: &Tree, current: &[Current]) -> Changes {
    let now: HashMap<&str, &Current> = current.iter().map(|c| (c.entry.rel.as_str(), c)).collect();
    let mut changes = Changes::default();
    for e in tree.entries() {
        match now.get(e.path.as_str()) {
            None => changes.removed.push(e.path.clone()),
            Some(c)
                if c.known.id != e.id
                    || c.entry.exec != (e.kind == crate::format::tree::Kind::Exec) =>
            {
                changes.modified.push(e.path.clone())
            }
            Some(_) => {}
        }
    }
    for c in current {
        if tree.get(&c.entry.rel).is_none() {
            changes.added.push(c.entry.rel.clone());
        }
    }
    changes
}
