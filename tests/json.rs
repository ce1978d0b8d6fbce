//! Every command's output, checked two ways in one scenario:
//!
//! * its `--json` against the schema in docs/json.md: no key the page does
//!   not list, none it lists missing, each of the type it says;
//! * its human output and its JSON against insta snapshots
//!   (tests/snapshots/), with ids, commits, times, durations and paths
//!   replaced by placeholders.
//!
//! A change to what a command prints shows up here as a snapshot diff to
//! review (`cargo insta review`, or INSTA_UPDATE=always), and a change to
//! its JSON must also change docs/json.md.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::scenario;
use common::Workspace;
use serde_json::Value;

/// One documented key: its type and whether it may be absent.
#[derive(Debug)]
struct Key {
    ty: String,
    optional: bool,
}

/// The schema of each section of docs/json.md, by section title.
fn schemas() -> BTreeMap<String, BTreeMap<String, Key>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md"))
        .expect("docs/json.md");
    let mut out: BTreeMap<String, BTreeMap<String, Key>> = BTreeMap::new();
    let mut section = None;
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            section = Some(title.trim_matches('`').to_string());
            out.entry(title.trim_matches('`').to_string()).or_default();
            continue;
        }
        let Some(s) = &section else { continue };
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `key` | type | meaning |
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let key = cells[1].split('`').nth(1).unwrap().to_string();
        let optional = cells[1].contains("(optional)");
        let ty = cells[2].to_string();
        out.get_mut(s).unwrap().insert(key, Key { ty, optional });
    }
    out
}

fn type_ok(ty: &str, v: &Value) -> bool {
    let (base, nullable) = match ty.strip_suffix('?') {
        Some(b) => (b, true),
        None => (ty, false),
    };
    match v {
        Value::Null => nullable,
        Value::Bool(_) => base == "boolean",
        Value::Number(n) => base == "number" || (base == "integer" && (n.is_u64() || n.is_i64())),
        Value::String(_) => base == "string",
        Value::Array(_) => base == "array",
        Value::Object(_) => base == "object" || base == "map",
    }
}

/// Check `v`, found at `path` ("" for the root), against `schema`.
fn check(v: &Value, path: &str, schema: &BTreeMap<String, Key>, errors: &mut Vec<String>) {
    let child = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let p = child(k);
                match schema.get(&p) {
                    None => errors.push(format!("`{p}` is not in docs/json.md")),
                    Some(key) if !type_ok(&key.ty, x) => {
                        errors.push(format!("`{p}` is {x}, which is not of type `{}`", key.ty))
                    }
                    Some(key) if key.ty.trim_end_matches('?') == "map" => {}
                    Some(_) => check(x, &p, schema, errors),
                }
            }
            // Keys documented directly under this object.
            let prefix = if path.is_empty() {
                String::new()
            } else {
                format!("{path}.")
            };
            for (k, key) in schema {
                let Some(rest) = k.strip_prefix(&prefix) else {
                    continue;
                };
                if rest.is_empty() || rest.contains('.') || rest.contains("[]") {
                    continue;
                }
                if !key.optional && !map.contains_key(rest) {
                    errors.push(format!("`{k}` is documented but missing"));
                }
            }
        }
        Value::Array(items) => {
            let p = format!("{path}[]");
            if let Some(key) = schema.get(&p) {
                for x in items {
                    if !type_ok(&key.ty, x) {
                        errors.push(format!("`{p}` element {x} is not `{}`", key.ty));
                    } else if key.ty.trim_end_matches('?') != "map" {
                        check(x, &p, schema, errors);
                    }
                }
            } else if items.iter().any(|x| x.is_object()) {
                // Elements are objects: their keys are listed as `p.key`.
                for x in items {
                    check(x, &p, schema, errors);
                }
            } else if !items.is_empty() {
                errors.push(format!("`{p}` (the elements) is not in docs/json.md"));
            }
        }
        _ => {}
    }
}

