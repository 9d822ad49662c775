//! The S3-compatible server the integration tests run against: its endpoint comes from
//! `FILEIO_S3_ENDPOINT` (`cargo xtask ci` starts `moto_server` and sets it). Without it
//! the tests are skipped with a message, except under CI (`CI` set), where a missing
//! server fails them.

use std::io::{Read, Write};
use std::sync::Arc;

use fileio_object::object_store::ObjectStore;
use fileio_object::object_store::aws::AmazonS3Builder;

/// The variable naming the server's endpoint (`http://127.0.0.1:PORT`).
pub(crate) const ENDPOINT_VAR: &str = "FILEIO_S3_ENDPOINT";
/// The bucket the tests use (created on first use).
pub(crate) const BUCKET: &str = "fileio-tests";

/// The server's endpoint; `None` (after saying why) when the test is to be skipped.
///
/// # Panics
///
/// Under CI without a server: the run must fail, never skip.
pub(crate) fn endpoint() -> Option<String> {
    match std::env::var(ENDPOINT_VAR) {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{ENDPOINT_VAR} is not set under CI: the S3-compatible server is missing")
        }
        _ => {
            eprintln!(
                "skipped: {ENDPOINT_VAR} is not set (`cargo xtask ci` starts moto_server and sets it)"
            );
            None
        }
    }
}

/// Creates [`BUCKET`] (a plain `PUT /bucket`, which moto accepts unsigned); an existing
/// one is fine.
fn create_bucket(endpoint: &str) {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = std::net::TcpStream::connect(host).expect("connect to the S3 server");
    write!(
        conn,
        "PUT /{BUCKET} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    let status = answer.split_whitespace().nth(1).unwrap_or_default();
    assert!(
        status.starts_with('2') || status == "409",
        "creating the bucket: {answer}"
    );
}

/// A client of the server's [`BUCKET`] (path-style requests over plain HTTP).
pub(crate) fn store(endpoint: &str) -> Arc<dyn ObjectStore> {
    static BUCKET_MADE: std::sync::Once = std::sync::Once::new();
    BUCKET_MADE.call_once(|| create_bucket(endpoint));
    Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .expect("S3 client"),
    )
}

/// A prefix no other test (or earlier run) uses.
pub(crate) fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{test}-{}-{nanos}", std::process::id())
}
