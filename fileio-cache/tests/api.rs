//! The public contract: builder validation, clamping, counters, invalidation rules.

use std::future::Future;

use bytes::Bytes;
use fileio_cache::{
    CacheStats, ENTRY_OVERHEAD_BYTES, Error, FileKey, Fill, FillWait, Lookup, MAX_BLOCK_SIZE,
    MAX_CAPACITY, MAX_SHARDS, MIN_BLOCK_SIZE, Miss, Probe, RangeCache, Stamp,
};

fn fill(cache: &RangeCache, key: FileKey, stamp: &Stamp, offset: u64, len: usize, byte: u8) {
    if let Lookup::Miss(m) = cache.lookup(key, stamp, offset, len) {
        let Fill::Lead(g) = m.begin_fill(cache) else {
            panic!("single thread must lead")
        };
        let r = g.range();
        g.complete(&Bytes::from(vec![byte; (r.end - r.start) as usize]));
    }
}

/// A cache of one shard holding `blocks` blocks of 512 bytes.
fn one_shard_of_blocks(blocks: u64) -> RangeCache {
    RangeCache::builder()
        .capacity((512 + ENTRY_OVERHEAD_BYTES) * blocks)
        .block_size(512)
        .shards(1)
        .build()
        .unwrap()
}

fn hit(cache: &RangeCache, key: FileKey, stamp: &Stamp, offset: u64, len: usize) -> Option<Bytes> {
    match cache.lookup(key, stamp, offset, len) {
        Lookup::Hit(b) => Some(b),
        Lookup::Miss(_) => None,
    }
}

#[test]
fn builder_rejects_bad_settings_with_typed_errors() {
    let b = RangeCache::builder;
    assert_eq!(b().capacity(0).build().unwrap_err(), Error::ZeroCapacity);
    assert!(matches!(
        b().capacity(MAX_CAPACITY + 1).build(),
        Err(Error::CapacityTooLarge { bytes, max }) if bytes == MAX_CAPACITY + 1 && max == MAX_CAPACITY
    ));
    assert!(b().capacity(u64::MAX).build().is_err());
    for bs in [
        0,
        1,
        256,
        511,
        1000,
        3 << 10,
        MAX_BLOCK_SIZE * 2,
        usize::MAX,
    ] {
        let err = b().block_size(bs).build().unwrap_err();
        assert!(
            matches!(err, Error::InvalidBlockSize { bytes, .. } if bytes == bs),
            "{bs}"
        );
        assert!(err.to_string().contains(&bs.to_string()));
    }
    for n in [0, 3, 6, MAX_SHARDS * 2, usize::MAX] {
        assert!(
            matches!(b().shards(n).build(), Err(Error::InvalidShards { shards, .. }) if shards == n)
        );
    }
    assert!(
        b().block_size(MIN_BLOCK_SIZE)
            .shards(1)
            .capacity(1)
            .build()
            .is_ok()
    );
    assert!(
        b().block_size(MAX_BLOCK_SIZE)
            .shards(MAX_SHARDS)
            .capacity(MAX_CAPACITY)
            .build()
            .is_ok()
    );
    assert_eq!(
        b().shards(3).build().unwrap_err().to_string(),
        format!("shard count 3 is not a power of two in [1, {MAX_SHARDS}]")
    );
}

#[test]
fn extreme_offsets_and_lengths_never_panic() {
    let cache = RangeCache::builder().block_size(512).build().unwrap();
    let key = FileKey::new(u128::MAX);
    for stamp in [
        Stamp::new(0, 0),
        Stamp::new(u64::MAX, 1),
        Stamp::new(1000, 2),
    ] {
        for offset in [0, 1, 511, 512, 999, 1000, u64::MAX - 1, u64::MAX] {
            for len in [0, 1, 512, 4096, usize::MAX] {
                match cache.lookup(key, &stamp, offset, len) {
                    Lookup::Hit(b) => assert!(b.is_empty() || stamp.len() == 1000),
                    Lookup::Miss(m) => {
                        let r = m.range();
                        assert!(r.start < r.end && r.end <= stamp.len());
                        if let Fill::Lead(g) = m.begin_fill(&cache) {
                            g.complete(&Bytes::from_static(b"short"));
                        }
                    }
                }
            }
        }
    }
    // Writes and truncates at the edges.
    let s0 = Stamp::new(u64::MAX - 10, 7);
    let _ = cache.lookup(key, &s0, 0, 1);
    cache
        .begin_write(key)
        .patch(&s0, &Stamp::new(u64::MAX, 8), u64::MAX - 3, &[1, 2, 3]);
    cache.begin_write(key).patch(
        &Stamp::new(u64::MAX, 8),
        &Stamp::new(u64::MAX, 9),
        u64::MAX,
        &[1],
    );
    cache
        .begin_write(key)
        .truncate(&Stamp::new(u64::MAX, 9), &Stamp::new(0, 10), 0);
    cache
        .begin_write(key)
        .truncate(&Stamp::new(0, 10), &Stamp::new(u64::MAX, 11), u64::MAX);
    cache.validate().unwrap();
}

