//! `rvc plots [RUN...] [--metric NAME]... [-o FILE]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::output::{bytes, print_json};
use super::CmdResult;
use rvc::plots::{self, Options};
use rvc::Error;

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

#[derive(Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    Html,
    Svg,
    Png,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = rvc::Repo::discover(cwd)?;
    // The default page lives where git ignores it, so that it never makes
    // the next run dirty.
    let (out, shown) = match &args.output {
        Some(o) => (cwd.join(o), o.display().to_string()),
        None => {
            let page = plots::default_page(&repo)?;
            let shown = page
                .strip_prefix(cwd)
                .unwrap_or(&page)
                .display()
                .to_string();
            (page, shown)
        }
    };
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match ext.as_deref() {
        Some("html" | "htm") => Format::Html,
        Some("svg") => Format::Svg,
        Some("png") => Format::Png,
        other => {
            return Err(Error::Refused {
                what: "rvc plots",
                reason: match other {
                    Some(e) => format!("cannot write {shown}: unknown extension `.{e}`"),
                    None => format!("cannot write {shown}: it has no extension to tell the format"),
                },
                hint: "use -o FILE.html for the page, or FILE.svg or FILE.png for one chart".into(),
            })
        }
    };
    // Check where it goes before any work, so a typo fails fast.
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => cwd.to_path_buf(),
    };
    if !dir.is_dir() {
        return Err(Error::Refused {
            what: "rvc plots",
            reason: format!(
                "cannot write {shown}: the directory {} does not exist",
                dir.display()
            ),
            hint: "create the directory first, or choose another place with -o FILE".into(),
        });
    }
    if out.is_dir() {
        return Err(Error::Refused {
            what: "rvc plots",
            reason: format!("cannot write {shown}: it is a directory"),
            hint: "give a file name, such as -o plots.html".into(),
        });
    }

    let loaded = plots::load(&repo, &args.runs)?;
    let runs = loaded.runs;
    let mut notes = loaded.notes;
    let charts = plots::charts(&runs, &args.metrics)?;
    let opts = Options {
        max_points: args.max_points as usize,
    };
    let (data, written_charts) = match format {
        Format::Html => (
            plots::page::render(&runs, &charts, &opts).into_bytes(),
            charts.clone(),
        ),
        Format::Svg | Format::Png => {
            let first = charts[0].clone();
            if charts.len() > 1 {
                notes.push(format!(
                    "{shown} holds one chart, `{}`; for another, name its metric with --metric ({})",
                    first.family,
                    charts[1..]
                        .iter()
                        .map(|c| c.metrics[0].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let svg = plots::svg::chart(&runs, &first, &opts);
            let data = if format == Format::Png {
                let png = plots::png::render(&svg)?;
                if png.fonts == 0 {
                    notes.push("no fonts found on this system: the PNG has no text; install some (Debian: apt-get install fonts-dejavu-core)".into());
                }
                png.bytes
            } else {
                svg.into_bytes()
            };
            (data, vec![first])
        }
    };
    rvc::io::atomic::write_atomic(&out, &data).map_err(|e| Error::Refused {
        what: "rvc plots",
        reason: format!(
            "cannot write {shown}: {}",
            match &e {
                Error::Io { source, .. } => source.to_string(),
                other => other.to_string(),
            }
        ),
        hint: "choose a writable place with -o FILE".into(),
    })?;
    for n in &notes {
        eprintln!("warning: {n}");
    }
    if args.json {
        print_json(&serde_json::json!({
            "output": out,
            "format": format,
            "bytes": data.len(),
            "runs": runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            "charts": written_charts,
            "max_points": opts.max_points,
            "notes": notes,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "wrote {shown}: {} {}, {} {} ({})",
        runs.len(),
        if runs.len() == 1 { "run" } else { "runs" },
        written_charts.len(),
        if written_charts.len() == 1 {
            "chart"
        } else {
            "charts"
        },
        bytes(data.len() as u64)
    );
    if format == Format::Html {
        let abs = std::fs::canonicalize(&out).unwrap_or(out);
        println!("open it in a browser: file://{}", abs.display());
    }
    Ok(ExitCode::SUCCESS)
}
