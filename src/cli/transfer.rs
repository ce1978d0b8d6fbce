//! `rvc push`, `rvc fetch` and `rvc pull`:
//! `[TARGET...] [-r NAME] [--jobs N] [--all-runs] [--json]`.

use std::num::NonZeroUsize;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use super::output::{bytes, count, plural, print_json, Bar};
use super::{CmdResult, EXIT_FAILURE};
use rvc::remote::{self, FetchReport, PushReport, Remote, Scope, TransferOptions};
use rvc::repository::settings::Overrides;

#[derive(clap::Args)]
pub struct Args {
    /// Pointer files, tracked paths or run names (default: every tracked path).
    #[arg(value_name = "PATH.rvc|PATH|RUN")]
    targets: Vec<String>,
    /// The remote (default: the configured default remote).
    #[arg(short = 'r', long = "remote", value_name = "NAME")]
    remote: Option<String>,
    /// Transfers in flight at once (1 or more).
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
    /// Also everything every run lockfile references (inputs and outputs).
    #[arg(long)]
    all_runs: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct PullArgs {
    #[command(flatten)]
    transfer: Args,
    /// Overwrite or delete files even when their bytes are not in the store.
    #[arg(long)]
    force: bool,
}

struct Prepared {
    repo: rvc::Repo,
    remote: Remote,
    scope: Scope,
    opts: TransferOptions,
}

fn prepare(cwd: &Path, args: &Args) -> rvc::Result<Prepared> {
    let repo = super::open_repo_with(
        cwd,
        Overrides {
            jobs: args.jobs,
            remote: args.remote.clone(),
            ..Overrides::default()
        },
    )?;
    let remote = Remote::open(&repo)?;
    let jobs = repo.settings().jobs(remote.jobs);
    Ok(Prepared {
        repo,
        remote,
        scope: Scope {
            targets: args.targets.clone(),
            all_runs: args.all_runs,
        },
        opts: TransferOptions { jobs },
    })
}

pub fn push(cwd: &Path, args: Args) -> CmdResult {
    let started = Instant::now();
    let p = prepare(cwd, &args)?;
    let roots = remote::roots_for(&p.repo, cwd, &p.scope)?;
    let report = remote::push(&p.repo, &p.remote, &roots, p.opts, &Bar::new())?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        print_json(&super::json::Push {
            push: &report,
            seconds,
        });
    } else {
        render_push(&report, seconds);
    }
    Ok(exit(report.is_clean()))
}

pub fn fetch(cwd: &Path, args: Args) -> CmdResult {
    let started = Instant::now();
    let p = prepare(cwd, &args)?;
    let roots = remote::roots_for(&p.repo, cwd, &p.scope)?;
    let report = remote::fetch(&p.repo, &p.remote, &roots, p.opts, &Bar::new())?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        print_json(&super::json::Fetch {
            fetch: &report,
            seconds,
        });
    } else {
        render_fetch(&report, seconds);
    }
    Ok(exit(report.is_clean()))
}

pub fn pull(cwd: &Path, args: PullArgs) -> CmdResult {
    let started = Instant::now();
    let p = prepare(cwd, &args.transfer)?;
    let report = remote::pull(
        &p.repo,
        &p.remote,
        cwd,
        &p.scope,
        p.opts,
        args.force,
        &Bar::new(),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if args.transfer.json {
        print_json(&super::json::Pull {
            fetch: &report.fetch,
            checkout: &report.checkout,
            seconds,
        });
    } else {
        render_fetch(&report.fetch, seconds);
        super::checkout::render(&report.checkout);
    }
    Ok(exit(report.is_clean()))
}

/// `0.04s`, `3.2s`, `95s`.
fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{s:.2}s")
    } else if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{s:.0}s")
    }
}

fn exit(clean: bool) -> ExitCode {
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}

fn render_problems(
    missing: &[remote::push::MissingObject],
    failed: &[remote::push::FailedTransfer],
    warnings: &[String],
) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
    for m in missing.iter().take(20) {
        if m.needed_by.is_empty() {
            eprintln!("error: missing: {}", m.object);
        } else {
            eprintln!(
                "error: missing: {} (needed by {})",
                m.object,
                m.needed_by.join(", ")
            );
        }
    }
    if missing.len() > 20 {
        eprintln!(
            "error: ... and {} more missing objects (see --json)",
            missing.len() - 20
        );
    }
    for f in failed.iter().take(20) {
        eprintln!("error: {}: {}", f.key, f.error);
    }
    if failed.len() > 20 {
        eprintln!(
            "error: ... and {} more failed transfers (see --json)",
            failed.len() - 20
        );
    }
    if !failed.is_empty() {
        eprintln!(
            "hint: run the command again: what was transferred is kept, and the rest resumes"
        );
    }
}

fn render_push(r: &PushReport, seconds: f64) {
    render_problems(&r.missing, &r.failed, &r.warnings);
    if !r.missing.is_empty() {
        eprintln!(
            "hint: these objects are neither in the local store nor on {}; push from a machine that has them, or `rvc add` the data again",
            r.to.remote
        );
    }
    println!(
        "pushed {} ({}) to {} in {} ({}); {} already there",
        plural(r.objects, "object", "objects"),
        bytes(r.bytes),
        r.to.remote,
        plural(r.uploads, "upload", "uploads"),
        secs(seconds),
        count(r.already_on_remote),
    );
}

fn render_fetch(r: &FetchReport, seconds: f64) {
    render_problems(&r.missing, &r.failed, &r.warnings);
    for c in r.corrupt.iter().take(20) {
        eprintln!(
            "error: corrupt on the remote: {} ({}): {}",
            c.object, c.key, c.error
        );
    }
    if !r.corrupt.is_empty() {
        eprintln!(
            "hint: nothing from a corrupt object was stored or checked out; push the data again from a machine that has a good copy"
        );
    }
    if !r.missing.is_empty() {
        eprintln!(
            "hint: these objects are not on {}; push them from the machine that added the data",
            r.to.remote
        );
    }
    println!(
        "fetched {} ({}) from {} in {} ({}); {} already here",
        plural(r.objects, "object", "objects"),
        bytes(r.bytes),
        r.to.remote,
        plural(r.downloads, "download", "downloads"),
        secs(seconds),
        count(r.already_local),
    );
}
