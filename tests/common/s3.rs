//! A real S3-compatible server (s3s-fs) on loopback, run in-process, with
//! signature checking. Its objects live in a temporary directory.
//!
//! Every request is served by s3s-fs as it is, except that GET bodies are
//! read from disk in 1 MiB positional reads instead of s3s-fs's 4 KiB reads
//! through tokio's blocking pool. Those cost about 8 s of server CPU per GiB
//! served, on the same cores as the client under test, which made any
//! large download measure the server rather than the client (see
//! docs/benchmarks.md, "Remotes"). Status, headers, ranges, ETags and
//! errors still come from s3s-fs.
//!
//! Faults can be injected while it runs ([`Faults`]): the next N requests
//! answered with 500 or 503, or the next N GET bodies cut off half way
//! (the connection drops mid-transfer).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::dto;
use s3s::service::S3ServiceBuilder;
use s3s::{S3Request, S3Response, S3Result, S3};

pub const ACCESS_KEY: &str = "rvc-test-access";
pub const SECRET_KEY: &str = "rvc-test-secret-0123456789";
pub const REGION: &str = "us-east-1";

/// Faults to inject, shared with the running server.
#[derive(Debug, Default)]
pub struct Faults {
    /// Answer this many of the next requests with an error status.
    pub fail_next: AtomicU32,
    /// The status of those answers: 503 when set, else 500.
    pub unavailable: AtomicBool,
    /// Cut this many of the next GET bodies off half way.
    pub cut_next_gets: AtomicU32,
    /// Requests answered with an injected error status, and GET bodies cut.
    pub failed: AtomicU32,
    pub cut: AtomicU32,
}

impl Faults {
    /// Take one from `counter` if it is not zero.
    fn take(counter: &AtomicU32) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// An injected error status for this request, if one is due.
    fn check(&self) -> S3Result<()> {
        if !Faults::take(&self.fail_next) {
            return Ok(());
        }
        self.failed.fetch_add(1, Ordering::SeqCst);
        Err(if self.unavailable.load(Ordering::SeqCst) {
            s3s::s3_error!(ServiceUnavailable, "injected fault")
        } else {
            s3s::s3_error!(InternalError, "injected fault")
        })
    }
}

/// A running server; stopped when dropped.
pub struct S3Server {
    pub addr: SocketAddr,
    /// Faults to inject into the requests that come next.
    pub faults: Arc<Faults>,
    /// The directory holding the buckets (one subdirectory each).
    pub root: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl S3Server {
    /// Serve `root` (created if needed) with one bucket, `bucket`.
    pub fn start(root: &Path, bucket: &str) -> S3Server {
        Self::start_on(root, bucket, "127.0.0.1:0")
    }

    /// Serve on a given address (to come back on the same port).
    pub fn start_on(root: &Path, bucket: &str, addr: &str) -> S3Server {
        std::fs::create_dir_all(root.join(bucket)).expect("create the bucket directory");
        let root = root.to_path_buf();
        let fs = s3s_fs::FileSystem::new(&root).expect("s3s-fs opens its root");
        let faults = Arc::new(Faults::default());
        let mut b = S3ServiceBuilder::new(FastGet {
            inner: fs,
            root: root.clone(),
            faults: faults.clone(),
        });
        b.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = b.build();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let addr = addr.to_string();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the test server");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&addr)
                    .await
                    .expect("bind the test server");
                addr_tx
                    .send(listener.local_addr().expect("a local address"))
                    .expect("the test waits for the address");
                let http = ConnBuilder::new(TokioExecutor::new());
                let mut connections = tokio::task::JoinSet::new();
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((socket, _)) = accepted else { continue };
                            let conn = http
                                .serve_connection(TokioIo::new(socket), service.clone())
                                .into_owned();
                            connections.spawn(async move {
                                let _ = conn.await;
                            });
                        }
                        _ = &mut stop_rx => break,
                    }
                }
                // Going away: every open connection is dropped mid-request.
                connections.abort_all();
            });
            rt.shutdown_background();
        });
        let addr = addr_rx.recv().expect("the server reports its address");
        S3Server {
            addr,
            faults,
            root,
            shutdown: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment that points rvc (and object_store) at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ENDPOINT", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
    }

    /// Stop serving; connections in flight are cut.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// s3s-fs with large reads for GET bodies (see the module comment).
