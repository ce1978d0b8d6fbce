//! Plots: training curves and a comparison of runs, as one self-contained
//! HTML page ([`page::render`]), one SVG chart ([`svg::chart`]) or one PNG
//! chart ([`png::render`]).
//!
//! The data comes from run lockfiles: the table from their records, the
//! curves from each run's stored metrics series (`metric,step,value`, see
//! [`crate::run::metrics::encode`]). Lockfiles are untrusted input, so every
//! string taken from them is escaped before it reaches markup
//! ([`escape`]), and the page carries a Content-Security-Policy that allows
//! no script and no network at all.
//!
//! Curves are downsampled with [`lttb::downsample`] so that long runs stay
//! light: at most [`Options::max_points`] points per curve, always with the
//! first and last step and the extremes.

pub mod draw;
pub mod lttb;
pub mod page;
pub mod png;
pub mod svg;

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, PlotError, Result};
use crate::format::id::Id;
use crate::repository::Repo;
use crate::run::metrics::{self, Series};
use crate::run::table::{self, MetricKind};
use crate::run::{Artifact, Run};

/// Where `rvc plots` writes its page when not told: `.rvc/plots.html`,
/// which `.rvc/.gitignore` lists (the line is added to repositories made
/// before it was), so the page never shows as an uncommitted change.
pub fn default_page(repo: &Repo) -> Result<std::path::PathBuf> {
    let rel = format!("{}/plots.html", crate::repository::RVC_DIR);
    repo.ignore_in_git(&rel)?;
    Ok(repo.abs(&rel))
}

/// How to draw.
#[derive(Clone, Debug)]
pub struct Options {
    /// The most points drawn per curve (default 1,000: more than two per
    /// horizontal pixel of a chart).
    pub max_points: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_points: 1000 }
    }
}

/// One run as the plots see it: its record and its full series.
#[derive(Clone, Debug)]
pub struct PlotRun {
    pub name: String,
    pub run_id: Id,
    pub parent: Option<String>,
    pub locked: String,
    pub commit: Option<String>,
    /// `None` when the run was outside git.
    pub dirty: Option<bool>,
    pub inputs: Vec<Artifact>,
    pub params: BTreeMap<String, toml::Value>,
    pub finals: BTreeMap<String, f64>,
    /// Every point of every metric; empty when the run recorded none.
    pub series: Series,
}

impl PlotRun {
    /// A run and its series, already read.
    pub fn new(run: &Run, series: Series) -> PlotRun {
        let l = &run.lock;
        PlotRun {
            name: l.run.name.clone(),
            run_id: run.id,
            parent: l.run.parent.clone(),
            locked: l.run.locked.clone(),
            commit: l.code.as_ref().and_then(|c| c.commit.clone()),
            dirty: l.code.as_ref().map(|c| c.dirty),
            inputs: l.inputs.clone(),
            params: l.params.clone(),
            finals: l.metrics.finals.clone(),
            series,
        }
    }
}

/// Runs loaded for plotting, and what the user should know about them.
#[derive(Debug)]
pub struct Loaded {
    pub runs: Vec<PlotRun>,
    /// Things that were skipped, one sentence each (a series missing from
    /// the store, say). The CLI prints them as warnings.
    pub notes: Vec<String>,
}

/// Load the runs named (names, run ids or prefixes; every run when none),
/// in the order given, each once, with their series from the store.
/// An unknown run is an error; a series missing from the store is a note.
pub fn load(repo: &Repo, names: &[String]) -> Result<Loaded> {
    let runs: Vec<Run> = if names.is_empty() {
        crate::run::all(repo)?
    } else {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for n in names {
            let r = crate::run::resolve(repo, n)?;
            if seen.insert(r.lock.run.name.clone()) {
                out.push(r);
            }
        }
        out
    };
    if runs.is_empty() {
        return Err(Error::Plot(PlotError::NoRuns));
    }
    // Reading and parsing the series is most of the work: one run per
    // thread, results in the runs' order.
    use rayon::prelude::*;
    let read: Vec<(Series, Option<String>)> =
        runs.par_iter().map(|run| read_series(repo, run)).collect();
    let mut notes = Vec::new();
    let mut out = Vec::with_capacity(runs.len());
    for (run, (series, note)) in runs.iter().zip(read) {
        notes.extend(note);
        out.push(PlotRun::new(run, series));
    }
    Ok(Loaded { runs: out, notes })
}

