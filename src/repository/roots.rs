//! Roots: the content that must be kept. These are the pointer files and
//! run lockfiles (inputs, outputs, patch, metrics series) of the workspace
//! and, on request, of every git commit, less the checkpoints that
//! retention released from runs' outputs ([`crate::maintenance::retention`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use crate::error::{Error, RepoError, Result};
use crate::format::pointer::{Pointer, PointerKind};
use crate::maintenance::retention::{self, Released};
use crate::repository::Repo;
use crate::run::Lockfile;
use crate::store::{Reach, Root, Store};
use crate::workspace::find_pointers;

/// Content that must be kept, and what keeps it.
#[derive(Debug, Clone)]
pub struct Keep {
    /// `data.rvc`, `.rvc/runs/run-42.lock:out/run-42`, or
    /// `<commit>:<path>` for something found in git history.
    pub source: String,
    pub root: Root,
    /// Its size as files (0 for a patch or metrics series).
    pub logical: u64,
    /// Whether it is a run's output (which retention may release parts of).
    pub run_output: bool,
    /// Paths inside the tree that are not kept: released checkpoints.
    pub except: BTreeSet<String>,
    /// For a transfer: only these paths inside the tree (a partial pull);
    /// empty means all of it. Never set for what gc keeps.
    pub only: BTreeSet<String>,
}

impl Keep {
    pub(crate) fn of_pointer(source: String, p: &Pointer) -> Keep {
        let root = match p.kind {
            PointerKind::File => Root::File(p.id),
            PointerKind::Dir => Root::Tree(p.id),
        };
        Keep {
            source,
            root,
            logical: p.size,
            run_output: false,
            except: BTreeSet::new(),
            only: BTreeSet::new(),
        }
    }

    pub fn root(&self) -> Root {
        self.root
    }
}

/// Everything a run lockfile references: inputs, outputs, the stored patch,
/// the metrics series, and for `rvc run` the log and the system series.
pub(crate) fn of_run(source: &str, lock: &Lockfile) -> Vec<Keep> {
    let mut out: Vec<Keep> = lock
        .inputs
        .iter()
        .map(|a| Keep::of_pointer(format!("{source}:{}", a.path), &a.pointer()))
        .collect();
    out.extend(lock.outputs.iter().map(|a| Keep {
        run_output: true,
        ..Keep::of_pointer(format!("{source}:{}", a.path), &a.pointer())
    }));
    let extra = [
        ("patch", lock.code.as_ref().and_then(|c| c.patch)),
        ("metrics", lock.metrics.series),
        ("log", lock.process.as_ref().and_then(|p| p.log)),
        ("system", lock.system.as_ref().and_then(|s| s.series)),
    ];
    for (what, id) in extra {
        if let Some(id) = id {
            out.push(Keep {
                source: format!("{source}:{what}"),
                root: Root::File(id),
                logical: 0,
                run_output: false,
                except: BTreeSet::new(),
                only: BTreeSet::new(),
            });
        }
    }
    out
}

/// The pointers and run lockfiles of the workspace. A malformed one is an
/// error: what it referred to cannot be known, so nothing may be deleted.
pub fn workspace(repo: &Repo) -> Result<Vec<Keep>> {
    let released = retention::load(repo.store())?;
    workspace_with(repo, &released)
}

/// [`workspace`], with `released` in place of what the store records.
pub fn workspace_with(repo: &Repo, released: &Released) -> Result<Vec<Keep>> {
    let mut keep: Vec<Keep> = find_pointers(repo)?
        .into_iter()
        .map(|t| Ok(Keep::of_pointer(t.pointer_file, &t.pointer?)))
        .collect::<Result<_>>()?;
    for run in crate::run::all(repo)? {
        keep.extend(of_run(&run.file, &run.lock));
    }
    Ok(apply_released(keep, released))
}

/// Leave out of run outputs the checkpoints `released` names: a wholly
/// released output is dropped, a partly released one keeps the rest.
pub fn apply_released(keep: Vec<Keep>, released: &Released) -> Vec<Keep> {
    keep.into_iter()
        .filter_map(|mut k| {
            let (true, Root::Tree(id)) = (k.run_output, k.root) else {
                return Some(k);
            };
            match released.get(&id) {
                Some(p) if p.contains("") => None,
                Some(p) => {
                    k.except = p.clone();
                    Some(k)
                }
                None => Some(k),
            }
        })
        .collect()
}

