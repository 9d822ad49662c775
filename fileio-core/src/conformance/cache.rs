//! Behaviours: the range cache and its coherence: writes seen between handles, outside
//! changes under `Coherence::Strict` (racy stamps included), the trusting policies
//! `Exclusive` and `Interval`, and hit counts.

use std::io::SeekFrom;

use std::time::Duration;

use crate::error::Error;
use crate::options::Coherence;
use crate::stream::AsyncStream as _;

use super::harness::{ConformanceFile as _, Harness, OpenSpec};
use super::helpers::*;

/// A write (or `set_len`) through one handle is seen at once through another handle
/// opened separately on the same file with the same cache, whatever it had cached.
pub async fn cache_between_handles<H: Harness>(h: &H) {
    let mut model = pattern(4000, 11);
    let a = open(h, "coh-handles", "w+").await;
    ok!(a.write_at(0, &model).await, "write_at");
    let b = open(h, "coh-handles", "r").await;
    assert_eq!(read_at(&b, 0, 8000).await, model, "B sees A's first write");
    pass_racy_window(h).await;
    assert_eq!(read_at(&b, 0, 8000).await, model, "B, cached");
    assert_eq!(read_at(&b, 0, 8000).await, model, "B, cached again");
    ok!(a.write_at(1000, b"XXXX").await, "A writes");
    model_write(&mut model, 1000, b"XXXX");
    assert_eq!(
        read_at(&b, 998, 8).await,
        &model[998..1006],
        "B sees A's write at once"
    );
    assert_eq!(read_at(&b, 0, 8000).await, model);
    valid(h, "a write through A");
    pass_racy_window(h).await;
    assert_eq!(read_at(&b, 0, 8000).await, model, "B after the racy window");
    ok!(a.write_at(3998, b"tail grows").await, "A extends the file");
    model_write(&mut model, 3998, b"tail grows");
    assert_eq!(
        read_at(&b, 3990, 100).await,
        &model[3990..],
        "B sees A's extension at once"
    );
    assert_eq!(len_of(&b).await, model.len() as u64);
    ok!(a.set_len(2000).await, "A shrinks the file");
    model.truncate(2000);
    assert_eq!(
        read_at(&b, 0, 8000).await,
        model,
        "B sees A's set_len at once"
    );
    ok!(a.write_at(2500, b"gap").await, "A writes past the end");
    model_write(&mut model, 2500, b"gap");
    assert_eq!(read_at(&b, 0, 8000).await, model, "B sees zeros in the gap");
    pass_racy_window(h).await;
    assert_eq!(read_at(&b, 0, 8000).await, model, "B after the racy window");
    // Appends through a third handle.
    let mut c = open(h, "coh-handles", "a").await;
    ok!(c.write(b"appended").await, "C appends");
    model.extend_from_slice(b"appended");
    assert_eq!(
        read_at(&b, 0, 8000).await,
        model,
        "B sees C's append at once"
    );
    assert_eq!(
        read_at(&a, 0, 8000).await,
        model,
        "A sees C's append at once"
    );
    valid(h, "cache_between_handles");
}

/// Under [`Coherence::Strict`], a change made outside fileio (same length, shorter,
/// longer) is seen by the next read, right after it and after the racy window, through
/// cached and cursor reads alike.
pub async fn cache_outside_writes<H: Harness>(h: &H) {
    let v1 = vec![b'a'; 3000];
    h.outside_write("coh-outside", &v1);
    let mut f = open(h, "coh-outside", "r").await;
    pass_racy_window(h).await;
    assert_eq!(read_at(&f, 0, 5000).await, v1);
    assert_eq!(read_at(&f, 0, 5000).await, v1, "cached");
    let v2 = vec![b'b'; 3000];
    h.outside_write("coh-outside", &v2);
    assert_eq!(
        read_at(&f, 0, 5000).await,
        v2,
        "same-length outside write, read at once"
    );
    pass_racy_window(h).await;
    assert_eq!(
        read_at(&f, 0, 5000).await,
        v2,
        "same-length outside write, after the racy window"
    );
    assert_eq!(read_at(&f, 0, 5000).await, v2, "again (cached)");
    // One block at a time: a hit is found before the file's stamp is taken, then served
    // only if that stamp confirms it.
    for _ in 0..3 {
        assert_eq!(read_at(&f, 100, 50).await, &v2[100..150], "one block");
    }
    let v2b = vec![b'B'; 3000];
    h.outside_write("coh-outside", &v2b);
    pass_racy_window(h).await;
    for _ in 0..3 {
        assert_eq!(
            read_at(&f, 100, 50).await,
            &v2b[100..150],
            "same-length outside write, one block, after the racy window"
        );
    }
    let v3 = vec![b'c'; 1000];
    h.outside_write("coh-outside", &v3);
    assert_eq!(
        read_at(&f, 0, 5000).await,
        v3,
        "shorter outside write, read at once"
    );
    assert_eq!(len_of(&f).await, 1000);
    pass_racy_window(h).await;
    let v4 = pattern(5000, 4);
    h.outside_write("coh-outside", &v4);
    pass_racy_window(h).await;
    assert_eq!(
        read_at(&f, 0, 6000).await,
        v4,
        "longer outside write, after the racy window"
    );
    assert_eq!(ok!(f.read(10).await, "read").as_ref(), &v4[..10]);
    h.outside_write("coh-outside", &pattern(5000, 5));
    assert_eq!(
        ok!(f.read(10).await, "read at the cursor").as_ref(),
        &pattern(5000, 5)[10..20]
    );
    valid(h, "cache_outside_writes");
}

