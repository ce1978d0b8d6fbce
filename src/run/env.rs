//! The environment a run ran in: rvc, OS, CPU, memory, GPU, Python, and the
//! pins of the requirement and lock files found at the repository root.
//!
//! Everything here is best effort: a missing `nvidia-smi` or `python3`
//! leaves its field empty rather than failing the run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::format::lockfile::{Environment, Requirements};

/// Capture the environment; `root` is where requirement files are looked
/// for, `python` the interpreter or environment prefix whose installed
/// packages to list (else `VIRTUAL_ENV`, `CONDA_PREFIX`, or `python3` on
/// `PATH`).
pub fn capture(root: &Path, python_env: Option<&Path>) -> Environment {
    let (python_version, python_prefix) = python();
    let prefix = python_env
        .map(Path::to_path_buf)
        .or_else(|| active_env().or(python_prefix));
    let installed = prefix
        .as_deref()
        .map(|p| installed_packages(p, &python_version))
        .unwrap_or_default();
    let cuda_runtime = cuda_runtime(&installed);
    Environment {
        cuda_driver: cuda_driver(),
        cuda_runtime,
        python_env: prefix
            .filter(|_| !installed.is_empty())
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        installed,
        rvc: env!("CARGO_PKG_VERSION").to_string(),
        os: os(),
        arch: std::env::consts::ARCH.to_string(),
        cpu: cpu_model(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .unwrap_or(0),
        memory: memory(),
        gpus: gpus(),
        python: python_version,
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

/// The version and prefix of `python3` (or `python`) on `PATH`, from one
/// start of the interpreter: a shim (pyenv, asdf) hides the prefix from
/// its path. Empty and `None` without a Python.
fn python() -> (String, Option<std::path::PathBuf>) {
    const ASK: &str = "import sys; print(sys.version.split()[0]); print(sys.prefix)";
    ["python3", "python"]
        .iter()
        .find_map(|p| run(p, &["-c", ASK]))
        .map(|out| {
            let mut lines = out.lines();
            let version = lines.next().unwrap_or("").trim().to_string();
            let prefix = lines.next().map(|p| p.trim().into());
            (version, prefix)
        })
        .unwrap_or_default()
}

/// An active venv or conda environment.
fn active_env() -> Option<std::path::PathBuf> {
    ["VIRTUAL_ENV", "CONDA_PREFIX"]
        .iter()
        .find_map(|var| std::env::var_os(var).filter(|v| !v.is_empty()))
        .map(Into::into)
}

/// The site-packages directories of an environment, given its prefix or
/// an interpreter in it (`PREFIX/bin/python3`; a venv's interpreter is a
/// link out of the venv, so the path as given decides the prefix).
pub fn site_packages(env: &Path, python_version: &str) -> Vec<std::path::PathBuf> {
    let prefix = if env.is_file() {
        env.parent()
            .and_then(Path::parent)
            .unwrap_or(env)
            .to_path_buf()
    } else {
        env.to_path_buf()
    };
    // python3.11 for "3.11.4": the library directory of that version first.
    let minor: String = python_version
        .splitn(3, '.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    let mut dirs = Vec::new();
    for lib in [prefix.join("lib"), prefix.join("local/lib")] {
        let Ok(rd) = std::fs::read_dir(&lib) else {
            continue;
        };
        let mut versions: Vec<String> = rd
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("python3"))
            .collect();
        versions.sort();
        // Only the running version's directory when there are several
        // (python3 is Debian's version-independent one, always read).
        if !minor.is_empty() && versions.iter().any(|v| *v == format!("python{minor}")) {
            versions.retain(|v| *v == format!("python{minor}") || v == "python3");
        }
        for v in versions {
            for sub in ["site-packages", "dist-packages"] {
                let d = lib.join(&v).join(sub);
                if d.is_dir() {
                    dirs.push(d);
                }
            }
        }
    }
    dirs
}

/// Packages installed in the environment at `env`: the `Name` and
/// `Version` of each `*.dist-info/METADATA` (or `*.egg-info/PKG-INFO`),
/// read directly, without starting Python. Where a package is in two
/// directories, the first (the environment's own) wins.
pub fn installed_packages(env: &Path, python_version: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for dir in site_packages(env, python_version) {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let meta = if name.ends_with(".dist-info") {
                e.path().join("METADATA")
            } else if name.ends_with(".egg-info") {
                let p = e.path();
                if p.is_dir() {
                    p.join("PKG-INFO")
                } else {
                    p
                }
            } else {
                continue;
            };
            if let Some((pkg, version)) = read_metadata(&meta) {
                out.entry(normalize(&pkg)).or_insert(version);
            }
        }
    }
    out
}

/// `Name:` and `Version:` from the headers of a core metadata file.
fn read_metadata(path: &Path) -> Option<(String, String)> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).ok()?;
    let (mut name, mut version) = (None, None);
    for line in std::io::BufReader::new(f).lines().take(200) {
        let line = line.ok()?;
        if line.is_empty() {
            break; // the end of the headers
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_string());
        }
        if name.is_some() && version.is_some() {
            break;
        }
    }
    Some((name.filter(|n| !n.is_empty())?, version?))
}