/// Everything `keep` references. A tree is followed in full if any root
/// keeps it whole, else without the paths every root of it leaves out.
pub fn reach(store: &Store, keep: &[Keep]) -> Reach {
    let mut except: HashMap<crate::format::id::Id, Option<BTreeSet<String>>> = HashMap::new();
    for k in keep {
        let Root::Tree(id) = k.root else { continue };
        let slot = except.entry(id).or_insert_with(|| Some(k.except.clone()));
        if let Some(set) = slot {
            let both: BTreeSet<String> = set.intersection(&k.except).cloned().collect();
            *slot = (!both.is_empty()).then_some(both);
        }
    }
    let except: HashMap<crate::format::id::Id, BTreeSet<String>> = except
        .into_iter()
        .filter_map(|(id, set)| Some((id, set?)))
        .collect();
    store.reachable_except(keep.iter().map(Keep::root), &|tree, path| {
        except
            .get(tree)
            .is_some_and(|p| retention::is_released(p, path))
    })
}

/// The pointers and run lockfiles in every commit reachable from any git
/// ref, each distinct file once. Files that cannot be parsed are reported
/// as warnings: they never named valid content.
pub fn git_history(repo: &Repo) -> Result<(Vec<Keep>, Vec<String>)> {
    let git = git2::Repository::discover(repo.root()).map_err(|e| {
        Error::Repo(RepoError::Git {
            message: format!(
                "{} (reading every commit's pointers needs a git repository)",
                e.message()
            ),
        })
    })?;
    let mut walk = git.revwalk().map_err(git_err)?;
    // Every ref (branches, tags, remotes, stash) and a detached HEAD.
    for r in git.references().map_err(git_err)? {
        if let Ok(commit) = r.map_err(git_err)?.peel_to_commit() {
            walk.push(commit.id()).map_err(git_err)?;
        }
    }
    if let Ok(head) = git.head().and_then(|h| h.peel_to_commit()) {
        walk.push(head.id()).map_err(git_err)?;
    }
    in_commits(&git, walk)
}

fn git_err(e: git2::Error) -> Error {
    Error::Repo(RepoError::Git {
        message: e.message().to_string(),
    })
}

/// The pointers and run lockfiles in the trees of the commits `walk`
/// yields, each distinct file once; files that cannot be parsed are
/// returned as warnings.
pub fn in_commits(
    git: &git2::Repository,
    walk: git2::Revwalk<'_>,
) -> Result<(Vec<Keep>, Vec<String>)> {
    let mut seen_trees = HashSet::new();
    let mut seen_blobs = HashSet::new();
    let mut keep = Vec::new();
    let mut warnings = Vec::new();
    for oid in walk {
        let oid = oid.map_err(git_err)?;
        let commit = git.find_commit(oid).map_err(git_err)?;
        let tree = commit.tree().map_err(git_err)?;
        let short = oid.to_string()[..10].to_string();
        let mut stack = vec![(tree, String::new())];
        while let Some((tree, prefix)) = stack.pop() {
            if !seen_trees.insert(tree.id()) {
                continue;
            }
            for entry in tree.iter() {
                let Ok(name) = entry.name() else { continue };
                let path = format!("{prefix}{name}");
                match entry.kind() {
                    Some(git2::ObjectType::Tree) => {
                        let sub = git.find_tree(entry.id()).map_err(git_err)?;
                        stack.push((sub, format!("{path}/")));
                    }
                    Some(git2::ObjectType::Blob) => {
                        let is_pointer = name.ends_with(crate::format::pointer::SUFFIX);
                        let is_lockfile =
                            name.ends_with(crate::run::SUFFIX) && path.contains(".rvc/runs/");
                        if !(is_pointer || is_lockfile) || !seen_blobs.insert(entry.id()) {
                            continue;
                        }
                        let blob = git.find_blob(entry.id()).map_err(git_err)?;
                        let source = format!("{short}:{path}");
                        let Ok(text) = std::str::from_utf8(blob.content()) else {
                            warnings.push(format!("{source}: not valid UTF-8"));
                            continue;
                        };
                        let parsed = if is_pointer {
                            Pointer::parse(text, Path::new(name))
                                .map(|p| vec![Keep::of_pointer(source.clone(), &p)])
                        } else {
                            Lockfile::parse(text, &source).map(|lock| of_run(&source, &lock))
                        };
                        match parsed {
                            Ok(found) => keep.extend(found),
                            Err(e) => warnings.push(format!("{source}: {e}")),
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok((keep, warnings))
}
