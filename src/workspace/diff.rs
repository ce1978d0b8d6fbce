//! `rvc diff` without runs: how the tracked data differs between a git
//! commit and the workspace, or between two commits.
//!
//! Each side is the set of pointer files it holds. A commit's pointers are
//! read from git's objects, without touching the work tree. The workspace
//! side is the data on disk now (hashed through the stat cache, as `status`
//! does), so an edit that has not been added yet shows too; a tracked path
//! that is not checked out stands for what its pointer names. Paths are
//! joined by name and compared as run inputs are: ids, row counts and rows
//! added, removed and changed for row files, and the files added, removed
//! and modified inside directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{find_pointers, on_disk, tree_of};
use crate::error::{Error, LookupError, RepoError, Result, RunError};
use crate::format::pointer::{self, Pointer};
use crate::format::tree::Tree;
use crate::io::progress::Progress;
use crate::repository::Repo;
use crate::run::diff::{data_change, DataChange, Version};
use crate::run::Artifact;

/// One side of a data diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Side {
    /// A git revision: `HEAD`, a branch, a tag, `HEAD~1`, a commit id.
    Commit(String),
    /// The data in the work tree now.
    Workspace,
}

/// How one side was resolved.
#[derive(Debug, serde::Serialize)]
pub struct SideInfo {
    /// As given (`HEAD~1`), or `workspace`.
    pub name: String,
    /// The full commit id, for a revision.
    pub commit: Option<String>,
}

/// How one tracked path differs.
#[derive(Debug, serde::Serialize)]
pub struct PathChange {
    /// `added`, `deleted` or `modified`.
    pub change: &'static str,
    /// On the workspace side: `not added` when the data on disk differs
    /// from its pointer file (the comparison uses the data), `not checked
    /// out` when the data is absent (it uses the pointer).
    pub workspace: Option<&'static str>,
    #[serde(flatten)]
    pub data: DataChange,
}

/// The whole comparison.
#[derive(Debug, serde::Serialize)]
pub struct DataDiff {
    pub from: SideInfo,
    pub to: SideInfo,
    /// Changed paths, sorted by path.
    pub changes: Vec<PathChange>,
    /// Tracked paths that are the same on both sides.
    pub unchanged: u64,
    /// Pointer files that could not be read, and were left out.
    pub warnings: Vec<String>,
}

/// A tracked path on one side.
struct Item {
    artifact: Artifact,
    /// For the workspace's current data: its listing (a directory) and
    /// where it is on disk.
    tree: Option<Tree>,
    on_disk: Option<PathBuf>,
    note: Option<&'static str>,
}

impl Item {
    fn version(&self) -> Version<'_> {
        Version {
            artifact: &self.artifact,
            tree: self.tree.as_ref(),
            on_disk: self.on_disk.as_deref(),
        }
    }
}

/// Compare the tracked data of `from` with that of `to`.
/// With `key`, rows of row files and tables are also matched by that column.
pub fn diff(
    repo: &Repo,
    from: &Side,
    to: &Side,
    key: Option<&str>,
    progress: &dyn Progress,
) -> Result<DataDiff> {
    let git = git2::Repository::discover(repo.root()).map_err(|e| {
        Error::Repo(RepoError::Git {
            message: format!(
                "comparing data with a commit needs a git repository ({})",
                e.message()
            ),
        })
    })?;
    let mut warnings = Vec::new();
    let (from_info, a) = side(repo, &git, from, &mut warnings, progress)?;
    let (to_info, b) = side(repo, &git, to, &mut warnings, progress)?;

    let mut joined: BTreeMap<&str, (Option<&Item>, Option<&Item>)> = BTreeMap::new();
    for (path, item) in &a {
        joined.entry(path).or_default().0 = Some(item);
    }
    for (path, item) in &b {
        joined.entry(path).or_default().1 = Some(item);
    }
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for (x, y) in joined.into_values() {
        let same = |x: &Item, y: &Item| {
            x.artifact.id == y.artifact.id && x.artifact.kind == y.artifact.kind
        };
        let change = match (x, y) {
            (Some(x), Some(y)) if same(x, y) => {
                unchanged += 1;
                continue;
            }
            (Some(_), Some(_)) => "modified",
            (None, Some(_)) => "added",
            (Some(_), None) => "deleted",
            (None, None) => continue,
        };
        changes.push(PathChange {
            change,
            workspace: y.and_then(|y| y.note).or(x.and_then(|x| x.note)),
            data: data_change(
                repo,
                "tracked",
                x.map(Item::version),
                y.map(Item::version),
                key,
            ),
        });
    }
    Ok(DataDiff {
        from: from_info,
        to: to_info,
        changes,
        unchanged,
        warnings,
    })
}

