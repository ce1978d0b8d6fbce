//! The pre-push hook: push to the default remote the content the commits
//! being pushed reference, so that no one pulls a pointer whose data never
//! left this machine. If that push fails, the git push fails too.

use crate::error::{Error, RepoError, Result};
use crate::io::progress::Progress;
use crate::remote::{self, PushReport, Remote, TransferOptions};
use crate::repository::roots::{in_commits, Keep};
use crate::repository::Repo;

/// One line of a pre-push hook's input: a local commit and what the
/// remote has at the ref it will update (all zeros: nothing yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub local: String,
    pub remote: String,
}

const ZERO: &str = "0000000000000000000000000000000000000000";

/// Parse git's pre-push input: `<local ref> <local sha> <remote ref> <remote sha>` lines.
pub fn parse_input(text: &str) -> Vec<RefUpdate> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f[..] {
                [_, local, _, remote] => Some(RefUpdate {
                    local: local.to_string(),
                    remote: remote.to_string(),
                }),
                _ => None,
            }
        })
        .collect()
}

/// What the hook did: no content to push, or a push report.
#[derive(Debug, serde::Serialize)]
pub struct PrePushReport {
    /// Commits whose pointers and lockfiles were read.
    pub commits: usize,
    /// Pointers and lockfile entries found in them.
    pub roots: usize,
    pub push: Option<PushReport>,
    pub warnings: Vec<String>,
}

/// Push what the commits in `updates` reference. `git_remote` is the git
/// remote being pushed to: commits already on it are skipped when a ref
/// is new there.
pub fn pre_push(
    repo: &Repo,
    git_remote: Option<&str>,
    updates: &[RefUpdate],
    progress: &dyn Progress,
) -> Result<PrePushReport> {
    let git = super::open_git(repo)?;
    let git_err = |e: git2::Error| {
        Error::Repo(RepoError::Git {
            message: e.message().to_string(),
        })
    };
    // The commits being pushed: the new tips, minus what the remote has.
    let walk = || -> Result<Option<git2::Revwalk<'_>>> {
        let mut walk = git.revwalk().map_err(git_err)?;
        let mut any = false;
        for u in updates {
            if u.local.chars().all(|c| c == '0') {
                continue; // a deleted ref
            }
            let local = git2::Oid::from_str(&u.local).map_err(git_err)?;
            walk.push(local).map_err(git_err)?;
            any = true;
            let known_there = git2::Oid::from_str(&u.remote)
                .ok()
                .filter(|o| u.remote != ZERO && git.find_commit(*o).is_ok());
            match known_there {
                Some(oid) => walk.hide(oid).map_err(git_err)?,
                // A new ref: skip what the remote's other refs already have.
                None => {
                    if let Some(name) = git_remote {
                        let _ = walk.hide_glob(&format!("refs/remotes/{name}/*"));
                    }
                }
            }
        }
        Ok(any.then_some(walk))
    };
    let Some(counted) = walk()? else {
        return Ok(PrePushReport {
            commits: 0,
            roots: 0,
            push: None,
            warnings: Vec::new(),
        });
    };
    let commits = counted.count();
    let walk = walk()?.expect("the same updates");
    let (roots, warnings): (Vec<Keep>, Vec<String>) = in_commits(&git, walk)?;
    let mut report = PrePushReport {
        commits,
        roots: roots.len(),
        push: None,
        warnings,
    };
    if roots.is_empty() {
        return Ok(report);
    }
    let remote = Remote::open(repo)?;
    let jobs = repo.settings().jobs(remote.jobs);
    report.push = Some(remote::push(
        repo,
        &remote,
        &roots,
        TransferOptions { jobs },
        progress,
    )?);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_git_pre_push_input() {
        let text = format!(
            "refs/heads/main 1111111111111111111111111111111111111111 refs/heads/main {ZERO}\n\
             (delete) {ZERO} refs/heads/old 2222222222222222222222222222222222222222\n\n"
        );
        let u = parse_input(&text);
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].remote, ZERO);
        assert!(u[1].local.starts_with('0'));
        assert!(parse_input("garbage\n").is_empty());
    }
}
