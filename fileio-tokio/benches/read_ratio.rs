//! The uncached 4 KiB `read_at` of fileio-tokio against `std`'s `pread`, interleaved:
//! rounds of 4,000 `pread`s and 4,000 fileio reads (one task on a current-thread
//! runtime) alternate on the warm 256 MiB bench file, at the same random offsets, so
//! that both see the same load. On a machine shared with other work, criterion's
//! separate cases (`--bench read`) drift by more than the difference measured here.
//!
//! `cargo bench -p fileio-tokio --bench read_ratio` prints the time per read of each and
//! `pread` time / fileio time (1.0 is parity): over all rounds, and the median, lowest
//! and highest round.

use std::os::unix::fs::FileExt as _;
use std::time::{Duration, Instant};

use fileio_core::conformance::data::{self, BLOCK, FILE_LEN, bench_file};
use fileio_tokio::File;

/// Rounds of each reader.
const ROUNDS: usize = 300;
/// Reads per round.
const READS: usize = 4_000;

fn main() {
    let path = bench_file();
    let offsets = data::offsets(FILE_LEN);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let std_file = std::fs::File::open(&path).expect("bench file");
    let file = rt
        .block_on(File::options().mode("rb").no_cache().open(&path))
        .expect("bench file");
    let mut buf = vec![0u8; BLOCK];
    let mut next = 0usize;
    let (mut std_total, mut fileio_total) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..READS {
            std_file
                .read_exact_at(&mut buf, offsets[next % offsets.len()])
                .expect("pread");
            next += 1;
        }
        let std_round = start.elapsed();
        let fileio_round = rt.block_on(async {
            let start = Instant::now();
            for _ in 0..READS {
                let data = file
                    .read_at(offsets[next % offsets.len()], BLOCK)
                    .await
                    .expect("read_at");
                assert_eq!(data.len(), BLOCK);
                next += 1;
            }
            start.elapsed()
        });
        std_total += std_round;
        fileio_total += fileio_round;
        ratios.push(std_round.as_secs_f64() / fileio_round.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let per_read = |total: Duration| total.as_nanos() as f64 / (ROUNDS * READS) as f64;
    println!(
        "random 4 KiB, warm file, one task: std pread {:.0} ns, fileio-tokio read_at (no cache) {:.0} ns",
        per_read(std_total),
        per_read(fileio_total)
    );
    println!(
        "pread / fileio: {:.3} over all rounds; rounds: median {:.3}, lowest {:.3}, highest {:.3}",
        std_total.as_secs_f64() / fileio_total.as_secs_f64(),
        ratios[ROUNDS / 2],
        ratios[0],
        ratios[ROUNDS - 1]
    );
}
