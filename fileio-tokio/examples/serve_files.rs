//! Serves a directory over HTTP/1.1 through fileio: `GET` and `HEAD`, single byte
//! ranges (`Range: bytes=...`, RFC 9110 §14), and a strong `ETag` taken from the file's
//! stamp (its length and version), with `If-None-Match` and `If-Range`.
//!
//! ```text
//! cargo run --release -p fileio-tokio --example serve_files -- --root DIR [--addr 127.0.0.1:8080] [--handler fileio|tokio-fs]
//! ```
//!
//! One server worker (a current-thread runtime) serves every connection.
//! `--handler tokio-fs` answers with `tokio::fs::read` instead, for comparison: it makes
//! the same lexical path checks but no symlink check, and serves whole files only.
//!
//! Safe to copy:
//! - A request path never leaves the served directory: `..` segments, absolute paths,
//!   backslashes, NUL bytes and bad percent-escapes are refused with 404 before any
//!   file system call. On Linux the file is then opened with `openat2` and
//!   `RESOLVE_BENEATH` relative to the served directory, so a symlink that points out of
//!   it fails in the kernel, with no window between a check and the open; elsewhere the
//!   canonical path must start with the canonical root.
//! - A `Range` that no byte of the file satisfies gets 416 with `Content-Range: bytes
//!   */LEN`. A malformed `Range`, one with another unit, or several ranges are ignored
//!   (RFC 9110 §14.2 lets a server ignore the field): the answer is the whole file, 200.
//! - A file whose stamp is still racy (changed within the last 20 ms, see
//!   `Clock::is_racy`) gets no `ETag`: two changes in one tick of the file system's clock
//!   can leave its stamp equal, and a client must never be told that old bytes are
//!   current.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use fileio_core::Clock;
use fileio_tokio::File;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Which handler answers requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handler {
    /// fileio: open, positional reads through the range cache, stamp for the ETag.
    Fileio,
    /// `tokio::fs::read` of the whole file, for comparison.
    TokioFs,
}

/// The served directory.
#[derive(Debug)]
struct Root {
    path: PathBuf,
    /// The directory itself, open, for `openat2(RESOLVE_BENEATH)`.
    #[cfg(target_os = "linux")]
    dir: std::fs::File,
    #[cfg(not(target_os = "linux"))]
    canonical: PathBuf,
    /// Decides whether a stamp is too fresh to be an `ETag` (the system clock; tests
    /// advance a manual one).
    clock: Clock,
}

impl Root {
    fn open(path: &Path, clock: Clock) -> std::io::Result<Root> {
        Ok(Root {
            path: path.to_path_buf(),
            #[cfg(target_os = "linux")]
            dir: std::fs::File::open(path)?,
            #[cfg(not(target_os = "linux"))]
            canonical: path.canonicalize()?,
            clock,
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut root = None;
    let mut addr: SocketAddr = "127.0.0.1:8080".parse()?;
    let mut handler = Handler::Fileio;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--root" => root = args.next().map(PathBuf::from),
            "--addr" => addr = args.next().ok_or("--addr needs a value")?.parse()?,
            "--handler" => {
                handler = match args.next().as_deref() {
                    Some("fileio") => Handler::Fileio,
                    Some("tokio-fs") => Handler::TokioFs,
                    other => return Err(format!("unknown handler {other:?}").into()),
                }
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let root = Arc::new(Root::open(
        &root.ok_or("--root DIR is required")?,
        Clock::system(),
    )?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        println!(
            "serving {} on http://{} ({handler:?})",
            root.path.display(),
            listener.local_addr()?
        );
        serve(listener, root, handler).await
    })?;
    Ok(())
}

/// Accepts connections until the listener fails.
async fn serve(listener: TcpListener, root: Arc<Root>, handler: Handler) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let root = root.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let root = root.clone();
                async move { Ok::<_, Infallible>(respond(&root, handler, req).await) }
            });
            // A client that hangs up mid-request is not the server's problem.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Body = Full<Bytes>;

fn status(code: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = code;
    response
}

/// Answers one request.
async fn respond(root: &Root, handler: Handler, req: Request<Incoming>) -> Response<Body> {
    let head = match *req.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
    };
    let Some(relative) = resolve(req.uri().path()) else {
        return status(StatusCode::NOT_FOUND);
    };
    let mut response = match handler {
        Handler::Fileio => serve_fileio(root, &relative, req.headers()).await,
        Handler::TokioFs => match tokio::fs::read(root.path.join(&relative)).await {
            Ok(data) => Response::new(Body::new(Bytes::from(data))),
            Err(e) => status(error_status(&e)),
        },
    };
    if head {
        *response.body_mut() = Body::default();
    }
    response
}

