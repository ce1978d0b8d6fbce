//! What `rvc runs` and `rvc plots` show of a set of runs, decided once for
//! both: which metrics are results and which are bookkeeping, which params
//! make columns, the parent/child order, and how numbers read.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::{natural_cmp, Run};

/// What a metric says about a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricKind {
    /// How good the run is: loss, accuracy, eval metrics.
    Result,
    /// How the optimiser was driven (learning rate, gradient norm): a
    /// curve worth drawing, not a result to compare in a table.
    Optimizer,
    /// The trainer's accounting (epoch, FLOPs, runtimes, throughput).
    Bookkeeping,
}

/// The kind of the metric `name`.
pub fn metric_kind(name: &str) -> MetricKind {
    if matches!(name, "epoch" | "total_flos")
        || name.ends_with("_runtime")
        || name.ends_with("_per_second")
    {
        MetricKind::Bookkeeping
    } else if matches!(name, "learning_rate" | "lr" | "grad_norm") {
        MetricKind::Optimizer
    } else {
        MetricKind::Result
    }
}

/// Param keys whose values are not the same in every run, in key order (a
/// key missing from some run counts as different).
pub fn differing_params<'a>(
    params: impl IntoIterator<Item = &'a BTreeMap<String, toml::Value>>,
) -> Vec<String> {
    let all: Vec<&BTreeMap<String, toml::Value>> = params.into_iter().collect();
    let keys: BTreeSet<&String> = all.iter().flat_map(|p| p.keys()).collect();
    keys.into_iter()
        .filter(|k| {
            let values: BTreeSet<String> = all
                .iter()
                .map(|p| p.get(*k).map(|v| v.to_string()).unwrap_or_default())
                .collect();
            values.len() > 1
        })
        .cloned()
        .collect()
}

/// The result metrics any of the runs has a final value of, by name.
pub fn result_metrics<'a>(
    finals: impl IntoIterator<Item = &'a BTreeMap<String, f64>>,
) -> Vec<String> {
    let names: BTreeSet<&String> = finals.into_iter().flat_map(|f| f.keys()).collect();
    names
        .into_iter()
        .filter(|n| metric_kind(n) == MetricKind::Result)
        .cloned()
        .collect()
}

/// Runs in display order with their depth: parents first, each followed by
/// its children; siblings by the final value of `metric` (runs without it
/// last), else by name; `reverse` turns each group around.
pub fn order<'a>(runs: &'a [Run], metric: Option<&str>, reverse: bool) -> Vec<(usize, &'a Run)> {
    let names: BTreeSet<&str> = runs.iter().map(|r| r.lock.run.name.as_str()).collect();
    let mut children: BTreeMap<Option<&str>, Vec<&Run>> = BTreeMap::new();
    for r in runs {
        let parent = r.lock.run.parent.as_deref().filter(|p| names.contains(p));
        children.entry(parent).or_default().push(r);
    }
    for list in children.values_mut() {
        match metric {
            Some(m) => list.sort_by(|a, b| {
                let (x, y) = (a.lock.metrics.finals.get(m), b.lock.metrics.finals.get(m));
                match (x, y) {
                    (Some(x), Some(y)) => {
                        let o = x.total_cmp(y);
                        if reverse {
                            o.reverse()
                        } else {
                            o
                        }
                    }
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => natural_cmp(&a.lock.run.name, &b.lock.run.name),
                }
            }),
            None if reverse => list.reverse(),
            None => {}
        }
    }
    fn visit<'a>(
        parent: Option<&str>,
        depth: usize,
        children: &BTreeMap<Option<&str>, Vec<&'a Run>>,
        out: &mut Vec<(usize, &'a Run)>,
    ) {
        for r in children.get(&parent).map(Vec::as_slice).unwrap_or(&[]) {
            out.push((depth, r));
            visit(Some(r.lock.run.name.as_str()), depth + 1, children, out);
        }
    }
    let mut out = Vec::new();
    visit(None, 0, &children, &mut out);
    out
}

/// A number as tables, charts and axes show it: at most 6 decimals with
/// trailing zeros dropped, or, below 1e-4 and from 1e6 up, a mantissa of
/// at most 3 decimals and an exponent (`2.5e-5`, `1.235e6`).
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return super::metrics::fmt_float(v);
    }
    if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e6) {
        let s = format!("{v:.3e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{e}");
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A param value as a table cell: strings bare, floats as [`number`].
pub fn param_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => number(*f),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_the_same_everywhere() {
        for (v, want) in [
            (0.0, "0"),
            (1.5, "1.5"),
            (20000.0, "20000"),
            (0.0002, "0.0002"),
            (0.00002, "2e-5"),
            (0.000025, "2.5e-5"),
            (1_234_567.0, "1.235e6"),
            (2.3456789, "2.345679"),
            (-0.0000001, "-1e-7"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(number(v), want, "{v}");
        }
    }

    #[test]
    fn metric_kinds() {
        assert_eq!(metric_kind("eval_loss"), MetricKind::Result);
        assert_eq!(metric_kind("learning_rate"), MetricKind::Optimizer);
        assert_eq!(metric_kind("train_runtime"), MetricKind::Bookkeeping);
        assert_eq!(
            metric_kind("eval_samples_per_second"),
            MetricKind::Bookkeeping
        );
        assert_eq!(metric_kind("epoch"), MetricKind::Bookkeeping);
    }
}