/// Under [`Coherence::Strict`], an outside change of the same length made right after
/// a write through fileio (within the same clock tick, so the file's timestamps may not
/// change) is seen at once and still seen after the racy window.
///
/// The rule checked: a stamp whose change time lies within the racy window (20 ms) of
/// when the stamp was taken is racy; data read or patched into the cache under it may
/// be returned, but must not serve later hits until a later stamp confirms it.
pub async fn cache_racy_outside_writes<H: Harness>(h: &H) {
    for round in 0..5 {
        let name = format!("coh-racy-{round}");
        let f = open(h, &name, "w+").await;
        ok!(f.write_at(0, &[b'1'; 600]).await, "write_at");
        pass_racy_window(h).await;
        assert_eq!(read_at(&f, 0, 600).await, [b'1'; 600], "cached");
        // A write through fileio, then at once the same length from outside.
        ok!(f.write_at(0, &[b'2'; 600]).await, "write_at");
        h.outside_write(&name, &[b'3'; 600]);
        assert_eq!(
            read_at(&f, 0, 600).await,
            [b'3'; 600],
            "round {round}: outside write right after a fileio write, read at once"
        );
        pass_racy_window(h).await;
        assert_eq!(
            read_at(&f, 0, 600).await,
            [b'3'; 600],
            "round {round}: outside write right after a fileio write, read after the racy window"
        );
        valid(h, "cache_racy_outside_writes");
    }
}

/// Under [`Coherence::Exclusive`] (only this process writes), writes through any
/// fileio handle are still seen at once by every other handle, separately opened ones
/// included, and repeated reads are cache hits with no racy window. (Outside changes
/// are not promised to be seen; the suite only checks that a read then returns the old
/// or the new content.)
pub async fn cache_exclusive<H: Harness>(h: &H) {
    trusting(h, Coherence::Exclusive, "coh-exclusive").await;
}

/// Under [`Coherence::Interval`] (here one hour), writes through any fileio handle are
/// still seen at once by every other handle, separately opened ones included, and
/// repeated reads past the racy window are cache hits.
pub async fn cache_interval<H: Harness>(h: &H) {
    trusting(
        h,
        Coherence::Interval(Duration::from_secs(3600)),
        "coh-interval",
    )
    .await;
}