#[test]
fn overlapping_reads_share_blocks() {
    let cache = RangeCache::builder().block_size(1024).build().unwrap();
    let key = FileKey::new(1);
    let stamp = Stamp::new(10_000, 1);
    fill(&cache, key, &stamp, 100, 10, 1); // fills block 0
    fill(&cache, key, &stamp, 3000, 2000, 1); // blocks 2..=4
    assert_eq!(hit(&cache, key, &stamp, 0, 1024).unwrap().len(), 1024);
    assert_eq!(hit(&cache, key, &stamp, 2048, 3072).unwrap().len(), 3072);
    // Partly covered: only block 1 is missing.
    let Lookup::Miss(m) = cache.lookup(key, &stamp, 500, 3000) else {
        panic!()
    };
    assert_eq!(m.range(), 1024..2048);
    // Two missing spans: the range runs from the first to the last.
    let Lookup::Miss(m) = cache.lookup(key, &stamp, 500, 5000) else {
        panic!()
    };
    assert_eq!(m.range(), 1024..6144);
    // Tail block: reads clamp to the stamp's length.
    fill(&cache, key, &stamp, 9500, 1000, 2);
    assert_eq!(
        hit(&cache, key, &stamp, 9300, 10_000).unwrap(),
        vec![2u8; 700]
    );
    let s = cache.stats();
    assert_eq!((s.hits, s.misses), (3, 5));
    cache.validate().unwrap();
}

#[test]
fn a_new_stamp_drops_the_file_in_o1_and_counts_once() {
    let cache = RangeCache::builder().block_size(512).build().unwrap();
    let (a, b) = (FileKey::new(1), FileKey::new(2));
    let s1 = Stamp::new(4096, 1);
    fill(&cache, a, &s1, 0, 4096, 1);
    fill(&cache, b, &s1, 0, 4096, 1);
    assert!(hit(&cache, a, &s1, 0, 4096).is_some());
    let s2 = Stamp::new(4096, 2);
    assert!(hit(&cache, a, &s2, 0, 10).is_none());
    assert_eq!(cache.stats().invalidations, 1);
    // The old stamp is now the stranger: served by neither.
    assert!(hit(&cache, a, &s1, 0, 10).is_none());
    assert_eq!(cache.stats().invalidations, 2);
    // Other files are untouched.
    assert!(hit(&cache, b, &s1, 0, 4096).is_some());
    // changed_at is part of the version.
    let s3 = s1.with_changed_at(std::time::UNIX_EPOCH);
    assert!(hit(&cache, b, &s3, 0, 1).is_none());
    cache.invalidate(b);
    assert_eq!(cache.stats().invalidations, 4);
    cache.validate().unwrap();
}

#[test]
fn capacity_is_bytes_plus_overhead_and_shrinks_at_once() {
    let per = 512 + ENTRY_OVERHEAD_BYTES;
    let cache = one_shard_of_blocks(10);
    let key = FileKey::new(1);
    let stamp = Stamp::new(1 << 20, 1);
    fill(&cache, key, &stamp, 0, 512 * 20, 1);
    let s = cache.stats();
    assert_eq!(s.entries, 10);
    assert_eq!(s.resident_bytes, per * 10);
    assert_eq!(s.inserted_bytes, 512 * 20);
    assert_eq!(s.evicted_bytes, 512 * 10);
    cache.set_capacity(per * 3 + 5);
    let s = cache.stats();
    assert_eq!((s.entries, s.capacity_bytes), (3, per * 3 + 5));
    cache.set_capacity(0);
    assert_eq!(cache.stats().resident_bytes, 0);
    fill(&cache, key, &stamp, 0, 512, 1);
    assert_eq!(cache.stats().entries, 0);
    cache.set_capacity(u64::MAX);
    assert_eq!(cache.capacity(), MAX_CAPACITY);
    fill(&cache, key, &stamp, 0, 512, 1);
    cache.clear();
    let s = cache.stats();
    assert_eq!((s.entries, s.resident_bytes), (0, 0));
    cache.validate().unwrap();
}

