//! Repository settings: `.rvc/config.toml` (committed) merged with
//! `.rvc/config.local.toml` (machine-local, ignored by git). Local values win.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

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
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCore {
    lock_timeout: Option<u64>,
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

[cache]
# Keep the content store somewhere else, e.g. a shared disk.
# dir = \"/mnt/shared/rvc-cache\"

[run]
# Defaults for `rvc lock NAME`; a flag of the same kind replaces them. `{name}` is the run's name.
# inputs = [\"data\"]
# outputs = [\"runs/{name}\"]
# params = [\"params.yaml\"]
# metrics = [\"runs/{name}/trainer_state.json\"]
";

/// The local config file `rvc init` writes.
pub const INITIAL_LOCAL_CONFIG: &str = "\
# Machine-local rvc settings. This file is ignored by git: keep credentials here.
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
            let raw: RawFile = toml::from_str(&text).map_err(|e| Error::Config {
                path: path.clone(),
                line: e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
                message: e.message().trim().replace('\n', "; "),
            })?;
            if let Some(dir) = raw.cache.dir {
                // A relative cache dir is relative to the repository root.
                cfg.cache_dir = Some(if dir.is_absolute() {
                    dir
                } else {
                    rvc_dir.parent().unwrap_or(rvc_dir).join(dir)
                });
            }
            if let Some(run) = raw.run {
                cfg.run = run;
            }
            if let Some(secs) = raw.core.lock_timeout {
                cfg.lock_timeout = Some(Duration::from_secs(secs));
            }
        }
        Ok(cfg)
    }
}
