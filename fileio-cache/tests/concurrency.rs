//! Threads hitting, filling, patching and truncating the same files at once; single
//! flight with blocking and async waiters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fileio_cache::{FileKey, Fill, Lookup, RangeCache, Stamp};

/// A fake file shared by the threads: its current version and every version's content.
/// Version `v`'s writes store the byte `v as u8`, so a read mixing two versions is
/// detectable against the history.
struct Disk {
    current: Mutex<(u128, Vec<u8>)>,
    history: Mutex<HashMap<u128, Arc<Vec<u8>>>>,
}

impl Disk {
    fn new(len: usize) -> Disk {
        let content: Vec<u8> = (0..len).map(|p| (p % 251) as u8).collect();
        let history = HashMap::from([(0u128, Arc::new(content.clone()))]);
        Disk {
            current: Mutex::new((0, content)),
            history: Mutex::new(history),
        }
    }

    fn stamp(&self) -> Stamp {
        let c = self.current.lock().unwrap();
        Stamp::new(c.1.len() as u64, c.0)
    }

    /// Reads like `pread`: the bytes at `range` of whatever the file holds now.
    fn read(&self, offset: u64, len: u64) -> Bytes {
        let c = self.current.lock().unwrap();
        let start = (offset as usize).min(c.1.len());
        let end = (offset.saturating_add(len) as usize).min(c.1.len());
        Bytes::copy_from_slice(&c.1[start..end])
    }

    /// Applies `change` as a new version; returns (before, after).
    fn change(&self, change: impl FnOnce(&mut Vec<u8>, u8)) -> (Stamp, Stamp) {
        let mut c = self.current.lock().unwrap();
        let before = Stamp::new(c.1.len() as u64, c.0);
        c.0 += 1;
        let v = c.0;
        change(&mut c.1, v as u8);
        self.history
            .lock()
            .unwrap()
            .insert(v, Arc::new(c.1.clone()));
        (before, Stamp::new(c.1.len() as u64, v))
    }

