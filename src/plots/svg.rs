//! One chart as SVG: the curves of a metric family for every run that has
//! them, on shared axes, with ticks, labels and a legend.
//!
//! Structure (relied on by tests and by anyone styling the page):
//! - root `<svg class="chart" viewBox="0 0 W H">`, with `data-family`;
//! - `<g class="axes">`: the frame, `<g class="tick x">`/`<g class="tick y">`
//!   (a grid line and a label each) and the axis labels;
//! - `<g class="curves">`: one `<path class="series">` per run and metric,
//!   with `data-run`, `data-metric` and `data-points` (points drawn), and a
//!   `<title>` for the tooltip; a metric with a single point is a
//!   `<circle class="series">` instead;
//! - `<g class="legend">`: a swatch and the name of each run, then the line
//!   style of each metric (eval dashed, train dotted).
//!
//! Non-finite values (NaN, ±inf) are not drawn: the curve has a gap there,
//! and the tooltip and a note under the chart count them.

use std::fmt::Write as _;

use super::{color, escape, family, lttb, Chart, Options, PlotRun};
use crate::run::table::number;

/// Width of a chart, in SVG user units (pixels at 100%).
pub const WIDTH: f64 = 760.0;
const PLOT_H: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 44.0;
const FONT: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// The dash pattern of a metric by its role: plain solid, eval dashed,
/// train dotted, others dash-dot.
fn dash(metric: &str) -> Option<&'static str> {
    match family(metric).1 {
        "" => None,
        "eval" | "validation" | "valid" | "val" => Some("7 4"),
        "train" => Some("2 3"),
        _ => Some("9 3 2 3"),
    }
}

/// One curve, ready to draw.
struct Curve<'a> {
    run: usize,
    metric: &'a str,
    /// Points kept, in data space, with a flag: a gap precedes this point.
    points: Vec<(f64, f64, bool)>,
    total: usize,
    non_finite: usize,
    last: Option<(u64, f64)>,
}