/// A run's stored series, or an empty one and a note saying why. The
/// system metrics `rvc run` sampled join them as `system/NAME`, with
/// seconds since the start as their steps.
fn read_series(repo: &Repo, run: &Run) -> (Series, Option<String>) {
    let name = &run.lock.run.name;
    let read = |id: crate::Id, what: &str| match repo.store().read_file(&id) {
        Ok(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(metrics::decode)
            .ok_or_else(|| {
                format!(
                    "run {name}: its {what} series {} is malformed; its curves are left out",
                    id.short()
                )
            }),
        Err(e) => Err(format!(
            "run {name}: cannot read its {what} series ({e}); its curves are left out"
        )),
    };
    let mut series = Series::new();
    let mut notes = Vec::new();
    if let Some(id) = run.lock.metrics.series {
        match read(id, "metrics") {
            Ok(s) => series = s,
            Err(n) => notes.push(n),
        }
    }
    if let Some(id) = run.lock.system.as_ref().and_then(|s| s.series) {
        match read(id, "system") {
            Ok(s) => series.extend(s.into_iter().map(|(k, v)| (format!("system/{k}"), v))),
            Err(n) => notes.push(n),
        }
    }
    (series, (!notes.is_empty()).then(|| notes.join("; ")))
}

/// One chart: a metric family drawn on shared axes (`loss` with
/// `eval_loss` and `train_loss`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Chart {
    /// The family's name: the metric name without its role (`loss`).
    pub family: String,
    /// The metrics drawn, the plain one first.
    pub metrics: Vec<String>,
}

/// Metrics that are bookkeeping rather than curves worth a chart by
/// default (they can still be asked for with `--metric`). Optimiser
/// curves (learning rate, gradient norm) are drawn, after the results.
pub fn housekeeping(name: &str) -> bool {
    table::metric_kind(name) == MetricKind::Bookkeeping
}

/// Roles a metric name can carry as a prefix or suffix (`eval_loss`,
/// `loss/val`): the metric belongs to the family of the rest.
const ROLES: [&str; 6] = ["train", "eval", "validation", "valid", "val", "test"];

/// A metric's family and role: `eval_loss` → (`loss`, `eval`), `loss` →
/// (`loss`, ``).
pub fn family(metric: &str) -> (&str, &str) {
    for role in ROLES {
        for sep in ['_', '/', '.'] {
            if let Some(rest) = metric
                .strip_prefix(role)
                .and_then(|r| r.strip_prefix(sep))
                .filter(|r| !r.is_empty())
            {
                return (rest, role);
            }
            if let Some(rest) = metric
                .strip_suffix(role)
                .and_then(|r| r.strip_suffix(sep))
                .filter(|r| !r.is_empty())
            {
                return (rest, role);
            }
        }
    }
    (metric, "")
}

/// Every metric with at least one point in some run.
pub fn present(runs: &[PlotRun]) -> BTreeSet<&str> {
    runs.iter()
        .flat_map(|r| r.series.iter())
        .filter(|(_, pts)| !pts.is_empty())
        .map(|(k, _)| k.as_str())
        .collect()
}