fn cuda_driver() -> String {
    run(
        "nvidia-smi",
        &["--query-gpu=driver_version", "--format=csv,noheader"],
    )
    .and_then(|s| s.lines().next().map(|l| l.trim().to_string()))
    .unwrap_or_default()
}

/// The CUDA toolkit's version file, else the runtime a pip environment
/// installed (`nvidia-cuda-runtime-cu12` and the like).
fn cuda_runtime(installed: &BTreeMap<String, String>) -> String {
    let home = std::env::var_os("CUDA_HOME")
        .or_else(|| std::env::var_os("CUDA_PATH"))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/usr/local/cuda".into());
    if let Ok(text) = std::fs::read_to_string(home.join("version.json")) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            if let Some(s) = v["cuda"]["version"].as_str() {
                return s.to_string();
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string(home.join("version.txt")) {
        if let Some(v) = text.split_whitespace().last() {
            return v.to_string();
        }
    }
    installed
        .iter()
        .find(|(k, _)| k.starts_with("nvidia-cuda-runtime-cu"))
        .map(|(k, v)| format!("{v} ({k})"))
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
                id: crate::format::hash::hash_bytes(&bytes),
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
    fn installed_packages_come_from_dist_info_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("lib/python3.11/site-packages");
        let other = dir.path().join("lib/python3.9/site-packages");
        for (d, pkg, meta) in [
            (&site, "transformers-4.41.0.dist-info", "Metadata-Version: 2.1\nName: transformers\nVersion: 4.41.0\n\nName: not-a-header\n"),
            (&site, "Jinja2-3.1.4.dist-info", "Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.4\n"),
            (&site, "broken.dist-info", "Metadata-Version: 2.1\n"),
            (&other, "old-1.0.dist-info", "Name: old\nVersion: 1.0\n"),
        ] {
            std::fs::create_dir_all(d.join(pkg)).unwrap();
            std::fs::write(d.join(pkg).join("METADATA"), meta).unwrap();
        }
        std::fs::write(
            site.join("legacy.egg-info"),
            "Name: Legacy_Pkg\nVersion: 0.3\n",
        )
        .unwrap();
        let got = installed_packages(dir.path(), "3.11.4");
        assert_eq!(got["transformers"], "4.41.0");
        assert_eq!(got["jinja2"], "3.1.4");
        assert_eq!(got["legacy-pkg"], "0.3");
        assert!(
            !got.contains_key("old"),
            "another Python's packages: {got:?}"
        );
        assert_eq!(got.len(), 3, "{got:?}");
        // An interpreter path stands for its environment.
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin/python3"), "").unwrap();
        assert_eq!(
            installed_packages(&dir.path().join("bin/python3"), "3.11.4"),
            got
        );
    }

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
