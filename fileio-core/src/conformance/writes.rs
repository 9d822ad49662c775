//! Behaviours: what writes do to the file beyond their bytes: append modes, `set_len`,
//! `sync_all` / `sync_data` / `sync_on_close`, and writes through the I/O traits
//! (write-behind on the async files).

use std::io::{ErrorKind, SeekFrom};

use crate::error::Error;
use crate::stream::AsyncStream as _;

use super::harness::{ConformanceFile, Harness};
use super::helpers::*;

/// Append modes: the cursor starts at the end; `write` always appends, even after a
/// seek or after another handle grew the file, and leaves the cursor after the data;
/// `write_at` is [`Error::AppendOnly`] (kind `InvalidInput`) and writes nothing; `"a+"`
/// reads anywhere.
pub async fn append<H: Harness>(h: &H) {
    h.outside_write("append", b"head");
    let mut a = open(h, "append", "a").await;
    assert_eq!(a.tell(), 4);
    ok!(a.write(b"1").await, "append");
    assert_eq!(a.tell(), 5);
    ok!(a.seek(SeekFrom::Start(0)).await, "seek on an append handle");
    ok!(a.write(b"2").await, "append after seek(0)");
    assert_eq!(a.tell(), 6, "the cursor after an append is the new end");
    assert_eq!(h.outside_read("append"), b"head12");
    let err = a
        .write_at(0, b"x")
        .await
        .expect_err("write_at on an append handle");
    assert!(
        matches!(err, Error::AppendOnly),
        "write_at on \"a\": {err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        h.outside_read("append"),
        b"head12",
        "a refused write_at changed the file"
    );

    // Another handle grows the file; the next append goes after its data.
    let b = open(h, "append", "r+").await;
    ok!(
        b.write_at(6, b"333").await,
        "write_at through another handle"
    );
    ok!(
        a.write(b"4").await,
        "append after another handle grew the file"
    );
    assert_eq!(a.tell(), 10);
    assert_eq!(h.outside_read("append"), b"head123334");
    // And after a change made outside fileio.
    h.outside_write("append", b"head123334-outside");
    ok!(a.write(b"5").await, "append after an outside write");
    assert_eq!(h.outside_read("append"), b"head123334-outside5");
    ok!(a.close().await, "close");

    let mut ap = open(h, "append", "a+").await;
    assert_eq!(ap.tell(), 19);
    assert_eq!(read_at(&ap, 0, 4).await, b"head");
    ok!(ap.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(ok!(ap.read(4).await, "read on \"a+\"").as_ref(), b"head");
    ok!(ap.write(b"6").await, "append on \"a+\"");
    assert_eq!(ap.tell(), 20);
    assert_eq!(read_at(&ap, 14, 10).await, b"side56");
    ok!(ap.write_str("7").await, "write_str on \"a+\"");
    assert_eq!(h.outside_read("append"), b"head123334-outside567");
    valid(h, "append");
}

/// `set_len` shrinks (later reads end at the new length, even where data was cached)
/// and grows (with zeros, never the old bytes) without moving the cursor.
pub async fn set_len<H: Harness>(h: &H) {
    let mut f = open(h, "set-len", "w+").await;
    ok!(f.write_at(0, b"0123456789").await, "write_at");
    pass_racy_window(h).await;
    assert_eq!(read_at(&f, 0, 10).await, b"0123456789");
    assert_eq!(read_at(&f, 0, 10).await, b"0123456789", "cached");
    ok!(f.set_len(4).await, "shrink");
    assert_eq!(len_of(&f).await, 4);
    assert_eq!(f.tell(), 0, "set_len moved the cursor");
    assert_eq!(read_at(&f, 0, 10).await, b"0123", "after shrinking");
    assert!(read_at(&f, 5, 2).await.is_empty(), "past the new end");
    assert_eq!(h.outside_read("set-len"), b"0123");
    ok!(f.set_len(8).await, "grow");
    assert_eq!(
        read_at(&f, 0, 10).await,
        b"0123\0\0\0\0",
        "grown bytes must be zeros"
    );
    pass_racy_window(h).await;
    assert_eq!(
        read_at(&f, 0, 10).await,
        b"0123\0\0\0\0",
        "grown bytes, cached"
    );
    ok!(f.seek(SeekFrom::Start(6)).await, "seek");
    ok!(f.set_len(2).await, "shrink below the cursor");
    assert_eq!(f.tell(), 6);
    assert!(ok!(f.read(4).await, "read past the end").is_empty());
    ok!(f.set_len(0).await, "truncate to nothing");
    assert!(read_at(&f, 0, 10).await.is_empty());
    ok!(f.set_len(3).await, "grow from nothing");
    assert_eq!(read_at(&f, 0, 10).await, b"\0\0\0");
    assert_eq!(h.outside_read("set-len"), b"\0\0\0");
    valid(h, "set_len");
}

/// Writes through the file type's I/O write trait (write-behind on the async files, see
/// [`Options::write_behind`](crate::Options::write_behind)): each piece moves the cursor
/// at once; the handle's own read of the pieces, a seek, `flush` and `close` wait for
/// them, and then every handle and the file itself hold them. In append mode the pieces
/// go to the end, and once flushed the cursor is there. A closed handle refuses them.
pub async fn io_write_traits<H: Harness>(h: &H) {
    let mut f = open(h, "io_write", "w+").await;
    for piece in [&b"hello "[..], b"write", b"-behind"] {
        ok!(f.io_write_all(piece).await, "write_all {piece:?}");
    }
    assert_eq!(f.tell(), 18, "the cursor after the pieces");
    assert_eq!(read_at(&f, 0, 100).await, b"hello write-behind");
    ok!(f.io_write_all(b"!").await, "write_all");
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(&ok!(f.read(5).await, "read")[..], b"hello");
    ok!(f.io_write_all(b"-HI-").await, "write_all after a read");
    ok!(f.io_flush().await, "flush");
    assert_eq!(h.outside_read("io_write"), b"hello-HI-te-behind!");
    let other = open(h, "io_write", "r").await;
    assert_eq!(read_at(&other, 0, 100).await, b"hello-HI-te-behind!");

    let mut a = open(h, "io_write", "a+").await;
    ok!(a.seek(SeekFrom::Start(0)).await, "seek on an append handle");
    ok!(a.io_write_all(b"+1").await, "append write_all");
    ok!(a.io_write_all(b"+2").await, "append write_all");
    ok!(a.io_flush().await, "flush");
    assert_eq!(a.tell(), 23, "the cursor after flushed appends");
    ok!(a.io_write_all(b"+3").await, "append write_all");
    ok!(a.close().await, "close");
    assert_eq!(h.outside_read("io_write"), b"hello-HI-te-behind!+1+2+3");
    assert!(
        a.io_write_all(b"x").await.is_err(),
        "write_all on a closed handle"
    );
    valid(h, "io_write");
}

/// `sync_all` and `sync_data` succeed on readable and writable handles and leave the
/// content alone; `close` with and without `sync_on_close` succeeds.
pub async fn sync<H: Harness>(h: &H) {
    let mut f = open(h, "sync", "w+").await;
    ok!(f.write(b"durable").await, "write");
    ok!(f.sync_all().await, "sync_all");
    ok!(f.sync_data().await, "sync_data");
    let mut r = open(h, "sync", "r").await;
    ok!(r.sync_all().await, "sync_all on \"r\"");
    ok!(r.sync_data().await, "sync_data on \"r\"");
    assert_eq!(read_at(&r, 0, 100).await, b"durable");
    ok!(r.close().await, "close");
    ok!(f.close().await, "close with sync_on_close");
    let mut s = spec(h, "r+");
    s.sync_on_close = false;
    let mut g = open_spec(h, "sync", &s).await;
    ok!(g.write(b"D").await, "write");
    ok!(g.close().await, "close without sync_on_close");
    assert_eq!(h.outside_read("sync"), b"Durable");
    valid(h, "sync");
}