/// Placeholders for what differs from run to run and machine to machine.
fn settings(ws: &Workspace, remote: &std::path::Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    let root = std::fs::canonicalize(ws.root()).unwrap();
    s.add_filter(&regex_escape(&root.display().to_string()), "[ROOT]");
    s.add_filter(&regex_escape(&ws.root().display().to_string()), "[ROOT]");
    s.add_filter(&regex_escape(&remote.display().to_string()), "[REMOTE]");
    s.add_filter(r#""branch": "[^"]*""#, r#""branch": "[BRANCH]""#);
    // Times and durations first: their digits must not be taken for short
    // hex ids, which would make the result depend on how many digits a
    // measured number happened to have.
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]");
    s.add_filter(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?", "[LOCAL TIME]");
    s.add_filter(r#""seconds": [0-9.e-]+"#, r#""seconds": "[SECS]""#);
    s.add_filter(r"\b\d+(\.\d+)?\s?(ms|s)\b", "[DURATION]");
    s.add_filter(r"\(\d+(\.\d+)? [KMG]?i?B/s\)", "([RATE])");
    s.add_filter(r"\b[0-9a-f]{64}\b", "[ID]");
    s.add_filter(r"\b[0-9a-f]{40}\b", "[COMMIT]");
    s.add_filter(r"\b[0-9a-f]{7,16}\b", "[SHORT]");
    s
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Remove what depends on the machine rather than on rvc: the
/// environment, system samples, and timing.
fn scrub(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for k in [
                "env",
                "environment",
                "installed",
                "packages",
                "system",
                "process",
            ] {
                if map.contains_key(k) {
                    map.insert(k.into(), Value::String("[MACHINE]".into()));
                }
            }
            for x in map.values_mut() {
                scrub(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

struct Case {
    /// The docs/json.md section.
    section: &'static str,
    /// The snapshot name.
    name: &'static str,
    args: Vec<String>,
}

fn case(section: &'static str, name: &'static str, args: &[&str]) -> Case {
    Case {
        section,
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn every_command_prints_the_documented_json_and_the_snapshotted_text() {
    let schemas = schemas();
    let remote = tempfile::tempdir().unwrap();
    let ws = scenario::two_runs();
    let remote_url = remote.path().to_str().unwrap().to_string();
    ws.add_remote("origin", &remote_url);
    let first_tree = ws.json(&["ls"])[0]["id"].as_str().unwrap().to_string();
    ws.write("data/notes/readme.txt", "hello again\n");

    // Each command runs twice, human then JSON, in an order where running
    // it twice changes nothing the second run reports.
    let cases = vec![
        case("rvc status --json", "status", &["status"]),
        case(
            "rvc hash --json",
            "hash",
            &["hash", "data/rows.csv", "model.bin"],
        ),
        case("rvc ls --json", "ls", &["ls"]),
        case("rvc ls RUN --json", "ls_run", &["ls", "run-1"]),
        case("rvc ls ID --json", "ls_id", &["ls", &first_tree]),
        case("rvc du --json", "du", &["du"]),
        case("rvc fsck --json", "fsck", &["fsck"]),
        case("rvc gc --json", "gc", &["gc", "--dry-run"]),
        case("rvc runs --json", "runs", &["runs"]),
        case("rvc show RUN --json", "show", &["show", "run-1"]),
        case(
            "rvc diff RUN-A RUN-B --json",
            "diff_runs",
            &["diff", "run-1", "run-2"],
        ),
        case(
            "rvc diff [REV [REV]] --json",
            "diff_data",
            &["diff", "HEAD~2"],
        ),
        case("rvc which PATH --json", "which", &["which", "model.bin"]),
        case("rvc plots --json", "plots", &["plots", "-o", "loss.svg"]),
        case("rvc remote list --json", "remote_list", &["remote", "list"]),
        case("rvc push --json", "push", &["push"]),
        case("rvc fetch --json", "fetch", &["fetch"]),
        case("rvc pull --json", "pull", &["pull"]),
        case("rvc checkout --json", "checkout", &["checkout", "data"]),
        case(
            "rvc hooks install --json",
            "hooks_install",
            &["hooks", "install"],
        ),
        case(
            "rvc hook pre-commit --json",
            "hook_pre_commit",
            &["hook", "pre-commit"],
        ),
        case("Errors", "error", &["show", "run-9"]),
        // Last: it adds a pointer. A DVC project as `dvc add` leaves it,
        // with the file only in DVC's cache.
        case("rvc import dvc --json", "import_dvc", &["import", "dvc"]),
    ];
    ws.write(".dvc/config", "[core]\n    analytics = false\n");
    ws.write(
        ".dvc/cache/files/md5/b1/946ac92492d2347c6235b4d2611184",
        "hello\n",
    );
    ws.write(
        "greeting.txt.dvc",
        "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: greeting.txt\n",
    );
    let mut covered = BTreeSet::new();
    let mut errors = Vec::new();
    let settings = settings(&ws, remote.path());
    for c in &cases {
        let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let human = ws.rvc(&args).output().unwrap();
        let mut json_args = args.clone();
        json_args.push("--json");
        let out = ws.rvc(&json_args).output().unwrap();
        assert_eq!(
            human.status.code(),
            out.status.code(),
            "{args:?}: the exit code differs with --json"
        );
        let mut json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?} --json printed no JSON ({e}): {}{}",
                common::stdout(&out),
                common::stderr(&out)
            )
        });
        let schema = &schemas[c.section];
        let mut errs = Vec::new();
        check(&json, "", schema, &mut errs);
        errors.extend(errs.into_iter().map(|e| format!("{}: {e}", c.section)));
        covered.insert(c.section);
        scrub(&mut json);
        let text = format!(
            "$ rvc {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            human.status.code().unwrap_or(-1),
            common::stdout(&human),
            common::stderr(&human),
        );
        settings.bind(|| {
            if !matches!(c.name, "show" | "diff_runs") {
                insta::assert_snapshot!(format!("{}_text", c.name), text);
            }
            insta::assert_snapshot!(
                format!("{}_json", c.name),
                serde_json::to_string_pretty(&json).unwrap()
            );
        });
    }

    // The commands that change the repository: the same steps in two
    // fresh ones, for the text and for the JSON.
    let steps: Vec<(&str, &str, Vec<&str>)> = vec![
        ("rvc init --json", "init", vec!["init"]),
        ("rvc add --json", "add", vec!["add", "data", "model.bin"]),
        ("rvc lock --json", "lock", scenario::lock_args("run-1")),
        (
            "rvc run --json",
            "run",
            vec![
                "run",
                "run-2",
                "--input",
                "data",
                "--output",
                "model.bin",
                "--python",
                "/nonexistent",
                "--json",
                "--",
                "true",
            ],
        ),
    ];
    let (text_ws, json_ws) = (Workspace::bare(), Workspace::bare());
    for w in [&text_ws, &json_ws] {
        w.git(&["init", "-q"]);
        w.committer();
        scenario::data(w);
    }
    for (section, name, args) in &steps {
        let human: Vec<&str> = args.iter().copied().filter(|a| *a != "--json").collect();
        let h = text_ws.rvc(&human).output().unwrap();
        let mut json_args = args.clone();
        if !json_args.contains(&"--json") {
            json_args.push("--json");
        }
        let out = json_ws.rvc(&json_args).output().unwrap();
        assert!(
            out.status.success(),
            "{json_args:?}: {}",
            common::stderr(&out)
        );
        let mut json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        check(&json, "", &schemas[*section], &mut errors);
        covered.insert(*section);
        scrub(&mut json);
        let text = format!(
            "$ rvc {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            human.join(" "),
            h.status.code().unwrap_or(-1),
            common::stdout(&h),
            common::stderr(&h),
        );
        // What `rvc run` stores includes its samples and timings.
        let timed = |mut s: insta::Settings| {
            if *name == "run" {
                s.add_filter(r"stored \d+ B in", "stored [N] B in");
                s.add_filter(r#""new_bytes": \d+"#, r#""new_bytes": "[N]""#);
            }
            s
        };
        let settings = timed(self::settings(&text_ws, remote.path()));
        settings.bind(|| insta::assert_snapshot!(format!("{name}_text"), text));
        let settings = timed(self::settings(&json_ws, remote.path()));
        settings.bind(|| {
            insta::assert_snapshot!(
                format!("{name}_json"),
                serde_json::to_string_pretty(&json).unwrap()
            )
        });
    }

    assert!(
        errors.is_empty(),
        "docs/json.md disagrees:\n{}",
        errors.join("\n")
    );
    let undocumented: Vec<&String> = schemas
        .keys()
        .filter(|s| s.starts_with("rvc ") || s.as_str() == "Errors")
        .filter(|s| !covered.contains(s.as_str()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "sections no test runs: {undocumented:?}"
    );
}
