//! 4 KiB random `read_at` on a warm 256 MiB file: the blocking `File` (no cache, cache
//! hits under `Strict`, cache hits under `Exclusive`) against `std` `pread` on the same
//! file, in the same run.
//!
//! `cargo bench -p fileio-core --bench read_at`; `FILEIO_BENCH_MIB` changes the file size.
//! Before the criterion cases it prints a table of same-run ratios (`-- ratio` prints
//! only the table): rounds that run every case in turn, in rotating order, so that all
//! see the same load on a shared machine; each ratio is `pread`'s time per read over the
//! case's, medians of the rounds.

use std::hint::black_box;
use std::os::unix::fs::FileExt as _;
use std::time::Duration;

mod common;

use criterion::{Criterion, Throughput, criterion_group};
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

/// Rounds of the ratio table, and reads per case in a round.
const ROUNDS: usize = 31;
const ROUND_READS: usize = 20_000;

/// One case of the ratio table: the read number `i` of the case.
type Case<'a> = Box<dyn FnMut(usize) + 'a>;

/// The same-run ratio table (see the crate docs above).
fn ratio_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = common::file_size(256);
    let path = common::make_file(dir.path(), size);
    let random = common::offsets(size, 1 << 16, READ);
    let hot: Vec<u64> = common::offsets(16 << 20, 4096, READ);
    let std_file = std::fs::File::open(&path).expect("open");
    let no_cache = File::options()
        .mode("rb")
        .no_cache()
        .open(&path)
        .expect("open");
    let (strict, strict_cache) = common::cached_file(&path, "rb", Coherence::Strict, &hot, READ);
    let (exclusive, _) = common::cached_file(&path, "rb", Coherence::Exclusive, &hot, READ);
    let misses = strict_cache.stats().misses;
    let mut buf = vec![0u8; READ];
    let mut cases: Vec<(&str, Case<'_>)> = vec![
        (
            "std pread",
            Box::new(|i| {
                black_box(
                    std_file
                        .read_at(&mut buf, random[i % random.len()])
                        .expect("pread"),
                );
            }),
        ),
        (
            "fileio, no cache",
            Box::new(|i| {
                black_box(
                    no_cache
                        .read_at(random[i % random.len()], READ)
                        .expect("read"),
                );
            }),
        ),
        (
            "hit, Strict",
            Box::new(|i| {
                black_box(strict.read_at(hot[i % hot.len()], READ).expect("read"));
            }),
        ),
        (
            "hit, Exclusive",
            Box::new(|i| {
                black_box(exclusive.read_at(hot[i % hot.len()], READ).expect("read"));
            }),
        ),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 0..ROUNDS {
        for k in 0..cases.len() {
            let c = (round + k) % cases.len();
            let start = std::time::Instant::now();
            for i in 0..ROUND_READS {
                (cases[c].1)(round * ROUND_READS + i);
            }
            times[c].push(start.elapsed().as_nanos() as f64 / ROUND_READS as f64);
        }
    }
    assert_eq!(
        strict_cache.stats().misses,
        misses,
        "the hot set must be served from the cache"
    );
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<f64> = times.iter_mut().map(median).collect();
    println!();
    println!(
        "4 KiB read_at, {ROUNDS} interleaved rounds of {ROUND_READS} reads per case (medians)"
    );
    println!("{:<18} {:>10} {:>12}", "case", "ns/read", "vs pread");
    for ((name, _), m) in cases.iter().zip(&medians) {
        println!("{name:<18} {m:>10.1} {:>11.2}x", medians[0] / m);
    }
    println!();
}

criterion_group!(benches, bench);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs benches in test mode: keep that quick. With a
    // criterion filter, print the table only if the filter is `ratio`.
    let filter = args.iter().find(|a| !a.starts_with('-'));
    let test_mode = args.iter().any(|a| a == "--test");
    if !test_mode && filter.is_none_or(|f| f == "ratio") {
        ratio_table();
    }
    if filter.is_none_or(|f| f != "ratio") {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}
