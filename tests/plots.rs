//! End-to-end tests of `rvc plots`: the page in a real headless Chromium,
//! the SVG's structure, the PNG, long runs, hostile lockfiles and errors.

mod browser;
mod common;

use common::{stderr, stdout, Workspace};
use serde_json::Value;

fn repo() -> Workspace {
    let ws = Workspace::new();
    ws.write("data/train.csv", "id,text\n1,alpha\n2,beta\n3,gamma\n");
    ws.write(".gitignore", "/out/\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", "data"]);
    ws
}

/// A run's metrics as JSON Lines: `loss` and `learning_rate` every step,
/// `eval_loss` every `eval_every` steps. `k` shapes the curves (a faster
/// decay, and an eval loss that turns up: overfitting).
fn metrics(steps: u64, eval_every: u64, k: u64) -> String {
    let mut out = String::with_capacity(steps as usize * 80);
    let rate = 0.5 + k as f64;
    for s in 1..=steps {
        let t = s as f64 / steps as f64;
        let wobble = ((s * 7919 + k * 104_729) % 1000) as f64 / 1000.0 - 0.5;
        let loss = 2.5 * (-rate * 3.0 * t).exp() + 0.3 + 0.05 * wobble;
        out.push_str(&format!(
            "{{\"step\": {s}, \"loss\": {loss:.5}, \"learning_rate\": {:.3e}}}\n",
            1e-4 * (1.0 - t)
        ));
        if s % eval_every == 0 {
            let eval = 2.5 * (-rate * 3.0 * t).exp() + 0.4 + k as f64 * 0.3 * t * t;
            out.push_str(&format!("{{\"step\": {s}, \"eval_loss\": {eval:.5}}}\n"));
        }
    }
    out
}

/// Lock run `name` with the given metrics text and params YAML.
fn lock(ws: &Workspace, name: &str, metrics_text: &str, params: &str, extra: &[&str]) {
    let dir = format!("out/{}", name.replace('/', "-"));
    ws.write(&format!("{dir}/metrics.jsonl"), metrics_text);
    ws.write(&format!("{dir}/params.yaml"), params);
    let m = format!("{dir}/metrics.jsonl");
    let p = format!("{dir}/params.yaml");
    let mut args = vec![
        "lock",
        name,
        "--input",
        "data",
        "--output",
        &dir,
        "--params",
        &p,
        "--metrics",
        &m,
    ];
    args.extend_from_slice(extra);
    ws.rvc(&args).assert().success();
}

const HOSTILE: &str =
    "</td><script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">";
const HOSTILE_METRIC: &str = "<img src=x onerror=window.__pwned=3>";

/// Three runs with a parent, a sweep child whose parent is not locked, a
/// hostile param value and a hostile metric name.
fn three_runs() -> Workspace {
    let ws = repo();
    let hostile_params = |lr: &str| {
        format!(
            "seed: 42\noptimizer:\n  lr: {lr}\nnote: '{}'\n",
            HOSTILE.replace('\'', "''")
        )
    };
    let mut m = metrics(3000, 100, 0);
    for s in [1, 2, 3] {
        m.push_str(&format!(
            "{{\"step\": {s}, \"{}\": {s}.5}}\n",
            HOSTILE_METRIC.replace('"', "\\\"")
        ));
    }
    lock(&ws, "base", &m, &hostile_params("0.0001"), &[]);
    lock(
        &ws,
        "tuned",
        &metrics(3000, 100, 1),
        &hostile_params("0.0003"),
        &["--parent", "base"],
    );
    lock(
        &ws,
        "sweep/lr-1e-3",
        &metrics(2500, 250, 2),
        &hostile_params("0.001"),
        &[],
    );
    ws
}

