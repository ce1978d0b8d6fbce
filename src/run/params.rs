//! Parameters: YAML, JSON or TOML files flattened into dotted keys.
//!
//! `{"optimizer": {"lr": 1e-4, "betas": [0.9, 0.99]}}` becomes
//! `optimizer.lr = 0.0001`, `optimizer.betas.0 = 0.9`,
//! `optimizer.betas.1 = 0.99`. Values keep their type (string, integer,
//! float, boolean); a null is recorded as the string `"null"`. The same key
//! in two files with different values is an error naming both files.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Format, FormatError, Result};

/// Flattened parameters, sorted by key.
pub type Params = BTreeMap<String, toml::Value>;

/// Which format a params file is in, by its extension.
fn format_of(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "yaml" | "yml" => Some("yaml"),
        "json" => Some("json"),
        "toml" => Some("toml"),
        _ => None,
    }
}

/// Read and flatten one params file. `shown` names it in errors.
pub fn read(path: &Path, shown: &str) -> Result<Params> {
    let bad = |line: Option<usize>, message: String| {
        Error::Format(FormatError::file(
            Format::Params,
            shown.to_string(),
            line,
            message,
        ))
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(None, format!("cannot read it: {e}")))?;
    let mut out = Params::new();
    match format_of(path) {
        Some("json") => {
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| bad(Some(e.line()), e.to_string()))?;
            flatten_json("", &v, &mut out);
        }
        Some("toml") => {
            let v: toml::Table = toml::from_str(&text).map_err(|e| {
                bad(
                    e.span()
                        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
                    e.message().trim().replace('\n', "; "),
                )
            })?;
            flatten_toml("", &toml::Value::Table(v), &mut out);
        }
        Some("yaml") => {
            let docs = yaml_rust2::YamlLoader::load_from_str(&text)
                .map_err(|e| bad(Some(e.marker().line()), e.to_string()))?;
            for doc in &docs {
                flatten_yaml("", doc, &mut out);
            }
        }
        _ => {
            return Err(bad(
                None,
                "params files must end in .yaml, .yml, .json or .toml".into(),
            ))
        }
    }
    Ok(out)
}

/// Merge `more` (from `file`) into `all`, refusing conflicting values.
pub fn merge(
    all: &mut Params,
    origin: &mut BTreeMap<String, String>,
    more: Params,
    file: &str,
) -> Result<()> {
    for (k, v) in more {
        if let Some(existing) = all.get(&k) {
            if *existing != v {
                return Err(Error::Format(FormatError::file(
                    Format::Params,
                    file.to_string(),
                    None,
                    format!(
                        "parameter `{k}` is {v} here but {existing} in {}",
                        origin[&k]
                    ),
                )));
            }
        }
        origin.insert(k.clone(), file.to_string());
        all.insert(k, v);
    }
    Ok(())
}

fn key(prefix: &str, k: &str) -> String {
    if prefix.is_empty() {
        k.to_string()
    } else {
        format!("{prefix}.{k}")
    }
}

fn flatten_json(prefix: &str, v: &serde_json::Value, out: &mut Params) {
    use serde_json::Value as J;
    match v {
        J::Object(m) => m
            .iter()
            .for_each(|(k, v)| flatten_json(&key(prefix, k), v, out)),
        J::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten_json(&key(prefix, &i.to_string()), v, out)),
        J::Null => leaf(prefix, toml::Value::String("null".into()), out),
        J::Bool(b) => leaf(prefix, toml::Value::Boolean(*b), out),
        J::String(s) => leaf(prefix, toml::Value::String(s.clone()), out),
        J::Number(n) => leaf(
            prefix,
            match n.as_i64() {
                Some(i) => toml::Value::Integer(i),
                None => toml::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            out,
        ),
    }
}

fn flatten_toml(prefix: &str, v: &toml::Value, out: &mut Params) {
    match v {
        toml::Value::Table(t) => t
            .iter()
            .for_each(|(k, v)| flatten_toml(&key(prefix, k), v, out)),
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten_toml(&key(prefix, &i.to_string()), v, out)),
        toml::Value::Datetime(d) => leaf(prefix, toml::Value::String(d.to_string()), out),
        other => leaf(prefix, other.clone(), out),
    }
}

