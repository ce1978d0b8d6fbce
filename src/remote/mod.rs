//! Remotes: the store's objects in object storage (S3, GCS, Azure, HTTP or
//! a local path), through the `object_store` crate.
//!
//! ```text
//! <prefix>/rvc-remote                   "rvc remote v1\n": what this is
//! <prefix>/chunks/<2 hex>/<62 hex>      loose chunks, encoded as in the store
//! <prefix>/manifests/<2 hex>/<62 hex>   manifests
//! <prefix>/trees/<2 hex>/<62 hex>       tree listings
//! <prefix>/packs/<pack id>.pack         packs, in the store's pack format
//! <prefix>/packs/<pack id>.idx          and their indexes
//! <prefix>/index/<BLAKE3 of the object> what one push made available
//! ```
//!
//! Objects are transferred as they are stored, so nothing is re-encoded.
//! What a remote holds is known from its [`index`] objects, which a push
//! writes only after the objects they list are uploaded: finding what is
//! missing costs one listing of `index/` (a handful of keys), not a listing
//! of the bucket or a request per object.
//!
//! Every object fetched is verified against its id before it enters the
//! local store; a remote is as untrusted as any other input.

pub mod fetch;
mod in_order;
pub mod index;
pub mod pull;
pub mod push;
pub mod settings;
mod targets;

pub use fetch::{fetch, FetchReport};
pub use pull::{pull, PullReport};
pub use push::{push, PushReport};
pub use targets::{checkout_targets, roots_for, Scope};

use std::num::NonZeroUsize;
use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreScheme};

use crate::error::{Error, Failure, RemoteError, Result};
use crate::format::id::Id;
use crate::repository::config::{Config, RemoteSettings};
use crate::repository::settings::Settings;
use crate::repository::Repo;
use crate::store::{Area, ObjectRef};

/// The marker object at the top of every rvc remote.
pub const MARKER: &str = "rvc-remote";
const MARKER_TEXT: &[u8] = b"rvc remote v1\n";

/// Objects larger than this are uploaded in parts.
pub const MULTIPART_THRESHOLD: u64 = 16 << 20;
/// The size of each part of a multipart upload.
pub const PART_SIZE: usize = 16 << 20;

/// Which remote a transfer went to, and how: the head of the push and
/// fetch reports.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Endpoint {
    pub remote: String,
    pub url: String,
    /// Transfers that were kept in flight at once.
    pub jobs: usize,
}

impl Endpoint {
    pub(crate) fn of(remote: &Remote, opts: TransferOptions) -> Endpoint {
        Endpoint {
            remote: remote.name.clone(),
            url: remote.url.clone(),
            jobs: opts.jobs.get(),
        }
    }
}

/// Options shared by push, fetch and pull.
#[derive(Clone, Copy, Debug)]
pub struct TransferOptions {
    /// Transfers in flight at once.
    pub jobs: NonZeroUsize,
}

