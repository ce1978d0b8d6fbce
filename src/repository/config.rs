//! Repository settings: `.rvc/config.toml` (committed) merged with
//! `.rvc/config.local.toml` (machine-local, ignored by git). Local values win.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{ConfigError, Error, Result};

/// Default time to wait for another rvc process to release the repository.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// The merged settings of one repository.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Where the content store lives; `None` means `.rvc/cache`.
    pub cache_dir: Option<PathBuf>,
    /// How long to wait for the repository lock.
    pub lock_timeout: Option<Duration>,
    /// Defaults for `rvc lock`.
    pub run: RunDefaults,
    /// Remotes by name, from `[remote.NAME]` tables (local keys win).
    pub remotes: BTreeMap<String, RemoteSettings>,
    /// The remote used when none is named (`[core] remote`).
    pub default_remote: Option<String>,
    /// How many transfers run at once (`[core] jobs`).
    pub jobs: Option<NonZeroUsize>,
    /// The largest file the pre-commit hook lets into git untracked by
    /// rvc (`[hooks] max_file_size`), in bytes.
    pub max_file_size: Option<u64>,
}

/// The default of `[hooks] max_file_size`: 10 MB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10_000_000;

/// `10000000`, `"10MB"`, `"512 KiB"`, `"2G"` → bytes.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let v = num * mult;
    (v.is_finite() && v >= 0.0).then_some(v as u64)
}

/// One remote's settings: its URL and object_store options such as
/// `endpoint`, `region` or `allow_http`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteSettings {
    pub url: Option<String>,
    /// Option values by key, as strings.
    pub options: BTreeMap<String, String>,
    /// Which file set each key (`url` included), for `rvc remote list`.
    pub from_local: std::collections::BTreeSet<String>,
}

/// Whether an option key names a credential. Credentials may only live in
/// `config.local.toml` or the environment, never in the committed file.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "token",
        "password",
        "access_key",
        "account_key",
        "sas",
        "credential",
        "customer_key",
    ]
    .iter()
    .any(|s| k.contains(s))
        || k.ends_with("service_account_key")
}

/// Defaults for `rvc lock`, from `[run]`. Paths are repository-relative;
/// `{name}` is replaced by the run's name.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunDefaults {
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default)]
    pub outputs: Vec<String>,
    #[serde(default)]
    pub params: Vec<String>,
    #[serde(default)]
    pub metrics: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    core: RawCore,
    #[serde(default)]
    cache: RawCache,
    run: Option<RunDefaults>,
    #[serde(default)]
    remote: BTreeMap<String, toml::Table>,
    #[serde(default)]
    hooks: RawHooks,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHooks {
    max_file_size: Option<toml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCore {
    lock_timeout: Option<u64>,
    remote: Option<String>,
    jobs: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCache {
    dir: Option<PathBuf>,
}

/// The config file `rvc init` writes.
pub const INITIAL_CONFIG: &str = "\
# rvc settings for this repository. Commit this file.
# Machine-local settings and credentials go in config.local.toml, which git ignores.

[core]
# Seconds to wait for another rvc command in this repository to finish.
# lock_timeout = 60
# The remote that push, fetch and pull use when none is named (`rvc remote add --default`).
# remote = \"origin\"
# Transfers run at once by push, fetch and pull.
# jobs = 16

[cache]
# Keep the content store somewhere else, e.g. a shared disk.
# dir = \"/mnt/shared/rvc-cache\"

[run]
# Defaults for `rvc lock NAME`; a flag of the same kind replaces them. `{name}` is the run's name.
# inputs = [\"data\"]
# outputs = [\"runs/{name}\"]
# params = [\"params.yaml\"]
# metrics = [\"runs/{name}/trainer_state.json\"]

[hooks]
# The pre-commit hook refuses files bigger than this that are not tracked by rvc.
# max_file_size = \"10MB\"

# Remotes (`rvc remote add`). Options other than credentials go here, e.g.
# [remote.origin]
# url = \"s3://bucket/project\"
# endpoint = \"http://127.0.0.1:9000\"
# region = \"us-east-1\"
# allow_http = true
# Credentials go in config.local.toml or the environment (AWS_ACCESS_KEY_ID, ...).
";

/// The local config file `rvc init` writes.
pub const INITIAL_LOCAL_CONFIG: &str = "\
# Machine-local rvc settings. This file is ignored by git: keep credentials here, e.g.
# [remote.origin]
# access_key_id = \"...\"
# secret_access_key = \"...\"
";

impl Config {
    /// Read and merge both config files in `rvc_dir`. Missing files are empty.
    pub fn load(rvc_dir: &Path) -> Result<Config> {
        let mut cfg = Config::default();
        for name in ["config.toml", "config.local.toml"] {
            let path = rvc_dir.join(name);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(Error::Io {
                        op: "read config",
                        path,
                        source,
                    })
                }
            };
            cfg.merge(&path, &text, name == "config.local.toml")?;
        }
        Ok(cfg)
    }

    /// Merge the config file `path`, whose content is `text`, over these
    /// settings; `local` says whether it is the machine-local file, where
    /// credentials may live. A relative `[cache] dir` is taken relative to
    /// the directory above the one holding `path`.
    pub fn merge(&mut self, path: &Path, text: &str, local: bool) -> Result<()> {
        let rvc_dir = path.parent().unwrap_or(Path::new(""));
        let file = Source::parse(path, text)?;
        file.check_keys()?;
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            Error::Config(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: e.span().map(|s| line_at(text, s.start)),
                message: e.message().trim().replace('\n', "; "),
            })
        })?;
        if let Some(dir) = raw.cache.dir {
            // A relative cache dir is relative to the repository root.
            self.cache_dir = Some(if dir.is_absolute() {
                dir
            } else {
                rvc_dir.parent().unwrap_or(rvc_dir).join(dir)
            });
        }
        if let Some(run) = raw.run {
            self.run = run;
        }
        if let Some(secs) = raw.core.lock_timeout {
            self.lock_timeout = Some(Duration::from_secs(secs));
        }
        if let Some(r) = raw.core.remote {
            self.default_remote = Some(r);
        }
        if let Some(j) = raw.core.jobs {
            self.jobs = Some(NonZeroUsize::new(j).ok_or_else(|| {
                file.invalid(
                    &["core", "jobs"],
                    "core.jobs must be a whole number from 1 up, not 0".into(),
                )
            })?);
        }
        if let Some(v) = raw.hooks.max_file_size {
            let size = match &v {
                toml::Value::Integer(i) => u64::try_from(*i).ok(),
                toml::Value::String(s) => parse_size(s),
                _ => None,
            };
            self.max_file_size = Some(size.ok_or_else(|| {
                file.invalid(
                    &["hooks", "max_file_size"],
                    format!(
                        "hooks.max_file_size must be a number of bytes or a size like \"10MB\", not {v}"
                    ),
                )
            })?);
        }
        for (remote, table) in raw.remote {
            let settings = self.remotes.entry(remote.clone()).or_default();
            for (key, value) in table {
                let bad = |message: String| file.invalid(&["remote", &remote, &key], message);
                let value = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Boolean(b) => b.to_string(),
                    toml::Value::Integer(i) => i.to_string(),
                    other => {
                        return Err(bad(format!(
                            "remote.{remote}.{key} must be a string, boolean or integer, not {}",
                            other.type_str()
                        )))
                    }
                };
                if !local && is_secret_key(&key) {
                    return Err(bad(format!(
                        "remote.{remote}.{key} is a credential, and config.toml is committed; \
                         move it to .rvc/config.local.toml or set it in the environment"
                    )));
                }
                if local {
                    settings.from_local.insert(key.clone());
                } else {
                    settings.from_local.remove(&key);
                }
                if key == "url" {
                    settings.url = Some(value);
                } else {
                    settings.options.insert(key, value);
                }
            }
        }
        Ok(())
    }
}

