//! 4 KiB random `write_at` of the blocking `File` against `std`'s `pwrite`, interleaved:
//! rounds of `std` `pwrite`, fileio with no cache, with a cache under `Strict` and with
//! a cache under `Exclusive` alternate, each on its own copy of the warm bench file and
//! at the same offsets (a hot set the cached cases' caches hold), so that all four see
//! the same load. On a machine shared with other work, criterion's separate cases
//! (`--bench write_at`) drift by more than the differences measured here, and the later
//! cases there also meet the dirty pages the earlier ones left.
//!
//! `cargo bench -p fileio-core --bench write_ratio` prints, per case, the median time
//! per write over the rounds and `pwrite` time / its time (1.0 is parity): the median
//! round's ratio, and the lowest and highest. `FILEIO_BENCH_MIB` changes the file size
//! (64 MiB by default).

use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::time::Instant;

mod common;

use fileio_core::{Coherence, File, Stream};

const WRITE: usize = 4096;
/// Rounds of each case.
const ROUNDS: usize = 30;
/// Writes per round.
const WRITES: usize = 10_000;

/// One case: what it writes with.
enum Writer {
    Std(std::fs::File),
    Fileio(File),
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = common::file_size(64);
    // A hot set that fits the cache: 4096 distinct 4 KiB blocks = 16 MiB at most.
    let hot: Vec<u64> = common::offsets(size.min(16 << 20), 4096, WRITE);
    let copy = |name: &str| -> PathBuf {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).expect("bench dir");
        common::make_file(&sub, size)
    };
    let std_file = std::fs::OpenOptions::new()
        .write(true)
        .open(copy("std"))
        .expect("open");
    let no_cache = File::options()
        .mode("r+b")
        .no_cache()
        .open(copy("no_cache"))
        .expect("open");
    let (strict, _strict_cache) =
        common::cached_file(&copy("strict"), "r+b", Coherence::Strict, &hot, WRITE);
    let (exclusive, _exclusive_cache) =
        common::cached_file(&copy("exclusive"), "r+b", Coherence::Exclusive, &hot, WRITE);
    let mut cases = [
        ("std pwrite", Writer::Std(std_file)),
        ("fileio, no cache", Writer::Fileio(no_cache)),
        ("fileio, cache, Strict", Writer::Fileio(strict)),
        ("fileio, cache, Exclusive", Writer::Fileio(exclusive)),
    ];
    let data = vec![0x5au8; WRITE];
    let mut next = 0usize;
    // Nanoseconds per write, per case, per round.
    let mut times = vec![Vec::with_capacity(ROUNDS); cases.len()];
    for _ in 0..ROUNDS {
        for (c, (_, writer)) in cases.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..WRITES {
                next = (next + 1) % hot.len();
                match writer {
                    Writer::Std(f) => f.write_all_at(&data, hot[next]).expect("pwrite"),
                    Writer::Fileio(f) => {
                        f.write_at(hot[next], &data).expect("write");
                    }
                }
            }
            times[c].push(start.elapsed().as_nanos() as f64 / WRITES as f64);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let std_times = times[0].clone();
    for (c, (name, _)) in cases.iter().enumerate() {
        let mut ratios: Vec<f64> = std_times
            .iter()
            .zip(&times[c])
            .map(|(s, t)| s / t)
            .collect();
        let per_write = median(&mut times[c]);
        let ratio = median(&mut ratios);
        println!(
            "{name:26} {per_write:7.0} ns/write  pwrite / it: median {ratio:.2}x (rounds {:.2}x..{:.2}x)",
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
}