/// An opened remote.
#[derive(Clone, Debug)]
pub struct Remote {
    pub name: String,
    /// The URL, as configured (no credentials are ever part of it).
    pub url: String,
    /// Transfers in flight, when `[remote.NAME] jobs` sets it.
    pub jobs: Option<NonZeroUsize>,
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl Remote {
    /// Open the remote the repository's settings choose: `--remote`, else
    /// `[core] remote`, else the only one configured.
    pub fn open(repo: &Repo) -> Result<Remote> {
        Remote::open_in(repo.root(), repo.config(), repo.settings(), None)
    }

    /// Open the remote `name`, or the one `settings` choose, from `config`.
    pub(crate) fn open_in(
        root: &FsPath,
        config: &Config,
        resolved: &Settings,
        name: Option<&str>,
    ) -> Result<Remote> {
        let name = match name.or(resolved.remote.as_deref()) {
            Some(n) => n.to_string(),
            None => match config.remotes.len() {
                1 => config.remotes.keys().next().expect("one").clone(),
                0 => return Err(Error::Remote(RemoteError::NoRemote { configured: vec![] })),
                _ => {
                    return Err(Error::Remote(RemoteError::NoRemote {
                        configured: config.remotes.keys().cloned().collect(),
                    }))
                }
            },
        };
        let Some(settings) = config.remotes.get(&name) else {
            return Err(Error::Remote(RemoteError::UnknownRemote {
                name,
                known: config.remotes.keys().cloned().collect(),
            }));
        };
        let Some(url_text) = settings.url.clone() else {
            return Err(Error::Remote(RemoteError::BadSettings {
                name,
                message: "it has no `url`".into(),
            }));
        };
        let (store, prefix) = connect(root, &name, &url_text, settings, resolved.unsigned_payload)?;
        let jobs = match settings.options.get("jobs") {
            None => None,
            Some(v) => match v.parse::<NonZeroUsize>() {
                Ok(j) => Some(j),
                _ => {
                    return Err(Error::Remote(RemoteError::BadSettings {
                        name,
                        message: format!("jobs must be a whole number from 1 up, not `{v}`"),
                    }))
                }
            },
        };
        Ok(Remote {
            name,
            url: url_text,
            jobs,
            store,
            prefix,
        })
    }

    /// The key of `rel` (a `/`-separated path) under the remote's prefix.
    pub(crate) fn key(&self, rel: &str) -> Path {
        if self.prefix.as_ref().is_empty() {
            Path::from(rel)
        } else {
            Path::from(format!("{}/{rel}", self.prefix))
        }
    }

    /// The key of a loose object.
    pub(crate) fn object_key(&self, o: ObjectRef) -> Path {
        self.key(&object_rel(o.area, &o.id))
    }

    pub(crate) fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// A name for this remote's local state: the URL's hash, so that a
    /// remote renamed or re-pointed never reuses another's cache.
    pub(crate) fn state_name(&self) -> String {
        blake3::hash(self.url.as_bytes()).to_hex()[..16].to_string()
    }

    /// Turn an object_store error into ours, naming this remote.
    pub(crate) fn err(&self, op: &str, e: object_store::Error) -> Error {
        remote_error(&self.name, op, e)
    }
}

/// `chunks/ab/cdef…` for a loose object.
pub(crate) fn object_rel(area: Area, id: &Id) -> String {
    let hex = id.to_hex();
    let dir = match area {
        Area::Chunk => "chunks",
        Area::Manifest => "manifests",
        Area::Tree => "trees",
    };
    format!("{dir}/{}/{}", &hex[..2], &hex[2..])
}

/// Build the object store for `url`. Credentials and options come from the
/// environment (as object_store's `from_env` builders read them), then from
/// the remote's settings.
fn connect(
    root: &FsPath,
    name: &str,
    url: &str,
    settings: &RemoteSettings,
    unsigned_payload: Option<bool>,
) -> Result<(Arc<dyn ObjectStore>, Path)> {
    let bad = |message: String| {
        Error::Remote(RemoteError::BadSettings {
            name: name.to_string(),
            message,
        })
    };
    let mut options: Vec<(String, String)> = Vec::new();
    let mut retry = object_store::RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    for (k, v) in &settings.options {
        match k.as_str() {
            "max_retries" => {
                retry.max_retries = v
                    .parse()
                    .map_err(|_| bad(format!("max_retries must be a number, not `{v}`")))?
            }
            "retry_timeout" => {
                retry.retry_timeout = Duration::from_secs(v.parse().map_err(|_| {
                    bad(format!(
                        "retry_timeout must be a number of seconds, not `{v}`"
                    ))
                })?)
            }
            // Friendlier spellings of object_store's keys.
            "path_style" => options.push((
                "virtual_hosted_style_request".into(),
                (!crate::repository::config::parse_bool(v)
                    .ok_or_else(|| bad(format!("path_style must be true or false, not `{v}`")))?)
                .to_string(),
            )),
            "jobs" => {} // rvc's own: read by Remote::open
            _ => options.push((k.clone(), v.clone())),
        }
    }
    let parsed = parse_url(root, url).map_err(|e| bad(e.to_string()))?;
    let (scheme, path) = ObjectStoreScheme::parse(&parsed)
        .map_err(|e| bad(format!("unsupported URL `{url}`: {e}")))?;
    let prefix = Path::parse(path).map_err(|e| bad(format!("bad path in `{url}`: {e}")))?;
    macro_rules! configure {
        ($builder:expr, $key:ty) => {{
            let mut b = $builder.with_url(parsed.as_str()).with_retry(retry.clone());
            for (k, v) in &options {
                let key: $key = k.parse().map_err(|_| {
                    bad(format!(
                        "unknown option `{k}` for a {} remote",
                        scheme_name(&scheme)
                    ))
                })?;
                b = b.with_config(key, v.clone());
            }
            Arc::new(b.build().map_err(|e| bad(describe(&e)))?) as Arc<dyn ObjectStore>
        }};
    }
    let store: Arc<dyn ObjectStore> = match scheme {
        ObjectStoreScheme::Local => {
            if let Some((k, _)) = options.first() {
                return Err(bad(format!("option `{k}` does not apply to a local path")));
            }
            let dir = parsed
                .to_file_path()
                .map_err(|()| bad(format!("`{url}` is not a local path")))?;
            std::fs::create_dir_all(&dir).map_err(|e| {
                bad(format!(
                    "cannot create the directory {}: {e}",
                    dir.display()
                ))
            })?;
            let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                .map_err(|e| bad(describe(&e)))?
                .with_automatic_cleanup(true);
            return Ok((Arc::new(fs), Path::default()));
        }
        ObjectStoreScheme::AmazonS3 => {
            let mut b = object_store::aws::AmazonS3Builder::from_env();
            // Bodies go unsigned unless asked otherwise (`unsigned_payload =
            // false`, or AWS_UNSIGNED_PAYLOAD=false): the request is still
            // signed, and every object is checked against its BLAKE3 id when
            // it is fetched, so hashing each body with SHA-256 on both ends
            // buys nothing and costs CPU on every byte.
            b = b.with_unsigned_payload(unsigned_payload.unwrap_or(true));
            configure!(b, object_store::aws::AmazonS3ConfigKey)
        }
        ObjectStoreScheme::GoogleCloudStorage => configure!(
            object_store::gcp::GoogleCloudStorageBuilder::from_env(),
            object_store::gcp::GoogleConfigKey
        ),
        ObjectStoreScheme::MicrosoftAzure => configure!(
            object_store::azure::MicrosoftAzureBuilder::from_env(),
            object_store::azure::AzureConfigKey
        ),
        ObjectStoreScheme::Http => {
            // The HTTP store is rooted at the URL's origin; the path is the prefix.
            let origin = &parsed[..url::Position::BeforePath];
            let mut b = object_store::http::HttpBuilder::new()
                .with_url(origin)
                .with_retry(retry.clone());
            for (k, v) in &options {
                let key: object_store::ClientConfigKey = k
                    .parse()
                    .map_err(|_| bad(format!("unknown option `{k}` for an http remote")))?;
                b = b.with_config(key, v.clone());
            }
            Arc::new(b.build().map_err(|e| bad(describe(&e)))?)
        }
        other => {
            return Err(bad(format!(
                "unsupported URL scheme ({other:?}) in `{url}`"
            )))
        }
    };
    Ok((store, prefix))
}

fn scheme_name(s: &ObjectStoreScheme) -> &'static str {
    match s {
        ObjectStoreScheme::AmazonS3 => "s3",
        ObjectStoreScheme::GoogleCloudStorage => "gs",
        ObjectStoreScheme::MicrosoftAzure => "az",
        ObjectStoreScheme::Http => "http",
        _ => "local",
    }
}

