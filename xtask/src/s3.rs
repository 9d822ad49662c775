//! The S3-compatible server that the object storage tests run against: `moto_server`
//! (moto 5.2.5, which `.ci/run` installs with pip), started on 127.0.0.1 on a free port
//! for the test step and stopped after it. Its endpoint reaches the tests through
//! [`ENDPOINT_VAR`]. Under CI (`CI` set) a server that cannot start fails the run;
//! elsewhere the tests then skip, saying so.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable the tests read the endpoint from (`fileio-object/tests/common/s3.rs`).
pub(crate) const ENDPOINT_VAR: &str = "FILEIO_S3_ENDPOINT";
/// How long the server may take to accept connections.
const STARTUP: Duration = Duration::from_secs(30);

/// A running server, stopped when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The ways to start moto's server: its script, else the module (the script's
/// directory may not be on `PATH`).
fn commands(port: u16) -> [Command; 2] {
    let port = port.to_string();
    let mut script = Command::new("moto_server");
    script.args(["-H", "127.0.0.1", "-p", &port]);
    let mut module = Command::new("python3");
    module.args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port]);
    [script, module]
}

/// Starts the server, unless [`ENDPOINT_VAR`] already names one (`Ok(None)`: the
/// tests use that one, or skip outside CI when none can be started).
pub(crate) fn start() -> Result<Option<Server>, String> {
    if std::env::var_os(ENDPOINT_VAR).is_some() {
        return Ok(None);
    }
    let ci = std::env::var_os("CI").is_some();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("s3 server: no free port: {e}"))?
        .port();
    let mut last_error = String::new();
    for mut cmd in commands(port) {
        let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => {
                last_error = format!("{cmd:?}: {e}");
                continue;
            }
        };
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                last_error = format!("{cmd:?} exited ({status})");
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let endpoint = format!("http://127.0.0.1:{port}");
                eprintln!("==> S3-compatible server (moto) at {endpoint}");
                return Ok(Some(Server { child, endpoint }));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        if last_error.is_empty() {
            last_error = format!("{cmd:?} did not accept connections within {STARTUP:?}");
        }
    }
    let message = format!(
        "no S3-compatible server ({last_error}); install it with \
         `python3 -m pip install 'moto[server]==5.2.5'`"
    );
    if ci {
        Err(format!("s3 server: {message}"))
    } else {
        eprintln!("note: {message}: the S3 tests will skip");
        Ok(None)
    }
}

/// Creates `bucket` on the server at `endpoint` (a plain `PUT /bucket`, which moto
/// accepts unsigned); an existing bucket is fine.
#[cfg(feature = "s3")]
pub(crate) fn create_bucket(endpoint: &str, bucket: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = TcpStream::connect(host).map_err(|e| format!("s3 server {endpoint}: {e}"))?;
    write!(
        conn,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("s3 server {endpoint}: {e}"))?;
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    let status = answer.split_whitespace().nth(1).unwrap_or_default();
    if status.starts_with('2') || status == "409" {
        Ok(())
    } else {
        Err(format!(
            "s3 server {endpoint}: creating bucket {bucket}: {answer}"
        ))
    }
}
