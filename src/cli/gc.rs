//! `rvc gc [--dry-run] [--all-commits] [--keep-last N] [--keep-best]`

use std::path::Path;
use std::process::ExitCode;

use super::output::{bytes, plural, print_json};
use super::CmdResult;
use rvc::maintenance::GcOptions;

#[derive(clap::Args)]
pub struct Args {
    /// List what would be deleted; delete nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Also keep what any pointer in any git commit references.
    #[arg(long)]
    all_commits: bool,
    /// Run even when the store is outside this repository (and may be shared).
    #[arg(long)]
    force: bool,
    /// Keep only the N latest checkpoints (`checkpoint-<step>` directories)
    /// of each run's outputs; the others are released and their content
    /// deleted unless something else uses it.
    #[arg(long, value_name = "N")]
    keep_last: Option<usize>,
    /// Also keep the checkpoint trainer_state.json names as
    /// best_model_checkpoint (alone: keep only that one).
    #[arg(long)]
    keep_best: bool,
    /// List every deleted object, not just the totals.
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let opts = GcOptions {
        dry_run: args.dry_run,
        all_commits: args.all_commits,
        force: args.force,
        retention: rvc::maintenance::retention::Policy {
            keep_last: args.keep_last,
            keep_best: args.keep_best,
        },
    };
    let r = rvc::maintenance::gc(&repo, opts)?;
    for w in &r.warnings {
        eprintln!("warning: skipped an unreadable pointer in history: {w}");
    }
    if args.json {
        print_json(&r);
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if r.dry_run { "would delete" } else { "deleted" };
    print_retention(&r, args.verbose);
    if args.verbose {
        for s in &r.deleted {
            println!(
                "{verb} {} {} ({})",
                s.object.area,
                s.object.id,
                bytes(s.bytes)
            );
        }
    }
    let kinds: Vec<String> = r
        .deleted_by_kind
        .iter()
        .map(|(kind, t)| {
            format!(
                "{} ({})",
                plural(t.objects, kind, &format!("{kind}s")),
                bytes(t.bytes)
            )
        })
        .collect();
    println!(
        "{verb} {} ({}){}",
        plural(r.deleted.len() as u64, "object", "objects"),
        bytes(r.deleted_bytes),
        if kinds.is_empty() {
            String::new()
        } else {
            format!(": {}", kinds.join(", "))
        }
    );
    const SHOWN: usize = 10;
    if !r.released.is_empty() {
        println!("  content no longer referenced by:");
        for rel in r.released.iter().take(SHOWN) {
            let commits = match rel.commits.as_slice() {
                [] => String::new(),
                [one] => format!(" (as of commit {one})"),
                [newest, rest @ ..] => format!(
                    " (as of commit {newest} and {})",
                    plural(rest.len() as u64, "earlier commit", "earlier commits")
                ),
            };
            println!("    {}{commits}", rel.source);
        }
        if r.released.len() > SHOWN {
            println!(
                "    ... and {} more (--json lists them)",
                r.released.len() - SHOWN
            );
        }
    }
    if r.temp_files > 0 {
        println!(
            "{verb} {} of interrupted writes ({})",
            plural(r.temp_files, "temporary file", "temporary files"),
            bytes(r.temp_bytes)
        );
    }
    println!(
        "kept {} ({}) for {}",
        plural(r.kept_objects, "object", "objects"),
        bytes(r.kept_bytes),
        plural(
            r.roots as u64,
            "root (pointer or run artefact)",
            "roots (pointers and run artefacts)"
        ),
    );
    if !args.verbose && !r.deleted.is_empty() {
        eprintln!("note: --verbose lists every object");
    }
    if !args.all_commits && !r.deleted.is_empty() {
        eprintln!("note: only what the workspace's pointers and runs reference was kept; use --all-commits to keep every version in git history");
    }
    Ok(ExitCode::SUCCESS)
}

/// Per run: the checkpoints kept, and those released (all of them with
/// `--verbose`, else the first few).
fn print_retention(r: &rvc::maintenance::GcReport, verbose: bool) {
    const SHOWN: usize = 5;
    let verb = if r.dry_run {
        "would release"
    } else {
        "released"
    };
    for run in &r.retention {
        let kept: Vec<String> = run
            .checkpoints
            .iter()
            .filter(|c| !c.kept_as.is_empty())
            .map(|c| format!("{} ({})", name_of(&c.path), c.kept_as.join(", ")))
            .collect();
        let released: Vec<_> = run.released().collect();
        let freed: u64 = released.iter().map(|c| c.bytes).sum();
        println!(
            "{}: keeps {}",
            run.run,
            if kept.is_empty() {
                "no checkpoint".into()
            } else {
                kept.join(", ")
            }
        );
        if !released.is_empty() {
            let shown = if verbose {
                released.len()
            } else {
                SHOWN.min(released.len())
            };
            let mut names: Vec<String> = released[..shown].iter().map(|c| c.path.clone()).collect();
            if shown < released.len() {
                names.push(format!(
                    "and {} more (-v lists them)",
                    released.len() - shown
                ));
            }
            println!(
                "  {verb} {} ({} as files): {}",
                plural(released.len() as u64, "checkpoint", "checkpoints"),
                bytes(freed),
                names.join(", ")
            );
        }
        if let Some(note) = &run.note {
            println!("  note: {note}");
        }
    }
}

/// The last component of a checkpoint's path.
fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
