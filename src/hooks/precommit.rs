//! The pre-commit check. It fails when:
//!
//! * tracked data changed but its pointer was not updated (`rvc add`), or
//!   the pointer was updated but not staged (`git add`);
//! * a staged pointer or lockfile references objects that are neither in
//!   the local store nor on the default remote;
//! * a staged file bigger than `[hooks] max_file_size` is not tracked by
//!   rvc.
//!
//! The cost is one `rvc status` (a stat per tracked file, thanks to the
//! stat cache) plus a look at what git has staged.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{Error, RemoteError, RepoError, Result};
use crate::format::pointer::Pointer;
use crate::io::progress::Progress;
use crate::repository::roots::{of_run, Keep};
use crate::repository::Repo;
use crate::run::Lockfile;
use crate::store::ObjectRef;
use crate::workspace::{find_pointers, status, Changes, State};

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Tracked data differs from its pointer.
    DataChanged,
    /// A pointer was updated but the update is not staged.
    PointerNotStaged,
    /// A staged pointer or lockfile names content that is nowhere.
    ObjectsMissing,
    /// A big file is about to be committed to git.
    LargeFile,
    /// A pointer or lockfile cannot be read.
    Invalid,
    /// The remote could not be asked.
    RemoteUnavailable,
}

/// One reason to stop the commit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The path concerned (relative to the git work tree for staged files,
    /// to the rvc repository otherwise): the tracked path for
    /// `DataChanged` (its pointer is `PATH.rvc`), the pointer or lockfile
    /// for `PointerNotStaged`, `Invalid` and `ObjectsMissing`, the file for
    /// `LargeFile`, the config file or the remote's URL for
    /// `RemoteUnavailable`. The CLI turns kind and path into the command
    /// that fixes it.
    pub path: String,
    pub message: String,
    /// For `DataChanged` on a directory: the files added, removed and
    /// modified inside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

/// The outcome of the check.
#[derive(Debug, Default, serde::Serialize)]
pub struct PreCommitReport {
    pub problems: Vec<Problem>,
    /// Pointers compared with the workspace.
    pub pointers: usize,
    /// Files staged for the commit.
    pub staged: usize,
}

/// Run the pre-commit check.
pub fn pre_commit(repo: &Repo, progress: &dyn Progress) -> Result<PreCommitReport> {
    let git = super::open_git(repo)?;
    let mut report = PreCommitReport::default();
    let limit = repo.settings().max_file_size;

    // 1. Tracked data against its pointers, and pointers against the index.
    let tracked = find_pointers(repo)?;
    report.pointers = tracked.len();
    let workdir = git.workdir().unwrap_or(repo.root()).to_path_buf();
    let to_git = |rel: &str| -> String {
        let abs = repo.abs(rel);
        abs.strip_prefix(&workdir)
            .unwrap_or(&abs)
            .to_string_lossy()
            .into_owned()
    };
    for t in &tracked {
        let st = git
            .status_file(Path::new(&to_git(&t.pointer_file)))
            .unwrap_or(git2::Status::CURRENT);
        if st.contains(git2::Status::WT_MODIFIED) {
            report.problems.push(Problem {
                kind: ProblemKind::PointerNotStaged,
                changes: None,
                path: t.pointer_file.clone(),
                message: format!(
                    "{} was updated, but the update is not staged",
                    t.pointer_file
                ),
            });
        }
    }
    let mut unreadable: Vec<(String, Problem)> = Vec::new();
    for item in status(repo, tracked, progress)? {
        match item.result {
            Ok(s) if s.state == State::Modified => report.problems.push(Problem {
                kind: ProblemKind::DataChanged,
                path: item.path.clone(),
                message: format!(
                    "{} changed since {} was written{}",
                    item.path,
                    item.pointer_file,
                    s.changes.as_ref().map(summary).unwrap_or_default()
                ),
                changes: s.changes,
            }),
            Ok(_) => {}
            Err(e) => unreadable.push((
                to_git(&item.pointer_file),
                Problem {
                    kind: ProblemKind::Invalid,
                    changes: None,
                    path: item.pointer_file.clone(),
                    message: e.to_string(),
                },
            )),
        }
    }

    // 2. What is staged: pointers and lockfiles, and big files.
    let git_err = |e: git2::Error| {
        Error::Repo(RepoError::Git {
            message: e.message().to_string(),
        })
    };
    let head_tree = git.head().ok().and_then(|h| h.peel_to_tree().ok());
    let index = git.index().map_err(git_err)?;
    let diff = git
        .diff_tree_to_index(head_tree.as_ref(), Some(&index), None)
        .map_err(git_err)?;
    let odb = git.odb().map_err(git_err)?;
    let mut roots: Vec<Keep> = Vec::new();
    let mut staged_invalid: HashSet<String> = HashSet::new();
    for delta in diff.deltas() {
        if delta.status() == git2::Delta::Deleted {
            continue;
        }
        let file = delta.new_file();
        let Some(path) = file.path().map(|p| p.to_string_lossy().into_owned()) else {
            continue;
        };
        report.staged += 1;
        let oid = file.id();
        let is_pointer = path.ends_with(crate::format::pointer::SUFFIX);
        let is_lockfile = path.ends_with(crate::run::SUFFIX) && path.contains(".rvc/runs/");
        if is_pointer || is_lockfile {
            let blob = git.find_blob(oid).map_err(git_err)?;
            let text = String::from_utf8_lossy(blob.content());
            let shown = format!("{path} (staged)");
            let parsed = if is_pointer {
                Pointer::parse(&text, Path::new(&path))
                    .map(|p| vec![Keep::of_pointer(path.clone(), &p)])
            } else {
                Lockfile::parse(&text, &shown).map(|lock| of_run(&path, &lock))
            };
            match parsed {
                Ok(found) => roots.extend(found),
                Err(e) => report.problems.push(Problem {
                    kind: ProblemKind::Invalid,
                    changes: None,
                    path: {
                        staged_invalid.insert(path.clone());
                        path.clone()
                    },
                    message: e.to_string(),
                }),
            }
            continue;
        }
        let size = odb
            .read_header(oid)
            .map(|(size, _)| size as u64)
            .unwrap_or(0);
        if size > limit {
            report.problems.push(Problem {
                kind: ProblemKind::LargeFile,
                changes: None,
                path: path.clone(),
                message: format!(
                    "{path} is {} and would go into git (the limit is {}: [hooks] max_file_size)",
                    human(size),
                    human(limit)
                ),
            });
        }
    }

    // A pointer that cannot be read is reported once: as staged, if it is.
    report.problems.extend(
        unreadable
            .into_iter()
            .filter(|(git_path, _)| !staged_invalid.contains(git_path))
            .map(|(_, p)| p),
    );

    // 3. Content the staged pointers and lockfiles name must exist somewhere.
    if !roots.is_empty() {
        missing_content(repo, &roots, &mut report);
    }
    Ok(report)
}

