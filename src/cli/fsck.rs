//! `rvc fsck [--repair] [--json]`

use std::path::Path;
use std::process::ExitCode;

use super::output::{bytes, plural, print_json, Bar};
use super::{CmdResult, EXIT_CORRUPT};
use rvc::maintenance::FsckOptions;

#[derive(clap::Args)]
pub struct Args {
    /// Move corrupt objects to .rvc/cache/quarantine/ so they can be stored again.
    #[arg(long)]
    repair: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let r = rvc::maintenance::fsck(
        &repo,
        FsckOptions {
            repair: args.repair,
        },
        &Bar::new(),
    )?;
    if args.json {
        print_json(&r);
    } else {
        for p in &r.corrupt {
            let moved = p
                .quarantined
                .as_ref()
                .map(|q| format!(" (moved to {q})"))
                .unwrap_or_default();
            println!(
                "corrupt: {} {}: {}{moved}",
                p.object.area, p.object.id, p.problem
            );
        }
        for p in &r.bad_packs {
            let moved = p
                .quarantined
                .as_ref()
                .map(|q| format!(" (moved to {q})"))
                .unwrap_or_default();
            println!("corrupt: {}{moved}", p.problem);
        }
        for m in &r.missing {
            let by = match m.needed_by.as_slice() {
                [one] => one.clone(),
                [first, rest @ ..] => format!("{first} and {} more", rest.len()),
                [] => String::new(),
            };
            println!("missing: {} {}, needed by {by}", m.what, m.object.id);
        }
        println!(
            "checked {}, {}, {} ({} of content): {} corrupt, {} missing",
            plural(r.chunks, "chunk", "chunks"),
            plural(r.manifests, "manifest", "manifests"),
            plural(r.trees, "tree", "trees"),
            bytes(r.bytes_checked),
            r.corrupt.len(),
            r.missing.len()
        );
        if r.temp_files > 0 {
            println!(
                "{} left by interrupted writes (harmless; `rvc gc` removes them)",
                plural(r.temp_files, "temporary file", "temporary files")
            );
        }
        if !r.corrupt.is_empty() && !args.repair {
            eprintln!("hint: `rvc fsck --repair` moves corrupt objects aside; then `rvc add` the data again (or fetch it)");
        } else if !r.is_clean() {
            eprintln!("hint: re-add the missing data with `rvc add`, or fetch it from a remote");
        }
    }
    Ok(if r.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CORRUPT)
    })
}
