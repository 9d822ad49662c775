//! Model-based property test: random operations on a few files against a plain
//! `HashMap<FileKey, Vec<u8>>`, with the stamp rules. No lookup may ever return bytes the
//! model does not hold, the cache must stay within capacity, and `validate()` must pass
//! after every step.

use std::collections::HashMap;

use bytes::Bytes;
use fileio_cache::{FileKey, Fill, Lookup, Probe, RangeCache, Stamp};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    /// Look up and, on a miss, fill (completing with a prefix of `keep` of the data, or
    /// abandoning the fill when `keep` is 0).
    Read {
        file: usize,
        offset: u64,
        len: usize,
        keep: u8,
    },
    /// A write through the cache: begin_write, change the file, patch.
    Write {
        file: usize,
        offset: u64,
        len: usize,
        byte: u8,
    },
    /// `set_len` through the cache.
    Truncate {
        file: usize,
        len: u64,
    },
    /// A write whose guard is dropped (failed write; the file is unchanged).
    AbandonWrite {
        file: usize,
    },
    /// A change made behind the cache's back (another process): only the stamp tells.
    External {
        file: usize,
        offset: u64,
        len: usize,
        byte: u8,
    },
    Invalidate {
        file: usize,
    },
    SetCapacity {
        bytes: u64,
    },
    Clear,
    /// `probe`, then confirm a hit with the file's current stamp (taken after it).
    Probe {
        file: usize,
        offset: u64,
        len: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let file = 0..3usize;
    prop_oneof![
        6 => (file.clone(), 0..6000u64, 0..3000usize, 0..4u8)
            .prop_map(|(file, offset, len, keep)| Op::Read { file, offset, len, keep }),
        3 => (file.clone(), 0..5000u64, 0..2500usize, any::<u8>())
            .prop_map(|(file, offset, len, byte)| Op::Write { file, offset, len, byte }),
        1 => (file.clone(), 0..6000u64).prop_map(|(file, len)| Op::Truncate { file, len }),
        1 => file.clone().prop_map(|file| Op::AbandonWrite { file }),
        1 => (file.clone(), 0..5000u64, 0..2000usize, any::<u8>())
            .prop_map(|(file, offset, len, byte)| Op::External { file, offset, len, byte }),
        1 => file.clone().prop_map(|file| Op::Invalidate { file }),
        1 => prop_oneof![Just(0u64), 0..4000u64, 4000..200_000u64, Just(1 << 20)]
            .prop_map(|bytes| Op::SetCapacity { bytes }),
        1 => Just(Op::Clear),
        3 => (file.clone(), 0..6000u64, 0..3000usize)
            .prop_map(|(file, offset, len)| Op::Probe { file, offset, len }),
    ]
}

#[derive(Clone, Debug)]
struct Config {
    capacity: u64,
    block_size: usize,
    shards: usize,
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop_oneof![Just(600u64), 1000..5000u64, 5000..60_000u64, Just(1 << 20)],
        prop_oneof![Just(512usize), Just(1024), Just(4096)],
        prop_oneof![Just(1usize), Just(2), Just(4)],
    )
        .prop_map(|(capacity, block_size, shards)| Config {
            capacity,
            block_size,
            shards,
        })
}

struct Model {
    files: HashMap<FileKey, Vec<u8>>,
    stamps: HashMap<FileKey, Stamp>,
    next_tag: u128,
}

impl Model {
    fn new() -> Model {
        let mut m = Model {
            files: HashMap::new(),
            stamps: HashMap::new(),
            next_tag: 1,
        };
        for i in 0..3 {
            let key = FileKey::new(i);
            let content: Vec<u8> = (0..(i as usize + 1) * 1500)
                .map(|p| (p % 251) as u8)
                .collect();
            m.files.insert(key, content);
            m.restamp(key);
        }
        m
    }

    fn restamp(&mut self, key: FileKey) -> Stamp {
        let s = Stamp::new(self.files[&key].len() as u64, self.next_tag);
        self.next_tag += 1;
        self.stamps.insert(key, s);
        s
    }

    fn write(&mut self, key: FileKey, offset: u64, data: &[u8]) {
        let f = self.files.get_mut(&key).unwrap();
        let end = offset as usize + data.len();
        if f.len() < end {
            f.resize(end, 0);
        }
        f[offset as usize..end].copy_from_slice(data);
    }

