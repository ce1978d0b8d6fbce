//! `rvc which PATH|ID [--json]`

use std::path::Path;
use std::process::ExitCode;

use super::output::print_json;
use super::{CmdResult, EXIT_FAILURE};

#[derive(clap::Args)]
pub struct Args {
    /// A file or directory in the workspace, or an id (prefix).
    target: String,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let runs = rvc::run::all(&repo)?;
    let w = rvc::run::query::which(&repo, &runs, cwd, &args.target)?;
    if args.json {
        print_json(&w);
    } else if w.hits.is_empty() {
        eprintln!(
            "no run read or wrote {} (id {})",
            args.target,
            &w.query[..w.query.len().min(12)]
        );
    } else {
        for h in &w.hits {
            let verb = match h.role {
                rvc::run::query::Role::Input => "read",
                rvc::run::query::Role::Output => "produced",
            };
            let what = h.file.as_deref().unwrap_or(&h.artifact);
            let commit = h
                .commit
                .as_deref()
                .map(|c| &c[..c.len().min(10)])
                .unwrap_or("no commit");
            let dirty = if h.dirty { " (dirty)" } else { "" };
            println!(
                "{}  {verb} {what}  [run id {}, commit {commit}{dirty}, locked {}]",
                h.run,
                h.run_id.short(),
                h.locked
            );
        }
    }
    Ok(if w.hits.is_empty() {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}
