//! Behaviours: read and write hooks (offsets, bytes, `from_cache`, and silence on
//! failure).

use std::io::SeekFrom;

use crate::stream::AsyncStream as _;

use super::harness::{ConformanceFile, Harness, OpenSpec};
use super::helpers::*;

/// Read hooks see the exact offset and bytes of every successful read (`read_at`,
/// `read`, `read_to_end_at`, text reads, reads at end of file), with `from_cache` set
/// on cache hits and never without a cache; every registered hook fires; failed reads
/// fire nothing.
pub async fn hooks_read<H: Harness>(h: &H) {
    let data = pattern(2000, 1);
    let mut f = open(h, "hooks-read", "w+").await;
    ok!(f.write_at(0, &data).await, "write_at");
    let rec = Recorder::default();
    let second = Recorder::default();
    f.on_read(rec.hook());
    f.on_read(second.hook());
    pass_racy_window(h).await;

    let _ = read_at(&f, 100, 50).await;
    let (o, d, _) = one_event(rec.take(), "read_at(100, 50)");
    assert_eq!((o, d.as_slice()), (100, &data[100..150]));
    assert_eq!(second.take().len(), 1, "the second hook did not fire");
    let _ = read_at(&f, 100, 50).await;
    let (o, d, from_cache) = one_event(rec.take(), "read_at(100, 50) again");
    assert_eq!((o, d.as_slice()), (100, &data[100..150]));
    assert!(
        from_cache,
        "a repeated read past the racy window must be a cache hit"
    );
    let _ = read_at(&f, 120, 10).await;
    let (o, d, from_cache) = one_event(rec.take(), "read_at(120, 10) inside a cached read");
    assert_eq!((o, d.as_slice(), from_cache), (120, &data[120..130], true));

    let _ = ok!(f.read(10).await, "read");
    let (o, d, _) = one_event(rec.take(), "read(10)");
    assert_eq!((o, d.as_slice()), (0, &data[..10]));
    ok!(f.seek(SeekFrom::End(-5)).await, "seek");
    let _ = ok!(f.read(10).await, "read");
    let (o, d, _) = one_event(rec.take(), "short read at end");
    assert_eq!((o, d.as_slice()), (1995, &data[1995..]));
    let _ = ok!(f.read(10).await, "read at end");
    let (o, d, _) = one_event(rec.take(), "read at end of file");
    assert_eq!(
        (o, d.len()),
        (2000, 0),
        "a read at end of file reports no bytes"
    );
    let _ = ok!(f.read_to_end_at(1990).await, "read_to_end_at");
    let (o, d, _) = one_event(rec.take(), "read_to_end_at(1990)");
    assert_eq!((o, d.as_slice()), (1990, &data[1990..]));
    let events = rec.take_with_paths();
    assert!(events.is_empty());
    let _ = read_at(&f, 0, 1).await;
    let events = rec.take_with_paths();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, f.path(), "IoEvent::path");

    // Text reads report the bytes they consumed.
    let mut t = text_file(h, "hooks-read-text", "ab\ncdé").await;
    t.on_read(rec.hook());
    let _ = ok!(t.read_line().await, "read_line");
    let (o, d, _) = one_event(rec.take(), "read_line");
    assert_eq!((o, d.as_slice()), (0, &b"ab\n"[..]));
    let _ = ok!(t.read_text(3).await, "read_text");
    let (o, d, _) = one_event(rec.take(), "read_text(3)");
    assert_eq!((o, d.as_slice()), (3, "cdé".as_bytes()));

    // Failed reads fire nothing.
    ok!(t.seek(SeekFrom::Start(u64::MAX)).await, "seek to u64::MAX");
    let _ = t.read(1).await;
    let w = open(h, "hooks-read", "a").await;
    w.on_read(rec.hook());
    let _ = w.read_at(0, 1).await;
    assert!(rec.take().is_empty(), "failed reads fired hooks");

    // Without a cache nothing comes from it.
    let n = open_spec(h, "hooks-read", &OpenSpec::new("r", None)).await;
    n.on_read(rec.hook());
    for _ in 0..2 {
        let _ = read_at(&n, 100, 50).await;
        let (o, d, from_cache) = one_event(rec.take(), "read_at without a cache");
        assert_eq!((o, d.as_slice(), from_cache), (100, &data[100..150], false));
    }
    valid(h, "hooks_read");
}

/// Write hooks see the offset each write landed at and its bytes: `write_at`, `write`
/// at the cursor, `write_str` (encoded bytes), appends (at the end); `from_cache` is
/// false; failed writes fire nothing.
pub async fn hooks_write<H: Harness>(h: &H) {
    let mut f = open(h, "hooks-write", "w+").await;
    let rec = Recorder::default();
    f.on_write(rec.hook());
    f.on_read(Recorder::default().hook());
    ok!(f.write_at(5, b"abc").await, "write_at");
    assert_eq!(
        one_event(rec.take(), "write_at"),
        (5, b"abc".to_vec(), false)
    );
    ok!(f.write(b"xy").await, "write");
    assert_eq!(one_event(rec.take(), "write"), (0, b"xy".to_vec(), false));
    ok!(f.write_str("é").await, "write_str");
    assert_eq!(
        one_event(rec.take(), "write_str"),
        (2, "é".as_bytes().to_vec(), false)
    );
    let _ = read_at(&f, 0, 10).await;
    assert!(rec.take().is_empty(), "a read fired a write hook");

    let mut a = open(h, "hooks-write", "a").await;
    a.on_write(rec.hook());
    ok!(a.seek(SeekFrom::Start(0)).await, "seek");
    ok!(a.write(b"zz").await, "append");
    assert_eq!(one_event(rec.take(), "append"), (8, b"zz".to_vec(), false));

    // Failed writes fire nothing.
    let _ = a.write_at(0, b"no").await;
    let r = open(h, "hooks-write", "r").await;
    r.on_write(rec.hook());
    let _ = r.write_at(0, b"no").await;
    let _ = f.write_at(u64::MAX, b"no").await;
    assert!(rec.take().is_empty(), "failed writes fired hooks");
    valid(h, "hooks_write");
}
