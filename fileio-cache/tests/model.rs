//! Model-based property test: random operations on a few files against a plain
//! `HashMap<FileKey, Vec<u8>>`, with the stamp rules. No lookup may ever return bytes the
//! model does not hold, the cache must stay within capacity, and `validate()` must pass
//! after every step.

use std::collections::HashMap;

use bytes::Bytes;
use fileio_cache::{FileKey, Fill, Lookup, RangeCache, Stamp};
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
        1 => file.prop_map(|file| Op::Invalidate { file }),
        1 => prop_oneof![Just(0u64), 0..4000u64, 4000..200_000u64, Just(1 << 20)]
            .prop_map(|bytes| Op::SetCapacity { bytes }),
        1 => Just(Op::Clear),
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

/// Reads, writes and truncates only (no external changes or invalidations): exercises
/// patching and the tail-block rules hard, and checks the cache really serves.
#[test]
fn patches_keep_serving() {
    let cache = RangeCache::builder()
        .capacity(1 << 20)
        .block_size(512)
        .shards(1)
        .build()
        .unwrap();
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
