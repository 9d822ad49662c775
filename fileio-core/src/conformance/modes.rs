//! Behaviours: open modes (what opening creates, truncates and refuses, and where the
//! cursor starts), access checks, and invalid mode strings.

use std::io::ErrorKind;

use crate::error::Error;
use crate::stream::AsyncStream as _;

use super::harness::{ConformanceFile, Harness};
use super::helpers::*;

/// Opening follows the mode: `"r"`/`"r+"` on a missing file fail with `NotFound` and
/// create nothing; `"x"` fails with `AlreadyExists` on an existing file and creates a
/// missing one; `"w"` creates and truncates; `"a"` creates, keeps the content and starts
/// the cursor at the end; `"r+"` neither creates nor truncates and starts at 0.
pub async fn modes_open<H: Harness>(h: &H) {
    for mode in ["r", "rb", "r+", "rb+"] {
        let err = open_err(h, "modes-missing", &spec(h, mode)).await;
        assert_eq!(
            err.kind(),
            ErrorKind::NotFound,
            "mode {mode:?} on a missing file: {err}"
        );
        assert!(
            matches!(err, Error::Io { .. }),
            "mode {mode:?} on a missing file: {err:?}"
        );
    }
    // Still missing: the failed opens created nothing.
    let err = open_err(h, "modes-missing", &spec(h, "r")).await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "\"r+\" created the file: {err}"
    );

    // "w" creates an empty file, and truncates an existing one.
    let mut f = open(h, "modes-w", "w").await;
    assert_eq!(len_of(&f).await, 0, "\"w\" on a missing file");
    assert_eq!(f.tell(), 0);
    ok!(f.write(b"hello").await, "write on \"w\"");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-w"), b"hello");
    h.outside_write("modes-w", b"previous content");
    let mut f = open(h, "modes-w", "w").await;
    assert_eq!(len_of(&f).await, 0, "\"w\" must truncate");
    assert_eq!(h.outside_read("modes-w"), b"", "\"w\" must truncate");
    ok!(f.close().await, "close");

    // "w+" reads what it writes.
    let mut f = open(h, "modes-wplus", "w+").await;
    ok!(f.write(b"abc").await, "write on \"w+\"");
    assert_eq!(read_at(&f, 0, 10).await, b"abc");
    ok!(f.close().await, "close");

    // "x": refuses an existing file (and leaves it alone), creates a missing one.
    h.outside_write("modes-x-existing", b"keep me");
    for mode in ["x", "x+", "xb"] {
        let err = open_err(h, "modes-x-existing", &spec(h, mode)).await;
        assert_eq!(
            err.kind(),
            ErrorKind::AlreadyExists,
            "mode {mode:?} on an existing file: {err}"
        );
    }
    assert_eq!(h.outside_read("modes-x-existing"), b"keep me");
    let mut f = open(h, "modes-x-new", "x").await;
    assert_eq!(len_of(&f).await, 0);
    ok!(f.write(b"new").await, "write on \"x\"");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-x-new"), b"new");
    let err = open_err(h, "modes-x-new", &spec(h, "x")).await;
    assert_eq!(
        err.kind(),
        ErrorKind::AlreadyExists,
        "second \"x\" open: {err}"
    );

    // "a": creates; keeps the content; the cursor starts at the end.
    let mut f = open(h, "modes-a-new", "a").await;
    assert_eq!(f.tell(), 0);
    ok!(f.write(b"first").await, "write on \"a\"");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-a-new"), b"first");
    h.outside_write("modes-a", b"0123");
    let mut f = open(h, "modes-a", "a").await;
    assert_eq!(
        f.tell(),
        4,
        "the cursor of an \"a\" handle starts at the end"
    );
    ok!(f.write(b"45").await, "write on \"a\"");
    assert_eq!(f.tell(), 6);
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-a"), b"012345");

    // "r+": no truncation, writes in place from 0.
    h.outside_write("modes-rplus", b"abcdef");
    let mut f = open(h, "modes-rplus", "r+").await;
    assert_eq!(f.tell(), 0);
    assert_eq!(len_of(&f).await, 6, "\"r+\" must not truncate");
    ok!(f.write(b"XY").await, "write on \"r+\"");
    assert_eq!(read_at(&f, 0, 10).await, b"XYcdef");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-rplus"), b"XYcdef");

    // "r": reads from 0, and the mode is reported as opened.
    let mut f = open(h, "modes-rplus", "rb").await;
    assert_eq!(f.tell(), 0);
    assert!(f.mode().readable() && !f.mode().writable() && f.mode().binary());
    assert_eq!(ok!(f.read(100).await, "read on \"rb\"").as_ref(), b"XYcdef");
    ok!(f.close().await, "close");
    valid(h, "modes_open");
}

