//! 4 KiB random `read_at` on a warm 256 MiB file: the blocking `File` (no cache, cache
//! hits under `Strict`, cache hits under `Exclusive`) against `std` `pread` on the same
//! file, in the same run.
//!
//! `cargo bench -p fileio-core --bench read_at`; `FILEIO_BENCH_MIB` changes the file size.

use std::hint::black_box;
use std::os::unix::fs::FileExt as _;
use std::time::Duration;

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fileio_core::{Coherence, File, Stream};

const READ: usize = 4096;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = common::file_size(256);
    let path = common::make_file(dir.path(), size);
    let random = common::offsets(size, 1 << 16, READ);
    // A hot set that fits the cache: 4096 distinct 4 KiB reads = 16 MiB.
    let hot: Vec<u64> = common::offsets(16 << 20, 4096, READ);

    let mut group = c.benchmark_group("read_at_4k");
    group.throughput(Throughput::Bytes(READ as u64));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));

    let std_file = std::fs::File::open(&path).expect("open");
    let mut buf = vec![0u8; READ];
    let mut i = 0;
    group.bench_function("std_pread", |b| {
        b.iter(|| {
            i = (i + 1) % random.len();
            black_box(std_file.read_at(&mut buf, random[i]).expect("pread"));
        })
    });

    let file = File::options()
        .mode("rb")
        .no_cache()
        .open(&path)
        .expect("open");
    group.bench_function("fileio_no_cache", |b| {
        b.iter(|| {
            i = (i + 1) % random.len();
            black_box(file.read_at(random[i], READ).expect("read"));
        })
    });

    for (name, coherence) in [
        ("fileio_hit_strict", Coherence::Strict),
        ("fileio_hit_exclusive", Coherence::Exclusive),
    ] {
        let (file, cache) = common::cached_file(&path, "rb", coherence, &hot, READ);
        let before = cache.stats();
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % hot.len();
                black_box(file.read_at(hot[i], READ).expect("read"));
            })
        });
        let after = cache.stats();
        assert_eq!(
            after.misses, before.misses,
            "{name}: the hot set must be served from the cache"
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
