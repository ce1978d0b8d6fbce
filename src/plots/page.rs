//! The `rvc plots` page: one self-contained HTML file with the curves, a
//! table of the runs and their lineage.
//!
//! Self-contained means it opens offline, from a file or an e-mail: charts
//! are inline SVG, styles are inline, and there is no script and no link to
//! anything. Its Content-Security-Policy (`default-src 'none'`) makes the
//! browser refuse any script or request even if one slipped in, on top of
//! the escaping of every string that comes from a lockfile.
//!
//! Sections, with ids for links: `#curves` (one chart per metric family,
//! see [`super::svg`]), `#runs` (name, run id, parent, commit, dirty flag,
//! data id and rows, the params that differ between the runs, highlighted,
//! and the final metrics; every param in a `<details>` below) and
//! `#lineage` (which run is the parent of which).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{color, escape, svg, Chart, Options, PlotRun};
use crate::run::table::{self, number, MetricKind};

const STYLE: &str = "\
body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:24px auto;max-width:1600px;padding:0 16px;color:#222;background:#fafafa}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}\
.sub{color:#666;font-size:13px}nav a{margin-right:14px;color:#4e79a7}\
.charts{display:flex;flex-wrap:wrap;gap:16px}.charts svg{max-width:100%;height:auto;border:1px solid #e3e3e3;background:#fff}\
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:13px;background:#fff}\
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;white-space:nowrap}\
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.diff{background:#fff3c4}th.diff{background:#f7e39a}.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}\
.dirty{color:#b33;font-weight:bold}.muted{color:#888}code{font-size:12px}details{margin-top:12px}\
.lineage svg{background:#fff;border:1px solid #e3e3e3;max-width:100%;height:auto}\
footer{margin-top:32px;color:#777;font-size:12px}";

/// The whole page.
pub fn render(runs: &[PlotRun], charts: &[Chart], opts: &Options) -> String {
    let mut s = String::with_capacity(256 * 1024);
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"generator\" content=\"rvc {v}\">\
<title>rvc plots: {t}</title><style>{STYLE}</style></head><body>\n",
        v = env!("CARGO_PKG_VERSION"),
        t = escape(&summary_names(&names)),
    );
    let _ = write!(
        s,
        "<header><h1>rvc plots</h1><div class=\"sub\">{n} {runs_word}: {t}</div>\
<nav><a href=\"#curves\">Curves</a><a href=\"#runs\">Runs</a><a href=\"#lineage\">Lineage</a></nav></header>",
        n = runs.len(),
        runs_word = if runs.len() == 1 { "run" } else { "runs" },
        t = escape(&names.join(", ")),
    );
    s.push('\n');

    s.push_str("<section id=\"curves\"><h2>Curves</h2><div class=\"charts\">\n");
    for c in charts {
        s.push_str(&svg::chart(runs, c, opts));
        s.push('\n');
    }
    s.push_str("</div></section>\n");

    runs_table(&mut s, runs, charts);
    lineage(&mut s, runs);

    let _ = write!(
        s,
        "<footer>Written by rvc {v}. Each curve shows at most {max} points: long series are \
downsampled with LTTB (largest triangle three buckets), which keeps the first and last \
step, the lowest and highest value, and the turns of the curve. Hover a curve for its run, \
metric and last value. Plain metrics are solid lines, eval metrics dashed, train metrics \
dotted.</footer>\n</body></html>\n",
        v = env!("CARGO_PKG_VERSION"),
        max = opts.max_points,
    );
    s
}

fn summary_names(names: &[&str]) -> String {
    if names.len() <= 4 {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..3].join(", "), names.len() - 3)
    }
}

/// Parameter keys whose values are not the same in every run (a key
/// missing from some run counts as different).
pub fn differing_params(runs: &[PlotRun]) -> Vec<String> {
    table::differing_params(runs.iter().map(|r| &r.params))
}

