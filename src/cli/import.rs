//! `rvc import dvc [--json]`

use std::path::Path;
use std::process::ExitCode;

use super::output::{plural, print_json, Bar};
use super::{CmdResult, EXIT_FAILURE};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    from: From,
}

#[derive(clap::Subcommand)]
enum From {
    /// Track every output of the DVC repository here (its .dvc files and
    /// dvc.lock) with rvc pointers, and record each dvc.lock stage as a run.
    /// Bytes come from the workspace or DVC's cache, checked against DVC's
    /// md5; DVC's files are left in place.
    Dvc {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let From::Dvc { json } = args.from;
    let repo = super::open_repo(cwd)?;
    super::stop_gracefully_on_signals();
    let r = rvc::import::dvc::import(&repo, &Bar::new())?;
    if json {
        print_json(&r);
    } else {
        for c in &r.converted {
            let cached = if c.from_cache > 0 {
                format!(
                    ", {} written from DVC's cache",
                    plural(c.from_cache, "file", "files")
                )
            } else {
                String::new()
            };
            println!(
                "converted {} ({}) -> {}  [from {}{cached}]",
                c.path,
                plural(c.files, "file", "files"),
                c.pointer_file,
                c.dvc_file
            );
        }
        for run in &r.runs {
            let what = if run.existing {
                "already recorded, kept"
            } else {
                "recorded"
            };
            println!(
                "stage {} -> run {} ({what}) -> {}  ({})",
                run.stage, run.run, run.lockfile, run.command
            );
        }
        for s in &r.skipped {
            println!(
                "not converted: {} [from {}]: {}",
                s.what, s.dvc_file, s.reason
            );
        }
        let kept = r.runs.iter().filter(|run| run.existing).count() as u64;
        let kept = if kept > 0 {
            format!(" ({kept} already there)")
        } else {
            String::new()
        };
        println!(
            "{} converted, {} recorded{kept}, {} not converted",
            plural(r.converted.len() as u64, "output", "outputs"),
            plural(
                r.runs.len() as u64 - r.runs.iter().filter(|run| run.existing).count() as u64,
                "run",
                "runs"
            ),
            r.skipped.len()
        );
        if !r.converted.is_empty() || !r.runs.is_empty() {
            eprintln!(
                "next: git add the new .rvc pointers, .gitignore files and .rvc/runs/; DVC's files are still in place (remove them with `dvc destroy` or by hand when you are done)"
            );
        }
    }
    Ok(if r.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}
