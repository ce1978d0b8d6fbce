//! End-to-end tests of runs: lock, runs, show, diff, which, checkout.

mod common;

use common::{stderr, stdout, Workspace};
use predicates::prelude::*;

fn trainer_state(losses: &[(u64, f64)], eval: f64) -> String {
    let mut h: Vec<String> = losses
        .iter()
        .map(|(s, l)| {
            format!("{{\"epoch\": 0.1, \"step\": {s}, \"loss\": {l}, \"learning_rate\": 0.0001}}")
        })
        .collect();
    let last = losses.last().map(|l| l.0).unwrap_or(0);
    h.push(format!("{{\"step\": {last}, \"eval_loss\": {eval}}}"));
    h.push(format!(
        "{{\"step\": {last}, \"train_loss\": NaN, \"train_runtime\": 12.5}}"
    ));
    format!(
        "{{\"global_step\": {last}, \"log_history\": [{}]}}",
        h.join(", ")
    )
}

/// Run 41 and run 42 differ in data (rows changed and appended), a library
/// pin, the seed, the learning-rate schedule and the code. `rvc diff` must
/// name every one of these changes.
#[test]
fn forensics_diff_names_every_change() {
    let ws = Workspace::new();
    ws.write("data/train.csv", "id,text\n1,alpha\n2,beta\n3,gamma\n");
    ws.write("requirements.txt", "torch==2.3.0\ntransformers==4.40.0\n");
    ws.write(
        "params.yaml",
        "seed: 41\noptimizer:\n  lr: 0.0001\n  schedule: linear\n",
    );
    ws.write("train.py", "def train():\n    return 'v1'\n");
    ws.write(
        ".rvc/config.toml",
        "[run]\ninputs = [\"data\"]\noutputs = [\"out/{name}\"]\nparams = [\"params.yaml\"]\nmetrics = [\"out/{name}/trainer_state.json\"]\n",
    );
    ws.rvc(&["add", "data"]).assert().success();
    ws.write(
        "out/run-41/trainer_state.json",
        trainer_state(&[(10, 2.0), (20, 1.6)], 1.8),
    );
    ws.write(
        "out/run-41/adapter_model.safetensors",
        common::noise(50_000, 41),
    );
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "run 41 setup"]);
    ws.rvc(&["lock", "run-41"]).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "lock run-41"]);

    // Between the runs: data mutated and appended, a pin bump, a new seed,
    // a new schedule, new code.
    ws.write(
        "data/train.csv",
        "id,text\n1,alpha\n2,BETA (fixed)\n3,gamma\n4,delta\n5,epsilon\n",
    );
    ws.rvc(&["add", "data"]).assert().success();
    ws.write("requirements.txt", "torch==2.3.0\ntransformers==4.41.2\n");
    ws.write(
        "params.yaml",
        "seed: 42\noptimizer:\n  lr: 0.0001\n  schedule: cosine\n",
    );
    ws.write("train.py", "def train():\n    return 'v2'\n");
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "cosine schedule, new seed"]);
    ws.write(
        "train.py",
        "def train():\n    return 'v2 + uncommitted tweak'\n",
    );
    ws.write(
        "out/run-42/trainer_state.json",
        trainer_state(&[(10, 1.9), (20, 1.4)], 1.7),
    );
    ws.write(
        "out/run-42/adapter_model.safetensors",
        common::noise(50_000, 42),
    );
    ws.rvc(&["lock", "run-42"]).assert().success();

    let d = ws.json(&["diff", "run-41", "run-42"]);
    // Code: the commit between the runs, the files, the dirty patch.
    let commits = d["code"]["commits"].as_array().unwrap();
    assert!(
        commits
            .iter()
            .any(|c| c.as_str().unwrap().contains("cosine schedule, new seed")),
        "{d}"
    );
    let files: Vec<String> = d["code"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["status"].as_str().unwrap(),
                f["path"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        files.contains(&"modified train.py".to_string())
            && files.contains(&"modified params.yaml".to_string()),
        "{files:?}"
    );
    // rvc's own files are not code changes.
    assert!(
        !files
            .iter()
            .any(|f| f.contains(".rvc/") || f.ends_with(".gitignore") || f.ends_with(".rvc")),
        "{files:?}"
    );
    assert_eq!(d["b"]["dirty"], true);
    assert!(
        d["b"]["patch"]
            .as_str()
            .unwrap()
            .contains("+    return 'v2 + uncommitted tweak'"),
        "{d}"
    );
    assert!(
        !d["b"]["patch"].as_str().unwrap().contains("out/run-42"),
        "outputs are data, not code"
    );
    // `show --patch` prints exactly the stored patch, ready for `git apply`.
    let patch = stdout(&ws.rvc(&["show", "run-42", "--patch"]).output().unwrap());
    assert_eq!(patch, d["b"]["patch"].as_str().unwrap());
    // Data: rows before and after, rows added and changed.
    let data = d["data"].as_array().unwrap();
    let input = data
        .iter()
        .find(|c| c["role"] == "input")
        .expect("the input changed");
    assert_eq!(input["rows_before"], 3, "data rows: the header is not one");
    assert_eq!(input["rows_after"], 5);
    assert_eq!(input["rows"]["added"], 2);
    assert_eq!(input["rows"]["changed"], 1);
    assert_eq!(input["rows"]["removed"], 0);
    assert_eq!(input["files_modified"], serde_json::json!(["train.csv"]));
    let output = data
        .iter()
        .find(|c| c["role"] == "output")
        .expect("outputs pair across run names");
    assert_eq!(output["path_before"], "out/run-41");
    // Params, packages, metrics.
    assert_eq!(d["params"]["seed"]["before"], 41);
    assert_eq!(d["params"]["seed"]["after"], 42);
    assert_eq!(d["params"]["optimizer.schedule"]["before"], "linear");
    assert_eq!(d["params"]["optimizer.schedule"]["after"], "cosine");
    assert!(
        d["params"].get("optimizer.lr").is_none(),
        "unchanged params are not listed"
    );
    assert_eq!(d["packages"]["transformers"]["before"], "4.40.0");
    assert_eq!(d["packages"]["transformers"]["after"], "4.41.2");
    let eval = d["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "eval_loss")
        .unwrap();
    assert_eq!(eval["before"], 1.8);
    assert_eq!(eval["after"], 1.7);

    // The human and Markdown forms say the same things.
    let text = stdout(&ws.rvc(&["diff", "run-41", "run-42"]).output().unwrap());
    for needle in [
        "cosine schedule, new seed",
        "modified train.py",
        "rows 3 -> 5 (2 added, 0 removed, 1 changed)",
        "seed: 41 -> 42",
        "optimizer.schedule: \"linear\" -> \"cosine\"",
        "transformers: 4.40.0 -> 4.41.2",
        "eval_loss: 1.8 -> 1.7  (-0.1)",
        "run-42 ran with uncommitted changes",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    let md = stdout(
        &ws.rvc(&["diff", "run-41", "run-42", "--md"])
            .output()
            .unwrap(),
    );
    assert!(
        md.starts_with("## run-41 → run-42") && md.contains("```diff"),
        "{md}"
    );
    markdown_has_no_stray_code_blocks(&md);

    // Which run produced this adapter? Which runs read this data?
    let which = ws.json(&["which", "out/run-42/adapter_model.safetensors"]);
    assert_eq!(which["hits"][0]["run"], "run-42");
    assert_eq!(which["hits"][0]["role"], "output");
    assert_eq!(
        which["hits"][0]["file"],
        "out/run-42/adapter_model.safetensors"
    );
    let text = stdout(&ws.rvc(&["which", "data"]).output().unwrap());
    assert!(text.contains("run-42  read data"), "{text}");
    assert!(!text.contains("run-41"), "run-41 read other data: {text}");

    // Give me back exactly what run-41 trained on.
    ws.rvc(&["checkout", "run-41"]).assert().success();
    assert_eq!(
        ws.read("data/train.csv"),
        b"id,text\n1,alpha\n2,beta\n3,gamma\n"
    );
    let id41 = ws.json(&["show", "run-41"])["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::remove_dir_all(ws.path("out/run-41")).unwrap();
    ws.rvc(&["checkout", &id41[..10], "--outputs"])
        .assert()
        .success();
    assert!(ws.path("out/run-41/adapter_model.safetensors").is_file());

    // gc keeps what runs reference.
    ws.rvc(&["gc"]).assert().success();
    ws.rvc(&["checkout", "run-42", "--outputs", "--force"])
        .assert()
        .success();
    ws.rvc(&["fsck"]).assert().success();
}

#[test]
fn lock_records_everything_and_refuses_to_overwrite() {
    let ws = Workspace::new();
    ws.write("data/a.jsonl", "{\"x\": 1}\r\n{\"x\": 2}\r\n");
    ws.write("params.json", "{\"lr\": 0.001, \"layers\": [1, 2]}");
    ws.write("m.csv", "step,loss\n1,0.5\n2,nan\n3,\n");
    ws.write(
        "uv.lock",
        "version = 1\n[[package]]\nname = \"torch\"\nversion = \"2.3.0\"\n",
    );
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "init"]);
    ws.write("out/ckpt/model.bin", common::noise(6 << 20, 1));
    ws.rvc(&[
        "lock",
        "exp-1",
        "--input",
        "data",
        "--output",
        "out/ckpt",
        "--params",
        "params.json",
        "--metrics",
        "m.csv",
        "--tag",
        "baseline",
    ])
    .assert()
    .success()
    .stderr(predicate::str::contains(
        "next: git add .rvc/runs/exp-1.lock",
    ));
    let lock = String::from_utf8(ws.read(".rvc/runs/exp-1.lock")).unwrap();
    for needle in [
        "name = \"exp-1\"",
        "tags = [\"baseline\"]",
        "rows = 2",
        "\"layers.1\" = 2",
        "loss = nan",
        "torch = \"2.3.0\"",
        "[[output]]",
    ] {
        assert!(lock.contains(needle), "missing `{needle}` in:\n{lock}");
    }
    // Outputs are stored and ignored by git.
    assert!(String::from_utf8(ws.read("out/.gitignore"))
        .unwrap()
        .contains("/ckpt"));
    ws.rvc(&["lock", "exp-1", "--input", "data"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("already exists").and(predicate::str::contains("--force")),
        );
    ws.rvc(&[
        "lock", "exp-1", "--input", "data", "--tag", "baseline", "--force",
    ])
    .assert()
    .success();
    for bad in ["../escape", "a//b", "_x", "with space"] {
        ws.rvc(&["lock", bad, "--input", "data"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("run name"));
    }
    // The run id is the BLAKE3 of the lockfile.
    let show = ws.json(&["show", "exp-1"]);
    assert_eq!(show["run_id"], common::b3(&ws.read(".rvc/runs/exp-1.lock")));
    assert_eq!(show["lock"]["run"]["tags"], serde_json::json!(["baseline"]));
}

#[test]
fn runs_lists_and_groups_children_under_their_parent() {
    let ws = Workspace::new();
    ws.write("data/x.txt", "x\n");
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "init"]);
    for (name, lr, loss) in [
        ("sweep-3", "0", 9.0),
        ("sweep-3/lr-1e-4", "0.0001", 1.5),
        ("sweep-3/lr-1e-3", "0.001", 1.2),
        ("base", "0.01", 2.0),
    ] {
        ws.write("p.toml", format!("lr = {lr}\n"));
        ws.write("m.jsonl", format!("{{\"step\": 1, \"loss\": {loss}}}\n"));
        ws.rvc(&[
            "lock",
            name,
            "--input",
            "data",
            "--params",
            "p.toml",
            "--metrics",
            "m.jsonl",
        ])
        .assert()
        .success();
    }
    let text = stdout(&ws.rvc(&["runs", "--sort", "loss"]).output().unwrap());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("run") && lines[0].contains("lr") && lines[0].contains("loss"),
        "{text}"
    );
    let order: Vec<&str> = lines[1..5]
        .iter()
        .map(|l| l.split("  ").next().unwrap().trim())
        .collect();
    assert_eq!(
        order,
        ["base", "sweep-3", "└ lr-1e-3", "└ lr-1e-4"],
        "{text}"
    );
    let json = ws.json(&["runs"]);
    assert_eq!(json[2]["parent"], "sweep-3");
    assert_eq!(json[2]["run_id"].as_str().unwrap().len(), 64);
    let csv = stdout(&ws.rvc(&["runs", "--csv"]).output().unwrap());
    assert!(csv.lines().nth(1).unwrap().starts_with("base,"), "{csv}");
}