/// Parse a remote URL; a plain path (absolute, or relative to the
/// repository root) is a local remote.
pub fn parse_url(root: &FsPath, url: &str) -> std::result::Result<url::Url, RemoteError> {
    let bad = |reason: String| RemoteError::BadUrl {
        url: without_credentials(url),
        reason,
    };
    if url.is_empty() {
        return Err(bad("the URL is empty".into()));
    }
    if !url.contains("://") && !url.starts_with("file:") {
        let p = FsPath::new(url);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            root.join(p)
        };
        return url::Url::from_directory_path(&abs)
            .map_err(|()| bad("it cannot be used as a local path".into()));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(format!("{e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "it contains credentials, which belong in .rvc/config.local.toml or the environment"
                .into(),
        ));
    }
    match parsed.scheme() {
        "file" | "s3" | "s3a" | "gs" | "az" | "adl" | "azure" | "abfs" | "abfss" | "http"
        | "https" => Ok(parsed),
        s => Err(bad(format!("unsupported URL scheme `{s}`"))),
    }
}

/// `url` with any `user:password@` replaced by `***@`, for messages.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// An object_store error as text, with its causes.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        source = c.source();
    }
    s
}

/// Tell an authentication failure or a missing bucket from an error
/// message (object_store reports some of them only as text).
pub(crate) fn classify(text: &str) -> Failure {
    const AUTH: [&str; 6] = [
        "403 Forbidden",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AccessDenied",
        "lacked the necessary privileges",
        "Unauthenticated",
    ];
    if AUTH.iter().any(|a| text.contains(a)) {
        Failure::Auth
    } else if text.contains("NoSuchBucket") {
        Failure::NotFound
    } else {
        Failure::Other
    }
}

