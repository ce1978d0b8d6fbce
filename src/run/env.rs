//! The environment a run ran in: rvc, OS, CPU, memory, GPU, Python, and the
//! pins of the requirement and lock files found at the repository root.
//!
//! Everything here is best effort: a missing `nvidia-smi` or `python3`
//! leaves its field empty rather than failing the run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::id::Id;

/// What was found about the machine and software.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub rvc: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub cpu: String,
    #[serde(default)]
    pub cpus: u64,
    /// Total memory in bytes.
    #[serde(default)]
    pub memory: u64,
    /// One line per GPU, from `nvidia-smi`; empty without one.
    #[serde(default)]
    pub gpus: Vec<String>,
    #[serde(default)]
    pub python: String,
    /// Requirement and lock files, with their id and parsed pins.
    #[serde(default, rename = "requirements")]
    pub requirements: Vec<Requirements>,
}

/// One requirement or lock file.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    pub path: String,
    pub id: Id,
    /// Package name (lowercase) → version or specifier.
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
}

/// Capture the environment; `root` is where requirement files are looked for.
pub fn capture(root: &Path) -> Environment {
    Environment {
        rvc: env!("CARGO_PKG_VERSION").to_string(),
        os: os(),
        arch: std::env::consts::ARCH.to_string(),
        cpu: cpu_model(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .unwrap_or(0),
        memory: memory(),
        gpus: gpus(),
        python: python(),
        requirements: requirement_files(root),
    }
}

fn os() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let kernel = kernel.trim();
    if kernel.is_empty() {
        pretty
    } else {
        format!("{pretty}, kernel {kernel}")
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_default()
}

fn memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let kb = l
                    .strip_prefix("MemTotal:")?
                    .trim()
                    .strip_suffix("kB")?
                    .trim();
                kb.parse::<u64>().ok().map(|k| k * 1024)
            })
        })
        .unwrap_or(0)
}

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| {
        let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
        if s.trim().is_empty() {
            s = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        s.trim().to_string()
    })
}

fn gpus() -> Vec<String> {
    run(
        "nvidia-smi",
        &[
            "--query-gpu=name,driver_version,memory.total",
            "--format=csv,noheader",
        ],
    )
    .map(|s| {
        s.lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// The first executable file called `name` in the directories of `PATH`.
pub fn find_on_path(name: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn python() -> String {
    ["python3", "python"]
        .iter()
        .find_map(|p| run(p, &["--version"]))
        .map(|v| v.trim_start_matches("Python ").to_string())
        .unwrap_or_default()
}

/// The requirement and lock files at `root`, sorted by name.
pub fn requirement_files(root: &Path) -> Vec<Requirements> {
    let Ok(rd) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            (n.starts_with("requirements") && n.ends_with(".txt"))
                || matches!(
                    n.as_str(),
                    "uv.lock" | "poetry.lock" | "environment.yml" | "environment.yaml"
                )
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let bytes = std::fs::read(root.join(&name)).ok()?;
            let text = String::from_utf8_lossy(&bytes);
            let pins = if name.ends_with(".txt") {
                requirements_txt(&text)
            } else if name.ends_with(".lock") {
                toml_lock(&text)
            } else {
                environment_yml(&text)
            };
            Some(Requirements {
                path: name,
                id: crate::hash::hash_bytes(&bytes),
                pins,
            })
        })
        .collect()
}

/// `name==1.2`, `name>=1.0`, `name[extra]==2; python_version>"3"`, …
fn requirements_txt(text: &str) -> BTreeMap<String, String> {
    let mut pins = BTreeMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('-') {
            continue;
        }
        let line = line.split(';').next().unwrap_or("").trim();
        let split = line
            .find(['=', '<', '>', '~', '!', ' ', '@'])
            .unwrap_or(line.len());
        let name = line[..split].split('[').next().unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        let spec = line[split..].trim();
        let spec = spec.strip_prefix("==").unwrap_or(spec).trim();
        pins.insert(normalize(name), spec.to_string());
    }
    pins
}

/// `uv.lock` and `poetry.lock`: `[[package]]` tables with name and version.
fn toml_lock(text: &str) -> BTreeMap<String, String> {
    let Ok(t) = toml::from_str::<toml::Table>(text) else {
        return BTreeMap::new();
    };
    t.get("package")
        .and_then(|p| p.as_array())
        .map(|pkgs| {
            pkgs.iter()
                .filter_map(|p| {
                    let name = p.get("name")?.as_str()?;
                    let version = p.get("version").and_then(|v| v.as_str()).unwrap_or("");
                    Some((normalize(name), version.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// conda `environment.yml`: `dependencies` entries `name=1.2` and a
/// nested `pip:` list of requirement lines.
fn environment_yml(text: &str) -> BTreeMap<String, String> {
    use yaml_rust2::Yaml;
    let mut pins = BTreeMap::new();
    let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(text) else {
        return pins;
    };
    let Some(deps) = docs.first().and_then(|d| d["dependencies"].as_vec()) else {
        return pins;
    };
    for dep in deps {
        match dep {
            Yaml::String(s) => {
                let mut parts = s.splitn(2, '=');
                let name = parts.next().unwrap_or("").trim();
                let version = parts.next().unwrap_or("").trim_start_matches('=').trim();
                if !name.is_empty() {
                    pins.insert(normalize(name), version.to_string());
                }
            }
            Yaml::Hash(h) => {
                for (_, v) in h {
                    if let Some(list) = v.as_vec() {
                        let lines: String = list
                            .iter()
                            .filter_map(|l| l.as_str())
                            .map(|l| format!("{l}\n"))
                            .collect();
                        pins.extend(requirements_txt(&lines));
                    }
                }
            }
            _ => {}
        }
    }
    pins
}

/// Package names compare case-insensitively, with `-`, `_` and `.` alike.
fn normalize(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', '.'], "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_from_each_kind_of_file() {
        let r = requirements_txt("# comment\ntorch==2.3.0\nTransformers>=4.40 ; python_version > '3.8'\nnumpy\n-r base.txt\naccelerate[deepspeed]==0.30.1  # pinned\n");
        assert_eq!(r["torch"], "2.3.0");
        assert_eq!(r["transformers"], ">=4.40");
        assert_eq!(r["numpy"], "");
        assert_eq!(r["accelerate"], "0.30.1");
        let u = toml_lock("version = 1\n[[package]]\nname = \"Torch\"\nversion = \"2.3.1\"\n[[package]]\nname = \"safetensors\"\nversion = \"0.4.3\"\n");
        assert_eq!(u["torch"], "2.3.1");
        let e = environment_yml("name: x\ndependencies:\n  - python=3.11\n  - pytorch==2.3.0\n  - pip:\n    - peft==0.11.1\n");
        assert_eq!(e["python"], "3.11");
        assert_eq!(e["pytorch"], "2.3.0");
        assert_eq!(e["peft"], "0.11.1");
    }
}
