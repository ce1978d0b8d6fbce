//! Metrics: per-step series and final values, from the HF Trainer's
//! `trainer_state.json` (`log_history`), JSON Lines, or CSV.
//!
//! * `trainer_state.json`: every numeric field of every `log_history` entry
//!   is a point of the metric of that name at the entry's `step` (training
//!   entries give `loss`, `grad_norm`, `learning_rate`; evaluation entries
//!   give `eval_loss`…; the last entry gives `train_loss`, `train_runtime`…).
//! * `*.jsonl`: one JSON object per line, the same way.
//! * `*.csv`: a header row; every numeric column is a metric.
//!
//! The step is the `step` (or `global_step`) field; where it is missing, the
//! previous step plus one (or 0 first). Python writes `NaN`, `Infinity` and
//! `-Infinity`, which are not JSON; they are read as such floats. The final
//! value of a metric is its value at its last point.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Format, FormatError, Result};

/// One metric's points, in file order.
pub type Series = BTreeMap<String, Vec<(u64, f64)>>;

/// Read one metrics file. `shown` names it in errors.
pub fn read(path: &Path, shown: &str) -> Result<Series> {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if super::tensorboard::is_event_file(file_name) {
        return super::tensorboard::read(path, shown);
    }
    let bad = |line: Option<usize>, message: String| {
        Error::Format(FormatError::file(
            Format::Metrics,
            shown.to_string(),
            line,
            message,
        ))
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(None, format!("cannot read it: {e}")))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut series = Series::new();
    let mut step = Step::default();
    if name.ends_with(".csv") {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Ok(series);
        };
        let cols: Vec<String> = header
            .split(',')
            .map(|c| c.trim().trim_matches('"').to_string())
            .collect();
        for (i, line) in lines {
            let cells: Vec<&str> = line
                .split(',')
                .map(|c| c.trim().trim_matches('"'))
                .collect();
            if cells.len() != cols.len() {
                return Err(bad(
                    Some(i + 1),
                    format!("{} cells, but the header has {}", cells.len(), cols.len()),
                ));
            }
            let given = cols
                .iter()
                .zip(&cells)
                .find(|(c, _)| is_step(c))
                .and_then(|(_, v)| v.parse::<f64>().ok());
            let s = step.next(given);
            for (c, v) in cols.iter().zip(&cells) {
                if is_step(c) || v.is_empty() {
                    continue;
                }
                if let Some(x) = parse_number(v) {
                    series.entry(c.clone()).or_default().push((s, x));
                }
            }
        }
        return Ok(series);
    }
    let entries: Vec<(usize, serde_json::Value)> =
        if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
            text.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| {
                    serde_json::from_str(&python_json(l))
                        .map(|v| (i + 1, v))
                        .map_err(|e| bad(Some(i + 1), e.to_string()))
                })
                .collect::<Result<_>>()?
        } else {
            let v: serde_json::Value = serde_json::from_str(&python_json(&text))
                .map_err(|e| bad(Some(e.line()), e.to_string()))?;
            let history = v
                .get("log_history")
                .and_then(|h| h.as_array())
                .ok_or_else(|| {
                    bad(
                        None,
                        "no `log_history` list (expected an HF Trainer trainer_state.json)".into(),
                    )
                })?;
            history.iter().map(|e| (0, e.clone())).collect()
        };
    for (line, entry) in entries {
        let Some(obj) = entry.as_object() else {
            return Err(bad(
                (line > 0).then_some(line),
                "expected a JSON object".into(),
            ));
        };
        let given = obj
            .iter()
            .find(|(k, _)| is_step(k))
            .and_then(|(_, v)| number(v));
        let s = step.next(given);
        for (k, v) in obj {
            if is_step(k) {
                continue;
            }
            if let Some(x) = number(v) {
                series.entry(k.clone()).or_default().push((s, x));
            }
        }
    }
    Ok(series)
}

/// The final value of each metric.
pub fn finals(series: &Series) -> BTreeMap<String, f64> {
    series
        .iter()
        .filter_map(|(k, pts)| Some((k.clone(), pts.last()?.1)))
        .collect()
}

/// The canonical text form of a series, stored as an object: a header, then
/// `metric,step,value` lines sorted by metric, in each metric's point order.
pub fn encode(series: &Series) -> String {
    let mut out = String::from("metric,step,value\n");
    for (k, pts) in series {
        for (s, v) in pts {
            out.push_str(&format!("{},{s},{}\n", csv_field(k), fmt_float(*v)));
        }
    }
    out
}

