//! A loopback S3 server for trying remotes and for the benchmarks: s3s-fs,
//! with signature checking, the same server the tests start in-process.
//!
//! ```text
//! cargo run --release --example s3_server -- DIR BUCKET [ADDR]
//! ```
//!
//! It prints the environment to export (credentials, endpoint) and serves
//! until killed.

#[path = "../tests/common/s3.rs"]
mod s3;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(bucket)) = (args.next(), args.next()) else {
        eprintln!("usage: s3_server DIR BUCKET [ADDR]");
        std::process::exit(2);
    };
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let server = s3::S3Server::start_on(std::path::Path::new(&dir), &bucket, &addr);
    for (k, v) in server.env() {
        println!("export {k}={v}");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