/// The chart as a standalone SVG document (with the XML namespace, so it
/// opens on its own). `runs` gives the colours by position.
pub fn chart(runs: &[PlotRun], chart: &Chart, opts: &Options) -> String {
    let mut curves = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        for m in &chart.metrics {
            if let Some(pts) = r.series.get(m).filter(|p| !p.is_empty()) {
                curves.push(curve(i, m, pts, opts.max_points));
            }
        }
    }
    // Ranges over everything drawn (extremes are always kept).
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for c in &curves {
        for &(x, y, _) in &c.points {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        let pad = if y0 == 0.0 { 1.0 } else { y0.abs() * 0.1 };
        (y0, y1) = (y0 - pad, y1 + pad);
    }
    let yt = ticks(y0, y1, 6);
    let (y0, y1) = (y0.min(yt[0]), y1.max(*yt.last().unwrap_or(&y1)));
    let xt = ticks(x0, x1, 8);
    let plot_w = WIDTH - LEFT - RIGHT;
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * plot_w;
    let sy = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * PLOT_H;

    // Legend layout: run entries flow in rows, then one row of styles.
    let in_chart: Vec<usize> = {
        let mut v: Vec<usize> = curves.iter().map(|c| c.run).collect();
        v.dedup();
        v
    };
    let mut legend = String::new();
    let mut lx = LEFT;
    let mut ly = TOP + PLOT_H + BOTTOM + 8.0;
    for &i in &in_chart {
        let name = &runs[i].name;
        let w = 30.0 + 7.0 * name.chars().count().min(60) as f64 + 16.0;
        if lx + w > WIDTH - RIGHT && lx > LEFT {
            lx = LEFT;
            ly += 18.0;
        }
        let _ = write!(
            legend,
            r#"<g class="entry run" data-run="{n}"><line x1="{x:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{c}" stroke-width="3"/><text x="{tx:.1}" y="{ty:.1}">{n}</text></g>"#,
            n = escape(name),
            x = lx,
            x2 = lx + 22.0,
            y = ly,
            c = color(i),
            tx = lx + 28.0,
            ty = ly + 4.0,
        );
        lx += w;
    }
    if chart.metrics.len() > 1 || dash(&chart.metrics[0]).is_some() {
        lx = LEFT;
        ly += 20.0;
        for m in &chart.metrics {
            let w = 30.0 + 7.0 * m.chars().count().min(60) as f64 + 16.0;
            if lx + w > WIDTH - RIGHT && lx > LEFT {
                lx = LEFT;
                ly += 18.0;
            }
            let _ = write!(
                legend,
                r##"<g class="entry metric" data-metric="{n}"><line x1="{x:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="#555" stroke-width="2"{d}/><text x="{tx:.1}" y="{ty:.1}">{n}</text></g>"##,
                n = escape(m),
                x = lx,
                x2 = lx + 22.0,
                y = ly,
                d = dash(m)
                    .map(|d| format!(r#" stroke-dasharray="{d}""#))
                    .unwrap_or_default(),
                tx = lx + 28.0,
                ty = ly + 4.0,
            );
            lx += w;
        }
    }
    let notes: Vec<String> = curves
        .iter()
        .filter(|c| c.non_finite > 0)
        .map(|c| {
            format!(
                "{} {}: {} NaN/inf {} not drawn",
                runs[c.run].name,
                c.metric,
                c.non_finite,
                if c.non_finite == 1 { "point" } else { "points" }
            )
        })
        .collect();
    let height = ly + 16.0 + 16.0 * notes.len() as f64;

    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-family="{fam}" viewBox="0 0 {w} {h:.0}" width="{w}" height="{h:.0}" font-family="{FONT}" font-size="12">"#,
        fam = escape(&chart.family),
        w = WIDTH,
        h = height,
    );
    let _ = write!(
        s,
        r##"<rect width="100%" height="100%" fill="#fff"/><text class="title" x="{LEFT}" y="22" font-size="15" font-weight="bold">{t}</text>"##,
        t = escape(&chart.metrics.join(", ")),
    );
    // Axes: frame, ticks with grid lines, labels.
    s.push_str(r#"<g class="axes">"#);
    let _ = write!(
        s,
        r##"<rect class="frame" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{PLOT_H}" fill="none" stroke="#999"/>"##
    );
    for &t in &yt {
        let y = sy(t);
        let _ = write!(
            s,
            r##"<g class="tick y"><line x1="{LEFT}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#333">{l}</text></g>"##,
            x2 = LEFT + plot_w,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            l = number(t),
        );
    }
    for &t in &xt {
        let x = sx(t);
        let _ = write!(
            s,
            r##"<g class="tick x"><line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{y2}" stroke="#e5e5e5"/><text x="{x:.1}" y="{ty}" text-anchor="middle" fill="#333">{l}</text></g>"##,
            y2 = TOP + PLOT_H,
            ty = TOP + PLOT_H + 16.0,
            l = step_label(t),
        );
    }
    let _ = write!(
        s,
        r##"<text class="label x" x="{x}" y="{y}" text-anchor="middle" fill="#333">{xlabel}</text><text class="label y" transform="translate(14 {ly}) rotate(-90)" text-anchor="middle" fill="#333">{fam}</text></g>"##,
        // rvc run's system samples are taken every so many seconds.
        xlabel = if chart.family.starts_with("system/") {
            "seconds since the start"
        } else {
            "step"
        },
        x = LEFT + plot_w / 2.0,
        y = TOP + PLOT_H + 34.0,
        ly = TOP + PLOT_H / 2.0,
        fam = escape(&chart.family),
    );
    // Curves, clipped to the plot area.
    let _ = write!(
        s,
        r#"<clipPath id="plot-{id}"><rect x="{cx}" y="{cy}" width="{cw}" height="{ch}"/></clipPath><g class="curves" clip-path="url(#plot-{id})" fill="none" stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round">"#,
        id = clip_id(&chart.family),
        // A little room, so that markers on the frame are drawn whole.
        cx = LEFT - 5.0,
        cy = TOP - 5.0,
        cw = plot_w + 10.0,
        ch = PLOT_H + 10.0,
    );
    for c in &curves {
        let run = &runs[c.run];
        let tip = format!(
            "{} · {}: {} of {} points drawn{}{}",
            run.name,
            c.metric,
            c.points.len(),
            c.total,
            c.last
                .map(|(st, v)| format!(", last {} at step {st}", number(v)))
                .unwrap_or_default(),
            if c.non_finite > 0 {
                format!(", {} NaN/inf not drawn", c.non_finite)
            } else {
                String::new()
            }
        );
        let attrs = format!(
            r#"class="series" data-run="{r}" data-metric="{m}" data-points="{n}""#,
            r = escape(&run.name),
            m = escape(c.metric),
            n = c.points.len(),
        );
        if c.points.len() == 1 {
            let (x, y, _) = c.points[0];
            let _ = write!(
                s,
                r#"<circle {attrs} cx="{:.1}" cy="{:.1}" r="3.5" fill="{col}" stroke="{col}"><title>{t}</title></circle>"#,
                sx(x),
                sy(y),
                col = color(c.run),
                t = escape(&tip),
            );
            continue;
        }
        let mut d = String::with_capacity(c.points.len() * 14);
        for (k, &(x, y, gap)) in c.points.iter().enumerate() {
            let starts = k == 0 || gap;
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if starts { "M" } else { "L" },
                sx(x),
                sy(y)
            );
            // A point alone between gaps: a dot (round caps), not nothing.
            if starts && c.points.get(k + 1).is_none_or(|p| p.2) {
                d.push_str("h0");
            }
        }
        let _ = write!(
            s,
            r#"<path {attrs} d="{d}" stroke="{col}"{dash}><title>{t}</title></path>"#,
            col = color(c.run),
            dash = dash(c.metric)
                .map(|d| format!(r#" stroke-dasharray="{d}""#))
                .unwrap_or_default(),
            t = escape(&tip),
        );
    }
    s.push_str("</g>");
    let _ = write!(s, r##"<g class="legend" fill="#222">{legend}</g>"##);
    for (k, n) in notes.iter().enumerate() {
        let _ = write!(
            s,
            r##"<text class="note" x="{LEFT}" y="{y:.1}" fill="#a33">{t}</text>"##,
            y = ly + 22.0 + 16.0 * k as f64,
            t = escape(n),
        );
    }
    s.push_str("</svg>");
    s
}

/// A clip-path id that is a valid XML name whatever the family is called.
fn clip_id(family: &str) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    for b in family.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

fn curve<'a>(run: usize, metric: &'a str, pts: &[(u64, f64)], max: usize) -> Curve<'a> {
    // Finite points with, for each, whether a non-finite one came before it
    // since the previous finite point (a gap in the curve).
    let mut finite: Vec<(f64, f64)> = Vec::with_capacity(pts.len());
    let mut gap_before: Vec<usize> = Vec::with_capacity(pts.len());
    let mut bad = 0usize;
    for &(st, v) in pts {
        if v.is_finite() {
            finite.push((st as f64, v));
            gap_before.push(bad);
        } else {
            bad += 1;
        }
    }
    let keep = lttb::downsample(&finite, max);
    let mut points = Vec::with_capacity(keep.len());
    let mut prev: Option<usize> = None;
    for &k in &keep {
        let gap = prev.is_some_and(|p| gap_before[k] > gap_before[p]);
        points.push((finite[k].0, finite[k].1, gap));
        prev = Some(k);
    }
    Curve {
        run,
        metric,
        points,
        total: pts.len(),
        non_finite: bad,
        last: pts.last().copied(),
    }
}

/// About `n` round tick values covering `lo..hi` (steps of 1, 2 or 5
/// times a power of ten).
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let mut out = Vec::new();
    let mut k = 0;
    loop {
        let t = start + k as f64 * step;
        // Round away float noise (0.30000000000000004).
        let t = (t / step).round() * step;
        out.push(t);
        if t >= hi - step * 1e-9 || k > 100 {
            break;
        }
        k += 1;
    }
    out
}

/// A step on the x axis: `20000` → `20k`, `1500000` → `1.5M`.
fn step_label(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 && (v / 1e5).fract() == 0.0 {
        format!("{}M", number(v / 1e6))
    } else if a >= 1e3 && (v / 100.0).fract() == 0.0 {
        format!("{}k", number(v / 1e3))
    } else {
        number(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            ticks(0.0, 20000.0, 8),
            [0.0, 5000.0, 10000.0, 15000.0, 20000.0]
        );
        let t = ticks(0.13, 2.71, 6);
        assert!(t[0] <= 0.13 && *t.last().unwrap() >= 2.71, "{t:?}");
        assert!(t.len() <= 12);
        let t = ticks(1e-5, 2e-4, 6);
        assert!(t.len() >= 3 && t.len() <= 12, "{t:?}");
        assert_eq!(step_label(20000.0), "20k");
        assert_eq!(step_label(2500.0), "2.5k");
        assert_eq!(step_label(250.0), "250");
    }

    #[test]
    fn nan_and_inf_make_gaps_not_broken_paths() {
        let r = PlotRun {
            name: "r".into(),
            run_id: crate::format::hash::hash_bytes(b"r"),
            parent: None,
            locked: String::new(),
            commit: None,
            dirty: None,
            inputs: vec![],
            params: Default::default(),
            finals: Default::default(),
            series: [(
                "loss".to_string(),
                vec![
                    (0, 2.0),
                    (1, f64::NAN),
                    (2, 1.5),
                    (3, f64::INFINITY),
                    (4, 1.0),
                    (5, f64::NEG_INFINITY),
                ],
            )]
            .into_iter()
            .collect(),
        };
        let c = Chart {
            family: "loss".into(),
            metrics: vec!["loss".into()],
        };
        let svg = chart(&[r], &c, &Options::default());
        let d = svg.split(" d=\"").nth(1).unwrap();
        let d = d.split('"').next().unwrap();
        // Three finite points between non-finite ones: three dots.
        assert_eq!(d, "M64.0 40.0h0M402.0 180.0h0M740.0 320.0h0");
        assert!(svg.contains("3 NaN/inf points not drawn"));
    }
}
