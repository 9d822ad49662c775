//! `zipf4k-t64` of `cargo xtask bench` (Zipf(0.99) 4 KiB reads over a file four times
//! the cache, 64 threads on one blocking `File`, `Coherence::Strict`), measured in CPU
//! time: rounds alternate the cache off and on, and each gives the process's CPU time
//! per read, which a shared machine disturbs far less than the wall-clock rate. Prints
//! each round pair's ratio (CPU per read with the cache on over off, inverted: above 1
//! means the cache pays), the hit ratio, and the median. Linux only.
//!
//! `cargo bench -p fileio-core --bench zipf_cpu`; `FILEIO_BENCH_MIB` sets the file size
//! (64 by default; the cache is a quarter of it), `FILEIO_BENCH_ROUNDS` the round pairs
//! (8), `FILEIO_BENCH_THREADS` the reading threads (64): one thread shows the cache's
//! cost apart from the two cores' contention.

#[cfg(target_os = "linux")]
mod common;

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use fileio_core::{Coherence, File, RangeCache, Stream};

    use crate::common;

    const READ: usize = 4096;
    const ROUND: Duration = Duration::from_millis(500);

    /// Zipf(0.99) block offsets, popular blocks scattered over the file (as the xtask
    /// workload draws them).
    fn offsets(size: u64, count: usize) -> Arc<[u64]> {
        let blocks = size / READ as u64;
        let mut cdf = Vec::with_capacity(blocks as usize);
        let mut sum = 0.0;
        for k in 0..blocks {
            sum += 1.0 / ((k + 1) as f64).powf(0.99);
            cdf.push(sum);
        }
        let mut rng = common::Rng(0x5eed_2143_9abc_def1);
        (0..count)
            .map(|_| {
                let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * sum;
                let rank = cdf.partition_point(|&c| c <= u).min(cdf.len() - 1) as u64;
                (u128::from(rank) * 2_654_435_761 % u128::from(blocks)) as u64 * READ as u64
            })
            .collect()
    }

    /// One round: CPU nanoseconds per read of `THREADS` threads reading through `file`.
    fn round(file: &File, offsets: &Arc<[u64]>, start: usize, threads: usize) -> f64 {
        let stop = Arc::new(AtomicBool::new(false));
        let barrier = Arc::new(Barrier::new(threads + 1));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (file, offsets, stop, barrier) = (
                    file.clone(),
                    Arc::clone(offsets),
                    Arc::clone(&stop),
                    Arc::clone(&barrier),
                );
                std::thread::spawn(move || {
                    let mut i = start + t * (offsets.len() / threads);
                    let mut reads = 0u64;
                    barrier.wait();
                    while !stop.load(Ordering::Relaxed) {
                        let data = file.read_at(offsets[i % offsets.len()], READ);
                        assert_eq!(data.expect("read").len(), READ);
                        i += 1;
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        let cpu = common::cpu_ns();
        barrier.wait();
        std::thread::sleep(ROUND);
        stop.store(true, Ordering::Relaxed);
        let reads: u64 = handles.into_iter().map(|t| t.join().expect("thread")).sum();
        (common::cpu_ns() - cpu) / reads as f64
    }

    pub(crate) fn main() {
        let dir = tempfile::tempdir().expect("tempdir");
        let size = common::file_size(64);
        let path = common::make_file(dir.path(), size);
        let rounds: usize = std::env::var("FILEIO_BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(8);
        let threads: usize = std::env::var("FILEIO_BENCH_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(64);
        let offsets = offsets(size, 1 << 20);
        let cache = RangeCache::builder()
            .capacity(size / 4)
            .block_size(READ)
            .build()
            .expect("cache");
        let open = |cache: Option<&RangeCache>| {
            let mut o = File::options();
            o.mode("rb").coherence(Coherence::Strict);
            match cache {
                Some(c) => o.cache(c.clone()),
                None => o.no_cache(),
            };
            o.open(&path).expect("open")
        };
        let (off, on) = (open(None), open(Some(&cache)));
        // Warm-up: the cache fills as the workload would fill it.
        round(&on, &offsets, 0, threads);
        println!(
            "zipf4k, Strict, {} MiB file, {threads} threads, {rounds} round pairs of {} ms",
            size >> 20,
            ROUND.as_millis()
        );
        println!(
            "{:>5} {:>14} {:>13} {:>10} {:>6}",
            "round", "off ns/read", "on ns/read", "off / on", "hits"
        );
        let mut ratios = Vec::new();
        for r in 0..rounds {
            let start = (r + 1) * 7919;
            let before = cache.stats();
            // Alternate which goes first, so that drift favours neither.
            let (cpu_off, cpu_on) = if r % 2 == 0 {
                let a = round(&off, &offsets, start, threads);
                (a, round(&on, &offsets, start, threads))
            } else {
                let b = round(&on, &offsets, start, threads);
                (round(&off, &offsets, start, threads), b)
            };
            let after = cache.stats();
            let (hits, misses) = (after.hits - before.hits, after.misses - before.misses);
            let ratio = cpu_off / cpu_on;
            ratios.push(ratio);
            println!(
                "{r:>5} {cpu_off:>14.0} {cpu_on:>13.0} {ratio:>9.2}x {:>5.1}%",
                100.0 * hits as f64 / (hits + misses).max(1) as f64
            );
        }
        ratios.sort_by(f64::total_cmp);
        println!(
            "median {:.2}x (range {:.2}-{:.2}x)",
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
}

fn main() {
    // `cargo test --benches` runs benches in test mode: nothing to check here.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    #[cfg(target_os = "linux")]
    linux::main();
}