/// The tracked paths of one side, by repository-relative path.
fn side(
    repo: &Repo,
    git: &git2::Repository,
    side: &Side,
    warnings: &mut Vec<String>,
    progress: &dyn Progress,
) -> Result<(SideInfo, BTreeMap<String, Item>)> {
    match side {
        Side::Commit(rev) => {
            let commit = resolve_commit(git, rev)?;
            let items = at_commit(repo, git, &commit, warnings)?;
            Ok((
                SideInfo {
                    name: rev.clone(),
                    commit: Some(commit.id().to_string()),
                },
                items,
            ))
        }
        Side::Workspace => Ok((
            SideInfo {
                name: "workspace".into(),
                commit: None,
            },
            in_workspace(repo, warnings, progress)?,
        )),
    }
}

/// The commit a revision names, or `None` when it names none.
pub fn find_commit<'g>(git: &'g git2::Repository, rev: &str) -> Option<git2::Commit<'g>> {
    git.revparse_single(rev).ok()?.peel_to_commit().ok()
}

fn resolve_commit<'g>(git: &'g git2::Repository, rev: &str) -> Result<git2::Commit<'g>> {
    find_commit(git, rev).ok_or_else(|| {
        Error::Repo(RepoError::Git {
            message: format!("`{rev}` is not a revision of this git repository"),
        })
    })
}

