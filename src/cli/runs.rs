//! `rvc runs [--json|--csv|--md] [--sort METRIC]`

use std::path::Path;
use std::process::ExitCode;

use super::output::print_json;
use super::CmdResult;
use rvc::run::{table, Run};

/// At most this many params and metrics columns in the table.
const MAX_COLUMNS: usize = 6;

#[derive(clap::Args)]
pub struct Args {
    /// Print every run as JSON.
    #[arg(long, conflicts_with_all = ["csv", "md"])]
    json: bool,
    /// Print the table as CSV.
    #[arg(long, conflicts_with = "md")]
    csv: bool,
    /// Print the table as Markdown.
    #[arg(long)]
    md: bool,
    /// Order by this metric's final value (ascending; runs without it last).
    #[arg(long, value_name = "METRIC")]
    sort: Option<String>,
    /// Descending order.
    #[arg(long, short = 'r')]
    reverse: bool,
    /// Show this parameter (default: the ones that differ between runs).
    #[arg(long = "param", value_name = "KEY")]
    params: Vec<String>,
    /// Show this metric (default: the final values of the main metrics).
    #[arg(long = "metric", value_name = "NAME")]
    metrics: Vec<String>,
    /// Add a sparkline of a metric's curve (default: loss), read from the
    /// stored series. `rvc plots` draws the full curves.
    #[arg(long, value_name = "METRIC", num_args = 0..=1, default_missing_value = "loss")]
    spark: Option<String>,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let runs = rvc::run::all(&repo)?;
    let ordered = table::order(&runs, args.sort.as_deref(), args.reverse);
    if args.json {
        let all: Vec<_> = ordered
            .iter()
            .map(|(_, r)| super::json::RunRow::of(r))
            .collect();
        print_json(&all);
        return Ok(ExitCode::SUCCESS);
    }
    if runs.is_empty() {
        eprintln!("no runs yet: record one with `rvc lock NAME`");
        return Ok(ExitCode::SUCCESS);
    }
    let params: Vec<String> = if args.params.is_empty() {
        table::differing_params(runs.iter().map(|r| &r.lock.params))
            .into_iter()
            .take(MAX_COLUMNS)
            .collect()
    } else {
        args.params.clone()
    };
    let metrics: Vec<String> = if args.metrics.is_empty() {
        table::result_metrics(runs.iter().map(|r| &r.lock.metrics.finals))
            .into_iter()
            .take(MAX_COLUMNS)
            .collect()
    } else {
        args.metrics.clone()
    };
    let mut header = vec![
        "run".to_string(),
        "run id".into(),
        "locked".into(),
        "commit".into(),
        "data".into(),
    ];
    // A status column once any run was recorded by `rvc run` (the others
    // show "-": how they ended is not known).
    let any_status = ordered.iter().any(|(_, r)| r.lock.process.is_some());
    if any_status {
        header.push("status".into());
    }
    let any_tags = ordered.iter().any(|(_, r)| !r.lock.run.tags.is_empty());
    if any_tags {
        header.push("tags".into());
    }
    header.extend(params.iter().cloned());
    header.extend(metrics.iter().cloned());
    if let Some(m) = &args.spark {
        header.push(format!("{m} curve"));
    }
    let rows: Vec<Vec<String>> = ordered
        .iter()
        .map(|(depth, r)| {
            let l = &r.lock;
            let name = if *depth == 0 || args.csv {
                l.run.name.clone()
            } else {
                format!(
                    "{}└ {}",
                    "  ".repeat(depth - 1),
                    l.run.name.rsplit('/').next().unwrap_or(&l.run.name)
                )
            };
            let commit = match &l.code {
                Some(c) => format!(
                    "{}{}",
                    c.commit
                        .as_deref()
                        .map(|s| &s[..s.len().min(7)])
                        .unwrap_or("-"),
                    if c.dirty { "*" } else { "" }
                ),
                None => "-".into(),
            };
            let data = l
                .inputs
                .first()
                .map(|a| {
                    format!(
                        "{}{}",
                        a.id.short(),
                        a.rows
                            .map(|n| format!(" ({})", super::output::plural(n, "row", "rows")))
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_else(|| "-".into());
            let mut row = vec![
                name,
                r.id.short(),
                l.run
                    .locked
                    .replace('T', " ")
                    .trim_end_matches('Z')
                    .to_string(),
                commit,
                data,
            ];
            if any_status {
                row.push(
                    l.process
                        .as_ref()
                        .map(|p| p.status.to_string())
                        .unwrap_or_else(|| "-".into()),
                );
            }
            if any_tags {
                row.push(l.run.tags.join(","));
            }
            row.extend(params.iter().map(|k| {
                l.params
                    .get(k)
                    .map(table::param_value)
                    .unwrap_or_else(|| "-".into())
            }));
            row.extend(metrics.iter().map(|m| {
                l.metrics
                    .finals
                    .get(m)
                    .map(|v| table::number(*v))
                    .unwrap_or_else(|| "-".into())
            }));
            if let Some(m) = &args.spark {
                row.push(spark(&repo, r, m));
            }
            row
        })
        .collect();
    if args.csv {
        for line in std::iter::once(&header).chain(&rows) {
            println!(
                "{}",
                line.iter().map(|c| csv(c)).collect::<Vec<_>>().join(",")
            );
        }
    } else if args.md {
        println!("| {} |", header.join(" | "));
        println!("|{}", "---|".repeat(header.len()));
        for row in &rows {
            println!(
                "| {} |",
                row.iter()
                    .map(|c| c.replace('|', "\\|"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
    } else {
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                std::iter::once(&header)
                    .chain(&rows)
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for line in std::iter::once(&header).chain(&rows) {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            println!("{}", cells.join("  ").trim_end());
        }
        // The legend explains a mark only when some run carries it.
        if ordered
            .iter()
            .any(|(_, r)| r.lock.code.as_ref().is_some_and(|c| c.dirty))
        {
            println!(
                "(* = ran with uncommitted changes; `rvc show RUN` for everything, `rvc diff A B` to compare)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A 20-character sparkline of one metric of a run, or `-`.
fn spark(repo: &rvc::Repo, r: &Run, metric: &str) -> String {
    let series = r
        .lock
        .metrics
        .series
        .and_then(|id| repo.store().read_file(&id).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| rvc::run::metrics::decode(&t));
    let values: Vec<f64> = series
        .as_ref()
        .and_then(|s| s.get(metric))
        .map(|pts| pts.iter().map(|p| p.1).collect())
        .unwrap_or_default();
    let line = rvc::plots::sparkline(&values, 20);
    if line.is_empty() {
        "-".into()
    } else {
        line
    }
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