/// Add a problem for each staged pointer or lockfile naming content that
/// is neither in the local store nor on the default remote.
fn missing_content(repo: &Repo, roots: &[Keep], report: &mut PreCommitReport) {
    let store = repo.store();
    let mut by_source: Vec<(String, Vec<ObjectRef>)> = Vec::new();
    for k in roots {
        let missing = crate::repository::roots::reach(store, std::slice::from_ref(k)).missing;
        if !missing.is_empty() {
            by_source.push((k.source.clone(), missing));
        }
    }
    if by_source.is_empty() {
        return;
    }
    let on_remote: Option<HashSet<ObjectRef>> = match crate::remote::Remote::open(repo) {
        Err(Error::Remote(RemoteError::NoRemote { .. })) => None,
        Err(e) => {
            report.problems.push(Problem {
                kind: ProblemKind::RemoteUnavailable,
                changes: None,
                path: ".rvc/config.toml".into(),
                message: format!("cannot check the default remote: {e}"),
            });
            return;
        }
        Ok(remote) => {
            let state = repo.rvc_dir().join("state");
            let jobs = repo.settings().jobs(remote.jobs);
            let known = crate::remote::runtime()
                .and_then(|rt| rt.block_on(crate::remote::index::load(&remote, &state, jobs)));
            match known {
                Ok(known) => Some(
                    by_source
                        .iter()
                        .flat_map(|(_, m)| m.iter().copied())
                        .filter(|o| known.has_content(*o))
                        .collect(),
                ),
                Err(e) => {
                    report.problems.push(Problem {
                            kind: ProblemKind::RemoteUnavailable,
                            changes: None,
                            path: remote.url.clone(),
                            message: format!(
                                "some staged content is not in the local store, and the remote cannot be asked: {e}"
                            ),
                        });
                    return;
                }
            }
        }
    };
    for (source, missing) in by_source {
        let nowhere: Vec<&ObjectRef> = missing
            .iter()
            .filter(|o| on_remote.as_ref().is_none_or(|r| !r.contains(o)))
            .collect();
        if nowhere.is_empty() {
            continue;
        }
        let (path, _) = source.split_once(':').unwrap_or((&source, ""));
        report.problems.push(Problem {
            kind: ProblemKind::ObjectsMissing,
            changes: None,
            path: path.to_string(),
            message: format!(
                "{source} names {} that {} neither in the local store nor on {} (first: {})",
                if nowhere.len() == 1 {
                    "1 object".to_string()
                } else {
                    format!("{} objects", nowhere.len())
                },
                if nowhere.len() == 1 { "is" } else { "are" },
                if on_remote.is_some() {
                    "the default remote"
                } else {
                    "any remote (none is configured)"
                },
                crate::remote::object_rel(nowhere[0].area, &nowhere[0].id)
            ),
        });
    }
}

/// ` (2 modified, 1 added)`: the counts that are not zero.
fn summary(c: &Changes) -> String {
    let parts: Vec<String> = [
        (c.modified.len(), "modified"),
        (c.added.len(), "added"),
        (c.removed.len(), "removed"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn human(n: u64) -> String {
    if n >= 1_000_000_000 {
        format!("{:.1} GB", n as f64 / 1e9)
    } else if n >= 1_000_000 {
        format!("{:.1} MB", n as f64 / 1e6)
    } else if n >= 1000 {
        format!("{:.1} kB", n as f64 / 1e3)
    } else {
        format!("{n} B")
    }
}
