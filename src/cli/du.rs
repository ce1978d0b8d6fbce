//! `rvc du [--json]`

use std::path::Path;
use std::process::ExitCode;

use super::output::{bytes, plural, print_json};
use super::CmdResult;

#[derive(clap::Args)]
pub struct Args {
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = rvc::Repo::discover(cwd)?;
    let r = rvc::maintenance::du(&repo)?;
    if args.json {
        print_json(&r);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>10}  {:>10}  {:>10}  {:>6}  {:>8}  {:>6}  path",
        "logical", "unique", "stored", "dedup", "compress", "total"
    );
    let row = |logical, unique, stored, dedup, compression, total, what: &str| {
        println!(
            "{:>10}  {:>10}  {:>10}  {:>6}  {:>8}  {:>6}  {what}",
            bytes(logical),
            bytes(unique),
            bytes(stored),
            ratio(dedup),
            ratio(compression),
            ratio(total),
        )
    };
    for p in &r.pointers {
        let missing = if p.missing > 0 {
            format!("  ({} missing)", p.missing)
        } else {
            String::new()
        };
        row(
            p.logical,
            p.unique,
            p.stored,
            p.dedup,
            p.compression,
            p.ratio,
            &format!("{}{missing}", p.pointer_file),
        );
    }
    row(
        r.logical,
        r.unique,
        r.stored,
        r.dedup,
        r.compression,
        r.ratio,
        "total (objects shared between paths counted once)",
    );
    println!(
        "store: {} in {}; {} in {} unreferenced (`rvc gc` removes them)",
        bytes(r.store_bytes),
        plural(r.store_objects, "object", "objects"),
        bytes(r.unreferenced_bytes),
        plural(r.unreferenced_objects, "object", "objects"),
    );
    Ok(ExitCode::SUCCESS)
}

fn ratio(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}x")).unwrap_or_else(|| "-".into())
}