    fn version(&self, stamp: &Stamp) -> Arc<Vec<u8>> {
        Arc::clone(&self.history.lock().unwrap()[&stamp.tag()])
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Checks a hit for `offset..offset + len` under `stamp` against the history: the
/// request clamped to the stamp's length, holding the bytes of *one* version the file had
/// at some instant during the read, which began when `stamp` was taken and ends now
/// (invariant 1: never torn, never older than the stamp, never from the future).
///
/// Not necessarily the version `stamp` names: a reader whose stamp was taken before a
/// write finished may look up after the cache recorded that write's stamp; the cache
/// cannot order stamps, adopts the older one, and caches under it what a fill reads then
/// (the file after the write). See
/// `a_stamp_taken_before_a_patched_write_serves_the_file_as_it_is_now`.
fn check_hit(disk: &Disk, stamp: &Stamp, offset: u64, len: usize, b: &[u8]) {
    let now = disk.stamp().tag();
    let start = offset.min(stamp.len()) as usize;
    let end = offset.saturating_add(len as u64).min(stamp.len()) as usize;
    assert_eq!(b.len(), end - start, "hit not clamped to {stamp:?}");
    if b.is_empty() {
        return;
    }
    let held = (stamp.tag()..=now).any(|v| {
        let content = Arc::clone(&disk.history.lock().unwrap()[&v]);
        content.get(start..end) == Some(b)
    });
    assert!(
        held,
        "torn or stale hit under {stamp:?}: {:?}... is no version from {} to {now}",
        &b[..b.len().min(8)],
        stamp.tag()
    );
}

/// Reads through the cache the way the engine does; checks any hit against the history.
fn read(
    cache: &RangeCache,
    key: FileKey,
    disk: &Disk,
    offset: u64,
    len: usize,
    hits: &AtomicUsize,
) {
    for _ in 0..100 {
        let stamp = disk.stamp();
        match cache.lookup(key, &stamp, offset, len) {
            Lookup::Hit(b) => {
                check_hit(disk, &stamp, offset, len, &b);
                hits.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Lookup::Miss(m) => match m.begin_fill(cache) {
                Fill::Lead(g) => {
                    let r = g.range();
                    let data = disk.read(r.start, r.end - r.start);
                    g.complete(&data);
                    return;
                }
                Fill::Wait(w) => {
                    assert!(w.wait_timeout(Duration::from_secs(10)), "waited too long");
                }
            },
        }
    }
}

#[test]
fn readers_and_writers_never_see_torn_or_stale_bytes() {
    let cache = RangeCache::builder()
        .capacity(48 << 10)
        .block_size(512)
        .shards(4)
        .build()
        .unwrap();
    let disks: Vec<Arc<Disk>> = (0..3)
        .map(|i| Arc::new(Disk::new(4096 + i * 1000)))
        .collect();
    let hits = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        for t in 0..4u64 {
            let (cache, disks, hits, stop) = (&cache, &disks, &hits, &stop);
            s.spawn(move || {
                let mut rng = Rng(0x9e37_79b9 + t);
                let mut n = 0;
                while n < 4000 || (!stop.load(Ordering::Relaxed) && n < 100_000) {
                    let f = rng.below(3) as usize;
                    let len = disks[f].stamp().len();
                    let offset = rng.below(len + 100);
                    let rlen = if rng.below(4) == 0 {
                        1 + rng.below(3000)
                    } else {
                        1 + rng.below(600)
                    };
                    read(
                        cache,
                        FileKey::new(f as u128),
                        &disks[f],
                        offset,
                        rlen as usize,
                        hits,
                    );
                    n += 1;
                }
            });
        }
        let writers: Vec<_> = (0..2u64)
            .map(|t| {
                let (cache, disks) = (&cache, &disks);
                s.spawn(move || {
                    let mut rng = Rng(0x1234_5678 + t);
                    for _ in 0..600 {
                        let f = rng.below(3) as usize;
                        let key = FileKey::new(f as u128);
                        // Widen the windows between begin_write, the disk change and the
                        // patch, where racing fills must be rejected.
                        let pause = |rng: &mut Rng| {
                            if rng.below(3) == 0 {
                                thread::sleep(Duration::from_micros(100));
                            }
                        };
                        if rng.below(4) == 0 {
                            // A dropping write: registered, lands, dropped.
                            let dropping = cache.begin_dropping_write(key);
                            pause(&mut rng);
                            let len = disks[f].stamp().len();
                            let offset = rng.below(len + 200);
                            let wlen = 1 + rng.below(1500) as usize;
                            disks[f].change(|c, v| {
                                let end = offset as usize + wlen;
                                if c.len() < end {
                                    c.resize(end, 0);
                                }
                                c[offset as usize..end].fill(v);
                            });
                            pause(&mut rng);
                            drop(dropping);
                            continue;
                        }
                        let guard = cache.begin_write(key);
                        pause(&mut rng);
                        match rng.below(10) {
                            0 => {
                                let new_len = 2000 + rng.below(5000);
                                let (before, after) =
                                    disks[f].change(|c, _| c.resize(new_len as usize, 0));
                                pause(&mut rng);
                                guard.truncate(&before, &after, new_len);
                            }
                            1 => {
                                // A failed write: nothing changed, the guard is dropped.
                                drop(guard);
                            }
                            _ => {
                                let len = disks[f].stamp().len();
                                let offset = rng.below(len + 200);
                                let wlen = 1 + rng.below(1500) as usize;
                                let mut written = Vec::new();
                                let (before, after) = disks[f].change(|c, v| {
                                    written = vec![v; wlen];
                                    let end = offset as usize + wlen;
                                    if c.len() < end {
                                        c.resize(end, 0);
                                    }
                                    c[offset as usize..end].copy_from_slice(&written);
                                });
                                pause(&mut rng);
                                guard.patch(&before, &after, offset, &written);
                            }
                        }
                        if rng.below(8) == 0 {
                            cache.validate().unwrap();
                        }
                        thread::yield_now();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    cache.validate().unwrap();
    let s = cache.stats();
    assert!(s.resident_bytes <= s.capacity_bytes);
    assert!(
        hits.load(Ordering::Relaxed) > 1000,
        "too few hits to mean anything: {s:?}"
    );
    assert!(s.patched_bytes > 0, "{s:?}");
}

#[test]
fn hits_from_many_threads_agree() {
    let cache = RangeCache::builder()
        .capacity(1 << 20)
        .block_size(1024)
        .build()
        .unwrap();
    let disk = Disk::new(64 << 10);
    let key = FileKey::new(77);
    let hits = AtomicUsize::new(0);
    read(&cache, key, &disk, 0, 64 << 10, &hits);
    thread::scope(|s| {
        for t in 0..4u64 {
            let (cache, disk, hits) = (&cache, &disk, &hits);
            s.spawn(move || {
                let mut rng = Rng(t + 1);
                for _ in 0..5000 {
                    let off = rng.below(64 << 10);
                    read(cache, key, disk, off, 1 + rng.below(4096) as usize, hits);
                }
            });
        }
    });
    assert_eq!(hits.load(Ordering::Relaxed), 20_000);
    cache.validate().unwrap();
}

fn miss(cache: &RangeCache, key: FileKey, stamp: &Stamp) -> fileio_cache::Miss {
    match cache.lookup(key, stamp, 0, 100) {
        Lookup::Miss(m) => m,
        Lookup::Hit(_) => panic!("expected a miss"),
    }
}

#[test]
fn single_flight_one_leader_many_waiters() {
    const N: usize = 8;
    let cache = RangeCache::builder().block_size(4096).build().unwrap();
    let key = FileKey::new(1);
    let stamp = Stamp::new(10_000, 5);
    let barrier = Barrier::new(N);
    let (leads, waits, hits) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    thread::scope(|s| {
        for _ in 0..N {
            let (cache, barrier, leads, waits, hits) = (&cache, &barrier, &leads, &waits, &hits);
            s.spawn(move || {
                let m = miss(cache, key, &stamp);
                barrier.wait(); // everyone has missed before anyone fills
                match m.begin_fill(cache) {
                    Fill::Lead(g) => {
                        leads.fetch_add(1, Ordering::SeqCst);
                        let deadline = Instant::now() + Duration::from_secs(10);
                        while waits.load(Ordering::SeqCst) < N - 1 && Instant::now() < deadline {
                            thread::sleep(Duration::from_millis(1));
                        }
                        g.complete(&Bytes::from(vec![3u8; 4096]));
                    }
                    Fill::Wait(w) => {
                        waits.fetch_add(1, Ordering::SeqCst);
                        w.wait();
                        match cache.lookup(key, &stamp, 0, 100) {
                            Lookup::Hit(b) => {
                                assert_eq!(&b[..], &[3u8; 100][..]);
                                hits.fetch_add(1, Ordering::SeqCst);
                            }
                            Lookup::Miss(m) => panic!("waiter missed after the fill: {m:?}"),
                        }
                    }
                }
            });
        }
    });
    assert_eq!(leads.load(Ordering::SeqCst), 1);
    assert_eq!(hits.load(Ordering::SeqCst), N - 1);
}

#[test]
fn dropped_leader_hands_over_to_a_waiter() {
    let cache = RangeCache::builder().block_size(4096).build().unwrap();
    let key = FileKey::new(2);
    let stamp = Stamp::new(10_000, 5);
    let Fill::Lead(leader) = miss(&cache, key, &stamp).begin_fill(&cache) else {
        panic!()
    };
    let Fill::Wait(w1) = miss(&cache, key, &stamp).begin_fill(&cache) else {
        panic!()
    };
    let Fill::Wait(w2) = miss(&cache, key, &stamp).begin_fill(&cache) else {
        panic!()
    };
    thread::scope(|s| {
        let t = s.spawn(move || w1.wait_timeout(Duration::from_secs(10)));
        thread::sleep(Duration::from_millis(20));
        drop(leader); // the read failed
        assert!(
            t.join().unwrap(),
            "waiter was not woken by the dropped leader"
        );
    });
    assert!(w2.wait_timeout(Duration::from_secs(1)));
    // The next caller leads; the one after it waits on the new leader.
    let Fill::Lead(g) = miss(&cache, key, &stamp).begin_fill(&cache) else {
        panic!("no new leader")
    };
    assert!(matches!(
        miss(&cache, key, &stamp).begin_fill(&cache),
        Fill::Wait(_)
    ));
    g.complete(&Bytes::from(vec![1u8; 4096]));
    assert!(matches!(cache.lookup(key, &stamp, 0, 100), Lookup::Hit(_)));
}

#[test]
fn dropped_leader_with_many_threads_nobody_hangs() {
    const N: usize = 6;
    let cache = RangeCache::builder().block_size(4096).build().unwrap();
    let key = FileKey::new(3);
    let stamp = Stamp::new(10_000, 5);
    let barrier = Barrier::new(N);
    let first = AtomicBool::new(true);
    thread::scope(|s| {
        for _ in 0..N {
            let (cache, barrier, first) = (&cache, &barrier, &first);
            s.spawn(move || {
                barrier.wait();
                loop {
                    match cache.lookup(key, &stamp, 0, 100) {
                        Lookup::Hit(b) => {
                            assert_eq!(&b[..], &[9u8; 100][..]);
                            return;
                        }
                        Lookup::Miss(m) => match m.begin_fill(cache) {
                            Fill::Lead(g) => {
                                thread::sleep(Duration::from_millis(10));
                                if first.swap(false, Ordering::SeqCst) {
                                    drop(g); // the first leader fails
                                } else {
                                    g.complete(&Bytes::from(vec![9u8; 4096]));
                                }
                            }
                            Fill::Wait(w) => assert!(w.wait_timeout(Duration::from_secs(10))),
                        },
                    }
                }
            });
        }
    });
    cache.validate().unwrap();
}

#[test]
fn async_waiters_wake_on_any_executor() {
    let cache = RangeCache::builder().block_size(4096).build().unwrap();
    let key = FileKey::new(4);
    let stamp = Stamp::new(10_000, 5);
    let Fill::Lead(leader) = miss(&cache, key, &stamp).begin_fill(&cache) else {
        panic!()
    };
    let waits: Vec<_> = (0..4)
        .map(|_| match miss(&cache, key, &stamp).begin_fill(&cache) {
            Fill::Wait(w) => w,
            Fill::Lead(_) => panic!("second leader"),
        })
        .collect();
    thread::scope(|s| {
        s.spawn(move || {
            thread::sleep(Duration::from_millis(20));
            leader.complete(&Bytes::from(vec![5u8; 4096]));
        });
        futures::executor::block_on(async {
            futures::future::join_all(waits).await;
            match cache.lookup(key, &stamp, 0, 100) {
                Lookup::Hit(b) => assert_eq!(&b[..], &[5u8; 100][..]),
                Lookup::Miss(m) => panic!("{m:?}"),
            }
        });
    });
}

#[test]
fn write_in_flight_blocks_hits_and_fills() {
    let cache = RangeCache::builder().block_size(512).build().unwrap();
    let key = FileKey::new(5);
    let s0 = Stamp::new(1024, 0);
    let Lookup::Miss(m) = cache.lookup(key, &s0, 0, 1024) else {
        panic!()
    };
    let Fill::Lead(g) = m.begin_fill(&cache) else {
        panic!()
    };
    g.complete(&Bytes::from(vec![0u8; 1024]));
    assert!(matches!(cache.lookup(key, &s0, 0, 1024), Lookup::Hit(_)));

    // A fill that races with a write must not be inserted.
    let Lookup::Miss(stale) = cache.lookup(key, &Stamp::new(1024, 1), 0, 1024) else {
        panic!()
    };
    let w = cache.begin_write(key);
    assert!(matches!(
        cache.lookup(key, &Stamp::new(1024, 1), 0, 10),
        Lookup::Miss(_)
    ));
    let Fill::Lead(g) = stale.begin_fill(&cache) else {
        panic!()
    };
    // The read raced the write and saw bytes the file never holds after it.
    g.complete(&Bytes::from(vec![1u8; 1024]));
    w.patch(&Stamp::new(1024, 1), &Stamp::new(1024, 2), 0, &[2u8; 10]);
    // On disk now: 10 bytes of 2, then the zeros of version 1. The racing fill must not
    // have been inserted (and so could not be patched and served).
    let mut expected = vec![0u8; 1024];
    expected[..10].fill(2);
    match cache.lookup(key, &Stamp::new(1024, 2), 0, 1024) {
        Lookup::Hit(b) => assert_eq!(&b[..], &expected[..], "stale fill served"),
        Lookup::Miss(_) => {}
    }
    cache.validate().unwrap();
}

/// A dropping write serves nothing of its file while in flight, keeps no fill that
/// raced it, and once finished leaves no block of the file from before it.
#[test]
fn a_dropping_write_serves_and_keeps_nothing_of_its_file() {
    let cache = RangeCache::builder().block_size(512).build().unwrap();
    let key = FileKey::new(8);
    let disk = Disk::new(2048);
    let v0 = disk.stamp();
    fill_from(&cache, key, &disk, &v0);
    assert!(matches!(cache.lookup(key, &v0, 0, 10), Lookup::Hit(_)));
    // A fill looked up before the write, reading the file before it lands...
    let Lookup::Miss(racing) = cache.lookup(key, &v0, 1500, 10) else {
        panic!()
    };
    let w = cache.begin_dropping_write(key);
    assert!(
        matches!(cache.lookup(key, &v0, 0, 10), Lookup::Miss(_)),
        "a hit while a dropping write is in flight"
    );
    let Fill::Lead(g) = racing.begin_fill(&cache) else {
        panic!()
    };
    let after = disk.change(|c, v| c[..100].fill(v)).1;
    // ... and handing its bytes over while it is in flight.
    g.complete(&Bytes::from(vec![0u8; 512]));
    drop(w);
    assert_eq!(cache.recorded_stamp(key), None);
    for stamp in [v0, after] {
        // Under the stamp from before (adopted again, like an outside change) or after:
        // only what the file holds now.
        fill_from(&cache, key, &disk, &stamp);
        match cache.lookup(key, &stamp, 0, 1024) {
            Lookup::Hit(b) => {
                assert_eq!(&b[..], &disk.version(&after)[..1024], "under {stamp:?}");
            }
            Lookup::Miss(_) => {}
        }
    }
    cache.validate().unwrap();
}

/// A patching write that overlapped a dropping write in time keeps nothing: the
/// dropping write keeps no log of what it wrote, so the patch cannot tell which bytes
/// reached the file last.
#[test]
fn a_patch_that_overlapped_a_dropping_write_keeps_nothing() {
    for dropping_first in [false, true] {
        let cache = RangeCache::builder().block_size(512).build().unwrap();
        let key = FileKey::new(9);
        let disk = Disk::new(1024);
        fill_from(&cache, key, &disk, &disk.stamp());
        let (w, p) = if dropping_first {
            let w = cache.begin_dropping_write(key);
            (w, cache.begin_write_at(key, 0, 1024))
        } else {
            let p = cache.begin_write_at(key, 0, 1024);
            (cache.begin_dropping_write(key), p)
        };
        // The patching write lands, then the dropping one over its first 200 bytes;
        // the dropping one finishes first.
        let (before, _) = disk.change(|c, v| c[..1024].fill(v));
        let patched = disk.version(&disk.stamp())[..1024].to_vec();
        disk.change(|c, v| c[..200].fill(v));
        drop(w);
        let now = disk.stamp();
        p.patch(&before, &now, 0, &patched);
        match cache.lookup(key, &now, 0, 1024) {
            Lookup::Hit(b) => assert_eq!(&b[..], &disk.version(&now)[..1024], "stale patch served"),
            Lookup::Miss(_) => {}
        }
        cache.validate().unwrap();
    }
}

/// Fills every block of `0..1024` of `key` under `stamp` from what `disk` holds now.
fn fill_from(cache: &RangeCache, key: FileKey, disk: &Disk, stamp: &Stamp) {
    if let Lookup::Miss(m) = cache.lookup(key, stamp, 0, 1024) {
        let Fill::Lead(g) = m.begin_fill(cache) else {
            panic!("single thread must lead")
        };
        let r = g.range();
        g.complete(&disk.read(r.start, r.end - r.start));
    }
}

/// A write of byte `v` over `0..1024`, through a write guard, patched.
fn write_all(cache: &RangeCache, key: FileKey, disk: &Disk) -> Stamp {
    let w = cache.begin_write(key);
    let (before, after) = disk.change(|c, v| c[..1024].fill(v));
    w.patch(&before, &after, 0, &[after.tag() as u8; 1024]);
    after
}

/// The interleaving behind a one-off failure of
/// `readers_and_writers_never_see_torn_or_stale_bytes`, replayed by hand: two readers
/// take the file's stamp, a write lands and is patched (the cache records the write's
/// stamp), and only then do the readers look up with the stamp they took before it.
///
/// Stamps are not ordered; the cache used to adopt the older stamp like an outside
/// change (new generation, the write's blocks dropped, the older stamp recorded), the
/// first reader's fill read the file as it is now (after the write) and was inserted
/// under the older stamp, and the second reader hit those bytes: version 1's bytes under
/// version 0's stamp, and `recorded_stamp` went back to version 0. Now the cache knows
/// the stamp the write started from and refuses it: both lookups miss, nothing is
/// inserted under it, and the write's stamp stays recorded.
#[test]
fn a_stamp_taken_before_a_patched_write_is_not_adopted() {
    let cache = RangeCache::builder().block_size(512).build().unwrap();
    let key = FileKey::new(6);
    let disk = Disk::new(1024);
    // The cache holds version 0, as the readers see it.
    let v0 = disk.stamp();
    fill_from(&cache, key, &disk, &v0);
    // Two readers take their stamp (version 0)...
    let (r1, r2) = (disk.stamp(), disk.stamp());
    // ... then a write lands and is patched: the cache records version 1.
    let after = write_all(&cache, key, &disk);
    assert!(matches!(cache.lookup(key, &after, 0, 10), Lookup::Hit(b) if b[..] == [1u8; 10]));
    // The first reader looks up with its older stamp and fills from the file as it is.
    let invalidations = cache.stats().invalidations;
    fill_from(&cache, key, &disk, &r1);
    assert_eq!(
        cache.stats().invalidations,
        invalidations,
        "stale stamp adopted"
    );
    assert_eq!(cache.recorded_stamp(key), Some(after));
    // The second reader never gets version 1's bytes under version 0's stamp.
    match cache.lookup(key, &r2, 0, 1024) {
        Lookup::Hit(b) => assert_eq!(&b[..], &disk.version(&r2)[..], "stale hit under {r2:?}"),
        Lookup::Miss(m) => {
            let Fill::Lead(g) = m.begin_fill(&cache) else {
                panic!("a refused stamp's fill makes nobody wait")
            };
            drop(g);
        }
    }
    // The write's patched blocks survived the stale lookups.
    assert!(matches!(cache.lookup(key, &after, 0, 1024), Lookup::Hit(b) if b[..] == [1u8; 1024]));
    cache.validate().unwrap();
}

/// What remains: the cache remembers the stamps of the last few writes only, so a stamp
/// taken before more writes than that is adopted like an outside change. A hit under it
/// is then the file after the writes, not the version the stamp names; it is still what
/// the file held at an instant during that reader's read (invariant 1), which is what
/// `check_hit` asks of every hit.
#[test]
fn a_stamp_older_than_the_remembered_writes_serves_the_file_as_it_is_now() {
    let cache = RangeCache::builder().block_size(512).build().unwrap();
    let key = FileKey::new(7);
    let disk = Disk::new(1024);
    let old = disk.stamp();
    fill_from(&cache, key, &disk, &old);
    let mut after = old;
    for _ in 0..8 {
        after = write_all(&cache, key, &disk);
    }
    fill_from(&cache, key, &disk, &old);
    assert_eq!(cache.recorded_stamp(key), Some(old));
    let Lookup::Hit(b) = cache.lookup(key, &old, 0, 1024) else {
        panic!("expected a hit")
    };
    assert_eq!(&b[..], &disk.version(&after)[..]);
    check_hit(&disk, &old, 0, 1024, &b);
    // A lookup with the current stamp re-adopts it.
    fill_from(&cache, key, &disk, &after);
    assert!(matches!(cache.lookup(key, &after, 0, 1024), Lookup::Hit(b) if b[..] == [8u8; 1024]));
    cache.validate().unwrap();
}

/// The counters are exact however many threads count: more threads than stripes of
/// their own (the rest share one), in waves, so that exited threads' stripes are
/// taken over by new ones.
#[test]
fn stats_count_every_lookup_of_every_thread() {
    let cache = RangeCache::builder().block_size(512).build().unwrap();
    let (key, stamp) = (FileKey::new(1), Stamp::new(512, 1));
    if let Lookup::Miss(m) = cache.lookup(key, &stamp, 0, 1) {
        let Fill::Lead(g) = m.begin_fill(&cache) else {
            panic!("single thread must lead")
        };
        g.complete(&Bytes::from(vec![1u8; 512]));
    }
    let before = cache.stats();
    const WAVES: u64 = 3;
    const THREADS: u64 = 150;
    const LOOKUPS: u64 = 50;
    for _ in 0..WAVES {
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let cache = cache.clone();
                thread::spawn(move || {
                    for _ in 0..LOOKUPS {
                        assert!(matches!(cache.lookup(key, &stamp, 0, 1), Lookup::Hit(_)));
                    }
                    // And one miss each, on another file.
                    let other = FileKey::new(2);
                    assert!(matches!(cache.lookup(other, &stamp, 0, 1), Lookup::Miss(_)));
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
    let after = cache.stats();
    assert_eq!(after.hits - before.hits, WAVES * THREADS * LOOKUPS);
    assert_eq!(after.misses - before.misses, WAVES * THREADS);
}