/// Parse the stored form back.
pub fn decode(text: &str) -> Option<Series> {
    let mut series = Series::new();
    let mut lines = text.lines();
    if lines.next()? != "metric,step,value" {
        return None;
    }
    for line in lines {
        let (rest, value) = line.rsplit_once(',')?;
        let (name, step) = rest.rsplit_once(',')?;
        let name = name
            .strip_prefix('"')
            .and_then(|n| n.strip_suffix('"'))
            .map(|n| n.replace("\"\"", "\""))
            .unwrap_or_else(|| name.to_string());
        series
            .entry(name)
            .or_default()
            .push((step.parse().ok()?, parse_number(value)?));
    }
    Some(series)
}

/// Render a float so that it reads back exactly (`nan`, `inf`, `-inf`).
pub fn fmt_float(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{v}")
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn parse_number(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "infinity" | "+inf" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

fn is_step(k: &str) -> bool {
    k == "step" || k == "global_step"
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) if s == "NaN" || s == "Infinity" || s == "-Infinity" => {
            parse_number(s)
        }
        _ => None,
    }
}

/// Steps in file order: the given step, or the previous plus one.
#[derive(Default)]
struct Step(Option<u64>);

impl Step {
    fn next(&mut self, given: Option<f64>) -> u64 {
        let s = match given {
            Some(g) if g.is_finite() && g >= 0.0 => g as u64,
            _ => self.0.map_or(0, |p| p + 1),
        };
        self.0 = Some(s);
        s
    }
}

/// Quote Python's non-JSON `NaN`, `Infinity` and `-Infinity` (outside
/// strings) so serde_json can read them; [`number`] turns them back.
fn python_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let token = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t));
        if let Some(t) = token {
            out.push('"');
            out.push_str(t);
            out.push('"');
            rest = &rest[t.len()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A file `name` holding `text` in a fresh temporary directory.
    pub(crate) fn file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(name);
        std::fs::write(&p, text).unwrap();
        (d, p)
    }

    #[test]
    fn trainer_state_with_nan_and_eval_entries() {
        let (_d, p) = file(
            "trainer_state.json",
            r#"{"global_step": 20, "log_history": [
                {"epoch": 0.5, "step": 10, "loss": 2.5, "learning_rate": 1e-4, "grad_norm": NaN},
                {"epoch": 0.5, "step": 10, "eval_loss": 2.7, "eval_runtime": 1.5},
                {"epoch": 1.0, "step": 20, "loss": Infinity, "learning_rate": 5e-5},
                {"step": 20, "train_loss": 2.1, "note": "NaN in a string stays a string"}
            ]}"#,
        );
        let s = read(&p, "trainer_state.json").unwrap();
        assert_eq!(s["loss"].len(), 2);
        assert!(s["grad_norm"][0].1.is_nan());
        assert_eq!(s["eval_loss"], vec![(10, 2.7)]);
        let f = finals(&s);
        assert!(f["loss"].is_infinite());
        assert_eq!(f["train_loss"], 2.1);
        assert!(!s.contains_key("note"));
        // The stored form reads back exactly, NaN and inf included.
        let back = decode(&encode(&s)).unwrap();
        assert_eq!(encode(&back), encode(&s));
    }

    #[test]
    fn jsonl_and_csv_with_missing_steps() {
        let (_d, p) = file(
            "m.jsonl",
            "{\"loss\": 1.0}\n{\"loss\": 0.5}\n{\"step\": 10, \"loss\": 0.25}\n{\"loss\": 0.2}\n",
        );
        let s = read(&p, "m.jsonl").unwrap();
        assert_eq!(s["loss"], vec![(0, 1.0), (1, 0.5), (10, 0.25), (11, 0.2)]);
        let (_d, p) = file("m.csv", "step,loss,acc\n1,0.9,\n2,nan,0.5\n");
        let s = read(&p, "m.csv").unwrap();
        assert_eq!(s["acc"], vec![(2, 0.5)]);
        assert!(s["loss"][1].1.is_nan());
    }

    #[test]
    fn malformed_files_name_the_line() {
        let (_d, p) = file("m.jsonl", "{\"loss\": 1.0}\n{\"loss\": \n");
        assert!(read(&p, "m.jsonl")
            .unwrap_err()
            .to_string()
            .starts_with("m.jsonl:2"));
        let (_d, p) = file("m.csv", "step,loss\n1,2,3\n");
        assert!(read(&p, "m.csv")
            .unwrap_err()
            .to_string()
            .starts_with("m.csv:2"));
        let (_d, p) = file("trainer_state.json", "{\"a\": 1}");
        assert!(read(&p, "trainer_state.json")
            .unwrap_err()
            .to_string()
            .contains("log_history"));
    }
}
