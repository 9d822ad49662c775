//! Behaviours: the life of a handle: `close` and what fails after it, dropping without
//! closing, and clones.

use std::io::SeekFrom;

use crate::error::Error;
use crate::stream::AsyncStream as _;

use super::harness::{ConformanceFile, Harness};
use super::helpers::*;

/// `close` is idempotent; after it every operation fails with [`Error::Closed`] (text,
/// `lines` and `chunks` included) and fires no hook; clones and other handles stay
/// open; the data written is there.
pub async fn close<H: Harness>(h: &H) {
    let mut f = open(h, "close", "w+").await;
    ok!(f.write(b"data").await, "write");
    let g = f.clone();
    let rec = Recorder::default();
    f.on_read(rec.hook());
    f.on_write(rec.hook());
    assert!(!f.is_closed());
    ok!(f.close().await, "close");
    assert!(f.is_closed());
    ok!(f.close().await, "second close");
    assert!(f.is_closed());
    expect_err!(f.read_at(0, 1).await, Error::Closed, "read_at after close");
    expect_err!(
        f.read_to_end_at(0).await,
        Error::Closed,
        "read_to_end_at after close"
    );
    expect_err!(
        f.write_at(0, b"x").await,
        Error::Closed,
        "write_at after close"
    );
    expect_err!(f.read(1).await, Error::Closed, "read after close");
    expect_err!(
        f.read_to_end().await,
        Error::Closed,
        "read_to_end after close"
    );
    expect_err!(f.write(b"x").await, Error::Closed, "write after close");
    expect_err!(
        f.seek(SeekFrom::Start(0)).await,
        Error::Closed,
        "seek after close"
    );
    expect_err!(
        f.seek(SeekFrom::End(0)).await,
        Error::Closed,
        "seek(End) after close"
    );
    expect_err!(f.len().await, Error::Closed, "len after close");
    expect_err!(f.set_len(0).await, Error::Closed, "set_len after close");
    expect_err!(f.sync_all().await, Error::Closed, "sync_all after close");
    expect_err!(f.sync_data().await, Error::Closed, "sync_data after close");
    expect_err!(f.read_text(1).await, Error::Closed, "read_text after close");
    expect_err!(f.read_line().await, Error::Closed, "read_line after close");
    expect_err!(
        f.write_str("x").await,
        Error::Closed,
        "write_str after close"
    );
    streams_fail(&mut f, 2, |e| matches!(e, Error::Closed), "after close").await;
    assert!(rec.take().is_empty(), "hooks fired on a closed handle");
    // A clone made after close is closed too.
    let mut fc = f.clone();
    assert!(fc.is_closed(), "a clone of a closed handle is open");
    expect_err!(
        fc.read(1).await,
        Error::Closed,
        "read on a clone of a closed handle"
    );

    // The clone made before close is still open.
    assert!(!g.is_closed(), "closing a handle closed its clone");
    assert_eq!(read_at(&g, 0, 10).await, b"data");
    ok!(g.write_at(4, b"!").await, "write through the clone");
    assert_eq!(h.outside_read("close"), b"data!");
    valid(h, "close");
}

/// Dropping handles without closing them never panics, and what they wrote is there.
pub async fn drop_without_close<H: Harness>(h: &H) {
    let mut f = open(h, "drop", "w").await;
    ok!(f.write(b"written").await, "write");
    let g = f.clone();
    drop(f);
    ok!(
        g.write_at(0, b"W").await,
        "write through a clone of a dropped handle"
    );
    drop(g);
    let mut a = open(h, "drop", "a").await;
    ok!(a.write_str("!").await, "write_str");
    drop(a);
    assert_eq!(h.outside_read("drop"), b"Written!");
    let r = open(h, "drop", "r").await;
    assert_eq!(read_at(&r, 0, 100).await, b"Written!");
    drop(r);
    valid(h, "drop_without_close");
}

/// A clone is another handle on the same file: same path and mode, its own cursor
/// starting at the original's, the original's hooks (hooks added later to one are not
/// added to the other), and writes through either are seen through both.
pub async fn clone<H: Harness>(h: &H) {
    h.outside_write("clone", b"0123456789");
    let mut f = open(h, "clone", "r+").await;
    ok!(f.seek(SeekFrom::Start(3)).await, "seek");
    let mut g = f.clone();
    assert_eq!(g.path(), f.path());
    assert_eq!(g.mode(), f.mode());
    assert_eq!(g.tell(), 3, "a clone starts at the original's cursor");
    assert_eq!(
        ok!(g.read(2).await, "read through the clone").as_ref(),
        b"34"
    );
    assert_eq!(g.tell(), 5);
    assert_eq!(
        f.tell(),
        3,
        "reading through a clone moved the original's cursor"
    );
    assert_eq!(ok!(f.read(1).await, "read").as_ref(), b"3");
    assert_eq!(
        g.tell(),
        5,
        "reading through the original moved the clone's cursor"
    );
    ok!(g.write_at(0, b"AB").await, "write_at through the clone");
    assert_eq!(read_at(&f, 0, 3).await, b"AB2");
    ok!(f.write(b"x").await, "write through the original");
    assert_eq!(read_at(&g, 0, 10).await, b"AB23x56789");

    // Hooks: inherited by clones made later; not shared afterwards.
    let inherited = Recorder::default();
    f.on_read(inherited.hook());
    let k = f.clone();
    assert_eq!(read_at(&k, 1, 2).await, b"B2");
    assert_eq!(
        inherited
            .take()
            .into_iter()
            .map(|(o, d, _)| (o, d))
            .collect::<Vec<_>>(),
        vec![(1, b"B2".to_vec())],
        "a clone must inherit the original's hooks"
    );
    let later = Recorder::default();
    k.on_read(later.hook());
    assert_eq!(read_at(&f, 0, 1).await, b"A");
    assert!(
        later.take().is_empty(),
        "a hook added to a clone fired on the original"
    );
    assert_eq!(inherited.take().len(), 1);
    let _ = read_at(&g, 0, 1).await;
    assert!(
        inherited.take().is_empty(),
        "a hook added after cloning fired on an older clone"
    );

    // Closing the original leaves the clone open.
    ok!(f.close().await, "close the original");
    assert!(!g.is_closed());
    assert_eq!(
        ok!(g.read(100).await, "read through the clone").as_ref(),
        b"56789"
    );
    ok!(g.close().await, "close the clone");
    valid(h, "clone");
}