/// The file a request path names, relative to the served directory, or `None` when the
/// path is not one this server serves: percent-escapes are decoded; empty, `.` and `..`
/// segments, backslashes and NUL bytes are refused, so the result has only normal
/// components and cannot climb out of the directory by its own text.
fn resolve(uri_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(uri_path.strip_prefix('/')?)?;
    let mut path = PathBuf::new();
    for segment in decoded.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains(['\\', '\0'])
        {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

/// Decodes `%XX` escapes; `None` for a bad escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ranges {
    /// No usable `Range`: answer with the whole file.
    Whole,
    /// One satisfiable range: `start..=end`, both within the file.
    One { start: u64, end: u64 },
    /// No range of the header is satisfiable: 416.
    Unsatisfiable,
}

/// Parses a `Range` header value against a file of `len` bytes (RFC 9110 §14.1.2):
/// `bytes=first-last`, `bytes=first-` and `bytes=-suffix`, with the unit matched
/// without regard to case. A malformed value, another unit, or several ranges give
/// [`Ranges::Whole`] (the server ignores the field); a well-formed value of which no
/// range overlaps the file gives [`Ranges::Unsatisfiable`].
fn parse_range(value: &str, len: u64) -> Ranges {
    let Some((unit, set)) = value.split_once('=') else {
        return Ranges::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ranges::Whole;
    }
    let mut specs = Vec::new();
    for spec in set.split(',') {
        let spec = spec.trim();
        if spec.is_empty() {
            continue; // the list syntax allows empty elements
        }
        let Some((first, last)) = spec.split_once('-') else {
            return Ranges::Whole;
        };
        let number = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
        };
        let range = match (first, last) {
            ("", suffix) => match number(suffix) {
                Some(0) => None,
                Some(n) if len > 0 => Some((len.saturating_sub(n), len - 1)),
                Some(_) => None,
                None => return Ranges::Whole,
            },
            (first, "") => match number(first) {
                Some(first) if first < len => Some((first, len - 1)),
                Some(_) => None,
                None => return Ranges::Whole,
            },
            (first, last) => match (number(first), number(last)) {
                (Some(first), Some(last)) if first > last => return Ranges::Whole,
                (Some(first), Some(last)) if first < len => Some((first, last.min(len - 1))),
                (Some(_), Some(_)) => None,
                _ => return Ranges::Whole,
            },
        };
        specs.push(range);
    }
    match specs.as_slice() {
        [] => Ranges::Whole,
        [Some((start, end))] => Ranges::One {
            start: *start,
            end: *end,
        },
        specs if specs.iter().all(Option::is_none) => Ranges::Unsatisfiable,
        _ => Ranges::Whole,
    }
}

/// The `ETag` of a file version: strong, from the stamp's length and tag. `None` for a
/// stamp that is still racy (see the module docs).
fn etag(stamp: &fileio_core::Stamp, clock: &Clock) -> Option<HeaderValue> {
    if clock.is_racy(stamp) {
        return None;
    }
    HeaderValue::from_str(&format!("\"{:x}-{:x}\"", stamp.len(), stamp.tag())).ok()
}

