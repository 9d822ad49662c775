//! Benchmarks of fileio-cache against moka, quick_cache and dashmap holding the same
//! blocks, plus the block-size measurement behind the default and a hit-ratio table
//! (Zipf 0.99 with and without a scan) against those caches and an exact LRU.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-cache cargo bench -p fileio-cache`

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::io::Write;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use dashmap::DashMap;
use fileio_cache::{ENTRY_OVERHEAD_BYTES, FileKey, Fill, Lookup, RangeCache, Stamp};

/// Blocks resident during the hit benchmarks (16 MiB of 16 KiB blocks).
const HOT_BLOCKS: u64 = 1024;
const BLOCK: usize = 16 << 10;
const READ: usize = 4096;

/// xorshift64*: a tiny seeded RNG (the benchmarks must be reproducible).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf(s) over `0..n` by inverse CDF.
struct Zipf {
    cdf: Vec<f64>,
}
impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for k in 1..=n {
            sum += 1.0 / (k as f64).powf(s);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Zipf { cdf }
    }
    fn sample(&self, rng: &mut Rng) -> u64 {
        let u = rng.unit();
        self.cdf.partition_point(|&c| c < u) as u64
    }
}

/// Pre-computed (block, offset-in-block) pairs so that the measured loop does no RNG work.
fn hit_offsets() -> Vec<u64> {
    let mut rng = Rng(42);
    (0..4096)
        .map(|_| {
            let block = rng.next() % HOT_BLOCKS;
            let within = (rng.next() % (BLOCK - READ) as u64) & !511;
            block * BLOCK as u64 + within
        })
        .collect()
}

const KEY: FileKey = FileKey::new(0xf11e);

/// Looks `offset..offset + len` up and, on a miss, fills it from `data` (the file's bytes
/// from the start of the miss's range).
fn fill(cache: &RangeCache, stamp: &Stamp, offset: u64, len: usize, data: &Bytes) {
    if let Lookup::Miss(m) = cache.lookup(KEY, stamp, offset, len)
        && let Fill::Lead(g) = m.begin_fill(cache)
    {
        g.complete(data);
    }
}

fn filled_fileio_cache() -> (RangeCache, Stamp) {
    let cache = RangeCache::builder()
        .capacity(64 << 20)
        .block_size(BLOCK)
        .build()
        .unwrap();
    let stamp = Stamp::new(HOT_BLOCKS * BLOCK as u64, 1);
    let data = Bytes::from(vec![7u8; BLOCK]);
    for b in 0..HOT_BLOCKS {
        fill(&cache, &stamp, b * BLOCK as u64, BLOCK, &data);
    }
    (cache, stamp)
}

type BlockId = (u128, u64);

#[derive(Clone)]
struct QcWeighter;
impl quick_cache::Weighter<BlockId, Bytes> for QcWeighter {
    fn weight(&self, _k: &BlockId, v: &Bytes) -> u64 {
        v.len() as u64 + ENTRY_OVERHEAD_BYTES
    }
}

fn moka_cache(capacity: u64) -> moka::sync::Cache<BlockId, Bytes> {
    moka::sync::Cache::builder()
        .max_capacity(capacity)
        .weigher(|_k, v: &Bytes| (v.len() as u64 + ENTRY_OVERHEAD_BYTES) as u32)
        .build()
}

fn quick_cache(
    capacity: u64,
    block: usize,
) -> quick_cache::sync::Cache<BlockId, Bytes, QcWeighter> {
    let items = (capacity / (block as u64 + ENTRY_OVERHEAD_BYTES)) as usize;
    quick_cache::sync::Cache::with_weighter(items.max(16), capacity, QcWeighter)
}

/// The read every competitor performs on a hit: find the block, slice 4 KiB out of it.
trait HitPath: Sync {
    fn hit(&self, offset: u64) -> Bytes;
}