/// Access checks: every read on a handle without read access (`"w"`, `"a"`, `"x"`)
/// fails with [`Error::NotReadable`], every write or `set_len` on one without write
/// access (`"r"`) with [`Error::NotWritable`] (kind `PermissionDenied`), and neither
/// touches the file or the cursor.
pub async fn modes_access<H: Harness>(h: &H) {
    for mode in ["w", "a", "x"] {
        let name = format!("access-{mode}");
        // "x" needs a missing file.
        if mode != "x" {
            h.outside_write(&name, b"0123456789");
        }
        let mut f = open(h, &name, mode).await;
        let at = f.tell();
        expect_err!(
            f.read_at(0, 1).await,
            Error::NotReadable,
            "read_at on {mode:?}"
        );
        expect_err!(
            f.read_to_end_at(0).await,
            Error::NotReadable,
            "read_to_end_at on {mode:?}"
        );
        expect_err!(f.read(1).await, Error::NotReadable, "read on {mode:?}");
        expect_err!(
            f.read_to_end().await,
            Error::NotReadable,
            "read_to_end on {mode:?}"
        );
        expect_err!(
            f.read_text(1).await,
            Error::NotReadable,
            "read_text on {mode:?}"
        );
        expect_err!(
            f.read_line().await,
            Error::NotReadable,
            "read_line on {mode:?}"
        );
        let not_readable = |e: &Error| matches!(e, Error::NotReadable);
        streams_fail(&mut f, 4, not_readable, &format!("on {mode:?}")).await;
        assert_eq!(Error::NotReadable.kind(), ErrorKind::PermissionDenied);
        assert_eq!(f.tell(), at, "a failed read moved the cursor ({mode:?})");
        ok!(f.close().await, "close");
    }

    h.outside_write("access-r", b"data");
    let mut f = open(h, "access-r", "r").await;
    expect_err!(
        f.write_at(0, b"x").await,
        Error::NotWritable,
        "write_at on \"r\""
    );
    expect_err!(f.write(b"x").await, Error::NotWritable, "write on \"r\"");
    expect_err!(f.set_len(0).await, Error::NotWritable, "set_len on \"r\"");
    expect_err!(
        f.write_str("x").await,
        Error::NotWritable,
        "write_str on \"r\""
    );
    assert_eq!(Error::NotWritable.kind(), ErrorKind::PermissionDenied);
    assert_eq!(f.tell(), 0, "a failed write moved the cursor");
    assert_eq!(len_of(&f).await, 4);
    assert_eq!(
        h.outside_read("access-r"),
        b"data",
        "a refused write changed the file"
    );
    ok!(f.close().await, "close");
    valid(h, "modes_access");
}

/// Invalid mode strings fail at open with [`Error::Mode`] carrying CPython's message
/// (kind `InvalidInput`) and create nothing.
pub async fn modes_invalid<H: Harness>(h: &H) {
    let cases = [
        ("rr", "invalid mode: 'rr'"),
        ("z", "invalid mode: 'z'"),
        ("r+-", "invalid mode: 'r+-'"),
        (
            "rw",
            "must have exactly one of create/read/write/append mode",
        ),
        (
            "wx",
            "must have exactly one of create/read/write/append mode",
        ),
        (
            "",
            "Must have exactly one of create/read/write/append mode and at most one plus",
        ),
        (
            "b",
            "Must have exactly one of create/read/write/append mode and at most one plus",
        ),
        ("rtb", "can't have text and binary mode at once"),
    ];
    for (mode, message) in cases {
        match h.open("invalid-mode", &spec(h, mode)).await {
            Err(Error::Mode(e)) => {
                assert_eq!(e.to_string(), message, "message for mode {mode:?}");
                assert_eq!(Error::Mode(e).kind(), ErrorKind::InvalidInput);
            }
            other => panic!("mode {mode:?}: expected Err(Error::Mode(_)), got {other:?}"),
        }
    }
    let err = open_err(h, "invalid-mode", &spec(h, "r")).await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "an invalid mode created the file: {err}"
    );
}
