//! The settings one command runs with, resolved once when the repository is
//! opened: command-line flags and the environment (which the CLI reads and
//! hands over as [`Overrides`]) win over the config files, which win over
//! the defaults. Values are checked and clamped here, so the code that uses
//! them never has to.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::{self, Config};
use crate::error::{ConfigError, Error, Result};

/// Values from outside the config files: flags and environment variables.
/// The library never reads the environment; the CLI fills this in.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `RVC_LOCK_TIMEOUT`.
    pub lock_timeout: Option<Duration>,
    /// `--jobs`.
    pub jobs: Option<NonZeroUsize>,
    /// `--remote`.
    pub remote: Option<String>,
    /// `AWS_UNSIGNED_PAYLOAD`: whether S3 request bodies go unsigned.
    pub unsigned_payload: Option<bool>,
}

impl Overrides {
    /// Read rvc's environment variables through `var` (the CLI passes
    /// `std::env::var`). A value that does not parse is an error naming the
    /// variable, never silently ignored.
    pub fn from_environment(var: impl Fn(&str) -> Option<String>) -> Result<Overrides> {
        let bad = |var: &'static str, value: String, message: &str| {
            Error::Config(ConfigError::Environment {
                var,
                value,
                message: message.to_string(),
            })
        };
        let lock_timeout = match var("RVC_LOCK_TIMEOUT") {
            None => None,
            Some(v) => Some(Duration::from_secs(v.trim().parse().map_err(|_| {
                bad(
                    "RVC_LOCK_TIMEOUT",
                    v.clone(),
                    "must be a whole number of seconds",
                )
            })?)),
        };
        let unsigned_payload =
            match var("AWS_UNSIGNED_PAYLOAD") {
                None => None,
                Some(v) => Some(config::parse_bool(&v).ok_or_else(|| {
                    bad("AWS_UNSIGNED_PAYLOAD", v.clone(), "must be true or false")
                })?),
            };
        Ok(Overrides {
            lock_timeout,
            unsigned_payload,
            ..Overrides::default()
        })
    }
}

/// The resolved settings of one command in one repository.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long to wait for another rvc process to release a lock.
    pub lock_timeout: Duration,
    /// Where the content store lives.
    pub cache_dir: PathBuf,
    /// The remote to use when a command names none: `--remote`, else
    /// `[core] remote`. `None` leaves the choice to the remote module
    /// (the only configured remote, if there is exactly one).
    pub remote: Option<String>,
    /// The largest file the pre-commit hook lets into git untracked.
    pub max_file_size: u64,
    /// Whether S3 request bodies go unsigned; `None` keeps rvc's default.
    pub unsigned_payload: Option<bool>,
    /// `--jobs`, which wins over every remote's own setting.
    jobs_flag: Option<NonZeroUsize>,
    /// `[core] jobs`, which a remote's own `jobs` wins over.
    jobs_config: Option<NonZeroUsize>,
}

impl Settings {
    /// Merge `overrides` over `config` for the repository at `root`.
    pub fn resolve(root: &Path, config: &Config, overrides: &Overrides) -> Settings {
        Settings {
            lock_timeout: overrides
                .lock_timeout
                .or(config.lock_timeout)
                .unwrap_or(config::DEFAULT_LOCK_TIMEOUT),
            cache_dir: config
                .cache_dir
                .clone()
                .unwrap_or_else(|| root.join(super::RVC_DIR).join("cache")),
            remote: overrides
                .remote
                .clone()
                .or_else(|| config.default_remote.clone()),
            max_file_size: config
                .max_file_size
                .unwrap_or(config::DEFAULT_MAX_FILE_SIZE),
            unsigned_payload: overrides.unsigned_payload,
            jobs_flag: overrides.jobs,
            jobs_config: config.jobs,
        }
    }

    /// Transfers in flight at once for a remote whose own `[remote.NAME]
    /// jobs` is `remote_jobs`: `--jobs`, else the remote's own, else
    /// `[core] jobs`, else enough to hide the latency of object storage,
    /// which is per request and per stream, not per byte (a 1 GiB pull from
    /// the loopback test server took 10.3 s with 8 and 7.8 s with 32; see
    /// docs/benchmarks.md).
    pub fn jobs(&self, remote_jobs: Option<NonZeroUsize>) -> NonZeroUsize {
        self.jobs_flag
            .or(remote_jobs)
            .or(self.jobs_config)
            .unwrap_or_else(|| {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                NonZeroUsize::new((cores * 8).clamp(16, 32)).expect("at least 16")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn environment_is_parsed_and_bad_values_refused() {
        let o = Overrides::from_environment(env(&[
            ("RVC_LOCK_TIMEOUT", " 5 "),
            ("AWS_UNSIGNED_PAYLOAD", "false"),
        ]))
        .unwrap();
        assert_eq!(o.lock_timeout, Some(Duration::from_secs(5)));
        assert_eq!(o.unsigned_payload, Some(false));

        let e = Overrides::from_environment(env(&[("RVC_LOCK_TIMEOUT", "soon")])).unwrap_err();
        assert_eq!(e.kind(), "bad_environment");
        assert!(e.to_string().contains("RVC_LOCK_TIMEOUT=`soon`"), "{e}");
        let e = Overrides::from_environment(env(&[("AWS_UNSIGNED_PAYLOAD", "maybe")])).unwrap_err();
        assert!(e.to_string().contains("AWS_UNSIGNED_PAYLOAD"), "{e}");
    }

    #[test]
    fn flags_win_over_remote_over_core_over_default() {
        let n = |v| NonZeroUsize::new(v);
        let root = Path::new("/r");
        let config = Config {
            jobs: n(4),
            lock_timeout: Some(Duration::from_secs(9)),
            default_remote: Some("origin".into()),
            ..Config::default()
        };
        let s = Settings::resolve(root, &config, &Overrides::default());
        assert_eq!(s.jobs(None), n(4).unwrap());
        assert_eq!(s.jobs(n(2)), n(2).unwrap());
        assert_eq!(s.lock_timeout, Duration::from_secs(9));
        assert_eq!(s.remote.as_deref(), Some("origin"));
        assert_eq!(s.cache_dir, root.join(".rvc/cache"));
        assert_eq!(s.max_file_size, config::DEFAULT_MAX_FILE_SIZE);

        let s = Settings::resolve(
            root,
            &config,
            &Overrides {
                jobs: n(7),
                remote: Some("backup".into()),
                lock_timeout: Some(Duration::from_secs(1)),
                unsigned_payload: None,
            },
        );
        assert_eq!(s.jobs(n(2)), n(7).unwrap());
        assert_eq!(s.remote.as_deref(), Some("backup"));
        assert_eq!(s.lock_timeout, Duration::from_secs(1));

        let s = Settings::resolve(root, &Config::default(), &Overrides::default());
        let default = s.jobs(None).get();
        assert!((16..=32).contains(&default), "{default}");
    }
}
