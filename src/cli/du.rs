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
    println!("{:>10}  {:>10}  {:>7}  path", "logical", "stored", "ratio");
    for p in &r.pointers {
        let missing = if p.missing > 0 {
            format!("  ({} missing)", p.missing)
        } else {
            String::new()
        };
        println!(
            "{:>10}  {:>10}  {:>7}  {}{missing}",
            bytes(p.logical),
            bytes(p.stored),
            ratio(p.ratio),
            p.pointer_file
        );
    }
    println!(
        "{:>10}  {:>10}  {:>7}  total (objects shared between paths counted once)",
        bytes(r.logical),
        bytes(r.stored),
        ratio(r.ratio)
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
