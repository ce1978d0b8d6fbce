//! `rvc ls [ID|PATH.rvc] [--json]`

use std::path::Path;
use std::process::ExitCode;

use super::output::{bytes, print_json};
use super::{CmdResult, EXIT_FAILURE};
use rvc::workspace::Listing;

#[derive(clap::Args)]
pub struct Args {
    /// A pointer file, tracked path, or id prefix (default: list tracked paths).
    #[arg(value_name = "ID|PATH.rvc")]
    target: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    match rvc::workspace::ls(&repo, cwd, args.target.as_deref())? {
        Listing::Pointers(tracked) => {
            let mut failed = false;
            let mut json = Vec::new();
            for t in &tracked {
                match &t.pointer {
                    Ok(p) if args.json => {
                        json.push(super::json::Tracked::of(&t.pointer_file, &t.path, p))
                    }
                    Ok(p) => println!(
                        "{:<4} {}  {:>10}  {:>8} files  {}",
                        if p.kind == rvc::format::pointer::PointerKind::Dir {
                            "dir"
                        } else {
                            "file"
                        },
                        p.id.short(),
                        bytes(p.size),
                        p.files,
                        t.path
                    ),
                    Err(e) => {
                        failed = true;
                        super::errors::print(e);
                    }
                }
            }
            if args.json {
                print_json(&json);
            }
            Ok(if failed {
                ExitCode::from(EXIT_FAILURE)
            } else {
                ExitCode::SUCCESS
            })
        }
        Listing::Run(run) => {
            let l = &run.lock;
            if args.json {
                print_json(&super::json::RunArtifacts {
                    run: &l.run.name,
                    run_id: run.id,
                    inputs: &l.inputs,
                    outputs: &l.outputs,
                });
                return Ok(ExitCode::SUCCESS);
            }
            for (role, list) in [("input", &l.inputs), ("output", &l.outputs)] {
                for a in list {
                    println!(
                        "{role:<6} {:<4} {}  {:>10}  {:>8} files  {}",
                        if a.kind == rvc::format::pointer::PointerKind::Dir {
                            "dir"
                        } else {
                            "file"
                        },
                        a.id.short(),
                        bytes(a.size),
                        a.files,
                        a.path
                    );
                }
            }
            if l.inputs.is_empty() && l.outputs.is_empty() {
                println!("run {} recorded no inputs or outputs", l.run.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Listing::Files { id, kind, entries } => {
            if args.json {
                print_json(&super::json::Files {
                    id: &id,
                    kind: &kind,
                    files: &entries,
                });
            } else {
                for e in &entries {
                    let path = if e.path.is_empty() {
                        "."
                    } else {
                        e.path.as_str()
                    };
                    let exec = if e.kind == rvc::format::tree::Kind::Exec {
                        "*"
                    } else {
                        ""
                    };
                    println!("{}  {:>10}  {path}{exec}", e.id.short(), bytes(e.size));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
