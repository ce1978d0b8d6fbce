//! Editing the `[remote.NAME]` tables of the config files, keeping the
//! user's comments and layout (through `toml_edit`).

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::error::{ConfigError, Error, OptionProblem, RemoteError, Result};
use crate::repository::config::{is_secret_key, Config};
use crate::repository::settings::{Overrides, Settings};

/// A remote to add.
#[derive(Clone, Debug, Default)]
pub struct NewRemote {
    pub name: String,
    pub url: String,
    /// Options such as `endpoint`, `region`, `allow_http`.
    pub options: Vec<(String, String)>,
    /// Write to config.local.toml (not committed) instead of config.toml.
    pub local: bool,
    /// Make it the default remote.
    pub default: bool,
    /// Replace a remote of the same name.
    pub force: bool,
}

/// A remote name: letters, digits, `-`, `_` and `.`.
pub fn check_name(name: &str) -> std::result::Result<(), RemoteError> {
    let bad = |reason: &str| RemoteError::BadName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() || name.len() > 64 {
        return Err(bad("a remote name has 1 to 64 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(bad(
            "it has characters other than letters, digits, `-`, `_` and `.`",
        ));
    }
    Ok(())
}

/// One configured remote, as `rvc remote list` shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Listing {
    pub name: String,
    pub url: Option<String>,
    /// Whether commands use it when no remote is named: the configured
    /// default, or the only remote there is.
    pub default: bool,
    /// Options; credentials show as `(set)`, never their value.
    pub options: std::collections::BTreeMap<String, String>,
    /// The keys whose values come from `.rvc/config.local.toml`.
    pub local: Vec<String>,
}

/// Every configured remote, by name.
pub fn list(config: &Config) -> Vec<Listing> {
    config
        .remotes
        .iter()
        .map(|(name, s)| Listing {
            name: name.clone(),
            url: s.url.clone(),
            default: config.default_remote.as_deref() == Some(name.as_str())
                || (config.default_remote.is_none() && config.remotes.len() == 1),
            options: s
                .options
                .iter()
                .map(|(k, v)| {
                    let shown = if is_secret_key(k) {
                        "(set)".to_string()
                    } else {
                        v.clone()
                    };
                    (k.clone(), shown)
                })
                .collect(),
            local: s.from_local.iter().map(|x| x.to_string()).collect(),
        })
        .collect()
}

/// Add a remote to the config.
pub fn add(root: &Path, config: &Config, new: &NewRemote) -> Result<PathBuf> {
    check_name(&new.name)?;
    super::parse_url(root, &new.url)?;
    if config.remotes.contains_key(&new.name) && !new.force {
        return Err(Error::Remote(RemoteError::Exists {
            name: new.name.clone(),
        }));
    }
    for (k, _) in &new.options {
        if k == "url" {
            return Err(Error::Remote(RemoteError::BadOption {
                key: k.clone(),
                reason: OptionProblem::IsUrl,
            }));
        }
        if is_secret_key(k) && !new.local {
            return Err(Error::Remote(RemoteError::BadOption {
                key: k.clone(),
                reason: OptionProblem::Secret,
            }));
        }
    }
    let rvc = root.join(crate::repository::RVC_DIR);
    // Check the options the way the remote will be opened, before writing.
    let mut trial = config.clone();
    let settings = trial.remotes.entry(new.name.clone()).or_default();
    settings.url = Some(new.url.clone());
    settings.options = new.options.iter().cloned().collect();
    let is_local_path = super::parse_url(root, &new.url).is_ok_and(|u| u.scheme() == "file");
    if !is_local_path {
        let resolved = Settings::resolve(root, &trial, &Overrides::default());
        super::Remote::open_in(root, &trial, &resolved, Some(&new.name))?;
    }
    if new.force {
        remove_from(&rvc.join("config.toml"), &new.name)?;
        remove_from(&rvc.join("config.local.toml"), &new.name)?;
    }
    let file = rvc.join(if new.local {
        "config.local.toml"
    } else {
        "config.toml"
    });
    edit(&file, |doc| {
        // Comments at the end of the file stay above the new table.
        let trailing = doc.trailing().as_str().unwrap_or_default().to_string();
        let mut t = Table::new();
        if !trailing.trim().is_empty() {
            t.decor_mut()
                .set_prefix(format!("{}\n\n", trailing.trim_end()));
        }
        t.insert("url", toml_edit::value(new.url.clone()));
        for (k, v) in &new.options {
            t.insert(k, Item::Value(option_value(v)));
        }
        let remotes = doc
            .entry("remote")
            .or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            })
            .as_table_mut()
            .ok_or("`remote` is not a table")?;
        remotes.insert(&new.name, Item::Table(t));
        doc.set_trailing("");
        Ok(())
    })?;
    if new.default {
        set_default(root, &new.name, new.local)?;
    }
    Ok(file)
}

/// `true`/`false` and integers are written as such; the rest as strings.
fn option_value(v: &str) -> Value {
    match v {
        "true" => Value::from(true),
        "false" => Value::from(false),
        _ => match v.parse::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => Value::from(v),
        },
    }
}

/// Remove a remote from both config files, and as the default.
pub fn remove(root: &Path, config: &Config, name: &str) -> Result<()> {
    if !config.remotes.contains_key(name) {
        return Err(Error::Remote(RemoteError::UnknownRemote {
            name: name.into(),
            known: config.remotes.keys().cloned().collect(),
        }));
    }
    let rvc = root.join(crate::repository::RVC_DIR);
    for f in ["config.toml", "config.local.toml"] {
        let path = rvc.join(f);
        remove_from(&path, name)?;
        if path.is_file() {
            edit(&path, |doc| {
                if let Some(core) = doc.get_mut("core").and_then(|c| c.as_table_mut()) {
                    if core.get("remote").and_then(|r| r.as_str()) == Some(name) {
                        core.remove("remote");
                    }
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Make `name` the default remote (in config.local.toml with `local`).
pub fn set_default(root: &Path, name: &str, local: bool) -> Result<()> {
    let rvc = root.join(crate::repository::RVC_DIR);
    let file = rvc.join(if local {
        "config.local.toml"
    } else {
        "config.toml"
    });
    edit(&file, |doc| {
        let core = doc
            .entry("core")
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_mut()
            .ok_or("`core` is not a table")?;
        core.insert("remote", toml_edit::value(name));
        Ok(())
    })
}

fn remove_from(path: &Path, name: &str) -> Result<()> {
    if !path.is_file() {
        return Ok(());
    }
    edit(path, |doc| {
        if let Some(remotes) = doc.get_mut("remote").and_then(|r| r.as_table_like_mut()) {
            remotes.remove(name);
        }
        Ok(())
    })
}

/// Read, change and atomically rewrite one config file.
fn edit(
    path: &Path,
    change: impl FnOnce(&mut DocumentMut) -> std::result::Result<(), &'static str>,
) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(Error::Io {
                op: "read config",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let bad = |message: String| {
        Error::Config(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: None,
            message,
        })
    };
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| bad(e.message().trim().replace('\n', "; ")))?;
    change(&mut doc).map_err(|m| bad(m.to_string()))?;
    crate::io::atomic::write_atomic(path, doc.to_string().as_bytes())
}