/// The charts to draw. With `wanted` empty: every metric present in the
/// runs but bookkeeping ones, grouped by family, keeping the families where
/// some run has a curve (two points or more). Otherwise exactly the
/// metrics named, grouped by family; a name no run has is an error.
pub fn charts(runs: &[PlotRun], wanted: &[String]) -> Result<Vec<Chart>> {
    let present = present(runs);
    if present.is_empty() {
        return Err(Error::Plot(PlotError::NoSeries {
            runs: runs.iter().map(|r| r.name.clone()).collect(),
        }));
    }
    // rvc run's system metrics (`system/...`) are drawn after the training
    // curves, and by default not when they stayed at zero (no disk or
    // network traffic): a flat line says nothing.
    let is_system = |m: &str| m.starts_with("system/");
    let all_zero = |m: &str| {
        runs.iter()
            .filter_map(|r| r.series.get(m))
            .flatten()
            .all(|p| p.1 == 0.0)
    };
    let chosen: Vec<&str> = if wanted.is_empty() {
        present
            .iter()
            .copied()
            .filter(|m| !(housekeeping(m) || (is_system(m) && all_zero(m))))
            .collect()
    } else {
        let mut out = Vec::new();
        for w in wanted {
            if !present.contains(w.as_str()) {
                return Err(Error::Plot(PlotError::NoSuchMetric {
                    metric: w.clone(),
                    available: present.iter().map(|m| m.to_string()).collect(),
                }));
            }
            if !out.contains(&w.as_str()) {
                out.push(w.as_str());
            }
        }
        out
    };
    let mut families: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in &chosen {
        families.entry(family(m).0).or_default().push(m);
    }
    let longest = |m: &str| {
        runs.iter()
            .filter_map(|r| r.series.get(m))
            .map(Vec::len)
            .max()
            .unwrap_or(0)
    };
    // By default a family logged once per run (one dot each) is left out,
    // unless that is all there is: then the dots are better than nothing.
    // System metrics are sampled over time and do not count here: a run
    // recorded by `rvc run` must not hide the dots of the others' losses.
    let curves = |ms: &Vec<&str>| ms.iter().any(|m| longest(m) >= 2);
    let any_curve = families
        .iter()
        .any(|(fam, ms)| !is_system(fam) && curves(ms));
    let mut out: Vec<Chart> = families
        .into_iter()
        .filter(|(fam, ms)| {
            !wanted.is_empty()
                || if is_system(fam) {
                    curves(ms)
                } else {
                    !any_curve || curves(ms)
                }
        })
        .map(|(fam, mut ms)| {
            // The plain metric first, then by role order.
            ms.sort_by_key(|m| (role_rank(family(m).1), m.to_string()));
            Chart {
                family: fam.to_string(),
                metrics: ms.into_iter().map(str::to_string).collect(),
            }
        })
        .collect();
    // `loss` first, optimiser bookkeeping last, the rest by name.
    out.sort_by_key(|c| {
        let rank = match c.family.as_str() {
            "loss" => 0,
            f if f.starts_with("system/") => 3,
            f if table::metric_kind(f) == MetricKind::Optimizer => 2,
            _ => 1,
        };
        (rank, c.family.clone())
    });
    if out.is_empty() {
        return Err(Error::Plot(PlotError::OnlyBookkeeping {
            present: present.iter().map(|m| m.to_string()).collect(),
        }));
    }
    Ok(out)
}

fn role_rank(role: &str) -> usize {
    match role {
        "" => 0,
        "train" => 1,
        "eval" | "validation" | "valid" | "val" => 2,
        _ => 3,
    }
}

/// Escape text for HTML and SVG, in text and in quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The colour of the `i`-th run (Tableau 10, readable on white).
pub fn color(i: usize) -> &'static str {
    const PALETTE: [&str; 10] = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
        "#9c755f", "#bab0ac",
    ];
    PALETTE[i % PALETTE.len()]
}

