//! `rvc status [--json] [--check]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::output::{changed_files, plural, print_json, Bar};
use super::{CmdResult, EXIT_FAILURE};
use rvc::workspace::{State, StatusItem};

/// How many file names to show per change kind before summarising.
const SHOW: usize = 10;

#[derive(clap::Args)]
pub struct Args {
    /// Only these pointer files or tracked paths (default: all).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Exit 1 when anything differs from its pointer or is not in the cache.
    #[arg(long)]
    check: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    // A path inside a tracked directory gets that directory's status,
    // narrowed to the part named.
    let mut within = Vec::new();
    let tracked = if args.paths.is_empty() {
        rvc::workspace::find_pointers(&repo)?
    } else {
        let mut tracked = Vec::new();
        for p in &args.paths {
            match rvc::workspace::tracked_for(&repo, cwd, p) {
                Ok(t) => {
                    within.push(None);
                    tracked.push(t);
                }
                Err(rvc::Error::Path(rvc::error::PathError::InsideTracked {
                    dir,
                    pointer,
                    ..
                })) => {
                    let rel = repo.relative(cwd, p)?;
                    within.push(rel.strip_prefix(&format!("{dir}/")).map(str::to_string));
                    tracked.push(rvc::workspace::tracked(
                        &repo,
                        pointer.to_string_lossy().into_owned(),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        tracked
    };
    let mut items = rvc::workspace::status(&repo, tracked, &Bar::new())?;
    for (item, w) in items.iter_mut().zip(&within) {
        if let Some(w) = w {
            rvc::workspace::narrow(item, w);
        }
    }
    let clean = items.iter().all(|i| {
        i.result
            .as_ref()
            .is_ok_and(|s| s.state == State::Unchanged && s.in_cache)
    });
    let invalid = items.iter().any(|i| i.result.is_err());
    if args.json {
        print_json(
            &items
                .iter()
                .map(super::json::StatusRow::of)
                .collect::<Vec<_>>(),
        );
    } else {
        render(&items);
    }
    Ok(if invalid || (args.check && !clean) {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(items: &[StatusItem]) {
    if items.is_empty() {
        println!("nothing tracked yet: use `rvc add PATH`");
        return;
    }
    let mut unchanged = 0;
    for item in items {
        let s = match &item.result {
            Ok(s) => s,
            Err(e) => {
                super::errors::print(e);
                continue;
            }
        };
        let cache = if s.in_cache { "" } else { " (not in cache)" };
        if let Some(p) = &s.partial {
            let shown: Vec<&str> = p.parts.iter().take(SHOW).map(String::as_str).collect();
            let more = if p.parts.len() > SHOW {
                format!(" and {} more", p.parts.len() - SHOW)
            } else {
                String::new()
            };
            println!(
                "partial:      {} (checked out: {}{more}; {} not checked out){}",
                item.path,
                shown.join(", "),
                plural(p.not_checked_out, "file", "files"),
                if s.state == State::Unchanged {
                    cache
                } else {
                    ""
                }
            );
        }
        match s.state {
            State::Unchanged if s.in_cache || s.partial.is_some() => unchanged += 1,
            State::Unchanged => println!("not in cache: {}", item.path),
            State::Missing => println!("missing:      {}{cache}", item.path),
            State::Modified => {
                let summary = s
                    .changes
                    .as_ref()
                    .map(|c| {
                        format!(
                            " ({} added, {} removed, {} modified)",
                            c.added.len(),
                            c.removed.len(),
                            c.modified.len()
                        )
                    })
                    .unwrap_or_default();
                println!("modified:     {}{summary}{cache}", item.path);
                if let Some(c) = &s.changes {
                    for line in changed_files(&item.path, c, SHOW, "see --json") {
                        println!("    {line}");
                    }
                }
            }
        }
    }
    if unchanged == items.len() {
        println!(
            "{} up to date",
            plural(unchanged as u64, "tracked path", "tracked paths")
        );
    } else if unchanged > 0 {
        println!(
            "{} unchanged",
            plural(
                unchanged as u64,
                "other tracked path",
                "other tracked paths"
            )
        );
    }
}
