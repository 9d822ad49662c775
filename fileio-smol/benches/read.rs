//! Side-by-side read benchmarks on a warm 256 MiB file, one task on `smol::block_on`:
//!
//! - `random_4k/*`: 4 KiB reads at random 4 KiB-aligned offsets: fileio-smol without
//!   cache and with cache hits, `async_fs::File` (seek + `read_exact`), `std` `pread`.
//! - `sequential_1m/*`: the whole file in 1 MiB chunks: fileio-smol, `std`, `async_fs`.
//!
//! `cargo bench -p fileio-smol --bench read`. The file is made once under the system's
//! temporary directory (`fileio-bench-256m.bin`, shared with fileio-tokio's benchmark).

use std::io::{Read, SeekFrom};
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fileio_core::conformance::data::{self, BLOCK, CHUNK, FILE_LEN, HOT_SPAN, OFFSETS, bench_file};
use fileio_smol::{AsyncStream, File, RangeCache};
use smol::io::{AsyncReadExt, AsyncSeekExt};

fn random_4k(c: &mut Criterion) {
    let path = bench_file();
    let offs = data::offsets(FILE_LEN);
    let hot = data::offsets(HOT_SPAN);
    let mut g = c.benchmark_group("random_4k");
    g.throughput(Throughput::Bytes(BLOCK as u64));

    let std_file = std::fs::File::open(&path).unwrap();
    g.bench_function("std_pread", |b| {
        let mut buf = vec![0u8; BLOCK];
        let mut i = 0;
        b.iter(|| {
            std_file.read_exact_at(&mut buf, offs[i % OFFSETS]).unwrap();
            i += 1;
        })
    });

    let plain = smol::block_on(File::options().mode("rb").no_cache().open(&path)).unwrap();
    g.bench_function("fileio_smol_no_cache", |b| {
        b.iter_custom(|iters| {
            smol::block_on(async {
                let start = Instant::now();
                for i in 0..iters as usize {
                    plain.read_at(offs[i % OFFSETS], BLOCK).await.unwrap();
                }
                start.elapsed()
            })
        })
    });

    let cache = RangeCache::builder().capacity(64 << 20).build().unwrap();
    let cached =
        smol::block_on(File::options().mode("rb").cache(cache.clone()).open(&path)).unwrap();
    smol::block_on(async {
        for &off in &hot {
            cached.read_at(off, BLOCK).await.unwrap();
        }
    });
    g.bench_function("fileio_smol_cache_hits_strict", |b| {
        b.iter_custom(|iters| {
            smol::block_on(async {
                let start = Instant::now();
                for i in 0..iters as usize {
                    cached.read_at(hot[i % OFFSETS], BLOCK).await.unwrap();
                }
                start.elapsed()
            })
        })
    });

    let mut async_fs_file = smol::block_on(smol::fs::File::open(&path)).unwrap();
    g.bench_function("async_fs_seek_read_exact", |b| {
        let mut buf = vec![0u8; BLOCK];
        b.iter_custom(|iters| {
            smol::block_on(async {
                let start = Instant::now();
                for i in 0..iters as usize {
                    async_fs_file
                        .seek(SeekFrom::Start(offs[i % OFFSETS]))
                        .await
                        .unwrap();
                    async_fs_file.read_exact(&mut buf).await.unwrap();
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn sequential_1m(c: &mut Criterion) {
    let path = bench_file();
    let mut g = c.benchmark_group("sequential_1m");
    g.throughput(Throughput::Bytes(FILE_LEN));
    g.sample_size(10);

    g.bench_function("std_read", |b| {
        let mut buf = vec![0u8; CHUNK];
        b.iter(|| {
            let mut f = std::fs::File::open(&path).unwrap();
            while f.read(&mut buf).unwrap() > 0 {}
        })
    });

    let plain = smol::block_on(File::options().mode("rb").no_cache().open(&path)).unwrap();
    g.bench_function("fileio_smol_read_at", |b| {
        b.iter(|| {
            smol::block_on(async {
                let mut off = 0u64;
                loop {
                    let data = plain.read_at(off, CHUNK).await.unwrap();
                    if data.is_empty() {
                        break;
                    }
                    off += data.len() as u64;
                }
                assert_eq!(off, FILE_LEN);
            })
        })
    });

    g.bench_function("async_fs_read", |b| {
        let mut buf = vec![0u8; CHUNK];
        b.iter(|| {
            smol::block_on(async {
                let mut f = smol::fs::File::open(&path).await.unwrap();
                while f.read(&mut buf).await.unwrap() > 0 {}
            })
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = random_4k, sequential_1m
}
criterion_main!(benches);
