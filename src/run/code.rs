//! The code state of a run, read with git2: HEAD's commit and branch,
//! whether the work tree is dirty, which files differ, and the uncommitted
//! patch (untracked files included) so a dirty run stays reproducible.

use std::path::Path;

use crate::error::{Error, RepoError, Result};
use crate::format::lockfile::CodeState;

/// rvc's own files are not code: anything under `.rvc/` (`rvc_dir`, with
/// its trailing `/`, as git names it), pointers (their data is recorded as
/// data), and the `.gitignore` files rvc writes.
fn rvc_own(p: &str, rvc_dir: &str) -> bool {
    p.starts_with(rvc_dir)
        || p.ends_with(crate::format::pointer::SUFFIX)
        || p == ".gitignore"
        || p.ends_with("/.gitignore")
}

/// Where `dir` is inside the work tree of `repo`, `/`-separated; empty at
/// the top (or when git has no work tree that holds `dir`).
fn prefix_in(repo: &git2::Repository, dir: &Path) -> String {
    repo.workdir()
        .and_then(|w| std::fs::canonicalize(w).ok())
        .and_then(|w| {
            dir.strip_prefix(w)
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        })
        .unwrap_or_default()
}

/// The `.rvc/` directory of the repository at `dir` as git names it.
fn rvc_dir_in_git(repo: &git2::Repository, dir: &Path) -> String {
    let prefix = prefix_in(repo, dir);
    if prefix.is_empty() {
        ".rvc/".to_string()
    } else {
        format!("{prefix}/.rvc/")
    }
}

fn git_err(e: git2::Error) -> Error {
    Error::Repo(RepoError::Git {
        message: e.message().to_string(),
    })
}

/// Read the code state of the git work tree containing `dir`, with the
/// patch text of a dirty tree. `None` outside git. Paths in `skip`,
/// relative to `dir` (the lockfile being written, the run's inputs,
/// outputs and metrics), and everything below them, are left out: they are
/// recorded as data. Files git does not track inside a directory of
/// `beside` (where the run's outputs and metrics are written, such as
/// `out/run-1` for `out/run-1/checkpoint-200`) are left out too, when git
/// tracks nothing in that directory: a trainer's other checkpoints and logs
/// are not code.
pub fn capture(
    dir: &Path,
    skip: &[String],
    beside: &[String],
) -> Result<Option<(CodeState, Vec<u8>)>> {
    let repo = match git2::Repository::discover(dir) {
        Ok(r) => r,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(git_err(e)),
    };
    // Paths git reports are relative to its work tree, which may be above `dir`.
    let prefix = prefix_in(&repo, dir);
    let in_git = |s: &String| {
        if prefix.is_empty() {
            s.clone()
        } else {
            format!("{prefix}/{s}")
        }
    };
    let skip: Vec<String> = skip.iter().map(in_git).collect();
    let index = repo.index().map_err(git_err)?;
    let tracks_below = |d: &str| {
        index.iter().any(|e| {
            let p = &e.path[..];
            p.starts_with(d.as_bytes()) && p.get(d.len()) == Some(&b'/')
        })
    };
    let untracked_skip: Vec<String> = beside
        .iter()
        .map(in_git)
        .filter(|d| !d.is_empty() && !tracks_below(d))
        .collect();
    let below =
        |p: &str, s: &str| p == s || (p.starts_with(s) && p.as_bytes().get(s.len()) == Some(&b'/'));
    let rvc_dir = rvc_dir_in_git(&repo, dir);
    let skipped = |p: &str| rvc_own(p, &rvc_dir) || skip.iter().any(|s| below(p, s));
    let head = repo.head().ok();
    let commit = head.as_ref().and_then(|h| h.peel_to_commit().ok());
    let branch = head
        .as_ref()
        .filter(|h| h.is_branch())
        .and_then(|h| h.shorthand().ok().map(str::to_string));
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo.statuses(Some(&mut opts)).map_err(git_err)?;
    let mut changed: Vec<String> = statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT && !s.status().is_ignored())
        .filter(|s| {
            !(s.status() == git2::Status::WT_NEW
                && s.path()
                    .is_ok_and(|p| untracked_skip.iter().any(|d| below(p, d))))
        })
        .filter_map(|s| s.path().ok().map(str::to_string))
        .filter(|p| !skipped(p))
        .collect();
    changed.sort();
    changed.dedup();
    let mut patch = Vec::new();
    if !changed.is_empty() {
        let tree = commit.as_ref().and_then(|c| c.tree().ok());
        let mut dopts = git2::DiffOptions::new();
        dopts
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .show_untracked_content(true)
            // Files over 1 MiB appear as "Binary files differ" in the patch.
            .max_size(1 << 20);
        for p in &changed {
            dopts.pathspec(p);
        }
        let diff = repo
            .diff_tree_to_workdir_with_index(tree.as_ref(), Some(&mut dopts))
            .map_err(git_err)?;
        diff.print(git2::DiffFormat::Patch, |_, _, line| {
            if matches!(line.origin(), '+' | '-' | ' ') {
                patch.push(line.origin() as u8);
            }
            patch.extend_from_slice(line.content());
            true
        })
        .map_err(git_err)?;
    }
    Ok(Some((
        CodeState {
            commit: commit.map(|c| c.id().to_string()),
            branch,
            dirty: !changed.is_empty(),
            changed,
            patch: None,
        },
        patch,
    )))
}