#[test]
fn page_renders_in_chromium_without_console_errors_and_shows_every_run() {
    if !common::have_tool(
        browser::chromium_path().to_str().unwrap(),
        "the browser test",
    ) {
        return;
    }
    let ws = three_runs();
    let out = ws.rvc(&["plots"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("wrote .rvc/plots.html: 3 runs"),
        "{}",
        stdout(&out)
    );
    let page = ws.path(".rvc/plots.html");

    let mut b = browser::Browser::launch();
    let (tab, report) = b.open(&page);
    assert!(
        report.errors.is_empty(),
        "the page logged errors in Chromium:\n{}",
        report.errors.join("\n")
    );
    // Offline: the page asked for nothing but itself.
    let url = format!("file://{}", page.display());
    assert_eq!(report.requests, [url], "the page made requests of its own");

    let dom = b.eval(
        &tab,
        r#"(() => {
            const frame = (svg) => svg.querySelector('rect.frame').getBBox();
            const series = [...document.querySelectorAll('svg.chart .series')].map(p => {
                const svg = p.ownerSVGElement, f = frame(svg), bb = p.getBBox();
                return {
                    family: svg.dataset.family, run: p.dataset.run, metric: p.dataset.metric,
                    tag: p.tagName, points: +p.dataset.points,
                    commands: p.tagName === 'path' ? (p.getAttribute('d').match(/[ML]/g) || []).length : 1,
                    length: p.tagName === 'path' ? p.getTotalLength() : 0,
                    inside: bb.x >= f.x - 6 && bb.y >= f.y - 6 && bb.x + bb.width <= f.x + f.width + 6
                        && bb.y + bb.height <= f.y + f.height + 6,
                    shown: svg.getBoundingClientRect().width > 300,
                };
            });
            return {
                title: document.title,
                text: document.body.textContent,
                rows: [...document.querySelectorAll('table.runs tbody tr')].map(r => r.dataset.run),
                charts: [...document.querySelectorAll('svg.chart')].map(s => s.dataset.family),
                legend: [...document.querySelectorAll('svg.chart[data-family=loss] .legend text')].map(t => t.textContent),
                lineage: [...document.querySelectorAll('.lineage .node')].map(n => [n.dataset.run, n.classList.contains('ghost')]),
                edges: document.querySelectorAll('.lineage .edge').length,
                scripts: document.querySelectorAll('script').length,
                images: document.querySelectorAll('img').length,
                pwned: typeof window.__pwned,
                series,
            };
        })()"#,
    );
    let names = ["base", "sweep/lr-1e-3", "tuned"];
    assert_eq!(dom["rows"], serde_json::json!(names), "{}", dom["rows"]);
    let text = dom["text"].as_str().unwrap();
    for n in names {
        assert!(text.contains(n), "run {n} is not on the page");
    }
    assert!(dom["title"].as_str().unwrap().starts_with("rvc plots"));
    assert_eq!(dom["charts"][0], "loss", "{}", dom["charts"]);
    for want in ["base", "tuned", "sweep/lr-1e-3", "loss", "eval_loss"] {
        assert!(
            dom["legend"].as_array().unwrap().iter().any(|t| t == want),
            "legend lacks {want}: {}",
            dom["legend"]
        );
    }
    // A plotted series: each run's loss is a long path drawn inside its
    // chart, downsampled to at most 1,000 points.
    let series = dom["series"].as_array().unwrap();
    for n in names {
        let s = series
            .iter()
            .find(|s| s["run"] == n && s["metric"] == "loss")
            .unwrap_or_else(|| panic!("no loss curve for {n}: {series:?}"));
        assert_eq!(s["tag"], "path");
        assert!(s["commands"].as_u64().unwrap() >= 500, "{s}");
        assert!(s["points"].as_u64().unwrap() <= 1000, "{s}");
        assert!(s["length"].as_f64().unwrap() > 300.0, "{s}");
        assert_eq!(s["inside"], true, "{s}");
        assert_eq!(s["shown"], true, "{s}");
        let eval = series
            .iter()
            .find(|s| s["run"] == n && s["metric"] == "eval_loss");
        assert!(eval.is_some(), "no eval_loss curve for {n}");
    }
    // Lineage: tuned under base, the sweep child under its unplotted parent.
    let lineage = &dom["lineage"];
    assert!(
        lineage
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["sweep", true])),
        "{lineage}"
    );
    assert_eq!(dom["edges"], 2);
    // Hostile strings were shown as text, never run.
    assert_eq!(dom["scripts"], 0);
    assert_eq!(dom["images"], 0);
    assert_eq!(dom["pwned"], "undefined");
    assert!(
        text.contains(HOSTILE),
        "the hostile param is not shown as text"
    );
    assert!(
        text.contains(HOSTILE_METRIC),
        "the hostile metric name is not shown as text"
    );
}