/// Whether an `If-None-Match` or `If-Range` list names `tag` (`*` names any).
fn names(list: &HeaderValue, tag: &HeaderValue) -> bool {
    let (Ok(list), Ok(tag)) = (list.to_str(), tag.to_str()) else {
        return false;
    };
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == tag || t.strip_prefix("W/") == Some(tag))
}

fn error_status(e: &std::io::Error) -> StatusCode {
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => StatusCode::NOT_FOUND,
        std::io::ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        _ if is_escape(e) => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `EXDEV` is what `RESOLVE_BENEATH` answers for a path that would leave the directory.
fn is_escape(e: &std::io::Error) -> bool {
    #[cfg(target_os = "linux")]
    {
        e.raw_os_error() == Some(rustix::io::Errno::XDEV.raw_os_error())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = e;
        false
    }
}

/// Opens `relative` below the served directory without following anything out of it.
async fn open_beneath(root: &Root, relative: &Path) -> std::io::Result<File> {
    let path = root.path.join(relative);
    #[cfg(target_os = "linux")]
    let file = {
        use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        // A path whose lookup is in the dentry cache opens here, on this thread; one
        // that would wait for the disk goes to the blocking pool.
        match openat2(
            &root.dir,
            relative,
            flags,
            Mode::empty(),
            resolve | ResolveFlags::CACHED,
        ) {
            Ok(fd) => std::fs::File::from(fd),
            Err(rustix::io::Errno::AGAIN) => {
                let dir = root.dir.try_clone()?;
                let relative = relative.to_path_buf();
                tokio::task::spawn_blocking(move || {
                    openat2(&dir, &relative, flags, Mode::empty(), resolve)
                })
                .await
                .map_err(std::io::Error::other)??
                .into()
            }
            Err(e) => return Err(e.into()),
        }
    };
    #[cfg(not(target_os = "linux"))]
    let file = {
        let canonical = tokio::fs::canonicalize(&path).await?;
        if !canonical.starts_with(&root.canonical) {
            return Err(std::io::ErrorKind::NotFound.into());
        }
        std::fs::File::open(canonical)?
    };
    File::from_std(file, path, "rb").map_err(std::io::Error::from)
}

/// 416, with the length the client may ask ranges of.
fn unsatisfiable(len: u64) -> Response<Body> {
    let mut response = status(StatusCode::RANGE_NOT_SATISFIABLE);
    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// Serves `relative` through fileio: honours `If-None-Match`, `If-Range` and `Range`.
async fn serve_fileio(root: &Root, relative: &Path, headers: &HeaderMap) -> Response<Body> {
    let file = match open_beneath(root, relative).await {
        Ok(file) => file,
        Err(e) => return status(error_status(&e)),
    };
    let stamp = match file.stamp().await {
        Ok(stamp) => stamp,
        Err(e) => return status(error_status(&e.into())),
    };
    let len = stamp.len();
    let tag = etag(&stamp, &root.clock);
    if let (Some(tag), Some(list)) = (&tag, headers.get(header::IF_NONE_MATCH))
        && names(list, tag)
    {
        let mut response = status(StatusCode::NOT_MODIFIED);
        response.headers_mut().insert(header::ETAG, tag.clone());
        return response;
    }
    // A Range counts only when If-Range (if sent) names the current version.
    let range_applies = match headers.get(header::IF_RANGE) {
        None => true,
        Some(condition) => tag.as_ref().is_some_and(|tag| names(condition, tag)),
    };
    let ranges = match headers.get(header::RANGE).map(HeaderValue::to_str) {
        Some(Ok(value)) if range_applies => parse_range(value, len),
        _ => Ranges::Whole,
    };
    let (code, body, content_range) = match ranges {
        Ranges::Whole => match file
            .read_at(0, usize::try_from(len).unwrap_or(usize::MAX))
            .await
        {
            Ok(data) => (StatusCode::OK, data, None),
            Err(e) => return status(error_status(&e.into())),
        },
        Ranges::One { start, end } => {
            let want = usize::try_from(end - start + 1).unwrap_or(usize::MAX);
            match file.read_at(start, want).await {
                // The file shrank since its stamp was taken: nothing of the range is left.
                Ok(data) if data.is_empty() => return unsatisfiable(len),
                Ok(data) => {
                    let end = start + data.len() as u64 - 1;
                    let range = format!("bytes {start}-{end}/{len}");
                    (StatusCode::PARTIAL_CONTENT, data, Some(range))
                }
                Err(e) => return status(error_status(&e.into())),
            }
        }
        Ranges::Unsatisfiable => return unsatisfiable(len),
    };
    let mut response = Response::new(Body::new(body));
    *response.status_mut() = code;
    let h = response.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(tag) = tag {
        h.insert(header::ETAG, tag);
    }
    if let Some(value) = content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        h.insert(header::CONTENT_RANGE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The range a well-formed single spec selects, computed the plain way.
    fn model(first: Option<u64>, last: Option<u64>, len: u64) -> Ranges {
        let (start, end) = match (first, last) {
            (None, Some(0)) => return Ranges::Unsatisfiable,
            (None, Some(n)) => (len.saturating_sub(n), len.wrapping_sub(1)),
            (Some(f), None) => (f, len.wrapping_sub(1)),
            (Some(f), Some(l)) => (f, l.min(len.wrapping_sub(1))),
            (None, None) => unreachable!(),
        };
        if len == 0 || start >= len {
            Ranges::Unsatisfiable
        } else {
            Ranges::One { start, end }
        }
    }

    proptest! {
        #[test]
        fn single_ranges_match_the_model(
            len in 0u64..10_000,
            first in proptest::option::of(0u64..12_000),
            last in proptest::option::of(0u64..12_000),
        ) {
            prop_assume!(first.is_some() || last.is_some());
            let text = format!(
                "bytes={}-{}",
                first.map(|f| f.to_string()).unwrap_or_default(),
                last.map(|l| l.to_string()).unwrap_or_default()
            );
            let expected = match (first, last) {
                (Some(f), Some(l)) if f > l => Ranges::Whole,
                _ => model(first, last, len),
            };
            prop_assert_eq!(parse_range(&text, len), expected, "{}", text);
        }

        #[test]
        fn resolved_paths_never_climb(path in "[a-z./%\\\\]{0,24}") {
            if let Some(p) = resolve(&format!("/{path}")) {
                prop_assert!(p.components().all(|c| matches!(c, std::path::Component::Normal(_))));
            }
        }
    }

    #[test]
    fn malformed_and_foreign_ranges_are_ignored() {
        for value in [
            "bytes",
            "bytes=",
            "bytes=abc",
            "bytes=5",
            "bytes=--5",
            "bytes=1-2-3",
            "bytes=9-3",
            "items=0-1",
            "bytes=0x10-",
            "bytes= -",
            "bytes=1-2,3-4",
        ] {
            assert_eq!(parse_range(value, 100), Ranges::Whole, "{value}");
        }
        assert_eq!(
            parse_range("BYTES=0-0", 100),
            Ranges::One { start: 0, end: 0 }
        );
        assert_eq!(
            parse_range("bytes=100-,200-300", 100),
            Ranges::Unsatisfiable
        );
        assert_eq!(parse_range("bytes=-5", 0), Ranges::Unsatisfiable);
    }

    #[test]
    fn paths_that_leave_the_directory_are_refused() {
        for path in [
            "/../etc/passwd",
            "/a/../../b",
            "//etc/passwd",
            "/a//b",
            "/a\\b",
            "/%2e%2e/x",
            "/a/%00",
            "/%zz",
            "/",
            "/.",
            "/a/.",
        ] {
            assert_eq!(resolve(path), None, "{path}");
        }
        assert_eq!(resolve("/a/b%20c.txt"), Some(PathBuf::from("a/b c.txt")));
    }

    /// One request over a fresh connection; the status, the headers (lower-case names)
    /// and the body.
    async fn get(
        addr: SocketAddr,
        path: &str,
        extra: &str,
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let code = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        (code, headers, raw[split + 4..].to_vec())
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn serves_files_ranges_and_refusals() {
        let top = tempfile::tempdir().unwrap();
        let served = top.path().join("www");
        std::fs::create_dir(&served).unwrap();
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(served.join("data.bin"), &data).unwrap();
        std::fs::write(top.path().join("secret.txt"), b"outside").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(top.path().join("secret.txt"), served.join("link")).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let clock = Clock::manual();
            let root = Arc::new(Root::open(&served, clock.clone()).unwrap());
            tokio::spawn(serve(listener, root, Handler::Fileio));

            // A file just written is racy: no ETag. The claim holds only while the
            // change is under 20 ms old, which a loaded machine can overshoot, so write
            // again until a response came back while the file's stamp was still racy
            // (racy after the response means racy while it was served).
            let path = served.join("data.bin");
            let mut checked = false;
            for _ in 0..50 {
                std::fs::write(&path, &data).unwrap();
                let (code, headers, body) = get(addr, "/data.bin", "").await;
                assert_eq!((code, body.as_slice()), (200, data.as_slice()));
                let stamp = File::open(&path, "rb")
                    .await
                    .unwrap()
                    .stamp()
                    .await
                    .unwrap();
                if clock.is_racy(&stamp) {
                    assert_eq!(header(&headers, "etag"), None, "a racy file has no ETag");
                    checked = true;
                    break;
                }
            }
            assert!(checked, "no response came back within the racy window");
            clock.pass_racy_window();
            let (code, headers, _) = get(addr, "/data.bin", "").await;
            assert_eq!(code, 200);
            let tag = header(&headers, "etag")
                .expect("a settled file has an ETag")
                .to_owned();

            let (code, headers, body) = get(addr, "/data.bin", "Range: bytes=10-19\r\n").await;
            assert_eq!((code, body.as_slice()), (206, &data[10..20]));
            assert_eq!(header(&headers, "content-range"), Some("bytes 10-19/5000"));

            let (code, _, body) = get(addr, "/data.bin", "Range: bytes=-7\r\n").await;
            assert_eq!((code, body.as_slice()), (206, &data[4993..]));

            let (code, headers, body) = get(addr, "/data.bin", "Range: bytes=5000-\r\n").await;
            assert_eq!((code, body.len()), (416, 0));
            assert_eq!(header(&headers, "content-range"), Some("bytes */5000"));

            let (code, _, body) = get(addr, "/data.bin", "Range: bytes=oops\r\n").await;
            assert_eq!((code, body.as_slice()), (200, data.as_slice()));

            let (code, _, body) =
                get(addr, "/data.bin", &format!("If-None-Match: {tag}\r\n")).await;
            assert_eq!((code, body.len()), (304, 0));

            let stale = "If-Range: \"0-0\"\r\nRange: bytes=0-0\r\n";
            let (code, _, body) = get(addr, "/data.bin", stale).await;
            assert_eq!((code, body.len()), (200, data.len()));

            for escape in [
                "/../secret.txt",
                "/%2e%2e/secret.txt",
                "/missing",
                "//etc/passwd",
            ] {
                assert_eq!(get(addr, escape, "").await.0, 404, "{escape}");
            }
            #[cfg(unix)]
            {
                let (code, _, body) = get(addr, "/link", "").await;
                assert_ne!(code, 200, "a symlink out of the directory is not followed");
                assert!(!body.starts_with(b"outside"));
            }
        });
    }
}
