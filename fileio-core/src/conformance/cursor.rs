//! Behaviours: cursor I/O (`read`, `write`, `tell`, `read_to_end`) and `seek`.

use std::io::{ErrorKind, SeekFrom};

use crate::error::Error;
use crate::stream::AsyncStream as _;

use super::harness::Harness;
use super::helpers::*;

/// `read` and `write` work at the cursor and move it by what they transferred; `tell`
/// reports it; positional I/O leaves it alone; `read_to_end` moves it to the end.
pub async fn cursor_read_write<H: Harness>(h: &H) {
    let mut f = open(h, "cursor-rw", "w+").await;
    assert_eq!(ok!(f.write(b"hello").await, "write"), 5);
    assert_eq!(f.tell(), 5);
    assert_eq!(ok!(f.write(b" world").await, "write"), 6);
    assert_eq!(f.tell(), 11);
    assert_eq!(ok!(f.seek(SeekFrom::Start(0)).await, "seek"), 0);
    assert_eq!(ok!(f.read(5).await, "read").as_ref(), b"hello");
    assert_eq!(f.tell(), 5);
    assert_eq!(
        ok!(f.read(100).await, "read").as_ref(),
        b" world",
        "short read at end"
    );
    assert_eq!(f.tell(), 11);
    assert!(ok!(f.read(10).await, "read at end").is_empty());
    assert_eq!(f.tell(), 11);
    assert!(ok!(f.read(0).await, "read(0)").is_empty());
    ok!(f.seek(SeekFrom::Start(6)).await, "seek");
    ok!(f.write(b"W").await, "write");
    assert_eq!(f.tell(), 7);
    assert_eq!(read_at(&f, 0, 20).await, b"hello World");
    assert_eq!(f.tell(), 7, "read_at moved the cursor");
    ok!(f.write_at(0, b"H").await, "write_at");
    assert_eq!(f.tell(), 7, "write_at moved the cursor");
    assert_eq!(ok!(f.read_to_end().await, "read_to_end").as_ref(), b"orld");
    assert_eq!(f.tell(), 11);
    assert!(ok!(f.read_to_end().await, "read_to_end at end").is_empty());
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(
        ok!(f.read_to_end().await, "read_to_end").as_ref(),
        b"Hello World"
    );
    pass_racy_window(h).await;
    // Cached reads at the cursor: a hit followed by a miss must still line up.
    ok!(f.seek(SeekFrom::Start(2)).await, "seek");
    assert_eq!(ok!(f.read(3).await, "read").as_ref(), b"llo");
    assert_eq!(ok!(f.read(3).await, "read").as_ref(), b" Wo");
    ok!(f.seek(SeekFrom::Start(2)).await, "seek");
    assert_eq!(ok!(f.read(3).await, "read").as_ref(), b"llo");
    assert_eq!(ok!(f.read(30).await, "read").as_ref(), b" World");
    valid(h, "cursor_read_write");
}

/// `seek` from the start, the cursor and the end; past the end is allowed (a write
/// there fills the gap with zeros); before the start is [`Error::NegativeSeek`] (kind
/// `InvalidInput`) and leaves the cursor where it was.
pub async fn cursor_seek<H: Harness>(h: &H) {
    h.outside_write("cursor-seek", b"0123456789");
    let mut f = open(h, "cursor-seek", "r+").await;
    assert_eq!(ok!(f.seek(SeekFrom::Start(3)).await, "seek"), 3);
    assert_eq!(ok!(f.seek(SeekFrom::Current(2)).await, "seek"), 5);
    assert_eq!(ok!(f.read(1).await, "read").as_ref(), b"5");
    assert_eq!(ok!(f.seek(SeekFrom::Current(-4)).await, "seek"), 2);
    assert_eq!(ok!(f.seek(SeekFrom::Current(0)).await, "seek"), 2);
    assert_eq!(ok!(f.seek(SeekFrom::End(0)).await, "seek"), 10);
    assert_eq!(ok!(f.seek(SeekFrom::End(-3)).await, "seek"), 7);
    assert_eq!(ok!(f.read(3).await, "read").as_ref(), b"789");
    assert_eq!(ok!(f.seek(SeekFrom::End(5)).await, "seek past the end"), 15);
    assert!(ok!(f.read(1).await, "read past the end").is_empty());
    assert_eq!(f.tell(), 15);
    ok!(f.write(b"x").await, "write past the end");
    assert_eq!(f.tell(), 16);
    assert_eq!(read_at(&f, 0, 100).await, b"0123456789\0\0\0\0\0x");
    ok!(f.seek(SeekFrom::Start(2)).await, "seek");
    expect_err!(
        f.seek(SeekFrom::Current(-3)).await,
        Error::NegativeSeek,
        "seek(Current(-3)) at 2"
    );
    assert_eq!(f.tell(), 2, "a failed seek moved the cursor");
    expect_err!(
        f.seek(SeekFrom::End(-17)).await,
        Error::NegativeSeek,
        "seek(End(-17)) on 16 bytes"
    );
    assert_eq!(f.tell(), 2, "a failed seek moved the cursor");
    assert_eq!(Error::NegativeSeek.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        ok!(f.seek(SeekFrom::End(-16)).await, "seek to 0 from the end"),
        0
    );
    // SeekFrom::End sees a change made by another handle.
    let g = open(h, "cursor-seek", "r+").await;
    ok!(
        g.write_at(20, b"!").await,
        "write_at through another handle"
    );
    assert_eq!(
        ok!(f.seek(SeekFrom::End(0)).await, "seek to the new end"),
        21
    );
    valid(h, "cursor_seek");
}