#[test]
fn console_check_catches_deliberate_errors() {
    if !common::have_tool(
        browser::chromium_path().to_str().unwrap(),
        "the browser test",
    ) {
        return;
    }
    // The check must have teeth: the same page with a broken script shows
    // its errors, and the page's policy refuses a script slipped into it.
    let ws = repo();
    lock(&ws, "r1", &metrics(50, 10, 0), "seed: 1\n", &[]);
    ws.rvc(&["plots"]).assert().success();
    let page = String::from_utf8(ws.read(".rvc/plots.html")).unwrap();
    let csp_start = page
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .expect("a CSP");
    let csp_end = csp_start + page[csp_start..].find('>').unwrap() + 1;
    let without_csp = format!("{}{}", &page[..csp_start], &page[csp_end..]).replace(
        "</body>",
        "<script>console.error('deliberate console error'); notAFunction();</script></body>",
    );
    ws.write("broken.html", without_csp);
    ws.write(
        "injected.html",
        page.replace("</body>", "<script>window.ran = 1;</script></body>"),
    );

    let mut b = browser::Browser::launch();
    let (_, report) = b.open(&ws.path("broken.html"));
    let all = report.errors.join("\n");
    eprintln!("errors caught in broken.html:\n{all}");
    assert!(
        all.contains("deliberate console error"),
        "console.error missed:\n{all}"
    );
    assert!(
        all.contains("notAFunction"),
        "uncaught exception missed:\n{all}"
    );

    let (tab, report) = b.open(&ws.path("injected.html"));
    let all = report.errors.join("\n");
    eprintln!("errors caught in injected.html:\n{all}");
    assert!(
        all.contains("Content Security Policy"),
        "a script slipped into the page was not refused:\n{all}"
    );
    assert_eq!(b.eval(&tab, "typeof window.ran"), "undefined");
}

