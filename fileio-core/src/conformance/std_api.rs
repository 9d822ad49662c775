//! Behaviours: the std-style API every file type has: the builder's std flags (the
//! same rules and errors as `std::fs::OpenOptions`), `metadata`, `set_permissions`,
//! the descriptor, `try_into_std`, and `Debug`.

use std::io::{ErrorKind, Seek as _, Write as _};

use crate::error::Error;
use crate::stream::AsyncStream as _;

use super::harness::{ConformanceFile, Harness};
use super::helpers::*;

const BEFORE: &[u8] = b"existing content";

/// What std does with flags `[read, write, append, truncate, create, create_new]`
/// on a file that `exists` with [`BEFORE`] or is missing: the error kind, or the
/// content right after opening. `tests/std_options.rs` checks the same against
/// `std::fs::OpenOptions` itself on local files.
fn std_model(flags: [bool; 6], exists: bool) -> Result<Vec<u8>, ErrorKind> {
    let [read, write, append, truncate, create, create_new] = flags;
    let writes = write || append;
    let no_access = !read && !writes;
    let creates_without_writing = !writes && (truncate || create || create_new);
    if no_access || creates_without_writing || (append && truncate && !create_new) {
        return Err(ErrorKind::InvalidInput);
    }
    match (exists, create_new, create) {
        (true, true, _) => Err(ErrorKind::AlreadyExists),
        (false, false, false) => Err(ErrorKind::NotFound),
        (false, _, _) => Ok(Vec::new()),
        (true, false, _) if truncate => Ok(Vec::new()),
        (true, false, _) => Ok(BEFORE.to_vec()),
    }
}

/// The builder's std flags open as `std::fs::OpenOptions` would: for all 64
/// combinations, on an existing and a missing file, the same success or error kind
/// (`InvalidInput` for the combinations std refuses, `NotFound`, `AlreadyExists`), the
/// same content after opening, reads exactly when `read` is set, and a write at the
/// cursor that overwrites from 0, or appends with `append`.
pub async fn std_flags<H: Harness>(h: &H) {
    for bits in 0..64u8 {
        let flags: [bool; 6] = std::array::from_fn(|i| bits & (1 << i) != 0);
        for exists in [true, false] {
            let name = format!("std-flags-{bits}-{exists}");
            if exists {
                h.outside_write(&name, BEFORE);
            }
            let mut spec = spec(h, "r");
            spec.std_flags = Some(flags);
            let what = format!(
                "flags {flags:?} (read, write, append, truncate, create, create_new), exists: {exists}"
            );
            let after_open = match (std_model(flags, exists), h.open(&name, &spec).await) {
                (Err(kind), Err(e)) => {
                    assert_eq!(e.kind(), kind, "{what}: {e}");
                    assert!(matches!(e, Error::Io { .. }), "{what}: {e:?}");
                    continue;
                }
                (Err(kind), Ok(f)) => panic!("{what}: expected {kind:?}, opened {f:?}"),
                (Ok(_), Err(e)) => panic!("{what}: expected to open: {e}"),
                (Ok(content), Ok(mut f)) => {
                    assert_eq!(h.outside_read(&name), content, "{what}: content after open");
                    let [read, write, append, ..] = flags;
                    assert_eq!(f.read_at(0, 1).await.is_ok(), read, "{what}: readable");
                    let wrote = f.write(b"XY").await;
                    assert_eq!(wrote.is_ok(), write || append, "{what}: writable");
                    ok!(f.close().await, "{what}: close");
                    let mut expected = content;
                    if wrote.is_ok() {
                        if append {
                            expected.extend_from_slice(b"XY");
                        } else {
                            let end = expected.len().max(2);
                            expected.resize(end, 0);
                            expected[..2].copy_from_slice(b"XY");
                        }
                    }
                    expected
                }
            };
            assert_eq!(
                h.outside_read(&name),
                after_open,
                "{what}: content after a write"
            );
        }
    }
}

/// `metadata` and the descriptor exist together: on a local file `metadata` is the
/// file's (its length follows writes and `set_len`) and `set_permissions` changes what
/// it reports; on other backends both `metadata` and `set_permissions` fail with
/// `Unsupported`. After `close`, `metadata` fails with `Closed`. `Debug` names the
/// path, the mode and the backend.
pub async fn std_metadata<H: Harness>(h: &H) {
    let mut f = open(h, "std-metadata", "w+").await;
    ok!(f.write(b"hello").await, "write");
    let debug = format!("{f:?}");
    for part in ["std-metadata", "w+", "backend"] {
        assert!(
            debug.contains(part),
            "Debug output {debug:?} lacks {part:?}"
        );
    }
    if f.has_fd() {
        let meta = ok!(f.metadata().await, "metadata");
        assert!(meta.is_file());
        assert_eq!(meta.len(), 5);
        ok!(f.set_len(2).await, "set_len");
        assert_eq!(ok!(f.metadata().await, "metadata").len(), 2);
        let before = meta.permissions();
        let mut readonly = before.clone();
        readonly.set_readonly(true);
        ok!(f.set_permissions(readonly).await, "set_permissions");
        assert!(ok!(f.metadata().await, "metadata").permissions().readonly());
        ok!(f.set_permissions(before.clone()).await, "set_permissions");
        assert_eq!(ok!(f.metadata().await, "metadata").permissions(), before);
    } else {
        let err = f
            .metadata()
            .await
            .expect_err("metadata without a local file");
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        let perm = std::fs::metadata(".").unwrap().permissions();
        let err = f.set_permissions(perm).await.expect_err("set_permissions");
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    }
    ok!(f.close().await, "close");
    assert!(matches!(f.metadata().await, Err(Error::Closed)));
    assert!(!f.has_fd(), "a closed file has no descriptor");
}

/// `try_into_std` on a local file gives a std file at the handle's cursor whose writes
/// land in the file, and clones of the handle keep working; on other backends (and
/// once closed) it gives the handle back, still usable.
pub async fn std_into_std<H: Harness>(h: &H) {
    let mut f = open(h, "std-into-std", "w+").await;
    ok!(f.write(b"hello").await, "write");
    ok!(f.seek(std::io::SeekFrom::Start(2)).await, "seek");
    let other = f.clone();
    let local = f.has_fd();
    match f.try_into_std() {
        Ok(mut std_file) => {
            assert!(local, "try_into_std without a descriptor");
            assert_eq!(std_file.stream_position().unwrap(), 2);
            std_file.write_all(b"XY").unwrap();
            drop(std_file);
            assert_eq!(h.outside_read("std-into-std"), b"heXYo");
            assert_eq!(read_at(&other, 0, 2).await, b"he");
        }
        Err(mut f) => {
            assert!(!local, "try_into_std failed on a local file: {f:?}");
            assert_eq!(f.tell(), 2, "the handle comes back as it was");
            assert_eq!(read_at(&f, 0, 5).await, b"hello");
            ok!(f.close().await, "close");
            assert!(f.try_into_std().is_err(), "a closed file has no std file");
        }
    }
}
