//! `rvc plots [RUN...] [--metric NAME]... [-o FILE]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::output::{bytes, print_json};
use super::CmdResult;
use rvc::plots::{self, draw::DrawRequest, draw::OutputFormat};

#[derive(clap::Args)]
pub struct Args {
    /// Runs to plot, by name, run id or run id prefix (default: every run).
    #[arg(value_name = "RUN")]
    runs: Vec<String>,
    /// Plot this metric (repeatable; default: every metric the runs have,
    /// but bookkeeping such as epoch and *_runtime).
    #[arg(long = "metric", value_name = "NAME")]
    metrics: Vec<String>,
    /// Where to write: FILE.html for the page, FILE.svg or FILE.png for one
    /// chart (the first: `--metric` chooses it). Default: the page at
    /// .rvc/plots.html, which git ignores.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// The most points drawn per curve; longer series are downsampled (LTTB).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
    max_points: u32,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let req = DrawRequest {
        runs: args.runs,
        metrics: args.metrics,
        output: args.output,
        max_points: args.max_points as usize,
    };
    let r = plots::draw::draw(&repo, cwd, &req)?;
    if args.json {
        print_json(&r);
        return Ok(ExitCode::SUCCESS);
    }
    let shown = r.output.strip_prefix(cwd).unwrap_or(&r.output).display();
    for n in &r.notes {
        eprintln!("warning: {n}");
    }
    if !r.left_out.is_empty() {
        eprintln!(
            "warning: {shown} holds one chart, `{}`; for another, name its metric with --metric ({})",
            r.charts[0].family,
            r.left_out.join(", ")
        );
    }
    if r.no_fonts {
        eprintln!("warning: no fonts found on this system: the PNG has no text; install some (Debian: apt-get install fonts-dejavu-core)");
    }
    println!(
        "wrote {shown}: {} {}, {} {} ({})",
        r.runs.len(),
        if r.runs.len() == 1 { "run" } else { "runs" },
        r.charts.len(),
        if r.charts.len() == 1 {
            "chart"
        } else {
            "charts"
        },
        bytes(r.bytes as u64)
    );
    if r.format == OutputFormat::Html {
        let abs = std::fs::canonicalize(&r.output).unwrap_or(r.output.clone());
        println!("open it in a browser: file://{}", abs.display());
    }
    Ok(ExitCode::SUCCESS)
}
