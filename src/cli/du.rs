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
    let repo = super::open_repo(cwd)?;
    let r = rvc::maintenance::du(&repo)?;
    if args.json {
        print_json(&r);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>10}  {:>10}  {:>10}  {:>6}  {:>8}  {:>6}  path",
        "logical", "unique", "stored", "dedup", "compress", "total"
    );
    let row = |u: &rvc::maintenance::du::Usage, what: &str| {
        println!(
            "{:>10}  {:>10}  {:>10}  {:>6}  {:>8}  {:>6}  {what}",
            bytes(u.logical),
            bytes(u.unique),
            bytes(u.stored),
            ratio(u.dedup),
            ratio(u.compression),
            ratio(u.ratio),
        )
    };
    for p in &r.pointers {
        let missing = if p.missing > 0 {
            format!("  ({} missing)", p.missing)
        } else {
            String::new()
        };
        row(&p.usage, &format!("{}{missing}", p.pointer_file));
    }
    row(
        &r.total,
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
