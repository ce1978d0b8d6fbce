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
    for s in &r.deleted {
        println!(
            "{verb} {} {} ({})",
            s.object.area,
            s.object.id,
            bytes(s.bytes)
        );
    }
    println!(
        "{verb} {} ({}) and {} of interrupted writes ({}); kept {} ({}) for {}",
        plural(r.deleted.len() as u64, "object", "objects"),
        bytes(r.deleted_bytes),
        plural(r.temp_files, "temporary file", "temporary files"),
        bytes(r.temp_bytes),
        plural(r.kept_objects, "object", "objects"),
        bytes(r.kept_bytes),
        plural(
            r.roots as u64,
            "root (pointer or run artefact)",
            "roots (pointers and run artefacts)"
        ),
    );
    if !args.all_commits && !r.deleted.is_empty() {
        eprintln!("note: only what the workspace's pointers and runs reference was kept; use --all-commits to keep every version in git history");
    }
    Ok(ExitCode::SUCCESS)
}