    fn slice(&self, key: FileKey, offset: u64, len: usize) -> &[u8] {
        let f = &self.files[&key];
        let start = (offset as usize).min(f.len());
        let end = offset.saturating_add(len as u64).min(f.len() as u64) as usize;
        &f[start..end.max(start)]
    }
}

fn check(cache: &RangeCache) -> Result<(), TestCaseError> {
    cache.validate().map_err(TestCaseError::fail)?;
    let s = cache.stats();
    prop_assert!(s.resident_bytes <= s.capacity_bytes, "{s:?}");
    Ok(())
}

fn run(cfg: Config, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let cache = RangeCache::builder()
        .capacity(cfg.capacity)
        .block_size(cfg.block_size)
        .shards(cfg.shards)
        .build()
        .unwrap();
    let bs = cfg.block_size as u64;
    let mut model = Model::new();
    let mut capacity = cfg.capacity;
    for op in ops {
        match op {
            Op::Read {
                file,
                offset,
                len,
                keep,
            } => {
                let key = FileKey::new(file as u128);
                let stamp = model.stamps[&key];
                match cache.lookup(key, &stamp, offset, len) {
                    Lookup::Hit(b) => {
                        prop_assert_eq!(
                            &b[..],
                            model.slice(key, offset, len),
                            "hit differs from model"
                        );
                    }
                    Lookup::Miss(miss) => {
                        let r = miss.range();
                        let end = offset.saturating_add(len as u64).min(stamp.len());
                        prop_assert!(r.start < r.end, "empty miss range {:?}", r);
                        prop_assert_eq!(r.start % bs, 0);
                        prop_assert!(r.start <= offset.max(r.start) && r.start >= offset / bs * bs);
                        prop_assert!(r.end <= stamp.len() && r.end >= r.start);
                        prop_assert!(r.end <= end.div_ceil(bs) * bs);
                        let Fill::Lead(guard) = miss.begin_fill(&cache) else {
                            return Err(TestCaseError::fail("single thread must lead"));
                        };
                        let data = model
                            .slice(key, r.start, (r.end - r.start) as usize)
                            .to_vec();
                        let full = data.len();
                        match keep {
                            0 => drop(guard),
                            1 => guard.complete(&Bytes::from(data[..full / 2].to_vec())),
                            _ => guard.complete(&Bytes::from(data)),
                        }
                        if keep >= 2 && capacity >= 1 << 20 && cfg.shards == 1 {
                            // Everything fits: the same read must now hit.
                            match cache.lookup(key, &stamp, offset, len) {
                                Lookup::Hit(b) => {
                                    prop_assert_eq!(&b[..], model.slice(key, offset, len))
                                }
                                Lookup::Miss(m) => {
                                    return Err(TestCaseError::fail(format!(
                                        "no hit after fill: {m:?}"
                                    )));
                                }
                            }
                        }
                    }
                }
            }
            Op::Write {
                file,
                offset,
                len,
                byte,
            } => {
                let key = FileKey::new(file as u128);
                let before = model.stamps[&key];
                let guard = cache.begin_write(key);
                let data = vec![byte; len];
                model.write(key, offset, &data);
                let after = model.restamp(key);
                guard.patch(&before, &after, offset, &data);
            }
            Op::Truncate { file, len } => {
                let key = FileKey::new(file as u128);
                let before = model.stamps[&key];
                let guard = cache.begin_write(key);
                model.files.get_mut(&key).unwrap().resize(len as usize, 0);
                let after = model.restamp(key);
                guard.truncate(&before, &after, len);
            }
            Op::AbandonWrite { file } => {
                drop(cache.begin_write(FileKey::new(file as u128)));
            }
            Op::External {
                file,
                offset,
                len,
                byte,
            } => {
                let key = FileKey::new(file as u128);
                model.write(key, offset, &vec![byte; len]);
                model.restamp(key);
            }
            Op::Invalidate { file } => cache.invalidate(FileKey::new(file as u128)),
            Op::SetCapacity { bytes } => {
                cache.set_capacity(bytes);
                capacity = bytes;
                prop_assert!(cache.stats().resident_bytes <= bytes);
            }
            Op::Probe { file, offset, len } => {
                let key = FileKey::new(file as u128);
                let stamp = model.stamps[&key];
                let before = cache.stats();
                let (hits, misses) = match cache.probe(key, offset, len) {
                    Probe::Hit(hit) => {
                        let recorded = hit.stamp();
                        match hit.confirm(&stamp) {
                            Some(b) => {
                                prop_assert_eq!(recorded, stamp);
                                prop_assert_eq!(
                                    &b[..],
                                    model.slice(key, offset, len),
                                    "confirmed probe differs from model"
                                );
                                (1, 0)
                            }
                            None => {
                                prop_assert_ne!(recorded, stamp);
                                (0, 0)
                            }
                        }
                    }
                    Probe::Cold(cold) => {
                        cold.read_around();
                        (0, 1)
                    }
                    Probe::Unsure => (0, 0),
                };
                let after = cache.stats();
                prop_assert_eq!(
                    (after.hits - before.hits, after.misses - before.misses),
                    (hits, misses)
                );
            }
            Op::Clear => {
                cache.clear();
                prop_assert_eq!(cache.stats().entries, 0);
            }
        }
        check(&cache)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn cache_agrees_with_model(cfg in config(), ops in proptest::collection::vec(op(), 1..100)) {
        run(cfg, ops)?;
    }
}

/// A 1 MiB cache of 512-byte blocks in one shard.
fn one_shard_cache() -> RangeCache {
    RangeCache::builder()
        .capacity(1 << 20)
        .block_size(512)
        .shards(1)
        .build()
        .unwrap()
}

/// Reads, writes and truncates only (no external changes or invalidations): exercises
/// patching and the tail-block rules hard, and checks the cache really serves.
#[test]
fn patches_keep_serving() {
    let cache = one_shard_cache();
    let key = FileKey::new(9);
    let mut model = Model::new();
    model.files.insert(key, vec![1; 1300]);
    let mut stamp = model.restamp(key);
    let fill_all = |stamp: &Stamp, model: &Model| {
        if let Lookup::Miss(m) = cache.lookup(key, stamp, 0, usize::MAX) {
            let Fill::Lead(g) = m.begin_fill(&cache) else {
                panic!()
            };
            let r = g.range();
            g.complete(&Bytes::copy_from_slice(model.slice(
                key,
                r.start,
                (r.end - r.start) as usize,
            )));
        }
    };
    fill_all(&stamp, &model);
    let steps: &[(u64, usize)] = &[
        (1300, 100),
        (10, 5),
        (500, 600),
        (2000, 1),
        (0, 2001),
        (3000, 10),
    ];
    for (i, &(offset, len)) in steps.iter().enumerate() {
        let before = stamp;
        let g = cache.begin_write(key);
        let data = vec![i as u8 + 10; len];
        model.write(key, offset, &data);
        stamp = model.restamp(key);
        g.patch(&before, &stamp, offset, &data);
        cache.validate().unwrap();
        // Blocks that were cached before the write and the write itself are served.
        match cache.lookup(key, &stamp, offset, len) {
            Lookup::Hit(b) => assert_eq!(&b[..], model.slice(key, offset, len)),
            Lookup::Miss(m) => panic!("step {i}: patched range missed: {m:?}"),
        }
        fill_all(&stamp, &model);
        match cache.lookup(key, &stamp, 0, usize::MAX) {
            Lookup::Hit(b) => assert_eq!(&b[..], &model.files[&key][..]),
            Lookup::Miss(m) => panic!("step {i}: {m:?}"),
        }
    }
    for len in [2500u64, 2048, 100, 0, 700] {
        let before = stamp;
        let g = cache.begin_write(key);
        model.files.get_mut(&key).unwrap().resize(len as usize, 0);
        stamp = model.restamp(key);
        g.truncate(&before, &stamp, len);
        cache.validate().unwrap();
        match cache.lookup(key, &stamp, 0, usize::MAX) {
            Lookup::Hit(b) => assert_eq!(&b[..], &model.files[&key][..]),
            Lookup::Miss(m) => {
                fill_all(&stamp, &model);
                assert!(len > 100, "truncate to {len} lost cached data: {m:?}");
            }
        }
    }
    assert_eq!(cache.stats().invalidations, 0);
    assert!(cache.stats().patched_bytes > 0);
}

/// One step of several writes in flight on one file, interleaved with reads.
#[derive(Clone, Debug)]
enum Step {
    /// Write slot `w` begins (if free): `begin_dropping_write` (`dropping`), else
    /// `begin_write_at` its bytes (`ranged`) or `begin_write`, then its stamp before,
    /// the file's own (`strict`) or the one the cache records.
    Begin {
        w: usize,
        offset: u64,
        len: usize,
        byte: u8,
        strict: bool,
        ranged: bool,
        dropping: bool,
    },
    /// Its bytes reach the file; with `stamp_now`, its stamp after is taken at once,
    /// otherwise when it finishes (other writes may land in between).
    Land { w: usize, stamp_now: bool },
    /// It finishes: `patch` (once landed), or its guard is dropped (not landed: a failed
    /// write, the file unchanged; or a dropping write, landed or not). With `alone`, a
    /// landed patching write first tries `patch_alone`, which must then make up the
    /// stamp after from the file's true length (the file is renamed to that stamp).
    Finish { w: usize, alone: bool },
    /// A read under the file's stamp, filling on a miss.
    Read { offset: u64, len: usize },
    /// A read under the recorded stamp (no outside change happens in this test).
    ReadRecorded { offset: u64, len: usize },
    /// A read that misses and leads a fill reads the file now (if no fill is pending)...
    StartFill {
        offset: u64,
        len: usize,
        recorded: bool,
    },
    /// ... and hands the bytes over later, writes having begun, landed or finished in
    /// between.
    EndFill,
}

fn step() -> impl Strategy<Value = Step> {
    let w = 0..2usize;
    prop_oneof![
        3 => (w.clone(), 0..3000u64, 1..2500usize, any::<u8>(), any::<bool>(), any::<bool>(), prop::bool::weighted(0.25))
            .prop_map(|(w, offset, len, byte, strict, ranged, dropping)| Step::Begin { w, offset, len, byte, strict, ranged, dropping }),
        3 => (w.clone(), any::<bool>()).prop_map(|(w, stamp_now)| Step::Land { w, stamp_now }),
        3 => (w, any::<bool>()).prop_map(|(w, alone)| Step::Finish { w, alone }),
        3 => (0..6000u64, 1..3000usize).prop_map(|(offset, len)| Step::Read { offset, len }),
        2 => (0..6000u64, 1..3000usize).prop_map(|(offset, len)| Step::ReadRecorded { offset, len }),
        2 => (0..6000u64, 1..3000usize, any::<bool>())
            .prop_map(|(offset, len, recorded)| Step::StartFill { offset, len, recorded }),
        2 => Just(Step::EndFill),
    ]
}

/// How a write of [`concurrent_writes_agree_with_model`] registered.
enum Registered {
    Patching(fileio_cache::WriteGuard),
    Dropping(
        #[expect(dead_code, reason = "held for what dropping it does")] fileio_cache::DroppingWrite,
    ),
}

impl Registered {
    /// Finishes it: a patching write that landed patches from `before` to `after`; any
    /// other is dropped.
    fn finish(self, landed: Option<(&Stamp, &Stamp)>, offset: u64, data: &[u8]) {
        match (self, landed) {
            (Registered::Patching(guard), Some((before, after))) => {
                guard.patch(before, after, offset, data);
            }
            (registered, _) => drop(registered),
        }
    }
}

/// A write slot of [`concurrent_writes_agree_with_model`].
struct InFlight {
    guard: Registered,
    before: Stamp,
    offset: u64,
    data: Vec<u8>,
    landed: bool,
    after: Option<Stamp>,
}

/// Several writes in flight on one file, their bytes landing and their patches applied
/// in any order, overlapping or not, between reads and fills that read the file at one
/// step and hand their bytes over at a later one: every hit is the file's content at
/// that moment (no outside change happens, so reads under the recorded stamp must be
/// right too; writes registered with their place leave the file's other blocks serving
/// while in flight), `validate()` passes after every step, and writes never drop the
/// file's blocks wholesale (no invalidation) unless a write was abandoned or its stamps
/// could not be told apart from an outside change.
fn run_concurrent(block_size: usize, half: bool, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let cache = RangeCache::builder()
        .capacity(1 << 20)
        .block_size(block_size)
        .shards(2)
        .build()
        .unwrap();
    let key = FileKey::new(0);
    let mut model = Model::new();
    let mut slots: Vec<Option<InFlight>> = (0..2).map(|_| None).collect();
    // A fill led, with the bytes it read, not handed over yet.
    let mut pending: Option<(fileio_cache::FillGuard, Bytes)> = None;
    // `in_flight`: a write is in flight, so the file may be read as it was before it
    // (which, served from memory, can only be the empty read at the old end of file).
    let read =
        |stamp: &Stamp, model: &Model, offset: u64, len: usize, recorded: bool, in_flight: bool| {
            // Under the recorded stamp, the hot path first, as `fileio-core` reads.
            let found = if recorded {
                match cache.hit_recorded(key, offset, len) {
                    Some(hit) => Some(Lookup::Hit(hit)),
                    None => cache.lookup_recorded(key, offset, len),
                }
            } else {
                Some(cache.lookup(key, stamp, offset, len))
            };
            match found {
                Some(Lookup::Hit(b)) if in_flight && b.is_empty() => {}
                Some(Lookup::Hit(b)) => {
                    prop_assert_eq!(
                        &b[..],
                        model.slice(key, offset, len),
                        "hit at {}+{}",
                        offset,
                        len
                    );
                }
                Some(Lookup::Miss(m)) => {
                    // Filled twice over: the first miss is cold, the second hot.
                    if let Fill::Lead(g) = m.begin_fill(&cache) {
                        let r = g.range();
                        g.complete(&Bytes::copy_from_slice(model.slice(
                            key,
                            r.start,
                            (r.end - r.start) as usize,
                        )));
                    }
                }
                None => {}
            }
            Ok(())
        };
    // The whole file cached first (twice: the first miss is cold), so that writes patch;
    // or its first `half`, so that the other half is read through fills racing the writes.
    let len = model.files[&key].len() / if half { 2 } else { 1 };
    for _ in 0..2 {
        read(&model.stamps[&key], &model, 0, len, false, false)?;
    }
    for s in steps {
        match s {
            Step::Begin {
                w,
                offset,
                len,
                byte,
                strict,
                ranged,
                dropping,
            } => {
                if slots[w].is_none() {
                    let guard = if dropping {
                        Registered::Dropping(cache.begin_dropping_write(key))
                    } else if ranged {
                        Registered::Patching(cache.begin_write_at(key, offset, len))
                    } else {
                        Registered::Patching(cache.begin_write(key))
                    };
                    let before = match cache.recorded_stamp(key) {
                        Some(recorded) if !strict => recorded,
                        _ => model.stamps[&key],
                    };
                    slots[w] = Some(InFlight {
                        guard,
                        before,
                        offset,
                        data: vec![byte; len],
                        landed: false,
                        after: None,
                    });
                }
            }
            Step::Land { w, stamp_now } => {
                if let Some(s) = slots[w].as_mut().filter(|s| !s.landed) {
                    model.write(key, s.offset, &s.data);
                    let stamp = model.restamp(key);
                    s.landed = true;
                    s.after = stamp_now.then_some(stamp);
                }
            }
            Step::Finish { w, alone } => {
                if let Some(s) = slots[w].take() {
                    let guard = match s.guard {
                        Registered::Patching(guard) if alone && s.landed => {
                            let tag = model.next_tag;
                            let mut made_for = None;
                            match guard.patch_alone(s.offset, &s.data, |len| {
                                made_for = Some(len);
                                Stamp::new(len, tag)
                            }) {
                                Ok(stamp) => {
                                    prop_assert_eq!(
                                        made_for,
                                        Some(model.files[&key].len() as u64),
                                        "a write deemed alone made up a wrong length"
                                    );
                                    model.next_tag += 1;
                                    model.stamps.insert(key, stamp);
                                    check(&cache)?;
                                    continue;
                                }
                                Err(guard) => Registered::Patching(guard),
                            }
                        }
                        other => other,
                    };
                    let after = s.after.unwrap_or(model.stamps[&key]);
                    let landed = s.landed.then_some((&s.before, &after));
                    guard.finish(landed, s.offset, &s.data);
                }
            }
            Step::Read { offset, len } => {
                let in_flight = slots.iter().any(Option::is_some);
                read(&model.stamps[&key], &model, offset, len, false, in_flight)?;
            }
            Step::ReadRecorded { offset, len } => {
                let in_flight = slots.iter().any(Option::is_some);
                read(&model.stamps[&key], &model, offset, len, true, in_flight)?;
            }
            Step::StartFill {
                offset,
                len,
                recorded,
            } => {
                if pending.is_none() {
                    let found = if recorded {
                        cache.lookup_recorded(key, offset, len)
                    } else {
                        Some(cache.lookup(key, &model.stamps[&key], offset, len))
                    };
                    if let Some(Lookup::Miss(m)) = found
                        && let Fill::Lead(g) = m.begin_fill(&cache)
                    {
                        let r = g.range();
                        let data = Bytes::copy_from_slice(model.slice(
                            key,
                            r.start,
                            (r.end - r.start) as usize,
                        ));
                        pending = Some((g, data));
                    }
                }
            }
            Step::EndFill => {
                if let Some((g, data)) = pending.take() {
                    g.complete(&data);
                }
            }
        }
        check(&cache)?;
    }
    if let Some((g, data)) = pending.take() {
        g.complete(&data);
    }
    // Everything finishes, then the whole file reads right, under both kinds of lookup.
    for s in slots.iter_mut().filter_map(Option::take) {
        let after = s.after.unwrap_or(model.stamps[&key]);
        let landed = s.landed.then_some((&s.before, &after));
        s.guard.finish(landed, s.offset, &s.data);
    }
    check(&cache)?;
    let len = model.files[&key].len();
    for recorded in [true, false, false, false] {
        read(&model.stamps[&key], &model, 0, len, recorded, false)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_writes_agree_with_model(
        block_size in prop_oneof![Just(512usize), Just(1024), Just(4096)],
        half in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..80),
    ) {
        run_concurrent(block_size, half, steps)?;
    }
}

/// Two overlapping writes in flight at once, each patching when it finishes: the cache
/// keeps the file (no invalidation), serves the blocks only one of them wrote, and drops
/// the blocks both wrote (which landed last is unknown to it), in either finishing order.
#[test]
fn overlapping_writes_in_flight_patch_their_own_blocks() {
    for first_finishes_first in [true, false] {
        let cache = one_shard_cache();
        let key = FileKey::new(1);
        let mut model = Model::new();
        model.files.insert(key, vec![1; 4096]);
        let s0 = model.restamp(key);
        // Cache the whole file (twice: the second touch is hot; both fill here).
        for _ in 0..2 {
            if let Lookup::Miss(m) = cache.lookup(key, &s0, 0, 4096)
                && let Fill::Lead(g) = m.begin_fill(&cache)
            {
                g.complete(&Bytes::copy_from_slice(&model.files[&key]));
            }
        }
        let a = cache.begin_write(key);
        let b = cache.begin_write(key);
        // A writes 0..1200, B writes 1000..2000; A lands first, then B.
        model.write(key, 0, &[2; 1200]);
        let sa = model.restamp(key);
        model.write(key, 1000, &[3; 1000]);
        let sb = model.restamp(key);
        if first_finishes_first {
            a.patch(&s0, &sa, 0, &[2; 1200]);
            b.patch(&s0, &sb, 1000, &[3; 1000]);
        } else {
            b.patch(&s0, &sb, 1000, &[3; 1000]);
            a.patch(&s0, &sa, 0, &[2; 1200]);
        }
        cache.validate().unwrap();
        assert_eq!(cache.stats().invalidations, 0, "a write dropped the file");
        let recorded = cache.recorded_stamp(key).unwrap();
        // Blocks only one write touched, and blocks neither touched, are served.
        for (offset, len) in [(0, 512), (2048, 2048), (1536, 464)] {
            match cache.lookup(key, &recorded, offset, len) {
                Lookup::Hit(got) => assert_eq!(&got[..], model.slice(key, offset, len)),
                Lookup::Miss(m) => panic!("{offset}+{len} missed: {m:?}"),
            }
        }
        // The block both wrote (512..1536 holds 1000..1200) is not served.
        assert!(matches!(
            cache.lookup(key, &recorded, 1024, 100),
            Lookup::Miss(_)
        ));
    }
}
