//! `rvc hooks install [--uninstall]` and `rvc hook NAME [ARGS...]`, which
//! the installed git hooks run.

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

use super::output::{changed_files, plural, print_json, Bar};
use super::{CmdResult, EXIT_FAILURE};
use rvc::hooks::{self, Action, Problem, ProblemKind};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Install the pre-commit, pre-push and post-checkout git hooks (existing
    /// hooks keep running), or remove them with --uninstall.
    Install {
        #[arg(long)]
        uninstall: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct HookArgs {
    #[command(subcommand)]
    hook: Hook,
}

#[derive(clap::Subcommand)]
enum Hook {
    /// Refuse a commit whose data and pointers disagree, whose staged pointers
    /// name content that exists nowhere, or that adds a big file to git.
    PreCommit {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Push to the default remote what the commits being pushed reference
    /// (git passes the remote's name and URL, and the refs on stdin).
    PrePush {
        remote: Option<String>,
        url: Option<String>,
    },
    /// After a branch checkout, bring tracked data in line with the pointers.
    PostCheckout {
        previous: Option<String>,
        new: Option<String>,
        /// 1 for a branch checkout, 0 for a file checkout.
        branch: Option<String>,
    },
}

pub fn install(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let Sub::Install { uninstall, json } = args.command;
    let exe = std::env::current_exe().map_err(|source| rvc::Error::Io {
        op: "find the path of",
        path: "rvc".into(),
        source,
    })?;
    let outcomes = hooks::install(repo.root(), &exe, uninstall)?;
    if json {
        print_json(&outcomes);
        return Ok(ExitCode::SUCCESS);
    }
    for o in &outcomes {
        let what = match o.action {
            Action::Installed => "installed".to_string(),
            Action::Chained => format!(
                "installed; the existing hook now runs first, from {}{}",
                o.hook,
                hooks::install::CHAINED
            ),
            Action::Unchanged => "already installed".into(),
            Action::Removed => "removed".into(),
            Action::Restored => "removed; the previous hook is back".into(),
            Action::NotOurs => "not rvc's hook: left alone".into(),
            Action::Absent => "not installed".into(),
        };
        println!("{}: {what}", o.path.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(cwd: &Path, args: HookArgs) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    match args.hook {
        Hook::PreCommit { json } => pre_commit(&repo, json),
        Hook::PrePush { remote, url: _ } => pre_push(&repo, remote),
        Hook::PostCheckout {
            previous: _,
            new: _,
            branch,
        } => post_checkout(&repo, branch),
    }
}

/// The commands that fix a problem the pre-commit check found.
fn fix(p: &Problem) -> String {
    let path = &p.path;
    match p.kind {
        ProblemKind::PointerNotStaged => format!("git add {path}"),
        ProblemKind::DataChanged => format!("rvc add {path} && git add {path}.rvc"),
        ProblemKind::LargeFile => {
            format!("git rm --cached {path} && rvc add {path} && git add {path}.rvc")
        }
        ProblemKind::Invalid => format!(
            "restore {path} (`git checkout -- {path}`) or re-create it (`rvc add` for a pointer, `rvc lock` for a run), then `git add {path}`"
        ),
        ProblemKind::ObjectsMissing => format!(
            "re-create the data and `rvc add` it, or `rvc fetch` it, or unstage the pointer (`git restore --staged {path}`)"
        ),
        ProblemKind::RemoteUnavailable => {
            "check the remote (`rvc remote list`) and the connection, or fetch the data (`rvc fetch`), then commit again".into()
        }
    }
}

fn pre_commit(repo: &rvc::Repo, json: bool) -> CmdResult {
    let report = hooks::pre_commit(repo, &Bar::new())?;
    if json {
        print_json(&super::json::PreCommit::of(&report, fix));
    } else if !report.problems.is_empty() {
        eprintln!(
            "rvc pre-commit: the commit is stopped ({}):",
            plural(report.problems.len() as u64, "problem", "problems")
        );
        for p in &report.problems {
            eprintln!("  {}", p.message);
            if let Some(c) = &p.changes {
                for line in changed_files(&p.path, c, 5, "rvc status") {
                    eprintln!("    {line}");
                }
            }
            eprintln!("    fix: {}", fix(p));
        }
        eprintln!("(to commit anyway: git commit --no-verify)");
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}

fn pre_push(repo: &rvc::Repo, git_remote: Option<String>) -> CmdResult {
    let mut updates = Vec::new();
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut text = String::new();
        let _ = stdin.lock().read_to_string(&mut text);
        updates = hooks::parse_input(&text);
    }
    // The pre-commit framework passes the range in its environment instead.
    if updates.is_empty() {
        if let (Ok(from), Ok(to)) = (
            std::env::var("PRE_COMMIT_FROM_REF"),
            std::env::var("PRE_COMMIT_TO_REF"),
        ) {
            updates.push(hooks::RefUpdate {
                local: to,
                remote: from,
            });
        }
    }
    let git_remote = git_remote.or_else(|| std::env::var("PRE_COMMIT_REMOTE_NAME").ok());
    let report = hooks::pre_push(repo, git_remote.as_deref(), &updates, &Bar::new())?;
    for w in &report.warnings {
        eprintln!("rvc pre-push: warning: {w}");
    }
    let Some(push) = report.push else {
        return Ok(ExitCode::SUCCESS);
    };
    for m in push.missing.iter().take(20) {
        eprintln!(
            "rvc pre-push: missing: {} (needed by {})",
            m.object,
            m.needed_by.join(", ")
        );
    }
    for f in push.failed.iter().take(20) {
        eprintln!("rvc pre-push: {}: {}", f.key, f.error);
    }
    if push.is_clean() {
        eprintln!(
            "rvc pre-push: pushed {} to {} for {} ({} already there)",
            plural(push.objects, "object", "objects"),
            push.to.remote,
            plural(report.commits as u64, "commit", "commits"),
            push.already_on_remote
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "rvc pre-push: the data of these commits is not all on {}, so the git push stops here",
            push.to.remote
        );
        eprintln!(
            "hint: fix what is listed above and push again (to push anyway: git push --no-verify)"
        );
        Ok(ExitCode::from(EXIT_FAILURE))
    }
}

fn post_checkout(repo: &rvc::Repo, branch: Option<String>) -> CmdResult {
    let branch = branch.or_else(|| std::env::var("PRE_COMMIT_CHECKOUT_TYPE").ok());
    if branch.as_deref() != Some("1") {
        return Ok(ExitCode::SUCCESS); // a file checkout: nothing to do
    }
    let report = rvc::hooks::post_checkout(repo, &super::output::Bar::new())?;
    if !report.restored.is_empty() || !report.removed.is_empty() {
        eprintln!(
            "rvc post-checkout: restored {}, removed {}",
            plural(report.restored.len() as u64, "file", "files"),
            plural(report.removed.len() as u64, "file", "files")
        );
    }
    for k in &report.kept {
        eprintln!("rvc post-checkout: kept {}: {}", k.path, k.reason);
    }
    if !report.kept.is_empty() {
        eprintln!(
            "hint: these files have changes that are not in the store, so they were left as they are; `rvc add` them to keep the changes, or `rvc checkout --force` to discard them"
        );
    }
    for f in &report.failed {
        eprintln!("rvc post-checkout: not restored: {}: {}", f.path, f.error);
    }
    if !report.failed.is_empty() {
        eprintln!("hint: `rvc pull` fetches what is missing from the remote and restores it");
    }
    // The checkout itself has happened; a non-zero exit would only make
    // `git checkout` look failed.
    Ok(ExitCode::SUCCESS)
}
