//! `pull`: fetch what the targets need, then check them out.

use std::path::Path;

use super::{checkout_targets, fetch, roots_for, FetchReport, Remote, Scope, TransferOptions};
use crate::error::Result;
use crate::io::progress::Progress;
use crate::repository::Repo;
use crate::workspace::{checkout_all, CheckoutOptions, CheckoutReport};

/// What a pull did: the fetch, then the checkout of the same targets.
#[derive(Debug, serde::Serialize)]
pub struct PullReport {
    pub fetch: FetchReport,
    pub checkout: CheckoutReport,
}

impl PullReport {
    pub fn is_clean(&self) -> bool {
        self.fetch.is_clean() && self.checkout.is_clean()
    }
}

/// Fetch `scope` from `remote`, then check it out (a run with its
/// outputs). The checkout restores only what is complete and verified in
/// the store; whatever failed to arrive is reported for its path.
pub fn pull(
    repo: &Repo,
    remote: &Remote,
    cwd: &Path,
    scope: &Scope,
    opts: TransferOptions,
    force: bool,
    progress: &dyn Progress,
) -> Result<PullReport> {
    let roots = roots_for(repo, cwd, scope)?;
    let fetch = fetch(repo, remote, &roots, opts, progress)?;
    let targets = checkout_targets(repo, cwd, scope)?;
    let checkout = checkout_all(
        repo,
        targets,
        CheckoutOptions {
            force,
            outputs: true,
        },
        progress,
    )?;
    Ok(PullReport { fetch, checkout })
}