#[test]
fn svg_chart_has_axes_a_path_per_run_and_a_legend() {
    let ws = three_runs();
    ws.rvc(&[
        "plots",
        "--metric",
        "loss",
        "--metric",
        "eval_loss",
        "-o",
        "chart.svg",
    ])
    .assert()
    .success();
    let text = String::from_utf8(ws.read("chart.svg")).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the SVG is well-formed XML");
    let svg = doc.root_element();
    assert_eq!(svg.tag_name().name(), "svg");
    assert_eq!(
        svg.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let vb: Vec<f64> = svg
        .attribute("viewBox")
        .expect("a viewBox")
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(vb.len(), 4);
    assert!(vb[2] >= 600.0 && vb[3] >= 300.0, "{vb:?}");
    let class = |n: &roxmltree::Node, c: &str| {
        n.attribute("class")
            .is_some_and(|v| v.split(' ').any(|x| x == c))
    };
    let find =
        |c: &str| -> Vec<roxmltree::Node> { doc.descendants().filter(|n| class(n, c)).collect() };
    // Axes: a frame, ticks with labels on both axes, axis labels.
    assert_eq!(find("axes").len(), 1);
    let ticks = find("tick");
    let xs = ticks.iter().filter(|t| class(t, "x")).count();
    let ys = ticks.iter().filter(|t| class(t, "y")).count();
    assert!(xs >= 3 && ys >= 3, "{xs} x ticks, {ys} y ticks");
    assert!(ticks.iter().all(|t| t
        .children()
        .any(|c| c.has_tag_name("text") && c.text().is_some())));
    let labels: Vec<&str> = find("label").iter().filter_map(|n| n.text()).collect();
    assert_eq!(labels, ["step", "loss"]);
    // One path per run and metric, with every coordinate inside the box.
    let paths: Vec<roxmltree::Node> = find("series")
        .into_iter()
        .filter(|n| n.has_tag_name("path"))
        .collect();
    for metric in ["loss", "eval_loss"] {
        let mut runs: Vec<&str> = paths
            .iter()
            .filter(|p| p.attribute("data-metric") == Some(metric))
            .map(|p| p.attribute("data-run").unwrap())
            .collect();
        runs.sort();
        assert_eq!(runs, ["base", "sweep/lr-1e-3", "tuned"], "{metric}");
    }
    for p in &paths {
        let d = p.attribute("d").unwrap();
        let nums: Vec<f64> = d
            .split(['M', 'L', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(nums.len() >= 20, "{d}");
        for xy in nums.chunks(2) {
            assert!(
                xy[0] >= 0.0 && xy[0] <= vb[2] && xy[1] >= 0.0 && xy[1] <= vb[3],
                "{xy:?}"
            );
        }
        let dashed = p.attribute("stroke-dasharray").is_some();
        assert_eq!(
            dashed,
            p.attribute("data-metric") == Some("eval_loss"),
            "eval lines are dashed"
        );
        assert!(p.children().any(|c| c.has_tag_name("title")), "a tooltip");
    }
    // The legend names every run and both metrics.
    let legend: Vec<&str> = find("legend")[0]
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for want in ["base", "sweep/lr-1e-3", "tuned", "loss", "eval_loss"] {
        assert!(legend.contains(&want), "legend lacks {want}: {legend:?}");
    }
}

#[test]
fn png_chart_has_the_png_signature_and_twice_the_svg_size() {
    let ws = three_runs();
    ws.rvc(&["plots", "-o", "chart.svg"]).assert().success();
    let out = ws.rvc(&["plots", "-o", "chart.png"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let png = ws.read("chart.png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    let svg = String::from_utf8(ws.read("chart.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let sw: f64 = doc
        .root_element()
        .attribute("width")
        .unwrap()
        .parse()
        .unwrap();
    let sh: f64 = doc
        .root_element()
        .attribute("height")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!((w, h), ((sw * 2.0) as u32, (sh * 2.0) as u32));
    // Both hold the first chart, loss, and say the others need --metric.
    assert!(stderr(&out).contains("--metric"), "{}", stderr(&out));
}

#[test]
fn long_runs_are_downsampled_keep_their_tail_and_stay_light() {
    let ws = repo();
    for k in 0..3 {
        lock(
            &ws,
            &format!("long-{k}"),
            &metrics(20_000, 500, k),
            "seed: 1\n",
            &[],
        );
    }
    let json = ws.json(&["plots", "-o", "long.html"]);
    assert_eq!(json["format"], "html");
    let size = json["bytes"].as_u64().unwrap();
    // 3 runs x 3 curves of at most 1,000 points: far under the 2 MB goal
    // that 10 runs must meet.
    assert!(size < 600_000, "{size} bytes");
    let page = String::from_utf8(ws.read("long.html")).unwrap();
    let paths: Vec<&str> = page.split("<path class=\"series\"").skip(1).collect();
    assert_eq!(
        paths.len(),
        9,
        "loss, eval_loss and learning_rate for 3 runs"
    );
    for p in paths {
        let points: usize = p
            .split("data-points=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(points <= 1000, "{points}");
        // The tail is kept: the last point is on the right edge of the plot
        // (x = 64 + 676), since every run ends at step 20,000.
        let d = p.split(" d=\"").nth(1).unwrap().split('"').next().unwrap();
        let last = d.rsplit('L').next().unwrap();
        assert!(last.starts_with("740.0 "), "the curve ends at {last}");
    }
    // A smaller budget is honoured.
    let json = ws.json(&["plots", "-o", "small.html", "--max-points", "100"]);
    assert!(json["bytes"].as_u64().unwrap() < size / 3);
}

#[test]
fn bad_input_gives_a_clear_error_and_no_panic() {
    let ws = repo();
    let fails = |args: &[&str], want: &[&str]| {
        let out = ws.rvc(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "rvc {args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(!err.contains("internal error"), "{err}");
        for w in want {
            assert!(err.contains(w), "rvc {args:?}: stderr lacks {w:?}:\n{err}");
        }
    };
    fails(&["plots"], &["no runs", "rvc lock"]);
    // A run without metrics.
    ws.rvc(&["lock", "bare", "--input", "data"])
        .assert()
        .success();
    fails(&["plots"], &["no per-step metrics", "bare", "--metrics"]);
    lock(&ws, "r1", &metrics(20, 5, 0), "seed: 1\n", &[]);
    fails(&["plots", "nope"], &["no run named `nope`", "rvc runs"]);
    fails(
        &["plots", "--metric", "accuracy"],
        &["`accuracy`", "eval_loss, learning_rate, loss"],
    );
    fails(
        &["plots", "-o", "chart.pdf"],
        &["unknown extension `.pdf`", ".html", ".svg", ".png"],
    );
    fails(&["plots", "-o", "chart"], &["no extension"]);
    fails(
        &["plots", "-o", "missing/dir/p.html"],
        &["does not exist", "-o FILE"],
    );
    fails(
        &["plots", "-o", "/proc/rvc-plots.html"],
        &["cannot write /proc/rvc-plots.html", "-o FILE"],
    );
    std::fs::create_dir(ws.path("dir.html")).unwrap();
    fails(&["plots", "-o", "dir.html"], &["is a directory"]);
    // The same run twice is plotted once; nothing is left behind.
    let json = ws.json(&["plots", "r1", "r1", "bare", "-o", "two.svg"]);
    assert_eq!(json["runs"], serde_json::json!(["r1", "bare"]));
    let leftovers: Vec<String> = std::fs::read_dir(ws.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".rvc-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn hostile_lockfile_strings_are_escaped_in_page_and_svg() {
    let ws = three_runs();
    ws.rvc(&["plots"]).assert().success();
    let page = String::from_utf8(ws.read(".rvc/plots.html")).unwrap();
    assert!(!page.contains("<script"), "a raw <script> reached the page");
    assert!(!page.contains("<img"), "a raw <img> reached the page");
    assert!(page.contains("&lt;/td&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
    assert!(
        page.contains("default-src 'none'"),
        "the page forbids scripts and requests"
    );
    let json: Value = ws.json(&["plots", "--metric", HOSTILE_METRIC, "-o", "h.svg"]);
    assert_eq!(json["charts"][0]["metrics"][0], HOSTILE_METRIC);
    let svg = String::from_utf8(ws.read("h.svg")).unwrap();
    roxmltree::Document::parse(&svg).expect("the SVG stays well-formed");
    assert!(!svg.contains("<img"));
}

#[test]
fn runs_spark_adds_a_sparkline_of_the_loss_curve() {
    let ws = repo();
    lock(&ws, "r1", &metrics(200, 50, 0), "seed: 1\n", &[]);
    ws.rvc(&["lock", "bare", "--input", "data"])
        .assert()
        .success();
    let plain = stdout(&ws.rvc(&["runs"]).output().unwrap());
    assert!(
        !plain.contains("curve"),
        "no sparkline unless asked:\n{plain}"
    );
    let out = stdout(&ws.rvc(&["runs", "--spark"]).output().unwrap());
    assert!(out.lines().next().unwrap().ends_with("loss curve"), "{out}");
    let line = out.lines().find(|l| l.starts_with("r1 ")).unwrap();
    let spark: String = line
        .chars()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(spark.starts_with('█') && spark.ends_with('▁'), "{line}");
    let bare = out.lines().find(|l| l.starts_with("bare ")).unwrap();
    assert!(bare.ends_with(" -"), "{bare}");
}
