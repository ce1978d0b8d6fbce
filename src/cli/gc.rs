//! `rvc gc [--dry-run] [--all-commits]`

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
    /// List every deleted object, not just the totals.
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = rvc::Repo::discover(cwd)?;
    let opts = GcOptions {
        dry_run: args.dry_run,
        all_commits: args.all_commits,
        force: args.force,
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
