//! Git hooks with teeth: `rvc hooks install` puts pre-commit, pre-push and
//! post-checkout hooks in place (chained with existing ones), and `rvc hook
//! NAME` is what each runs.
//!
//! * [`pre_commit`] refuses a commit whose data and pointers disagree,
//!   whose pointers name content that exists nowhere, or that puts a big
//!   file into git.
//! * [`pre_push`] pushes, to the default remote, the content of the commits
//!   being pushed.
//! * [`post_checkout`] checks out every pointer after a branch switch.

pub mod install;
mod precommit;
mod prepush;

pub use install::{install, Action, HookOutcome, HOOKS};
pub use precommit::{pre_commit, PreCommitReport, Problem, ProblemKind};
pub use prepush::{parse_input, pre_push, PrePushReport, RefUpdate};

use crate::error::{Error, RepoError, Result};
use crate::io::progress::Progress;
use crate::repository::Repo;
use crate::workspace::{checkout_all, find_pointers, CheckoutReport, Target};

/// What post-checkout does after a branch switch: restore every tracked
/// path as the new branch's pointers say. Files whose changes are not in
/// the store are kept, never overwritten (no `--force` here).
pub fn post_checkout(repo: &Repo, progress: &dyn Progress) -> Result<CheckoutReport> {
    let targets = vec![Target::Pointers(find_pointers(repo)?)];
    checkout_all(repo, targets, Default::default(), progress)
}

fn open_git(repo: &Repo) -> Result<git2::Repository> {
    git2::Repository::discover(repo.root()).map_err(|e| {
        Error::Repo(RepoError::NoGit {
            path: repo.root().to_path_buf(),
            message: e.message().to_string(),
        })
    })
}
