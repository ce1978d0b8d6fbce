//! `rvc checkout [PATH.rvc|PATH|ID ...] [-o DEST] [--force]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::output::{plural, print_json, Bar};
use super::{CmdResult, EXIT_FAILURE};
use rvc::workspace::{CheckoutOptions, CheckoutReport, Target};

#[derive(clap::Args)]
pub struct Args {
    /// Pointer files, tracked paths, runs (name or run id) or object ids
    /// (default: every tracked path).
    #[arg(value_name = "PATH.rvc|PATH|RUN|ID")]
    targets: Vec<String>,
    /// Write the content of a single target here instead.
    #[arg(short = 'o', long = "output", value_name = "DEST")]
    output: Option<PathBuf>,
    /// Overwrite or delete files even when their bytes are not in the store.
    #[arg(long)]
    force: bool,
    /// For a run: restore its outputs too, not only its inputs.
    #[arg(long)]
    outputs: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let opts = CheckoutOptions {
        force: args.force,
        outputs: args.outputs,
    };
    if args.output.is_some() && args.targets.len() != 1 {
        eprintln!(
            "error: -o/--output needs exactly one target (a pointer file, tracked path or id)"
        );
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    let targets: Vec<Target> = if args.targets.is_empty() {
        vec![Target::Pointers(rvc::workspace::find_pointers(&repo)?)]
    } else {
        args.targets
            .iter()
            .map(|t| rvc::workspace::resolve_target(&repo, cwd, t, args.output.as_deref()))
            .collect::<rvc::Result<_>>()?
    };
    let total = rvc::workspace::checkout_all(&repo, targets, opts, &Bar::new())?;
    let clean = total.is_clean();
    if args.json {
        print_json(&total);
    } else {
        render(&total);
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}

pub(super) fn render(r: &CheckoutReport) {
    for k in &r.kept {
        eprintln!("kept: {}: {}", k.path, k.reason);
    }
    for f in &r.failed {
        eprintln!("error: {}: {}", f.path, f.error);
        for c in super::errors::causes(&f.error) {
            eprintln!("  caused by: {c}");
        }
        if let Some(h) = super::errors::hint(&f.error) {
            eprintln!("hint: {h}");
        }
    }
    println!(
        "restored {}, removed {}, {} already up to date",
        plural(r.restored.len() as u64, "file", "files"),
        plural(r.removed.len() as u64, "file", "files"),
        plural(r.unchanged, "file", "files"),
    );
    if !r.released.is_empty() {
        println!(
            "not restored: {} released by `rvc gc --keep-last/--keep-best`: {}",
            plural(r.released.len() as u64, "checkpoint", "checkpoints"),
            r.released.join(", ")
        );
    }
    if !r.kept.is_empty() {
        eprintln!(
            "hint: {} kept to protect bytes that are not in the store; `rvc add` them first, or rerun with --force to discard them",
            plural(r.kept.len() as u64, "file was", "files were")
        );
    }
}
