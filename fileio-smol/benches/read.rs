//! Side-by-side read benchmarks on a warm 256 MiB file, one task on `smol::block_on`:
//!
//! - `random_4k/*`: 4 KiB reads at random 4 KiB-aligned offsets: fileio-smol without
//!   cache and with cache hits, `async_fs::File` (seek + `read_exact`), `std` `pread`.
//! - `sequential_1m/*`: the whole file in 1 MiB chunks: fileio-smol, `std`, `async_fs`.
//!
//! `cargo bench -p fileio-smol --bench read`. The file is made once under the system's
//! temporary directory (`fileio-bench-256m.bin`, shared with fileio-tokio's benchmark).

use std::io::SeekFrom;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fileio_core::conformance::data::{self, BLOCK, CHUNK, FILE_LEN, HOT_SPAN, OFFSETS, bench_file};
use fileio_smol::{File, RangeCache};
use smol::io::{AsyncReadExt, AsyncSeekExt};

fn random_4k(c: &mut Criterion) {
    let path = bench_file();
    let offs = data::offsets(FILE_LEN);
    let hot = data::offsets(HOT_SPAN);
    let mut g = c.benchmark_group("random_4k");
    g.throughput(Throughput::Bytes(BLOCK as u64));

    let mut preads = data::StdPreads::new(&path, &offs);
    g.bench_function("std_pread", |b| b.iter(|| preads.read_next()));

    let plain = smol::block_on(File::options().mode("rb").no_cache().open(&path)).unwrap();
    g.bench_function("fileio_smol_no_cache", |b| {
        b.iter_custom(|iters| {
            smol::block_on(data::time_iters(iters, async |i| {
                plain.read_at(offs[i % OFFSETS], BLOCK).await.unwrap();
            }))
        })
    });

    let cache = RangeCache::builder().capacity(64 << 20).build().unwrap();
    let cached =
        smol::block_on(File::options().mode("rb").cache(cache.clone()).open(&path)).unwrap();
    // A local file's blocks are cached on their second touch: read the set until a pass
    // misses nothing.
    smol::block_on(async {
        for _ in 0..8 {
            let misses = cache.stats().misses;
            for &off in &hot {
                cached.read_at(off, BLOCK).await.unwrap();
            }
            if cache.stats().misses == misses {
                break;
            }
        }
    });
    g.bench_function("fileio_smol_cache_hits_strict", |b| {
        b.iter_custom(|iters| {
            smol::block_on(data::time_iters(iters, async |i| {
                cached.read_at(hot[i % OFFSETS], BLOCK).await.unwrap();
            }))
        })
    });

    let mut async_fs_file = smol::block_on(smol::fs::File::open(&path)).unwrap();
    g.bench_function("async_fs_seek_read_exact", |b| {
        let mut buf = vec![0u8; BLOCK];
        b.iter_custom(|iters| {
            smol::block_on(data::time_iters(iters, async |i| {
                async_fs_file
                    .seek(SeekFrom::Start(offs[i % OFFSETS]))
                    .await
                    .unwrap();
                async_fs_file.read_exact(&mut buf).await.unwrap();
            }))
        })
    });
    g.finish();
}

fn sequential_1m(c: &mut Criterion) {
    let path = bench_file();
    let mut g = c.benchmark_group("sequential_1m");
    g.throughput(Throughput::Bytes(FILE_LEN));
    g.sample_size(10);

    let mut std_reads = data::StdSequential::new(&path);
    g.bench_function("std_read", |b| b.iter(|| std_reads.read_all()));

    let plain = smol::block_on(File::options().mode("rb").no_cache().open(&path)).unwrap();
    g.bench_function("fileio_smol_read_at", |b| {
        b.iter(|| smol::block_on(data::read_sequentially(&plain)))
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

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(data::WARM_UP).measurement_time(data::MEASUREMENT).sample_size(data::SAMPLE_SIZE);
    targets = random_4k, sequential_1m
}
criterion_main!(benches);
