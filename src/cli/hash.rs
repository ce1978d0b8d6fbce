//! `rvc hash PATH... [--json]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::output::{bytes, plural, print_json, Bar};
use super::CmdResult;
use rvc::format::pointer::PointerKind;

#[derive(clap::Args)]
pub struct Args {
    /// Files or directories to hash.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Row {
    path: String,
    kind: PointerKind,
    id: rvc::Id,
    size: u64,
    files: u64,
    rows: Option<u64>,
    rows_hash: Option<rvc::Id>,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    // Inside a repository, symlinks are followed as `add` would follow them.
    let boundary = rvc::Repo::discover(cwd)
        .map(|r| r.root().to_path_buf())
        .unwrap_or_else(|_| PathBuf::from("/"));
    let bar = Bar::new();
    let mut rows = Vec::new();
    for p in &args.paths {
        let abs = cwd.join(p);
        let d = rvc::workspace::hash_path(&abs, &boundary, &bar)?;
        // A table that could not be read still has its file id; say why
        // it has no rows hash (on stderr, so JSON stays as it is).
        if d.kind == PointerKind::File && d.rows.is_none() {
            if let Some(why) = rvc::format::hash::table_rows_error(&abs) {
                eprintln!("warning: {} has no rows hash: {why}", p.display());
            }
        }
        rows.push(Row {
            path: p.display().to_string(),
            kind: d.kind,
            id: d.id,
            size: d.size,
            files: d.files,
            rows: d.rows.map(|r| r.count),
            rows_hash: d.rows.map(|r| r.hash),
        });
        if !args.json {
            // `<id>  <path>`, as b3sum prints it, then the details.
            let r = rows.last().expect("just pushed");
            let what = match r.kind {
                PointerKind::File => format!("file, {}", bytes(r.size)),
                PointerKind::Dir => format!(
                    "tree, {}, {}",
                    plural(r.files, "file", "files"),
                    bytes(r.size)
                ),
            };
            let rows = match (r.rows, r.rows_hash) {
                (Some(n), Some(h)) => format!(", {}, rows hash {h}", plural(n, "row", "rows")),
                _ => String::new(),
            };
            println!("{}  {}  ({what}{rows})", r.id, r.path);
        }
    }
    if args.json {
        print_json(&rows);
    }
    Ok(ExitCode::SUCCESS)
}