/// The keys each section may hold. `[remote.NAME]` tables are checked when
/// the remote is opened, against the options of its kind of store.
const SECTIONS: &[(&str, &[&str])] = &[
    ("core", &["lock_timeout", "remote", "jobs"]),
    ("cache", &["dir"]),
    ("run", &["inputs", "outputs", "params", "metrics"]),
    ("hooks", &["max_file_size"]),
    ("remote", &[]),
];

/// One config file, parsed with its spans, for errors that name the line.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
    doc: toml_edit::Document<&'a str>,
}

impl<'a> Source<'a> {
    fn parse(path: &'a Path, text: &'a str) -> Result<Source<'a>> {
        let doc = toml_edit::Document::parse(text).map_err(|e| {
            Error::Config(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: e.span().map(|s| line_at(text, s.start)),
                message: e.message().trim().replace('\n', "; "),
            })
        })?;
        Ok(Source { path, text, doc })
    }

    /// Refuse a section or key rvc does not know, naming its line and the
    /// keys it could have meant.
    fn check_keys(&self) -> Result<()> {
        for (section, item) in self.doc.as_table().iter() {
            let Some((_, known)) = SECTIONS.iter().find(|(name, _)| *name == section) else {
                return Err(self.unknown(&[section], SECTIONS.iter().map(|(n, _)| *n)));
            };
            if section == "remote" {
                continue;
            }
            let Some(table) = item.as_table_like() else {
                return Err(self.invalid(
                    &[section],
                    format!("`{section}` must be a table, e.g. `[{section}]`"),
                ));
            };
            for (key, _) in table.iter() {
                if !known.contains(&key) {
                    return Err(self.unknown(&[section, key], known.iter().copied()));
                }
            }
        }
        Ok(())
    }

    /// The line of the key at `keys` (a path of table names), if present.
    fn line(&self, keys: &[&str]) -> Option<usize> {
        let mut table = self.doc.as_table() as &dyn toml_edit::TableLike;
        let mut span = None;
        for (i, k) in keys.iter().enumerate() {
            let (key, item) = table.get_key_value(k)?;
            span = key.span().or_else(|| item.span());
            if i + 1 < keys.len() {
                table = item.as_table_like()?;
            }
        }
        span.map(|s| line_at(self.text, s.start))
    }

    fn invalid(&self, keys: &[&str], message: String) -> Error {
        Error::Config(ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: self.line(keys),
            message,
        })
    }

    fn unknown<'k>(&self, keys: &[&str], known: impl Iterator<Item = &'k str>) -> Error {
        Error::Config(ConfigError::UnknownKey {
            path: self.path.to_path_buf(),
            line: self.line(keys),
            key: keys.join("."),
            known: known.map(str::to_string).collect(),
        })
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `true`/`yes`/`1` or `false`/`no`/`0`, in any case.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}