#[test]
fn sieve_keeps_hot_blocks_through_a_scan() {
    let cache = one_shard_of_blocks(8);
    let key = FileKey::new(1);
    let stamp = Stamp::new(1 << 30, 1);
    for i in 0..4 {
        fill(&cache, key, &stamp, i * 512, 1, 1);
        assert!(hit(&cache, key, &stamp, i * 512, 1).is_some()); // visited
    }
    for i in 100..200 {
        fill(&cache, key, &stamp, i * 512, 1, 2); // one-touch scan
    }
    for i in 0..4 {
        assert!(
            hit(&cache, key, &stamp, i * 512, 1).is_some(),
            "hot block {i} lost to the scan"
        );
    }
}

#[test]
fn write_to_an_unknown_file_caches_what_it_wrote() {
    let cache = RangeCache::builder().block_size(512).build().unwrap();
    let key = FileKey::new(1);
    let (s0, s1) = (Stamp::new(0, 0), Stamp::new(1500, 1));
    cache.begin_write(key).patch(&s0, &s1, 0, &[4u8; 1500]);
    assert_eq!(hit(&cache, key, &s1, 0, 1500).unwrap(), vec![4u8; 1500]);
    assert_eq!(cache.stats().patched_bytes, 1500);
    // Overlapping writes invalidate instead of guessing the order.
    let w1 = cache.begin_write(key);
    let w2 = cache.begin_write(key);
    let s2 = Stamp::new(1500, 2);
    w2.patch(&s1, &s2, 0, &[5u8; 10]);
    w1.patch(&s2, &Stamp::new(1500, 3), 0, &[6u8; 10]);
    assert!(hit(&cache, key, &Stamp::new(1500, 3), 0, 1).is_none());
    // A dropped guard invalidates; release does not.
    let s4 = Stamp::new(1500, 4);
    fill(&cache, key, &s4, 0, 1500, 7);
    cache.begin_write(key).release();
    assert!(hit(&cache, key, &s4, 0, 1500).is_some());
    drop(cache.begin_write(key));
    assert!(hit(&cache, key, &s4, 0, 1500).is_none());
    // A wrong length after the write invalidates.
    fill(&cache, key, &s4, 0, 1500, 7);
    cache
        .begin_write(key)
        .patch(&s4, &Stamp::new(9999, 5), 0, &[1]);
    assert!(hit(&cache, key, &Stamp::new(9999, 5), 0, 1).is_none());
    cache.validate().unwrap();
}

#[test]
fn public_types_are_send_sync_and_futures_are_unpin() {
    fn send_sync<T: Send + Sync>() {}
    fn fut<T: Future<Output = ()> + Send + Unpin>() {}
    send_sync::<RangeCache>();
    send_sync::<Miss>();
    send_sync::<CacheStats>();
    fut::<FillWait>();
    let _: CacheStats = RangeCache::global().stats();
}

/// A lookup at the end of the file under a newer stamp records it, so that lookups on
/// the recorded stamp stop using the older length.
#[test]
fn a_lookup_at_the_end_records_a_newer_stamp() {
    let cache = RangeCache::builder().block_size(512).build().unwrap();
    let key = FileKey::new(77);
    let (old, new) = (Stamp::new(100, 1), Stamp::new(300, 2));
    let _ = cache.lookup(key, &old, 0, 10);
    assert_eq!(cache.recorded_stamp(key), Some(old));
    assert!(matches!(cache.lookup(key, &new, 300, 5), Lookup::Hit(b) if b.is_empty()));
    assert_eq!(cache.recorded_stamp(key), Some(new));
    match cache.lookup_recorded(key, 100, 50) {
        Some(Lookup::Miss(miss)) => assert_eq!(miss.range(), 0..300),
        other => panic!("{other:?}"),
    }
}

/// Whether a fresh lookup of block `i` (not resident) is a hot miss; the miss is dropped
/// unfilled, as a caller reading around the cache would.
fn hot_miss(cache: &RangeCache, key: FileKey, stamp: &Stamp, i: u64) -> bool {
    match cache.lookup(key, stamp, i * 512, 1) {
        Lookup::Miss(m) => m.is_hot(),
        Lookup::Hit(_) => panic!("block {i} is resident"),
    }
}