/// A unicode sparkline of `values` in `width` characters (the mean of each
/// slice of steps), for terminals. Non-finite values are skipped.
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || width == 0 {
        return String::new();
    }
    let width = width.min(finite.len());
    let cells: Vec<f64> = (0..width)
        .map(|i| {
            let (a, b) = (i * finite.len() / width, (i + 1) * finite.len() / width);
            let s = &finite[a..b.max(a + 1)];
            s.iter().sum::<f64>() / s.len() as f64
        })
        .collect();
    let lo = cells.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = cells.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    cells
        .iter()
        .map(|v| {
            if hi > lo {
                BARS[(((v - lo) / (hi - lo)) * 7.0).round() as usize]
            } else {
                BARS[3]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, series: &[(&str, usize)]) -> PlotRun {
        PlotRun {
            name: name.into(),
            run_id: crate::format::hash::hash_bytes(name.as_bytes()),
            parent: None,
            locked: "2026-11-22T15:09:48Z".into(),
            commit: None,
            dirty: None,
            inputs: vec![],
            params: BTreeMap::new(),
            finals: BTreeMap::new(),
            series: series
                .iter()
                .map(|(m, n)| {
                    (
                        m.to_string(),
                        (0..*n).map(|i| (i as u64, 1.0 / (i + 1) as f64)).collect(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn families_group_train_and_eval_metrics() {
        assert_eq!(family("eval_loss"), ("loss", "eval"));
        assert_eq!(family("loss"), ("loss", ""));
        assert_eq!(family("train_loss"), ("loss", "train"));
        assert_eq!(family("loss/val"), ("loss", "val"));
        assert_eq!(family("eval/accuracy"), ("accuracy", "eval"));
        assert_eq!(family("eval"), ("eval", ""));
        assert_eq!(family("evaluation"), ("evaluation", ""));
    }

    #[test]
    fn default_charts_put_loss_first_and_skip_bookkeeping() {
        let runs = [
            run(
                "a",
                &[
                    ("loss", 50),
                    ("eval_loss", 5),
                    ("train_loss", 1),
                    ("learning_rate", 50),
                    ("epoch", 50),
                    ("train_runtime", 1),
                    ("accuracy", 1),
                ],
            ),
            run("b", &[("eval_accuracy", 5)]),
        ];
        let c = charts(&runs, &[]).unwrap();
        let fams: Vec<&str> = c.iter().map(|c| c.family.as_str()).collect();
        assert_eq!(fams, ["loss", "accuracy", "learning_rate"]);
        assert_eq!(c[0].metrics, ["loss", "train_loss", "eval_loss"]);
        assert_eq!(c[1].metrics, ["accuracy", "eval_accuracy"]);
        // Named metrics: exactly those, bookkeeping included.
        let c = charts(&runs, &["epoch".into()]).unwrap();
        assert_eq!(c[0].metrics, ["epoch"]);
        let e = charts(&runs, &["acc".into()]).unwrap_err();
        assert!(e.to_string().contains("`acc`"), "{e}");
        let Error::Plot(PlotError::NoSuchMetric { available, .. }) = e else {
            panic!("{e}")
        };
        assert!(available.iter().any(|m| m == "eval_loss"), "{available:?}");
        let e = charts(&[run("x", &[])], &[]).unwrap_err();
        assert!(e.to_string().contains("x has no metrics series"), "{e}");
        // Runs that log each metric once still get their dots.
        let once = [
            run("p", &[("loss", 1), ("eval_loss", 1)]),
            run("q", &[("loss", 1)]),
        ];
        let c = charts(&once, &[]).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].metrics, ["loss", "eval_loss"]);
        let e = charts(&[run("r", &[("epoch", 1)])], &[]).unwrap_err();
        assert!(e.to_string().contains("bookkeeping"), "{e}");
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x&y')</script>\""),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;&quot;"
        );
        assert_eq!(escape("a\u{1}b"), "a\u{fffd}b");
    }

    #[test]
    fn sparklines() {
        assert_eq!(sparkline(&[3.0, 2.0, 1.0, f64::NAN, 0.0], 4), "█▆▃▁");
        assert_eq!(sparkline(&[1.0; 100], 5).chars().count(), 5);
        assert_eq!(sparkline(&[], 5), "");
    }
}
