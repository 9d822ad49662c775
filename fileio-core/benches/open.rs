//! What a web handler does with a small file: open it, read all of it, drop it. A warm
//! 4 KiB file through `AsyncFile` (the inline `openat2(RESOLVE_CACHED)` open, and the old
//! open on the pool with [`PoolConfig::inline_open`] off) against `std::fs::read`, all
//! driven by `block_on` on the bench thread.
//!
//! `cargo bench -p fileio-core --bench open`. With `FILEIO_BENCH_COLD=1` (root only) it
//! also measures opens after `echo 2 > /proc/sys/vm/drop_caches` (dentries and inodes
//! dropped before every open, outside the timing), in `FILEIO_BENCH_DIR` (default: the
//! system temporary directory; it must not be tmpfs, whose dentries cannot be dropped).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use fileio_core::runtime::{BlockingPool, PoolConfig};
use fileio_core::{AsyncFile, AsyncStream, BackendChoice, Options};
use futures_lite::future::block_on;

fn options(choice: BackendChoice) -> Options {
    let mut options = Options::new();
    options.mode("rb").backend(choice);
    options
}

fn open_read_drop(path: &Path, options: &Options, pool: PoolConfig) -> usize {
    block_on(async {
        let file = AsyncFile::open_on(path, options, BlockingPool, pool)
            .await
            .expect("open");
        let data = file.read_to_end_at(0).await.expect("read");
        data.len()
    })
}

fn open_drop(path: &Path, options: &Options, pool: PoolConfig) {
    block_on(async {
        drop(
            AsyncFile::open_on(path, options, BlockingPool, pool)
                .await
                .expect("open"),
        );
    });
}

/// The cases: name, backend, pool settings.
fn cases() -> [(&'static str, BackendChoice, PoolConfig); 4] {
    let hop = PoolConfig::new().inline_open(false);
    [
        ("auto", BackendChoice::Auto, PoolConfig::new()),
        ("pool", BackendChoice::Pool, PoolConfig::new()),
        ("auto_open_on_pool", BackendChoice::Auto, hop),
        ("pool_open_on_pool", BackendChoice::Pool, hop),
    ]
}

fn bench(c: &mut Criterion) {
    let base = std::env::var_os("FILEIO_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::tempdir_in(base).expect("tempdir");
    let path = dir.path().join("small.bin");
    std::fs::write(&path, vec![7u8; 4096]).expect("write");

    let mut group = c.benchmark_group("open_read_drop_4k");
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    group.bench_function("std_fs_read", |b| {
        b.iter(|| black_box(std::fs::read(&path).expect("read").len()))
    });
    for (name, choice, pool) in cases() {
        let options = options(choice);
        group.bench_function(name, |b| {
            b.iter(|| black_box(open_read_drop(&path, &options, pool)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("open_drop");
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    group.bench_function("std_file_open", |b| {
        b.iter(|| drop(black_box(std::fs::File::open(&path).expect("open"))))
    });
    for (name, choice, pool) in cases() {
        let options = options(choice);
        group.bench_function(name, |b| b.iter(|| open_drop(&path, &options, pool)));
    }
    group.finish();

    if std::env::var_os("FILEIO_BENCH_COLD").is_some() {
        cold(c, &path);
    }
}

/// Drops dentries and inodes: the next open looks the path up on disk.
fn drop_dentries() {
    std::fs::write("/proc/sys/vm/drop_caches", "2").expect("drop_caches (root only)");
}

/// Opens after every `drop_dentries`, timing only the open + read + drop.
fn cold(c: &mut Criterion, path: &Path) {
    let mut group = c.benchmark_group("cold_open_read_drop_4k");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.warm_up_time(Duration::from_millis(200));
    let mut timed = |name: &str, f: &dyn Fn() -> usize| {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    drop_dentries();
                    let start = Instant::now();
                    black_box(f());
                    total += start.elapsed();
                }
                total
            })
        });
    };
    timed("std_fs_read", &|| std::fs::read(path).expect("read").len());
    for (name, choice, pool) in cases() {
        let options = options(choice);
        timed(name, &|| open_read_drop(path, &options, pool));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