#[test]
fn a_run_outside_git_records_no_code_state_with_a_warning() {
    let ws = Workspace::bare();
    ws.rvc(&["init"]).assert().success();
    ws.write("data/x.txt", "x\n");
    ws.rvc(&["lock", "r1", "--input", "data"])
        .assert()
        .success()
        .stderr(predicate::str::contains("not inside a git repository"));
    let show = ws.json(&["show", "r1"]);
    assert!(
        show["lock"].get("code").is_none() || show["lock"]["code"].is_null(),
        "{show}"
    );
}

#[test]
fn malformed_lockfiles_params_and_metrics_name_file_and_line() {
    let ws = Workspace::new();
    ws.write("data/x.txt", "x\n");
    ws.write("bad.yaml", "a: 1\nb: [1, 2\n");
    ws.rvc(&["lock", "r", "--input", "data", "--params", "bad.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.yaml:"));
    ws.write("bad.jsonl", "{\"loss\": 1}\n{\"loss\": }\n");
    ws.rvc(&["lock", "r", "--input", "data", "--metrics", "bad.jsonl"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.jsonl:2"));
    assert!(
        !ws.path(".rvc/runs/r.lock").exists(),
        "nothing is recorded from bad input"
    );
    ws.rvc(&["lock", "r", "--input", "data"]).assert().success();
    let text = String::from_utf8(ws.read(".rvc/runs/r.lock")).unwrap();
    ws.write(
        ".rvc/runs/r.lock",
        text.replace("files = 1", "files = \"one\""),
    );
    let out = ws.rvc(&["runs"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(".rvc/runs/r.lock:"),
        "{}",
        stderr(&out)
    );
    ws.write(
        ".rvc/runs/r.lock",
        text.replace("path = \"data\"", "path = \"../../etc\""),
    );
    ws.rvc(&["show", "r"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("r.lock"));
    ws.write(
        ".rvc/runs/r.lock",
        // Version 1 or 2 (2 when the environment's packages were listed).
        text.replacen("version = 1", "version = 9\nfuture = true", 1)
            .replacen("version = 2", "version = 9\nfuture = true", 1),
    );
    ws.rvc(&["show", "r"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("upgrade rvc"));
}

#[test]
fn which_finds_a_checkpoint_directory_inside_a_stored_output() {
    let ws = Workspace::new();
    ws.write("data/x.txt", "x\n");
    ws.write(
        "out/r1/checkpoint-200/model.safetensors",
        common::noise(3000, 1),
    );
    ws.write("out/r1/checkpoint-200/config.json", "{}");
    ws.write(
        "out/r1/checkpoint-400/model.safetensors",
        common::noise(3000, 2),
    );
    ws.rvc(&["lock", "r1", "--input", "data", "--output", "out/r1"])
        .assert()
        .success();
    let which = ws.json(&["which", "out/r1/checkpoint-200"]);
    assert_eq!(which["hits"][0]["run"], "r1", "{which}");
    assert_eq!(which["hits"][0]["file"], "out/r1/checkpoint-200");
    // Changed content is not the same checkpoint.
    ws.write("out/r1/checkpoint-200/config.json", "{\"changed\": true}");
    ws.rvc(&["which", "out/r1/checkpoint-200"]).assert().code(1);
}

#[test]
fn lockfiles_are_refused_when_they_point_into_rvc_or_lie_about_their_name() {
    let ws = Workspace::new();
    ws.write("data/x.txt", "x\n");
    ws.rvc(&["lock", "r1", "--input", "data"])
        .assert()
        .success();
    let text = String::from_utf8(ws.read(".rvc/runs/r1.lock")).unwrap();
    ws.write(
        ".rvc/runs/r1.lock",
        text.replace("path = \"data\"", "path = \".rvc/runs\""),
    );
    ws.rvc(&["checkout", "r1", "--force"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("rvc's own directory"));
    assert!(ws.path(".rvc/runs/r1.lock").is_file());
    ws.write(
        ".rvc/runs/r1.lock",
        text.replace("name = \"r1\"", "name = \"r9\""),
    );
    ws.rvc(&["runs"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("named `r9` inside"));
}

#[test]
fn runs_are_not_dirtied_by_rvcs_own_files() {
    let ws = Workspace::new();
    ws.write("train.py", "print(1)\n");
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "init"]);
    ws.write("data/x.txt", "x\n");
    ws.write("out/a/m.bin", "a");
    ws.rvc(&["add", "data"]).assert().success();
    ws.rvc(&["lock", "a", "--input", "data", "--output", "out/a"])
        .assert()
        .success();
    ws.write("out/b/m.bin", "b");
    ws.rvc(&["lock", "b", "--input", "data", "--output", "out/b"])
        .assert()
        .success();
    let b = ws.json(&["show", "b"]);
    assert_eq!(
        b["lock"]["code"]["dirty"], false,
        "lockfiles, pointers and .gitignore are not code: {b}"
    );
    // A parent run without the default outputs is recorded with a warning.
    ws.write(
        ".rvc/config.toml",
        "[run]\ninputs = [\"data\"]\noutputs = [\"out/{name}\"]\n",
    );
    ws.rvc(&["lock", "sweep"])
        .assert()
        .success()
        .stderr(predicate::str::contains("out/sweep (from [run]"));
}

#[test]
fn gc_all_commits_keeps_what_lockfiles_in_history_reference() {
    let ws = Workspace::new();
    ws.write("data/x.txt", "x\n");
    ws.write("out/r1/adapter.bin", common::noise(10_000, 3));
    ws.rvc(&["lock", "r1", "--input", "data", "--output", "out/r1"])
        .assert()
        .success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "r1"]);
    ws.git(&["rm", "-q", ".rvc/runs/r1.lock"]);
    ws.git(&["commit", "-qm", "drop r1"]);
    let adapter = common::b3(&common::noise(10_000, 3));
    let kept = ws.json(&["gc", "--all-commits"]);
    assert!(
        !kept["deleted"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == adapter.as_str()),
        "{kept}"
    );
    ws.rvc(&["checkout", &adapter[..12], "-o", "restored.bin"])
        .assert()
        .success();
    let swept = ws.json(&["gc"]);
    assert!(
        swept["deleted"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == adapter.as_str()),
        "{swept}"
    );
}

#[test]
fn runs_sort_naturally_and_diff_pairs_a_lone_output_on_each_side() {
    let ws = Workspace::new();
    ws.write("data/x.txt", "x\n");
    for (k, step) in [(1, 200), (2, 400), (10, 2000)] {
        ws.write(
            &format!("ckpts/checkpoint-{step}/m.bin"),
            common::noise(100, k),
        );
        ws.rvc(&[
            "lock",
            &format!("run-{k}"),
            "--input",
            "data",
            "--output",
            &format!("ckpts/checkpoint-{step}"),
        ])
        .assert()
        .success();
    }
    let names: Vec<String> = ws
        .json(&["runs"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["run-1", "run-2", "run-10"]);
    let d = ws.json(&["diff", "run-1", "run-10"]);
    let outputs: Vec<&serde_json::Value> = d["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["role"] == "output")
        .collect();
    assert_eq!(outputs.len(), 1, "{d}");
    assert_eq!(outputs[0]["path_before"], "ckpts/checkpoint-200");
    assert_eq!(outputs[0]["path"], "ckpts/checkpoint-2000");
}

/// Write what an HF Trainer leaves in `out/NAME`: two checkpoints of eight
/// files each, with a trainer_state.json whose history grows.
fn hf_checkpoints(ws: &Workspace, name: &str, loss: f64) {
    for (i, step) in [100u64, 200].into_iter().enumerate() {
        let dir = format!("out/{name}/checkpoint-{step}");
        for f in [
            "model.safetensors",
            "optimizer.pt",
            "scheduler.pt",
            "rng_state.pth",
            "training_args.bin",
            "config.json",
            "generation_config.json",
        ] {
            ws.write(&format!("{dir}/{f}"), common::noise(2000, step + i as u64));
        }
        let points: Vec<(u64, f64)> = (1..=step / 100)
            .map(|s| (s * 100, loss + 1.0 / s as f64))
            .collect();
        ws.write(
            &format!("{dir}/trainer_state.json"),
            trainer_state(&points, loss),
        );
        // The newest checkpoint is written last.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn regression_a_runs_own_checkpoints_do_not_make_it_dirty() {
    let ws = Workspace::new();
    ws.write("train.py", "print(1)\n");
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "init"]);
    ws.write("data/x.jsonl", "{\"t\": 1}\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "data"]);
    hf_checkpoints(&ws, "run-1", 1.0);
    // Only the last checkpoint is an output; checkpoint-100 stays behind,
    // untracked, beside it, and the metrics are a glob.
    ws.rvc(&[
        "lock",
        "run-1",
        "--input",
        "data",
        "--output",
        "out/run-1/checkpoint-200",
        "--metrics",
        // `{name}` stands for the run's name in flags as in [run].
        "out/{name}/checkpoint-*/trainer_state.json",
    ])
    .assert()
    .success()
    .stderr(predicate::str::contains(
        "next: git add .rvc/runs/run-1.lock out/run-1/.gitignore",
    ));
    let one = ws.json(&["show", "run-1"]);
    assert_eq!(one["lock"]["code"]["dirty"], false, "{one}");
    assert_eq!(
        one["lock"]["metrics"]["sources"],
        serde_json::json!(["out/run-1/checkpoint-200/trainer_state.json"]),
        "the newest trainer_state.json of the glob: {one}"
    );
    assert_eq!(one["lock"]["metrics"]["steps"], 200);

    // A later run is not dirtied by run-1's leftovers, nor by the plots
    // page written with the defaults; a real code change still counts.
    ws.rvc(&["plots"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote .rvc/plots.html"));
    assert!(ws.path(".rvc/plots.html").is_file());
    hf_checkpoints(&ws, "run-2", 0.5);
    ws.write("train.py", "print(2)\n");
    // A metrics directory stands for its newest trainer_state.json.
    ws.rvc(&[
        "lock",
        "run-2",
        "--input",
        "data",
        "--output",
        "out/run-2",
        "--metrics",
        "out/run-2",
    ])
    .assert()
    .success()
    .stderr(predicate::str::contains("out/.gitignore"));
    let two = ws.json(&["show", "run-2"]);
    assert_eq!(two["lock"]["code"]["dirty"], true);
    assert_eq!(
        two["lock"]["code"]["changed"],
        serde_json::json!(["train.py"]),
        "{two}"
    );
    assert_eq!(
        two["lock"]["metrics"]["sources"],
        serde_json::json!(["out/run-2/checkpoint-200/trainer_state.json"])
    );
    // A glob that matches nothing is an error when given as a flag.
    ws.rvc(&[
        "lock",
        "run-3",
        "--metrics",
        "out/run-3/checkpoint-*/trainer_state.json",
    ])
    .assert()
    .failure()
    .stderr(predicate::str::contains("out/run-3/checkpoint-*"));
}

#[test]
fn regression_a_run_with_nothing_recorded_is_warned_about() {
    let ws = Workspace::new();
    ws.write("params.yaml", "lr: 0.1\n");
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "init"]);
    let out = ws
        .rvc(&["lock", "run-3", "--params", "params.yaml"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = stderr(&out);
    for what in ["no inputs", "no outputs", "no metrics"] {
        assert!(err.contains(what), "{what}: {err}");
    }
    assert!(err.contains("[run] in .rvc/config.toml"), "{err}");
}

/// Parse `md` as CommonMark (comrak) and check its structure: the only
/// code blocks are the fenced `diff` patches (an indented line under a list
/// item would have become one), and nested lines are list items.
fn markdown_has_no_stray_code_blocks(md: &str) {
    use comrak::nodes::NodeValue;
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, md, &comrak::Options::default());
    let mut nested_items = 0;
    for node in root.descendants() {
        match &node.data.borrow().value {
            NodeValue::CodeBlock(c) => assert!(
                c.fenced && c.info == "diff",
                "a code block that is not a fenced patch: {:?}\n{md}",
                c.literal
            ),
            NodeValue::Item(_)
                if node
                    .ancestors()
                    .skip(1)
                    .any(|a| matches!(a.data.borrow().value, NodeValue::Item(_))) =>
            {
                nested_items += 1;
            }
            _ => {}
        }
    }
    assert!(
        nested_items > 0,
        "the commits and files lists nest under their items:\n{md}"
    );
}

#[test]
fn regression_diff_hides_unchanged_metrics_and_runs_shows_tags() {
    let ws = Workspace::new();
    ws.write("train.py", "print(1)\n");
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "init"]);
    for (name, loss) in [("r1", 0.5), ("r2", 0.4)] {
        ws.write(
            &format!("out/{name}/m.jsonl"),
            format!("{{\"step\": 1, \"loss\": {loss}, \"total_flos\": 7}}\n"),
        );
        ws.rvc(&[
            "lock",
            name,
            "--metrics",
            &format!("out/{name}/m.jsonl"),
            "--tag",
            "sweep",
        ])
        .assert()
        .success();
    }
    let text = stdout(&ws.rvc(&["diff", "r1", "r2"]).output().unwrap());
    assert!(text.contains("loss: 0.5 -> 0.4"), "{text}");
    assert!(
        !text.contains("total_flos"),
        "unchanged metrics are hidden: {text}"
    );
    assert!(
        text.contains("1 metric unchanged; --all lists them"),
        "{text}"
    );
    assert!(!text.contains(".rvc/runs"), "{text}");
    let all = stdout(&ws.rvc(&["diff", "r1", "r2", "--all"]).output().unwrap());
    assert!(all.contains("total_flos: 7 -> 7"), "{all}");
    let json = ws.json(&["diff", "r1", "r2"]);
    assert_eq!(
        json["metrics"][0]["name"], "loss",
        "changed metrics come first"
    );
    assert_eq!(json["metrics"][1]["changed"], false);

    let runs = stdout(&ws.rvc(&["runs"]).output().unwrap());
    assert!(runs.lines().next().unwrap().contains("tags"), "{runs}");
    assert!(runs.contains("sweep"), "{runs}");
    assert!(
        !runs.contains("uncommitted"),
        "no run is marked, so no legend: {runs}"
    );
}

/// Requirement files say what was asked for; the lockfile also records
/// what was installed (read from `*.dist-info/METADATA`), so `rvc diff`
/// names `transformers 4.40.0 -> 4.41.0` although requirements.txt only
/// says `transformers>=4.40`.
#[test]
fn installed_packages_are_recorded_and_diffed() {
    let ws = Workspace::new();
    ws.write("requirements.txt", "transformers>=4.40\n");
    ws.write("m.jsonl", "{\"step\": 1, \"loss\": 0.5}\n");
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "init"]);
    let env = |dir: &str, version: &str| {
        for (pkg, v) in [("transformers", version), ("torch", "2.3.1")] {
            ws.write(
                &format!("{dir}/lib/python3.11/site-packages/{pkg}-{v}.dist-info/METADATA"),
                format!("Metadata-Version: 2.1\nName: {pkg}\nVersion: {v}\n\nlong description\n"),
            );
        }
    };
    env("venv-a", "4.40.0");
    env("venv-b", "4.41.0");
    let a = ws.path("venv-a");
    ws.rvc(&["lock", "a", "--metrics", "m.jsonl"])
        .env("VIRTUAL_ENV", &a)
        .assert()
        .success();
    let b = ws.path("venv-b");
    ws.rvc(&["lock", "b", "--metrics", "m.jsonl", "--python"])
        .arg(&b)
        .assert()
        .success();
    let lock = ws.json(&["show", "a"]);
    assert_eq!(lock["lock"]["version"], 2);
    assert_eq!(
        lock["lock"]["env"]["installed"],
        serde_json::json!({"torch": "2.3.1", "transformers": "4.40.0"})
    );
    assert_eq!(lock["lock"]["env"]["python_env"], a.display().to_string());
    let d = ws.json(&["diff", "a", "b"]);
    assert_eq!(
        d["installed"],
        serde_json::json!({"transformers": {"before": "4.40.0", "after": "4.41.0"}})
    );
    let text = stdout(&ws.rvc(&["diff", "a", "b"]).output().unwrap());
    assert!(
        text.contains("transformers: 4.40.0 -> 4.41.0 (installed)"),
        "{text}"
    );
    assert!(
        !text.contains("torch:"),
        "unchanged packages are not listed: {text}"
    );
}

/// `--metrics` takes TensorBoard event files, or a log directory of them;
/// a damaged one is an error naming the file and the offset.
#[test]
fn tensorboard_event_files_are_a_metrics_source() {
    let ws = Workspace::new();
    let vectors = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/tfevents");
    for kind in ["simple", "tensor"] {
        for e in std::fs::read_dir(vectors.join(kind)).unwrap() {
            let e = e.unwrap();
            ws.write(
                &format!("runs/r1/{kind}/{}", e.file_name().to_string_lossy()),
                std::fs::read(e.path()).unwrap(),
            );
        }
    }
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "logs"]);
    // A log directory: every event file below it.
    ws.rvc(&["lock", "r1", "--metrics", "runs/r1"])
        .assert()
        .success();
    let r = ws.json(&["show", "r1"]);
    let finals = &r["lock"]["metrics"]["final"];
    assert_eq!(finals["train/loss"].as_f64(), Some(0.4), "{r}");
    assert_eq!(finals["eval/loss"].as_f64(), Some(1.0), "{r}");
    assert!(
        finals.get("weights").is_none(),
        "a histogram is not a scalar: {r}"
    );
    assert_eq!(r["lock"]["metrics"]["steps"], 50);
    assert_eq!(r["lock"]["metrics"]["sources"].as_array().unwrap().len(), 2);

    // A truncated event file names itself and the offset.
    let file = std::fs::read_dir(ws.path("runs/r1/simple"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 5]).unwrap();
    let out = ws
        .rvc(&["lock", "r2", "--metrics", "runs/r1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("runs/r1/simple/events.out.tfevents.") && err.contains("offset"),
        "{err}"
    );
    assert!(!ws.path(".rvc/runs/r2.lock").exists());
}
