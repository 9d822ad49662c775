//! Side-by-side read benchmarks on a warm 256 MiB file:
//!
//! - `random_4k/*`: one task, 4 KiB reads at random 4 KiB-aligned offsets: fileio-tokio
//!   without cache, with cache hits (Strict and Exclusive coherence), `tokio::fs::File`
//!   (seek + `read_exact`), `std` `pread` on the calling thread, and
//!   `spawn_blocking(pread)`.
//! - `random_4k_64_tasks/*`: the same reads spread over 64 tasks on a two-worker runtime:
//!   fileio-tokio without cache against 64 tasks each doing `spawn_blocking(pread)`.
//! - `sequential_1m/*`: the whole file in 1 MiB chunks: fileio-tokio, `std`, `tokio::fs`.
//!
//! `cargo bench -p fileio-tokio --bench read`. The file is made once under the system's
//! temporary directory (`fileio-bench-256m.bin`) and reused by later runs.

use std::io::SeekFrom;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fileio_core::conformance::data::{self, BLOCK, CHUNK, FILE_LEN, HOT_SPAN, OFFSETS, bench_file};
use fileio_tokio::{Coherence, File, RangeCache};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

fn offsets(span: u64) -> Arc<Vec<u64>> {
    Arc::new(data::offsets(span))
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn random_4k(c: &mut Criterion) {
    let path = bench_file();
    let offs = offsets(FILE_LEN);
    let hot = offsets(HOT_SPAN);
    let rt = current_thread();
    let mut g = c.benchmark_group("random_4k");
    g.throughput(Throughput::Bytes(BLOCK as u64));

    let mut preads = data::StdPreads::new(&path, &offs);
    g.bench_function("std_pread", |b| b.iter(|| preads.read_next()));

    let plain = rt
        .block_on(File::options().mode("rb").no_cache().open(&path))
        .unwrap();
    g.bench_function("fileio_tokio_no_cache", |b| {
        b.iter_custom(|iters| {
            rt.block_on(data::time_iters(iters, async |i| {
                let data = plain.read_at(offs[i % OFFSETS], BLOCK).await.unwrap();
                assert_eq!(data.len(), BLOCK);
            }))
        })
    });

    for (name, coherence) in [
        ("fileio_tokio_cache_hits_strict", Coherence::Strict),
        ("fileio_tokio_cache_hits_exclusive", Coherence::Exclusive),
    ] {
        let cache = RangeCache::builder().capacity(64 << 20).build().unwrap();
        let cached = rt
            .block_on(
                File::options()
                    .mode("rb")
                    .cache(cache.clone())
                    .coherence(coherence)
                    .open(&path),
            )
            .unwrap();
        // A local file's blocks are cached on their second touch: read the set until a
        // pass misses nothing.
        rt.block_on(async {
            for _ in 0..8 {
                let misses = cache.stats().misses;
                for &off in hot.iter() {
                    cached.read_at(off, BLOCK).await.unwrap();
                }
                if cache.stats().misses == misses {
                    break;
                }
            }
        });
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(data::time_iters(iters, async |i| {
                    cached.read_at(hot[i % OFFSETS], BLOCK).await.unwrap();
                }))
            })
        });
        let stats = cache.stats();
        eprintln!("{name}: {} hits, {} misses", stats.hits, stats.misses);
    }

    let mut tokio_file = rt.block_on(tokio::fs::File::open(&path)).unwrap();
    g.bench_function("tokio_fs_seek_read_exact", |b| {
        let mut buf = vec![0u8; BLOCK];
        b.iter_custom(|iters| {
            rt.block_on(data::time_iters(iters, async |i| {
                tokio_file
                    .seek(SeekFrom::Start(offs[i % OFFSETS]))
                    .await
                    .unwrap();
                tokio_file.read_exact(&mut buf).await.unwrap();
            }))
        })
    });

    let shared = Arc::new(std::fs::File::open(&path).unwrap());
    g.bench_function("spawn_blocking_pread", |b| {
        b.iter_custom(|iters| {
            rt.block_on(data::time_iters(iters, async |i| {
                let f = shared.clone();
                let off = offs[i % OFFSETS];
                tokio::task::spawn_blocking(move || {
                    let mut buf = vec![0u8; BLOCK];
                    f.read_exact_at(&mut buf, off).unwrap();
                    buf
                })
                .await
                .unwrap();
            }))
        })
    });
    g.finish();
}

fn random_4k_64_tasks(c: &mut Criterion) {
    const TASKS: u64 = 64;
    let path = bench_file();
    let offs = offsets(FILE_LEN);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("random_4k_64_tasks");
    g.throughput(Throughput::Bytes(BLOCK as u64));

    let plain = rt
        .block_on(File::options().mode("rb").no_cache().open(&path))
        .unwrap();
    g.bench_function("fileio_tokio_no_cache", |b| {
        b.iter_custom(|iters| {
            let per_task = iters.div_ceil(TASKS);
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let f = plain.clone();
                        let offs = offs.clone();
                        tokio::spawn(async move {
                            for i in 0..per_task {
                                let off = offs[((t * per_task + i) as usize) % OFFSETS];
                                f.read_at(off, BLOCK).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        })
    });

    let shared = Arc::new(std::fs::File::open(&path).unwrap());
    g.bench_function("spawn_blocking_pread", |b| {
        b.iter_custom(|iters| {
            let per_task = iters.div_ceil(TASKS);
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let f = shared.clone();
                        let offs = offs.clone();
                        tokio::spawn(async move {
                            for i in 0..per_task {
                                let off = offs[((t * per_task + i) as usize) % OFFSETS];
                                let f = f.clone();
                                tokio::task::spawn_blocking(move || {
                                    let mut buf = vec![0u8; BLOCK];
                                    f.read_exact_at(&mut buf, off).unwrap();
                                    buf
                                })
                                .await
                                .unwrap();
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn sequential_1m(c: &mut Criterion) {
    let path = bench_file();
    let rt = current_thread();
    let mut g = c.benchmark_group("sequential_1m");
    g.throughput(Throughput::Bytes(FILE_LEN));
    g.sample_size(10);

    let mut std_reads = data::StdSequential::new(&path);
    g.bench_function("std_read", |b| b.iter(|| std_reads.read_all()));

    let plain = rt
        .block_on(File::options().mode("rb").no_cache().open(&path))
        .unwrap();
    g.bench_function("fileio_tokio_read_at", |b| {
        b.iter(|| rt.block_on(data::read_sequentially(&plain)))
    });

    g.bench_function("tokio_fs_read", |b| {
        let mut buf = vec![0u8; CHUNK];
        b.iter(|| {
            rt.block_on(async {
                let mut f = tokio::fs::File::open(&path).await.unwrap();
                f.set_max_buf_size(CHUNK);
                let mut total = 0u64;
                loop {
                    let n = f.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    total += n as u64;
                }
                assert_eq!(total, FILE_LEN);
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(data::WARM_UP).measurement_time(data::MEASUREMENT).sample_size(data::SAMPLE_SIZE);
    targets = random_4k, random_4k_64_tasks, sequential_1m
}
criterion_main!(benches);