pub(crate) fn flatten_yaml(prefix: &str, v: &yaml_rust2::Yaml, out: &mut Params) {
    use yaml_rust2::Yaml as Y;
    match v {
        Y::Hash(h) => {
            for (k, v) in h {
                let k = match k {
                    Y::String(s) | Y::Real(s) => s.clone(),
                    Y::Integer(i) => i.to_string(),
                    Y::Boolean(b) => b.to_string(),
                    _ => continue,
                };
                flatten_yaml(&key(prefix, &k), v, out);
            }
        }
        Y::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten_yaml(&key(prefix, &i.to_string()), v, out)),
        Y::Real(s) => leaf(
            prefix,
            match parse_yaml_float(s) {
                Some(f) => toml::Value::Float(f),
                None => toml::Value::String(s.clone()),
            },
            out,
        ),
        Y::Integer(i) => leaf(prefix, toml::Value::Integer(*i), out),
        Y::String(s) => leaf(prefix, toml::Value::String(s.clone()), out),
        Y::Boolean(b) => leaf(prefix, toml::Value::Boolean(*b), out),
        Y::Null => leaf(prefix, toml::Value::String("null".into()), out),
        Y::Alias(_) | Y::BadValue => {}
    }
}

fn parse_yaml_float(s: &str) -> Option<f64> {
    match s {
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

fn leaf(k: &str, v: toml::Value, out: &mut Params) {
    let k = if k.is_empty() {
        "value".to_string()
    } else {
        k.to_string()
    };
    out.insert(k, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::metrics::tests::file as write;

    #[test]
    fn the_three_formats_flatten_alike() {
        let (_a, y) = write("p.yaml", "optimizer:\n  lr: 1.0e-4\n  betas: [0.9, 0.99]\nseed: 42\nname: run\nwarmup: null\nuse_bf16: true\n");
        let (_b, j) = write(
            "p.json",
            r#"{"optimizer": {"lr": 0.0001, "betas": [0.9, 0.99]}, "seed": 42, "name": "run", "warmup": null, "use_bf16": true}"#,
        );
        let (_c, t) = write("p.toml", "seed = 42\nname = \"run\"\nwarmup = \"null\"\nuse_bf16 = true\n[optimizer]\nlr = 0.0001\nbetas = [0.9, 0.99]\n");
        let y = read(&y, "p.yaml").unwrap();
        assert_eq!(y, read(&j, "p.json").unwrap());
        assert_eq!(y, read(&t, "p.toml").unwrap());
        assert_eq!(y["optimizer.betas.1"], toml::Value::Float(0.99));
        assert_eq!(y["seed"], toml::Value::Integer(42));
    }

    #[test]
    fn errors_name_file_and_line() {
        let (_d, p) = write("p.yaml", "a: 1\nb: [1, 2\nc: 3\n");
        let e = read(&p, "conf/p.yaml").unwrap_err().to_string();
        assert!(e.starts_with("conf/p.yaml:"), "{e}");
        let (_d, p) = write("p.json", "{\n\"a\": 1,\n}\n");
        let e = read(&p, "p.json").unwrap_err().to_string();
        assert!(e.starts_with("p.json:3"), "{e}");
    }

    #[test]
    fn conflicting_keys_across_files_are_refused() {
        let mut all = Params::new();
        let mut origin = BTreeMap::new();
        merge(
            &mut all,
            &mut origin,
            Params::from([("lr".into(), toml::Value::Float(0.1))]),
            "a.yaml",
        )
        .unwrap();
        merge(
            &mut all,
            &mut origin,
            Params::from([("lr".into(), toml::Value::Float(0.1))]),
            "b.yaml",
        )
        .unwrap();
        let e = merge(
            &mut all,
            &mut origin,
            Params::from([("lr".into(), toml::Value::Float(0.2))]),
            "c.yaml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("b.yaml"), "{e}");
    }
}
