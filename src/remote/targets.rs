//! What a transfer covers: pointer files, runs, or the whole workspace.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::{Error, LookupError, Result};
use crate::repository::roots::{of_run, Keep};
use crate::repository::Repo;
use crate::store::{ObjectKind, Root};
use crate::workspace::partial::Partial;
use crate::workspace::{find_pointers, Part, Tracked};
use crate::workspace::{resolve_target, Target};

/// What `push`, `fetch` and `pull` transfer.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Pointer files, tracked paths or run names; empty means every
    /// pointer in the workspace.
    pub targets: Vec<String>,
    /// Also everything every run lockfile references.
    pub all_runs: bool,
}

/// The roots a transfer covers, each with what names it.
pub fn roots_for(repo: &Repo, cwd: &Path, scope: &Scope) -> Result<Vec<Keep>> {
    let mut keep = Vec::new();
    let partial = Partial::load(repo)?;
    // A partly checked-out directory brings only its parts, unless named.
    let of = |t: Tracked| -> Result<Keep> {
        let only = match &t.part {
            Part::Whole => BTreeSet::new(),
            Part::Sub(sub) => BTreeSet::from([sub.clone()]),
            Part::Recorded => partial.parts(&t.path).cloned().unwrap_or_default(),
        };
        Ok(Keep {
            only,
            ..Keep::of_pointer(t.pointer_file, &t.pointer?)
        })
    };
    if scope.targets.is_empty() {
        for t in find_pointers(repo)? {
            keep.push(of(t)?);
        }
    }
    for arg in &scope.targets {
        match resolve(repo, cwd, arg)? {
            Target::Pointers(ts) => {
                for t in ts {
                    keep.push(of(t)?);
                }
            }
            Target::Run(run) => keep.extend(of_run(&run.file, &run.lock)),
            Target::Object { object, .. } => keep.push(Keep {
                source: arg.clone(),
                root: match object.kind {
                    ObjectKind::File => Root::File(object.id),
                    ObjectKind::Tree => Root::Tree(object.id),
                },
                logical: 0,
                run_output: false,
                except: Default::default(),
                only: Default::default(),
            }),
        }
    }
    if scope.all_runs {
        for run in crate::run::all(repo)? {
            keep.extend(of_run(&run.file, &run.lock));
        }
    }
    // Checkpoints released by `gc --keep-last/--keep-best` are not sent.
    let released = crate::maintenance::retention::load(repo.store())?;
    Ok(crate::repository::roots::apply_released(keep, &released))
}

/// What `pull` checks out after fetching `scope`: the named pointers and
/// runs (a run with its outputs), or every pointer of the workspace.
pub fn checkout_targets(repo: &Repo, cwd: &Path, scope: &Scope) -> Result<Vec<Target>> {
    if scope.targets.is_empty() {
        return Ok(vec![Target::Pointers(find_pointers(repo)?)]);
    }
    scope
        .targets
        .iter()
        .map(|arg| resolve(repo, cwd, arg))
        .collect()
}

/// A target is a pointer, a tracked path or a run; an id is accepted when
/// it is in the local store (for push).
fn resolve(repo: &Repo, cwd: &Path, arg: &str) -> Result<Target> {
    match resolve_target(repo, cwd, arg, None) {
        Err(Error::Lookup(LookupError::UnknownId { .. }))
        | Err(Error::Lookup(LookupError::BadId { .. })) => {
            Err(Error::Lookup(LookupError::UnknownTarget {
                arg: arg.into(),
                similar: Vec::new(),
            }))
        }
        other => other,
    }
}