struct FastGet {
    inner: s3s_fs::FileSystem,
    root: PathBuf,
    faults: Arc<Faults>,
}

/// Bytes read from disk per step of a GET body.
const GET_READ: u64 = 1 << 20;

/// `impl S3 for FastGet`: the given operations forwarded to s3s-fs as
/// they are, plus the items written out. (The forwarding is written by this
/// macro around the whole impl, so that `async_trait` sees it expanded.)
macro_rules! s3_impl {
    ([$($op:ident: $input:ident => $output:ident;)*] $($item:item)*) => {
        #[async_trait::async_trait]
        impl S3 for FastGet {
            $(
                async fn $op(
                    &self,
                    req: S3Request<dto::$input>,
                ) -> S3Result<S3Response<dto::$output>> {
                    self.faults.check()?;
                    self.inner.$op(req).await
                }
            )*
            $($item)*
        }
    };
}

s3_impl! {
    [
        create_bucket: CreateBucketInput => CreateBucketOutput;
        copy_object: CopyObjectInput => CopyObjectOutput;
        delete_bucket: DeleteBucketInput => DeleteBucketOutput;
        delete_object: DeleteObjectInput => DeleteObjectOutput;
        delete_objects: DeleteObjectsInput => DeleteObjectsOutput;
        get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput;
        head_bucket: HeadBucketInput => HeadBucketOutput;
        head_object: HeadObjectInput => HeadObjectOutput;
        list_buckets: ListBucketsInput => ListBucketsOutput;
        list_objects: ListObjectsInput => ListObjectsOutput;
        list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
        put_object: PutObjectInput => PutObjectOutput;
        create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput;
        upload_part: UploadPartInput => UploadPartOutput;
        upload_part_copy: UploadPartCopyInput => UploadPartCopyOutput;
        list_parts: ListPartsInput => ListPartsOutput;
        complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput;
        abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput;
    ]

    async fn get_object(
        &self,
        req: S3Request<dto::GetObjectInput>,
    ) -> S3Result<S3Response<dto::GetObjectOutput>> {
        self.faults.check()?;
        let path = self.root.join(&req.input.bucket).join(&req.input.key);
        let range = req.input.range;
        // s3s-fs checks the key and the range, and answers every header;
        // its body stream is dropped unread.
        let mut resp = self.inner.get_object(req).await?;
        let file = std::fs::File::open(&path)
            .map_err(|e| s3s::s3_error!(e, InternalError, "reopen {}", path.display()))?;
        let len = file
            .metadata()
            .map_err(|e| s3s::s3_error!(e, InternalError, "stat {}", path.display()))?
            .len();
        let span = match range {
            None => 0..len,
            Some(r) => r.check(len)?,
        };
        if Faults::take(&self.faults.cut_next_gets) {
            // Half the body, then the connection drops.
            self.faults.cut.fetch_add(1, Ordering::SeqCst);
            let half = span.start..span.start + (span.end - span.start) / 2;
            let cut = futures::stream::once(async {
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected: connection dropped",
                ))
            });
            resp.output.body = Some(dto::StreamingBlob::wrap(
                futures::StreamExt::chain(read_span(file, half), cut),
            ));
        } else {
            resp.output.body = Some(dto::StreamingBlob::wrap(read_span(file, span)));
        }
        Ok(resp)
    }
}

/// The bytes of `file` in `span`, in positional reads of `GET_READ` on the
/// blocking pool.
fn read_span(
    file: std::fs::File,
    span: std::ops::Range<u64>,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send + Sync + 'static {
    let file = std::sync::Arc::new(file);
    futures::stream::try_unfold(span, move |span| {
        let file = file.clone();
        async move {
            if span.start >= span.end {
                return Ok(None);
            }
            let want = (span.end - span.start).min(GET_READ) as usize;
            let start = span.start;
            let buf = tokio::task::spawn_blocking(move || {
                use std::os::unix::fs::FileExt;
                let mut buf = vec![0u8; want];
                file.read_exact_at(&mut buf, start)?;
                Ok::<_, std::io::Error>(buf)
            })
            .await
            .map_err(std::io::Error::other)??;
            Ok(Some((
                bytes::Bytes::from(buf),
                start + want as u64..span.end,
            )))
        }
    })
}