/// What changed in the code between two commits.
#[derive(Debug, Default, serde::Serialize)]
pub struct CodeDiff {
    /// Commits reachable from `b` but not `a` (oldest first), as
    /// `<short sha> <summary>`.
    pub commits: Vec<String>,
    /// Files changed between the two commits, rvc's own files left out.
    pub files: Vec<FileChange>,
}

/// A file that differs between two commits.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FileChange {
    /// `added`, `modified`, `deleted` or `renamed`.
    pub status: &'static str,
    pub path: String,
}

/// Compare two commits of the repository containing `dir`.
pub fn diff_commits(dir: &Path, a: &str, b: &str) -> Result<CodeDiff> {
    let repo = git2::Repository::discover(dir).map_err(git_err)?;
    let oa = git2::Oid::from_str(a).map_err(git_err)?;
    let ob = git2::Oid::from_str(b).map_err(git_err)?;
    let ca = repo.find_commit(oa).map_err(|e| {
        Error::Repo(RepoError::Git {
            message: format!("commit {a}: {}", e.message()),
        })
    })?;
    let cb = repo.find_commit(ob).map_err(|e| {
        Error::Repo(RepoError::Git {
            message: format!("commit {b}: {}", e.message()),
        })
    })?;
    let mut walk = repo.revwalk().map_err(git_err)?;
    walk.push(ob).map_err(git_err)?;
    walk.hide(oa).map_err(git_err)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(git_err)?;
    let mut commits = Vec::new();
    for oid in walk {
        let c = repo.find_commit(oid.map_err(git_err)?).map_err(git_err)?;
        commits.push(format!(
            "{} {}",
            &c.id().to_string()[..10],
            c.summary().ok().flatten().unwrap_or("")
        ));
    }
    let diff = repo
        .diff_tree_to_tree(
            Some(&ca.tree().map_err(git_err)?),
            Some(&cb.tree().map_err(git_err)?),
            None,
        )
        .map_err(git_err)?;
    let rvc_dir = rvc_dir_in_git(&repo, dir);
    let files = diff
        .deltas()
        .map(|d| {
            let status = match d.status() {
                git2::Delta::Added => "added",
                git2::Delta::Deleted => "deleted",
                git2::Delta::Renamed => "renamed",
                _ => "modified",
            };
            let path = d
                .new_file()
                .path()
                .or(d.old_file().path())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            FileChange { status, path }
        })
        .filter(|f| !rvc_own(&f.path, &rvc_dir))
        .collect();
    Ok(CodeDiff { commits, files })
}