struct Ours(RangeCache, Stamp);
impl HitPath for Ours {
    #[inline]
    fn hit(&self, offset: u64) -> Bytes {
        match self.0.lookup(KEY, &self.1, offset, READ) {
            Lookup::Hit(b) => b,
            Lookup::Miss(_) => unreachable!("benchmark block evicted"),
        }
    }
}

fn slice(block: Bytes, offset: u64) -> Bytes {
    let within = (offset % BLOCK as u64) as usize;
    block.slice(within..within + READ)
}

struct Moka(moka::sync::Cache<BlockId, Bytes>);
impl HitPath for Moka {
    #[inline]
    fn hit(&self, offset: u64) -> Bytes {
        slice(
            self.0.get(&(KEY.get(), offset / BLOCK as u64)).unwrap(),
            offset,
        )
    }
}

struct Quick(quick_cache::sync::Cache<BlockId, Bytes, QcWeighter>);
impl HitPath for Quick {
    #[inline]
    fn hit(&self, offset: u64) -> Bytes {
        slice(
            self.0.get(&(KEY.get(), offset / BLOCK as u64)).unwrap(),
            offset,
        )
    }
}

struct Dash(DashMap<BlockId, Bytes>);
impl HitPath for Dash {
    #[inline]
    fn hit(&self, offset: u64) -> Bytes {
        let b = self
            .0
            .get(&(KEY.get(), offset / BLOCK as u64))
            .unwrap()
            .clone();
        slice(b, offset)
    }
}

fn competitors() -> Vec<(&'static str, Box<dyn HitPath>)> {
    let (cache, stamp) = filled_fileio_cache();
    let data = Bytes::from(vec![7u8; BLOCK]);
    let moka = moka_cache(64 << 20);
    let quick = quick_cache(64 << 20, BLOCK);
    let dash = DashMap::new();
    for b in 0..HOT_BLOCKS {
        let k = (KEY.get(), b);
        moka.insert(k, data.clone());
        quick.insert(k, data.clone());
        dash.insert(k, data.clone());
    }
    moka.run_pending_tasks();
    vec![
        (
            "fileio-cache",
            Box::new(Ours(cache, stamp)) as Box<dyn HitPath>,
        ),
        ("moka", Box::new(Moka(moka))),
        ("quick_cache", Box::new(Quick(quick))),
        ("dashmap", Box::new(Dash(dash))),
    ]
}

fn bench_hits(c: &mut Criterion) {
    let offsets = hit_offsets();
    let mut group = c.benchmark_group("hit_4k");
    group.throughput(Throughput::Elements(1));
    for (name, cache) in competitors() {
        let cache = &*cache;
        group.bench_function(BenchmarkId::new(name, "1 thread"), |b| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 1) & 4095;
                black_box(cache.hit(offsets[i]))
            })
        });
        group.bench_function(BenchmarkId::new(name, "2 threads"), |b| {
            b.iter_custom(|iters| {
                // Each thread does half the lookups; wall time for all of them.
                let per = iters.div_ceil(2);
                let barrier = Barrier::new(2);
                let offsets = &offsets;
                std::thread::scope(|s| {
                    let run = |seed: usize| {
                        let barrier = &barrier;
                        move || {
                            barrier.wait();
                            let start = Instant::now();
                            let mut i = seed;
                            for _ in 0..per {
                                i = (i + 1) & 4095;
                                black_box(cache.hit(offsets[i]));
                            }
                            start.elapsed()
                        }
                    };
                    let a = s.spawn(run(0));
                    let b = s.spawn(run(2048));
                    a.join().unwrap().max(b.join().unwrap())
                })
            })
        });
    }
    group.finish();
}

