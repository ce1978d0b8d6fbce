//! Git hooks with teeth: `rvc hooks install` puts pre-commit, pre-push and
//! post-checkout hooks in place (chained with existing ones), and `rvc hook
//! NAME` is what each runs.
//!
//! * [`pre_commit`] refuses a commit whose data and pointers disagree,
//!   whose pointers name content that exists nowhere, or that puts a big
//!   file into git.
//! * [`pre_push`] pushes, to the default remote, the content of the commits
//!   being pushed.
//! * post-checkout is `checkout` of every pointer after a branch switch;
//!   it lives in the CLI, as it only calls [`crate::workspace::checkout`].

pub mod install;
mod precommit;
mod prepush;

pub use install::{install, Action, HookOutcome, HOOKS};
pub use precommit::{pre_commit, PreCommitReport, Problem, ProblemKind};
pub use prepush::{parse_input, pre_push, PrePushReport, RefUpdate};

use crate::error::{Error, Result};
use crate::repo::Repo;

fn open_git(repo: &Repo) -> Result<git2::Repository> {
    git2::Repository::discover(repo.root()).map_err(|e| Error::Refused {
        what: "rvc hook",
        reason: format!("no git repository here ({})", e.message()),
        hint: "the hooks are git hooks: run them from a git work tree".into(),
    })
}