async fn trusting<H: Harness>(h: &H, coherence: Coherence, name: &str) {
    let mut sa = spec(h, "w+");
    sa.coherence = coherence;
    let mut sb = spec(h, "r");
    sb.coherence = coherence;
    let mut model = pattern(1000, 2);
    let a = open_spec(h, name, &sa).await;
    ok!(a.write_at(0, &model).await, "write_at");
    let b = open_spec(h, name, &sb).await;
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B's first read"
    );
    ok!(a.write_at(10, b"XYZ").await, "A writes");
    model_write(&mut model, 10, b"XYZ");
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees A's write"
    );
    ok!(a.write_at(1000, b"grown").await, "A extends the file");
    model_write(&mut model, 1000, b"grown");
    assert_eq!(
        read_at(&b, 995, 100).await,
        &model[995..],
        "{coherence:?}: B sees A's extension"
    );
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees A's extension"
    );
    ok!(a.set_len(500).await, "A shrinks the file");
    model.truncate(500);
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees A's set_len"
    );
    let mut sc = spec(h, "r+");
    sc.coherence = coherence;
    let mut c = open_spec(h, name, &sc).await;
    ok!(c.seek(SeekFrom::End(0)).await, "seek");
    ok!(c.write(b"C").await, "C writes");
    model.push(b'C');
    assert_eq!(
        read_at(&a, 0, 5000).await,
        model,
        "{coherence:?}: A sees C's write"
    );
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees C's write"
    );
    valid(h, "writes under a trusting policy");

    // Still seen once the stamps are no longer racy.
    pass_racy_window(h).await;
    assert_eq!(
        read_at(&a, 0, 5000).await,
        model,
        "{coherence:?}: A sees C's write, later"
    );
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees C's write, later"
    );

    // Hits: a handle reading what it reads again.
    let _ = read_at(&a, 0, 100).await;
    let before = h.cache().stats().hits;
    for _ in 0..3 {
        assert_eq!(read_at(&a, 0, 100).await, &model[..100]);
    }
    let hits = h.cache().stats().hits - before;
    assert!(
        hits >= 3,
        "{coherence:?}: repeated reads made {hits} hits, want 3"
    );

    // A read the cache answers alone is still the handle's read: it fires the read
    // hooks (from the cache), and fails on a handle not open for reading or closed.
    let rec = Recorder::default();
    a.on_read(rec.hook());
    assert_eq!(read_at(&a, 0, 100).await, &model[..100]);
    let (o, d, from_cache) = one_event(rec.take(), "a hit with a read hook");
    assert_eq!(
        (o, d.as_slice(), from_cache),
        (0, &model[..100], true),
        "{coherence:?}: the hit's hook event"
    );
    let mut sw = spec(h, "a");
    sw.coherence = coherence;
    let w = open_spec(h, name, &sw).await;
    expect_err!(
        w.read_at(0, 100).await,
        Error::NotReadable,
        "{coherence:?}: read_at of a cached block on an append-only handle"
    );
    assert_eq!(read_at(&c, 0, 100).await, &model[..100]);
    ok!(c.close().await, "close");
    expect_err!(
        c.read_at(0, 100).await,
        Error::Closed,
        "{coherence:?}: read_at of a cached block after close"
    );

    // Outside changes: old or new content, never anything else, never a panic.
    let outside = pattern(model.len(), 77);
    h.outside_write(name, &outside);
    let got = read_at(&a, 0, 5000).await;
    assert!(
        got == model || got == outside,
        "{coherence:?}: a read after an outside write returned neither version: {} bytes \
         (old {}, new {}), first difference from the old at {:?}, from the new at {:?}",
        got.len(),
        model.len(),
        outside.len(),
        got.iter().zip(&model).position(|(a, b)| a != b),
        got.iter().zip(&outside).position(|(a, b)| a != b),
    );
    valid(h, "cache_trusting");
}

/// The cache serves repeated reads: hits grow with repeated reads past the racy
/// window; a handle without a cache never touches it and still reads right.
pub async fn cache_stats<H: Harness>(h: &H) {
    let data = pattern(5000, 6);
    let f = open(h, "coh-stats", "w+").await;
    ok!(f.write_at(0, &data).await, "write_at");
    pass_racy_window(h).await;
    let _ = read_at(&f, 0, 100).await;
    let before = h.cache().stats();
    for _ in 0..3 {
        assert_eq!(read_at(&f, 0, 100).await, &data[..100]);
        assert_eq!(read_at(&f, 4500, 100).await, &data[4500..4600]);
    }
    let after = h.cache().stats();
    assert!(
        after.hits >= before.hits + 5,
        "repeated reads made {} hits: {after:?}",
        after.hits - before.hits
    );
    assert!(after.resident_bytes <= after.capacity_bytes);
    let n = open_spec(h, "coh-stats", &OpenSpec::new("r+", None)).await;
    let before = h.cache().stats();
    for _ in 0..3 {
        assert_eq!(read_at(&n, 0, 100).await, &data[..100]);
    }
    let after = h.cache().stats();
    assert_eq!(
        (after.hits, after.misses),
        (before.hits, before.misses),
        "a handle without a cache used it"
    );
    // A write through the uncached handle is still seen through the cached one.
    ok!(n.write_at(0, b"uncached").await, "write_at without a cache");
    assert_eq!(
        read_at(&f, 0, 8).await,
        b"uncached",
        "a write through an uncached handle"
    );
    pass_racy_window(h).await;
    assert_eq!(
        read_at(&f, 0, 8).await,
        b"uncached",
        "a write through an uncached handle, later"
    );
    valid(h, "cache_stats");
}