/// The measurement behind the default block size: the cost of the backend read a miss
/// turns into (a `pread` of one block from the page cache), and the cost of serving a
/// 256 KiB read from cached blocks.
fn bench_block_size(c: &mut Criterion) {
    use std::os::unix::fs::FileExt;
    const FILE: u64 = 64 << 20;
    let path = std::env::temp_dir().join(format!("fileio-cache-bench-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0x5au8; 1 << 20];
        for _ in 0..FILE >> 20 {
            f.write_all(&chunk).unwrap();
        }
    }
    let file = std::fs::File::open(&path).unwrap();
    let mut group = c.benchmark_group("block_size");
    for bs in [4usize << 10, 16 << 10, 64 << 10] {
        let mut buf = vec![0u8; bs];
        let mut rng = Rng(7);
        // Warm the page cache.
        let mut off = 0;
        while off < FILE {
            file.read_at(&mut buf, off).unwrap();
            off += bs as u64;
        }
        group.bench_function(BenchmarkId::new("miss_pread", bs), |b| {
            b.iter(|| {
                let off = (rng.next() % (FILE / bs as u64)) * bs as u64;
                black_box(file.read_at(&mut buf, off).unwrap())
            })
        });
        let cache = RangeCache::builder()
            .capacity(32 << 20)
            .block_size(bs)
            .build()
            .unwrap();
        let len = 8u64 << 20;
        let stamp = Stamp::new(len, 1);
        let data = Bytes::from(vec![1u8; len as usize]);
        fill(&cache, &stamp, 0, len as usize, &data);
        group.bench_function(BenchmarkId::new("hit_256k", bs), |b| {
            b.iter(|| {
                let off = (rng.next() % (len - (256 << 10))) & !4095;
                match cache.lookup(KEY, &stamp, off, 256 << 10) {
                    Lookup::Hit(b) => black_box(b),
                    Lookup::Miss(_) => unreachable!(),
                }
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_file(&path);
}

/// An exact LRU by byte weight (the baseline SIEVE must beat).
struct Lru {
    capacity: u64,
    used: u64,
    tick: u64,
    map: HashMap<u64, u64>,
    order: BTreeMap<u64, u64>,
}
impl Lru {
    fn access(&mut self, key: u64, weight: u64) -> bool {
        self.tick += 1;
        if let Some(t) = self.map.get_mut(&key) {
            self.order.remove(t);
            *t = self.tick;
            self.order.insert(self.tick, key);
            return true;
        }
        while self.used + weight > self.capacity {
            let Some((_, k)) = self.order.pop_first() else {
                break;
            };
            self.map.remove(&k);
            self.used -= weight;
        }
        self.map.insert(key, self.tick);
        self.order.insert(self.tick, key);
        self.used += weight;
        false
    }
}

/// Hit ratios at equal byte capacity (payload + the same per-entry weight everywhere).
fn hit_ratio_table() {
    const BS: usize = 4096;
    const DISTINCT: usize = 50_000;
    const REQUESTS: usize = 1_000_000;
    const SCAN: u64 = 150_000;
    let weight = BS as u64 + ENTRY_OVERHEAD_BYTES;
    let capacity = weight * (DISTINCT as u64 / 10); // 10% of the working set
    let zipf = Zipf::new(DISTINCT, 0.99);
    let mut rng = Rng(0x5eed);
    let plain: Vec<u64> = (0..REQUESTS).map(|_| zipf.sample(&mut rng)).collect();
    // The same kind of trace with a one-pass scan of never-reused blocks in the middle.
    let mut scan: Vec<u64> = (0..REQUESTS).map(|_| zipf.sample(&mut rng)).collect();
    let scan_blocks = (0..SCAN).map(|i| DISTINCT as u64 + 1 + i);
    scan.splice(REQUESTS / 2..REQUESTS / 2, scan_blocks);
    let block = Bytes::from(vec![0u8; BS]);

    println!();
    println!(
        "hit ratio, Zipf(0.99) over {DISTINCT} blocks of {BS} B, capacity {} MiB (10% of the working set)",
        capacity >> 20
    );
    println!("{:<16} {:>12} {:>16}", "cache", "zipf", "zipf + scan");
    let run = |name: &str, f: &mut dyn FnMut(&[u64]) -> f64| {
        let a = f(&plain);
        let b = f(&scan);
        println!("{name:<16} {:>11.2}% {:>15.2}%", a * 100.0, b * 100.0);
    };
    run("lru (exact)", &mut |trace| {
        let mut lru = Lru {
            capacity,
            used: 0,
            tick: 0,
            map: HashMap::new(),
            order: BTreeMap::new(),
        };
        let hits = trace.iter().filter(|&&k| lru.access(k, weight)).count();
        hits as f64 / trace.len() as f64
    });
    run("moka", &mut |trace| {
        let c = moka_cache(capacity);
        let mut hits = 0;
        for &k in trace {
            if c.get(&(1, k)).is_some() {
                hits += 1;
            } else {
                c.insert((1, k), block.clone());
            }
        }
        hits as f64 / trace.len() as f64
    });
    run("quick_cache", &mut |trace| {
        let c = quick_cache(capacity, BS);
        let mut hits = 0;
        for &k in trace {
            if c.get(&(1, k)).is_some() {
                hits += 1;
            } else {
                c.insert((1, k), block.clone());
            }
        }
        hits as f64 / trace.len() as f64
    });
    // Every miss filled (a slow backend: `MissCost::Remote`, or reads that waited), and
    // only hot misses filled (a local file whose first touches the page cache served).
    for (name, fill_cold) in [("fileio-cache", true), ("fileio (hot only)", false)] {
        run(name, &mut |trace| {
            let c = RangeCache::builder()
                .capacity(capacity)
                .block_size(BS)
                .build()
                .unwrap();
            let stamp = Stamp::new(u64::MAX, 1);
            let mut hits = 0;
            for &k in trace {
                match c.lookup(KEY, &stamp, k * BS as u64, BS) {
                    Lookup::Hit(_) => hits += 1,
                    Lookup::Miss(m) if fill_cold || m.is_hot() => {
                        if let Fill::Lead(g) = m.begin_fill(&c) {
                            g.complete(&block);
                        }
                    }
                    Lookup::Miss(_) => {}
                }
            }
            hits as f64 / trace.len() as f64
        });
    }
    println!();
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (Linux; `None`
/// elsewhere). Unlike wall time it does not count time the thread spent descheduled.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Hit cost per lookup in CPU time with 1 and 2 threads. On a busy machine wall-clock
/// throughput cannot show scaling; CPU time per hit can: if it stays flat from one thread
/// to two, the threads do not contend (no shared cache line written per hit), so
/// throughput scales linearly with free cores.
fn scaling_table() {
    const OPS: usize = 4_000_000;
    if thread_cpu_ns().is_none() {
        return;
    }
    let offsets = hit_offsets();
    println!("hit_4k CPU time per hit (ns), from /proc/thread-self/schedstat");
    println!("{:<14} {:>10} {:>10}", "cache", "1 thread", "2 threads");
    for (name, cache) in competitors() {
        let cache = &*cache;
        let run = |threads: usize| -> f64 {
            let barrier = Barrier::new(threads);
            let offsets = &offsets;
            let total: u64 = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let barrier = &barrier;
                        s.spawn(move || {
                            barrier.wait();
                            let start = thread_cpu_ns().unwrap_or(0);
                            let mut i = t * 2048;
                            for _ in 0..OPS {
                                i = (i + 1) & 4095;
                                black_box(cache.hit(offsets[i]));
                            }
                            thread_cpu_ns().unwrap_or(0).saturating_sub(start)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            total as f64 / (OPS * threads) as f64
        };
        let _warm = run(1);
        println!("{name:<14} {:>10.1} {:>10.1}", run(1), run(2));
    }
    println!();
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_hits, bench_block_size
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs benches in test mode: keep that quick. With a criterion
    // filter, print a table only if the filter names it (`hit_ratio`, `scaling`).
    let filter = args.iter().find(|a| !a.starts_with('-'));
    let test_mode = args.iter().any(|a| a == "--test");
    if !test_mode && filter.is_none_or(|f| f == "hit_ratio") {
        hit_ratio_table();
    }
    if !test_mode && filter.is_none_or(|f| f == "scaling") {
        scaling_table();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
