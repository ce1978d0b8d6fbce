//! `rvc init`

use std::path::Path;
use std::process::ExitCode;

use super::CmdResult;

#[derive(clap::Args)]
pub struct Args {
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let report = rvc::Repo::init(cwd)?;
    if args.json {
        super::output::print_json(&report);
    } else {
        println!(
            "Initialized an rvc repository in {}",
            report.root.join(".rvc").display()
        );
    }
    if !report.in_git {
        eprintln!("note: not inside a git repository; rvc works without one, but runs will record no code state");
    } else {
        eprintln!("next: commit .rvc/config.toml and .rvc/.gitignore, then track data with `rvc add PATH`");
    }
    Ok(ExitCode::SUCCESS)
}