pub(crate) fn remote_error(name: &str, op: &str, e: object_store::Error) -> Error {
    let kind = match &e {
        object_store::Error::Unauthenticated { .. }
        | object_store::Error::PermissionDenied { .. } => Failure::Auth,
        object_store::Error::NotFound { .. } => Failure::NotFound,
        _ => {
            let text = describe(&e);
            if text.contains("403")
                || text.contains("SignatureDoesNotMatch")
                || text.contains("InvalidAccessKeyId")
                || text.contains("AccessDenied")
            {
                Failure::Auth
            } else if text.contains("NoSuchBucket") {
                Failure::NotFound
            } else {
                Failure::Other
            }
        }
    };
    Error::Remote(RemoteError::Transfer {
        remote: name.to_string(),
        message: format!("{op}: {}", describe(&e)),
        kind,
    })
}

/// Write the marker if the remote has none; check it if it has one.
pub(crate) async fn check_marker(remote: &Remote, create: bool) -> Result<bool> {
    use object_store::ObjectStoreExt;
    let key = remote.key(MARKER);
    match remote.store.get(&key).await {
        Ok(got) => {
            let bytes = got
                .bytes()
                .await
                .map_err(|e| remote.err("read the marker", e))?;
            if bytes.as_ref() != MARKER_TEXT {
                return Err(Error::Remote(RemoteError::BadSettings {
                    name: remote.name.clone(),
                    message: format!(
                        "{} is not an rvc v1 remote marker (found {} bytes of something else)",
                        key,
                        bytes.len()
                    ),
                }));
            }
            Ok(true)
        }
        Err(object_store::Error::NotFound { .. }) if create => {
            remote
                .store
                .put(&key, MARKER_TEXT.to_vec().into())
                .await
                .map_err(|e| remote.err("write the remote marker", e))?;
            Ok(true)
        }
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(remote.err("reach the remote", e)),
    }
}

/// A runtime for the transfers. Object storage is latency-bound, so a
/// couple of threads carry many requests.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            op: "start the transfer runtime for",
            path: ".".into(),
            source,
        })
}
