//! `rvc plots`: choose the output and its format, load the runs, pick the
//! charts, draw them and write the file atomically.

use std::path::{Path, PathBuf};

use super::{Chart, Options};
use crate::error::{Error, OutputProblem, PlotError, Result};
use crate::repository::Repo;

/// What a plot file holds, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// The whole page: every chart, the comparison table and the lineage.
    Html,
    /// One chart.
    Svg,
    /// One chart, rasterised.
    Png,
}

/// What to draw.
#[derive(Clone, Debug, Default)]
pub struct DrawRequest {
    /// Runs by name or id (empty: every run).
    pub runs: Vec<String>,
    /// Metrics to draw (empty: every metric but bookkeeping).
    pub metrics: Vec<String>,
    /// Where to write; `None` is the page at `.rvc/plots.html`.
    pub output: Option<PathBuf>,
    pub max_points: usize,
}

/// What was written.
#[derive(Debug, serde::Serialize)]
pub struct DrawReport {
    pub output: PathBuf,
    pub format: OutputFormat,
    pub bytes: usize,
    pub runs: Vec<String>,
    pub charts: Vec<Chart>,
    pub max_points: usize,
    /// Charts a one-chart file (SVG, PNG) left out, by their first metric.
    pub left_out: Vec<String>,
    /// Whether a PNG was drawn without text, for want of system fonts.
    pub no_fonts: bool,
    /// Runs whose series could not be read, and why.
    pub notes: Vec<String>,
}

/// Where `output` (relative to `cwd`) can be written, and in which format.
/// Checked before any work, so a typo fails fast.
pub fn check_output(cwd: &Path, output: &Path) -> Result<OutputFormat> {
    let problem = |problem| {
        Error::Plot(PlotError::Output {
            path: output.to_path_buf(),
            problem,
        })
    };
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match ext.as_deref() {
        Some("html" | "htm") => OutputFormat::Html,
        Some("svg") => OutputFormat::Svg,
        Some("png") => OutputFormat::Png,
        Some(other) => return Err(problem(OutputProblem::UnknownExtension(other.into()))),
        None => return Err(problem(OutputProblem::NoExtension)),
    };
    let abs = cwd.join(output);
    let dir = match abs.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => cwd.to_path_buf(),
    };
    if !dir.is_dir() {
        return Err(problem(OutputProblem::NoDirectory(dir)));
    }
    if abs.is_dir() {
        return Err(problem(OutputProblem::IsDirectory));
    }
    Ok(format)
}

/// Draw what `req` asks for and write it.
pub fn draw(repo: &Repo, cwd: &Path, req: &DrawRequest) -> Result<DrawReport> {
    // The default page lives where git ignores it, so that it never makes
    // the next run dirty.
    let (out, format) = match &req.output {
        Some(o) => (cwd.join(o), check_output(cwd, o)?),
        None => (super::default_page(repo)?, OutputFormat::Html),
    };
    let loaded = super::load(repo, &req.runs)?;
    let runs = loaded.runs;
    let notes = loaded.notes;
    let (mut left_out, mut no_fonts) = (Vec::new(), false);
    let charts = super::charts(&runs, &req.metrics)?;
    let opts = Options {
        max_points: req.max_points,
    };
    let (data, written) = match format {
        OutputFormat::Html => (
            super::page::render(&runs, &charts, &opts).into_bytes(),
            charts,
        ),
        OutputFormat::Svg | OutputFormat::Png => {
            let first = charts[0].clone();
            left_out = charts[1..].iter().map(|c| c.metrics[0].clone()).collect();
            let svg = super::svg::chart(&runs, &first, &opts);
            let data = if format == OutputFormat::Png {
                let png = super::png::render(&svg)?;
                no_fonts = png.fonts == 0;
                png.bytes
            } else {
                svg.into_bytes()
            };
            (data, vec![first])
        }
    };
    crate::io::atomic::write_atomic(&out, &data).map_err(|e| {
        Error::Plot(PlotError::Output {
            path: out.clone(),
            problem: OutputProblem::Write(match &e {
                Error::Io { source, .. } => source.to_string(),
                other => other.to_string(),
            }),
        })
    })?;
    Ok(DrawReport {
        output: out,
        format,
        bytes: data.len(),
        runs: runs.iter().map(|r| r.name.clone()).collect(),
        charts: written,
        max_points: req.max_points,
        left_out,
        no_fonts,
        notes,
    })
}
