//! 4 KiB random `write_at` on a warm file: the blocking `File` (no cache, cache under
//! `Strict`, cache under `Exclusive`) against `std` `pwrite` on the same file, in the
//! same run. The cached cases write into a hot set the cache holds, so every write
//! patches cached blocks.
//!
//! `cargo bench -p fileio-core --bench write_at`; `FILEIO_BENCH_MIB` changes the file
//! size (64 MiB by default).

use std::hint::black_box;
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fileio_core::{Coherence, File, RangeCache, Stream};

const WRITE: usize = 4096;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn file_size() -> u64 {
    let mib: u64 = std::env::var("FILEIO_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    mib << 20
}

fn make_file(dir: &std::path::Path, size: u64) -> std::path::PathBuf {
    let path = dir.join("bench.bin");
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .expect("create bench file");
    let chunk: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 + 3) as u8).collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).expect("write bench file");
        left -= n as u64;
    }
    f.sync_all().expect("sync bench file");
    // Warm the page cache.
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0;
    while off < size {
        off += f.read_at(&mut buf, off).expect("warm") as u64;
    }
    path
}

/// `count` random 4 KiB-aligned offsets below `size`.
fn offsets(size: u64, count: usize) -> Vec<u64> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let blocks = size / WRITE as u64;
    (0..count)
        .map(|_| rng.next() % blocks * WRITE as u64)
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = file_size();
    let path = make_file(dir.path(), size);
    let random = offsets(size, 1 << 16);
    // A hot set that fits the cache: 4096 distinct 4 KiB blocks = 16 MiB at most.
    let hot: Vec<u64> = offsets(size.min(16 << 20), 4096);
    let data = vec![0x5au8; WRITE];

    let mut group = c.benchmark_group("write_at_4k");
    group.throughput(Throughput::Bytes(WRITE as u64));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));

    let std_file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open");
    let mut i = 0;
    group.bench_function("std_pwrite", |b| {
        b.iter(|| {
            i = (i + 1) % random.len();
            black_box(std_file.write_at(&data, random[i]).expect("pwrite"));
        })
    });

    let file = File::options()
        .mode("r+b")
        .no_cache()
        .open(&path)
        .expect("open");
    group.bench_function("fileio_no_cache", |b| {
        b.iter(|| {
            i = (i + 1) % random.len();
            black_box(file.write_at(random[i], &data).expect("write"));
        })
    });

    for (name, coherence) in [
        ("fileio_cache_strict", Coherence::Strict),
        ("fileio_cache_exclusive", Coherence::Exclusive),
    ] {
        let cache = RangeCache::builder()
            .capacity(64 << 20)
            .build()
            .expect("cache");
        let file = File::options()
            .mode("r+b")
            .cache(cache.clone())
            .coherence(coherence)
            .open(&path)
            .expect("open");
        for &off in &hot {
            file.read_at(off, WRITE).expect("fill");
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % hot.len();
                black_box(file.write_at(hot[i], &data).expect("write"));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
