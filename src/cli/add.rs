//! `rvc add PATH...`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::output::{bytes, count, plural, print_json, Bar};
use super::CmdResult;
use rvc::format::pointer::PointerKind;

#[derive(clap::Args)]
pub struct Args {
    /// Files or directories to track.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Track a path even though git tracks it too.
    #[arg(long)]
    force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    super::stop_gracefully_on_signals();
    let bar = Bar::new();
    let report = rvc::workspace::add(&repo, cwd, &args.paths, args.force, &bar)?;
    if args.json {
        print_json(&report);
        return Ok(ExitCode::SUCCESS);
    }
    let outcomes = &report.paths;
    let mut to_commit = Vec::new();
    for o in outcomes {
        let p = &o.pointer;
        let what = match p.kind {
            PointerKind::File => format!("file, {}", bytes(p.size)),
            PointerKind::Dir => format!("{}, {}", plural(p.files, "file", "files"), bytes(p.size)),
        };
        let rows = p
            .rows
            .map(|r| format!(", {}", plural(r.count, "row", "rows")))
            .unwrap_or_default();
        let verb = if o.updated { "added" } else { "unchanged" };
        println!(
            "{verb} {} -> {}  {} ({what}{rows}; read {})",
            o.pointer_file.strip_suffix(".rvc").unwrap_or(&p.path),
            o.pointer_file,
            p.id.short(),
            count(o.hashed)
        );
        for n in &o.no_rows {
            eprintln!(
                "warning: {} is tracked by its bytes only, without a rows hash: {}",
                n.path, n.reason
            );
        }
        let gitignore = Path::new(&o.pointer_file)
            .with_file_name(".gitignore")
            .display()
            .to_string();
        for (wanted, file) in [
            (o.updated, o.pointer_file.clone()),
            (o.gitignore_updated, gitignore),
        ] {
            if wanted && !to_commit.contains(&file) {
                to_commit.push(file);
            }
        }
    }
    if report.stored.new_objects > 0 {
        println!(
            "stored {} in {}",
            bytes(report.stored.new_bytes),
            plural(report.stored.new_objects, "new object", "new objects")
        );
    }
    if !to_commit.is_empty() && repo.in_git() {
        eprintln!("next: git add {}", to_commit.join(" "));
    }
    Ok(ExitCode::SUCCESS)
}