fn runs_table(s: &mut String, runs: &[PlotRun], charts: &[Chart]) {
    let params = differing_params(runs);
    // Final metrics: the charted ones first, then the other non-bookkeeping.
    let mut metrics: Vec<String> = Vec::new();
    for m in charts.iter().flat_map(|c| c.metrics.iter()) {
        if runs.iter().any(|r| r.finals.contains_key(m)) && !metrics.contains(m) {
            metrics.push(m.clone());
        }
    }
    let rest: BTreeSet<&String> = runs.iter().flat_map(|r| r.finals.keys()).collect();
    for m in rest {
        if table::metric_kind(m) == MetricKind::Result && !metrics.contains(m) {
            metrics.push(m.clone());
        }
    }
    s.push_str("<section id=\"runs\"><h2>Runs</h2>");
    if params.is_empty() {
        s.push_str("<p class=\"sub\">The runs have the same params.</p>");
    } else {
        let _ = write!(
            s,
            "<p class=\"sub\">Highlighted: the {} {} that differ between the runs.</p>",
            params.len(),
            if params.len() == 1 { "param" } else { "params" }
        );
    }
    s.push_str("<div class=\"scroll\"><table class=\"runs\"><thead><tr><th>run</th><th>run id</th><th>parent</th><th>locked</th><th>commit</th><th>dirty</th><th>data</th>");
    for p in &params {
        let _ = write!(s, "<th class=\"param diff\">{}</th>", escape(p));
    }
    for m in &metrics {
        let _ = write!(s, "<th class=\"metric\">{}</th>", escape(m));
    }
    s.push_str("</tr></thead><tbody>\n");
    for (i, r) in runs.iter().enumerate() {
        let _ = write!(
            s,
            "<tr data-run=\"{n}\"><td><span class=\"sw\" style=\"background:{c}\"></span>{n}</td><td><code>{id}</code></td><td>{p}</td><td>{l}</td><td><code>{commit}</code></td><td>{dirty}</td><td>{data}</td>",
            n = escape(&r.name),
            c = color(i),
            id = r.run_id.short(),
            p = r.parent.as_deref().map(escape).unwrap_or_else(|| "<span class=\"muted\">-</span>".into()),
            l = escape(&r.locked.replace('T', " ").replace('Z', "")),
            commit = r
                .commit
                .as_deref()
                .map(|c| escape(&c[..c.len().min(10)]))
                .unwrap_or_else(|| "-".into()),
            dirty = match r.dirty {
                Some(true) => "<span class=\"dirty\">dirty</span>",
                Some(false) => "clean",
                None => "<span class=\"muted\">no git</span>",
            },
            data = if r.inputs.is_empty() {
                "<span class=\"muted\">-</span>".to_string()
            } else {
                r.inputs
                    .iter()
                    .map(|a| {
                        format!(
                            "{} <code>{}</code>{}",
                            escape(&a.path),
                            a.id.short(),
                            a.rows
                                .map(|n| format!(" ({n} {})", if n == 1 { "row" } else { "rows" }))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            },
        );
        for p in &params {
            let _ = write!(
                s,
                "<td class=\"diff\">{}</td>",
                r.params
                    .get(p)
                    .map(|v| escape(&table::param_value(v)))
                    .unwrap_or_else(|| "<span class=\"muted\">-</span>".into())
            );
        }
        for m in &metrics {
            let _ = write!(
                s,
                "<td class=\"num\">{}</td>",
                r.finals
                    .get(m)
                    .map(|v| escape(&number(*v)))
                    .unwrap_or_else(|| "<span class=\"muted\">-</span>".into())
            );
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");

    // Every param, the differing rows highlighted.
    let keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    if !keys.is_empty() {
        let _ = write!(
            s,
            "<details><summary>All {} params</summary><div class=\"scroll\"><table class=\"params\"><thead><tr><th>param</th>",
            keys.len()
        );
        for r in runs {
            let _ = write!(s, "<th>{}</th>", escape(&r.name));
        }
        s.push_str("</tr></thead><tbody>\n");
        let differing: BTreeSet<&String> = params.iter().collect();
        for k in keys {
            let class = if differing.contains(k) {
                " class=\"diff\""
            } else {
                ""
            };
            let _ = write!(s, "<tr{class}><th>{}</th>", escape(k));
            for r in runs {
                let _ = write!(
                    s,
                    "<td>{}</td>",
                    r.params
                        .get(k)
                        .map(|v| escape(&table::param_value(v)))
                        .unwrap_or_else(|| "<span class=\"muted\">-</span>".into())
                );
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody></table></div></details>\n");
    }
    s.push_str("</section>\n");
}

/// A node of the lineage view.
struct Node<'a> {
    name: &'a str,
    /// Index into the runs, or `None` for a parent that is not plotted.
    run: Option<usize>,
    depth: usize,
    /// Row of the parent node, if drawn.
    parent_row: Option<usize>,
}

/// Depth-first walk from the roots, each run once.
struct Walk<'a> {
    runs: &'a [PlotRun],
    children: BTreeMap<&'a str, Vec<usize>>,
    seen: Vec<bool>,
    nodes: Vec<Node<'a>>,
}

impl<'a> Walk<'a> {
    fn visit(
        &mut self,
        name: &'a str,
        run: Option<usize>,
        depth: usize,
        parent_row: Option<usize>,
    ) {
        if let Some(i) = run {
            if self.seen[i] {
                return;
            }
            self.seen[i] = true;
        }
        let row = self.nodes.len();
        self.nodes.push(Node {
            name,
            run,
            depth,
            parent_row,
        });
        let kids = self.children.get(name).cloned().unwrap_or_default();
        for c in kids {
            let runs = self.runs;
            self.visit(&runs[c].name, Some(c), depth + 1, Some(row));
        }
    }
}

fn lineage(s: &mut String, runs: &[PlotRun]) {
    let index: BTreeMap<&str, usize> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    let mut children: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut roots: Vec<(&str, Option<usize>)> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        match r.parent.as_deref() {
            Some(p) if p != r.name => {
                children.entry(p).or_default().push(i);
                if !index.contains_key(p) && !roots.iter().any(|(n, _)| *n == p) {
                    roots.push((p, None));
                }
            }
            _ => roots.push((&r.name, Some(i))),
        }
    }
    let mut walk = Walk {
        runs,
        children,
        seen: vec![false; runs.len()],
        nodes: Vec::new(),
    };
    for (name, run) in roots {
        walk.visit(name, run, 0, None);
    }
    // Runs in a parent cycle (only a hand-edited lockfile can do that).
    for (i, r) in runs.iter().enumerate() {
        if !walk.seen[i] {
            walk.visit(&r.name, Some(i), 0, None);
        }
    }
    let nodes = walk.nodes;
    let with_parent = runs.iter().filter(|r| r.parent.is_some()).count();
    s.push_str("<section id=\"lineage\" class=\"lineage\"><h2>Lineage</h2>");
    let _ = write!(
        s,
        "<p class=\"sub\">{}</p>",
        if with_parent == 0 {
            "No run names a parent: each run stands alone.".to_string()
        } else {
            format!(
                "{with_parent} of {} runs name a parent; children are drawn under their parent. A hollow node is a parent that is not plotted.",
                runs.len()
            )
        }
    );
    const ROW: f64 = 26.0;
    const INDENT: f64 = 28.0;
    let height = 12.0 + ROW * nodes.len() as f64;
    let width = nodes
        .iter()
        .map(|n| 40.0 + INDENT * n.depth as f64 + 7.5 * (n.name.chars().count() + 14) as f64)
        .fold(320.0, f64::max);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lineage\" viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"13\">"
    );
    let pos = |row: usize, depth: usize| (20.0 + INDENT * depth as f64, 18.0 + ROW * row as f64);
    for (row, n) in nodes.iter().enumerate() {
        if let Some(pr) = n.parent_row {
            let (px, py) = pos(pr, nodes[pr].depth);
            let (x, y) = pos(row, n.depth);
            let _ = write!(
                s,
                "<path class=\"edge\" d=\"M{px:.1} {:.1} V{y:.1} H{:.1}\" fill=\"none\" stroke=\"#999\" stroke-width=\"1.5\"/>",
                py + 6.0,
                x - 7.0,
            );
        }
    }
    for (row, n) in nodes.iter().enumerate() {
        let (x, y) = pos(row, n.depth);
        match n.run {
            Some(i) => {
                let _ = write!(
                    s,
                    "<g class=\"node\" data-run=\"{name}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"{c}\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\">{name}</text></g>",
                    name = escape(n.name),
                    c = color(i),
                    tx = x + 12.0,
                    ty = y + 4.5,
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<g class=\"node ghost\" data-run=\"{name}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"#fff\" stroke=\"#999\" stroke-dasharray=\"2 2\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\" fill=\"#888\">{name} (not plotted)</text></g>",
                    name = escape(n.name),
                    tx = x + 12.0,
                    ty = y + 4.5,
                );
            }
        }
    }
    s.push_str("</svg></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, parent: Option<&str>, lr: f64) -> PlotRun {
        PlotRun {
            name: name.into(),
            run_id: crate::format::hash::hash_bytes(name.as_bytes()),
            parent: parent.map(str::to_string),
            locked: "2026-11-22T15:09:48Z".into(),
            commit: Some("f3d17f6c4d0000000000000000000000000000".into()),
            dirty: Some(false),
            inputs: vec![],
            params: [
                ("optimizer.lr".to_string(), toml::Value::Float(lr)),
                ("seed".to_string(), toml::Value::Integer(42)),
            ]
            .into_iter()
            .collect(),
            finals: [("loss".to_string(), 1.5)].into_iter().collect(),
            series: [("loss".to_string(), vec![(0, 2.0), (10, 1.5)])]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn differing_params_are_highlighted_and_lineage_nests_children() {
        let runs = [
            run("sweep", None, 1e-3),
            run("sweep/a", Some("sweep"), 1e-4),
            run("other/b", Some("other"), 1e-3),
        ];
        let charts = super::super::charts(&runs, &[]).unwrap();
        let page = render(&runs, &charts, &Options::default());
        assert_eq!(differing_params(&runs), ["optimizer.lr"]);
        assert!(page.contains("<th class=\"param diff\">optimizer.lr</th>"));
        assert!(!page.contains("<th class=\"param diff\">seed</th>"));
        // `other` is not plotted: a ghost node with its child under it.
        assert!(page.contains("other (not plotted)"));
        assert_eq!(page.matches("class=\"edge\"").count(), 2);
        assert!(!page.contains("<script"));
    }
}
