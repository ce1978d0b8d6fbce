//! A real S3-compatible server (s3s-fs) on loopback, run in-process, with
//! signature checking. Its objects live in a temporary directory.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

pub const ACCESS_KEY: &str = "rvc-test-access";
pub const SECRET_KEY: &str = "rvc-test-secret-0123456789";
pub const REGION: &str = "us-east-1";

/// A running server; stopped when dropped.
pub struct S3Server {
    pub addr: SocketAddr,
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
        let mut b = S3ServiceBuilder::new(fs);
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