/// Admission: a block is hot on its second touch while its shard has room, on its sixth
/// once the shard evicts to admit.
#[test]
fn admission_asks_more_touches_of_a_full_shard() {
    let cache = one_shard_of_blocks(8);
    let key = FileKey::new(1);
    let stamp = Stamp::new(1 << 30, 1);
    // Room: the second touch is hot.
    assert!(!hot_miss(&cache, key, &stamp, 1000));
    assert!(hot_miss(&cache, key, &stamp, 1000));
    // Fill the shard until the last insert leaves no room for another block.
    for i in 0..8 {
        fill(&cache, key, &stamp, i * 512, 1, 1);
    }
    assert_eq!(cache.stats().entries, 8);
    // Full: the second to fifth touches are not enough, the sixth is.
    for _ in 0..5 {
        assert!(!hot_miss(&cache, key, &stamp, 2000));
    }
    assert!(hot_miss(&cache, key, &stamp, 2000));
    // A block of the earlier touches stays counted: two, so four more make it hot.
    for _ in 0..3 {
        assert!(!hot_miss(&cache, key, &stamp, 1000));
    }
    assert!(hot_miss(&cache, key, &stamp, 1000));
    // Room again after `clear`: the second touch is hot again.
    cache.clear();
    assert!(!hot_miss(&cache, key, &stamp, 3000));
    assert!(hot_miss(&cache, key, &stamp, 3000));
    cache.validate().unwrap();
}

/// A block that main evicts without having served a hit has spent the touches that
/// admitted it: it is hot again only after as many new ones, not on its next touch. A
/// block that served hits keeps its touches and is hot on its next touch.
#[test]
fn a_block_main_evicted_unused_earns_its_place_again() {
    let cache = one_shard_of_blocks(8);
    let key = FileKey::new(1);
    let stamp = Stamp::new(1 << 30, 1);
    for i in 0..8 {
        fill(&cache, key, &stamp, i * 512, 1, 1);
    }
    // Admit a block on its sixth touch (into main).
    let admit = |i: u64| {
        for _ in 0..5 {
            assert!(!hot_miss(&cache, key, &stamp, i));
        }
        fill(&cache, key, &stamp, i * 512, 1, 2);
    };
    // Block 100 is never hit. The blocks admitted after it are each hit once: probation
    // (0..8) empties first, then the hand finds block 100 unvisited at main's tail.
    admit(100);
    for i in 200..216 {
        admit(i);
        assert!(hit(&cache, key, &stamp, i * 512, 1).is_some());
    }
    // Evicted (`hot_miss` panics on a hit), and its touches forgotten: this is a first
    // touch again, and only the sixth is hot.
    for _ in 0..5 {
        assert!(
            !hot_miss(&cache, key, &stamp, 100),
            "touches were forgotten"
        );
    }
    assert!(hot_miss(&cache, key, &stamp, 100));
    // Block 300 serves a hit, then the others push it out: its touches stay.
    admit(300);
    assert!(hit(&cache, key, &stamp, 300 * 512, 1).is_some());
    for i in 400..424 {
        admit(i);
        assert!(hit(&cache, key, &stamp, i * 512, 1).is_some());
    }
    assert!(
        hot_miss(&cache, key, &stamp, 300),
        "a block that served keeps its touches"
    );
    cache.validate().unwrap();
}

/// A cold probe counts a touch only when the caller reads around the cache: dropped,
/// the lookup that follows counts the first touch, so a read that could not be made
/// inline (and is filled as a cold miss) is not made hot by the probe.
#[test]
fn a_cold_probe_counts_a_touch_only_when_read_around() {
    let cache = RangeCache::builder()
        .block_size(512)
        .shards(1)
        .build()
        .unwrap();
    let key = FileKey::new(1);
    let stamp = Stamp::new(1 << 20, 1);
    // Not read around (the caller's inline read failed, say): the value goes unused.
    assert!(
        matches!(cache.probe(key, 512, 10), Probe::Cold(_)),
        "a first touch is cold"
    );
    assert_eq!(
        cache.stats().misses,
        0,
        "a dropped cold probe counts nothing"
    );
    assert!(
        !hot_miss(&cache, key, &stamp, 1),
        "the lookup's touch is the first"
    );
    assert!(hot_miss(&cache, key, &stamp, 1), "the second touch is hot");
    let Probe::Cold(cold) = cache.probe(key, 1024, 10) else {
        panic!("a first touch is cold")
    };
    cold.read_around();
    assert_eq!(cache.stats().misses, 3);
    assert!(
        matches!(cache.probe(key, 1024, 10), Probe::Unsure),
        "touched once: hot next"
    );
    assert!(hot_miss(&cache, key, &stamp, 2));
}
