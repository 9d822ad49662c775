//! 4 KiB random `write_at` on a warm file: the blocking `File` (no cache, cache under
//! `Strict`, cache under `Exclusive`) against `std` `pwrite` on the same file, in the
//! same run, every case at the same offsets: a hot set the cache holds, so that the
//! cached cases find blocks to patch (under `Strict` only the first write of a burst
//! does: the file's stamp is racy from then on, and later writes drop its blocks
//! instead, see `WriteKeep` in the engine).
//!
//! `cargo bench -p fileio-core --bench write_at`; `FILEIO_BENCH_MIB` changes the file
//! size (64 MiB by default).

use std::hint::black_box;
use std::os::unix::fs::FileExt as _;
use std::time::Duration;

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fileio_core::{Coherence, File, Stream};

const WRITE: usize = 4096;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = common::file_size(64);
    let path = common::make_file(dir.path(), size);
    // A hot set that fits the cache: 4096 distinct 4 KiB blocks = 16 MiB at most.
    let hot: Vec<u64> = common::offsets(size.min(16 << 20), 4096, WRITE);
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
            i = (i + 1) % hot.len();
            black_box(std_file.write_at(&data, hot[i]).expect("pwrite"));
        })
    });

    let file = File::options()
        .mode("r+b")
        .no_cache()
        .open(&path)
        .expect("open");
    group.bench_function("fileio_no_cache", |b| {
        b.iter(|| {
            i = (i + 1) % hot.len();
            black_box(file.write_at(hot[i], &data).expect("write"));
        })
    });

    for (name, coherence) in [
        ("fileio_cache_strict", Coherence::Strict),
        ("fileio_cache_exclusive", Coherence::Exclusive),
    ] {
        let (file, _cache) = common::cached_file(&path, "r+b", coherence, &hot, WRITE);
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