/// The pointers a commit holds below the rvc repository's root.
fn at_commit(
    repo: &Repo,
    git: &git2::Repository,
    commit: &git2::Commit<'_>,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, Item>> {
    let git_err = |e: git2::Error| {
        Error::Repo(RepoError::Git {
            message: e.message().to_string(),
        })
    };
    let tree = commit.tree().map_err(git_err)?;
    // The rvc repository may sit below the top of the git work tree.
    let workdir = git.workdir().unwrap_or(repo.root());
    let prefix = repo.root().strip_prefix(workdir).unwrap_or(Path::new(""));
    let tree = if prefix.as_os_str().is_empty() {
        tree
    } else {
        match tree.get_path(prefix) {
            Ok(entry) => git.find_tree(entry.id()).map_err(git_err)?,
            // The repository did not exist yet in that commit.
            Err(_) => return Ok(BTreeMap::new()),
        }
    };
    let short = &commit.id().to_string()[..10];
    let mut found = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let Ok(name) = entry.name() else {
            return git2::TreeWalkResult::Ok;
        };
        if dir.is_empty() && name == crate::repository::RVC_DIR {
            return git2::TreeWalkResult::Skip;
        }
        if entry.kind() == Some(git2::ObjectType::Blob) && name.ends_with(pointer::SUFFIX) {
            found.push((format!("{dir}{name}"), entry.id()));
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(git_err)?;
    let mut items = BTreeMap::new();
    for (file, oid) in found {
        let blob = git.find_blob(oid).map_err(git_err)?;
        let parsed = std::str::from_utf8(blob.content())
            .map_err(|_| "not valid UTF-8".to_string())
            .and_then(|text| Pointer::parse(text, Path::new(&file)).map_err(|e| e.to_string()));
        let tracked = file
            .strip_suffix(pointer::SUFFIX)
            .unwrap_or(&file)
            .to_string();
        match parsed {
            Ok(p) => {
                items.insert(
                    tracked.clone(),
                    Item {
                        artifact: Artifact::from_pointer(&tracked, &p),
                        tree: None,
                        on_disk: None,
                        note: None,
                    },
                );
            }
            Err(e) => warnings.push(format!("{short}:{file}: {e}")),
        }
    }
    Ok(items)
}

/// The tracked paths of the workspace, as the data on disk has them now.
fn in_workspace(
    repo: &Repo,
    warnings: &mut Vec<String>,
    progress: &dyn Progress,
) -> Result<BTreeMap<String, Item>> {
    let _lock = repo.lock(false)?;
    let mut cache = repo.stat_cache();
    let mut items = BTreeMap::new();
    for t in find_pointers(repo)? {
        let pointer = match t.pointer {
            Ok(p) => p,
            Err(e) => {
                warnings.push(e.to_string());
                continue;
            }
        };
        let item = match on_disk(repo, &mut cache, &t.path, progress)? {
            None => Item {
                artifact: Artifact::from_pointer(&t.path, &pointer),
                tree: None,
                on_disk: None,
                note: Some("not checked out"),
            },
            Some((is_dir, current, now)) => {
                let differs = now.id != pointer.id || now.kind != pointer.kind;
                Item {
                    artifact: Artifact::from_pointer(&t.path, &now),
                    tree: if is_dir {
                        Some(tree_of(&current)?)
                    } else {
                        None
                    },
                    on_disk: Some(repo.abs(&t.path)),
                    note: differs.then_some("not added"),
                }
            }
        };
        items.insert(t.path, item);
    }
    cache.save()?;
    Ok(items)
}

/// What `rvc diff ARGS` compares.
#[derive(Debug)]
pub enum Comparison {
    /// Two runs: code, data, params, environment and metrics.
    Runs(Box<crate::run::Run>, Box<crate::run::Run>),
    /// The tracked data of two commits, or of a commit and the workspace.
    Data(Side, Side),
}

/// Decide what `rvc diff` compares from its arguments: none compares `HEAD`
/// with the workspace; one names a revision to compare with the workspace;
/// two name two runs (runs win when a name is both) or two revisions.
pub fn comparison(repo: &Repo, args: &[String]) -> Result<Comparison> {
    let git = git2::Repository::discover(repo.root()).ok();
    let is_rev = |arg: &str| git.as_ref().is_some_and(|g| find_commit(g, arg).is_some());
    // The error for an argument that is not a revision: the run lookup's own
    // when it says something precise (a prefix too short or ambiguous).
    let neither = |arg: &str, run_error: Error| match run_error {
        Error::Lookup(LookupError::UnknownRun { similar, .. }) => {
            Error::Lookup(LookupError::NotRunOrRevision {
                arg: arg.to_string(),
                similar,
            })
        }
        other => other,
    };
    match args {
        [] => Ok(Comparison::Data(
            Side::Commit("HEAD".into()),
            Side::Workspace,
        )),
        [a] if is_rev(a) => Ok(Comparison::Data(Side::Commit(a.clone()), Side::Workspace)),
        [a] => match crate::run::resolve(repo, a) {
            Ok(run) => Err(Error::Run(RunError::OneRun {
                arg: a.clone(),
                run: run.lock.run.name,
            })),
            Err(e) => Err(neither(a, e)),
        },
        [a, b] => {
            let (ra, rb) = (crate::run::resolve(repo, a), crate::run::resolve(repo, b));
            match (ra, rb) {
                (Ok(x), Ok(y)) => Ok(Comparison::Runs(Box::new(x), Box::new(y))),
                _ if is_rev(a) && is_rev(b) => Ok(Comparison::Data(
                    Side::Commit(a.clone()),
                    Side::Commit(b.clone()),
                )),
                (Err(e), _) if !is_rev(a) => Err(neither(a, e)),
                (_, Err(e)) if !is_rev(b) => Err(neither(b, e)),
                _ => Err(Error::Run(RunError::RunAndRevision {
                    a: a.clone(),
                    b: b.clone(),
                })),
            }
        }
        _ => Err(Error::Run(RunError::TooManyToCompare { given: args.len() })),
    }
}
