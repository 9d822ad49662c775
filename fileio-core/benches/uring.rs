//! The io_uring backend against the blocking-pool backend (and `std`), side by side in
//! one run, printed as tables:
//!
//! 1. cold 4 KiB random reads (the file's pages evicted with
//!    `posix_fadvise(DONTNEED)`, readahead off with `POSIX_FADV_RANDOM`), 64 tasks at once
//!    and one task: reads per second, and the CPU time the whole process spent per read
//!    (`getrusage`: every thread, the kernel's io_uring workers included). The backends
//!    take turns round by round;
//! 2. warm 4 KiB random reads, one task (both backends with their inline
//!    `preadv2(RWF_NOWAIT)` fast path; io_uring without it for comparison);
//! 3. 64 KiB writes with 1 and 8 in flight: p50 and p99 per write.
//!
//! `cargo bench -p fileio-core --bench uring [-- cold]`. `FILEIO_BENCH_MIB` sets the
//! file size (default 256), `FILEIO_BENCH_TASKS` the cold-read concurrency (default 64),
//! `FILEIO_BENCH_DIR` where the files go (default: the current directory; it must be
//! on a disk, not tmpfs, for cold reads to mean anything); `cold` stops after the
//! cold reads. Tasks run under `futures::executor::block_on` (one thread polling,
//! like a current-thread runtime); `tokio::fs` is not a dependency of this crate, so
//! its column lives in `cargo xtask bench`.

use std::hint::black_box;
use std::io::Write as _;
use std::num::NonZeroU64;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fileio_core::runtime::{BlockingPool, PoolBackend};
use fileio_core::uring::{UringBackend, UringDriver, io_uring_available};
use fileio_core::{Backend, Bytes, OpenMode, PoolConfig, StdBackend};
use futures::future::join_all;

const READ: usize = 4096;
const WRITE: usize = 64 << 10;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn file_size() -> u64 {
    let mib: u64 = std::env::var("FILEIO_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    mib.max(8) << 20
}

fn make_file(path: &Path, size: u64) {
    let mut f = std::fs::File::create(path).expect("create bench file");
    let chunk: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 + 3) as u8).collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).expect("write bench file");
        left -= n as u64;
    }
    f.sync_all().expect("sync bench file");
}

fn warm(path: &Path) {
    let f = std::fs::File::open(path).expect("open");
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0;
    loop {
        let n = f.read_at(&mut buf, off).expect("warm");
        if n == 0 {
            break;
        }
        off += n as u64;
    }
}

fn std_file(path: &Path, mode: &str) -> StdBackend {
    StdBackend::open(path, OpenMode::parse(mode).expect("mode")).expect("open")
}

fn advise(file: &StdBackend, advice: rustix::fs::Advice) {
    rustix::fs::fadvise(file.as_std(), 0, None::<NonZeroU64>, advice).expect("fadvise");
}

/// `count` distinct random 4 KiB-aligned offsets below `size`.
fn distinct_offsets(size: u64, count: usize, seed: u64) -> Vec<u64> {
    let blocks = (size / READ as u64) as usize;
    let mut order: Vec<u64> = (0..blocks as u64).collect();
    let mut rng = Rng(seed);
    for i in (1..order.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order.truncate(count.min(blocks));
    order.into_iter().map(|b| b * READ as u64).collect()
}

/// What the engine does on a cache miss: the inline path, then the backend's future.
async fn read(b: &dyn Backend, offset: u64, len: usize) -> Bytes {
    match b.read_at_inline(offset, len) {
        Some(r) => r.expect("inline read"),
        None => b.read_at(offset, len).await.expect("read"),
    }
}

fn uring(path: &Path, mode: &str) -> UringBackend {
    UringBackend::new(std_file(path, mode)).expect("io_uring")
}

fn pool(path: &Path, mode: &str) -> PoolBackend<BlockingPool> {
    PoolBackend::new(std_file(path, mode), BlockingPool, PoolConfig::new())
}

/// CPU time (user and system) this process has used so far, every thread included
/// (the ring's reaper, the pool's threads and the kernel's io_uring workers, which are
/// threads of this process too).
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: `getrusage` fills the `rusage` it is given and nothing else; the result is
    // read only when the call succeeded.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return Duration::ZERO;
        }
        usage.assume_init()
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// One round of cold reads.
struct Cold {
    reads_per_sec: f64,
    cpu_per_read: Duration,
}

/// Cold random reads from `tasks` tasks at once.
fn cold_reads(b: &dyn Backend, file: &StdBackend, offsets: &[u64], tasks: usize) -> Cold {
    advise(file, rustix::fs::Advice::DontNeed);
    let per_task = offsets.len() / tasks;
    let cpu = cpu_time();
    let start = Instant::now();
    futures::executor::block_on(join_all(offsets.chunks(per_task).map(|chunk| async move {
        for &off in chunk {
            black_box(read(b, off, READ).await);
        }
    })));
    let wall = start.elapsed();
    Cold {
        reads_per_sec: offsets.len() as f64 / wall.as_secs_f64(),
        cpu_per_read: cpu_time().saturating_sub(cpu) / offsets.len() as u32,
    }
}

/// Warm random reads, one task: nanoseconds per read.
fn warm_reads(b: &dyn Backend, offsets: &[u64]) -> f64 {
    let start = Instant::now();
    futures::executor::block_on(async {
        for &off in offsets {
            black_box(read(b, off, READ).await);
        }
    });
    start.elapsed().as_nanos() as f64 / offsets.len() as f64
}

/// 64 KiB writes, `in_flight` tasks each writing its share: the latency of each write.
fn async_writes(b: &dyn Backend, count: usize, in_flight: usize, region: u64) -> Vec<Duration> {
    let data = Bytes::from(vec![0x5au8; WRITE]);
    let per_task = count / in_flight;
    let slots = region / WRITE as u64;
    let lat = futures::executor::block_on(join_all((0..in_flight).map(|t| {
        let data = data.clone();
        async move {
            let mut lat = Vec::with_capacity(per_task);
            for i in 0..per_task {
                let off = ((t * per_task + i) as u64 % slots) * WRITE as u64;
                let start = Instant::now();
                let n = b.write_at(off, data.clone()).await.expect("write");
                lat.push(start.elapsed());
                assert_eq!(n, WRITE);
            }
            lat
        }
    })));
    lat.into_iter().flatten().collect()
}

/// The same with `std` `pwrite` on `in_flight` threads.
fn std_writes(path: &Path, count: usize, in_flight: usize, region: u64) -> Vec<Duration> {
    let file = Arc::new(
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .expect("open"),
    );
    let per_task = count / in_flight;
    let slots = region / WRITE as u64;
    let threads: Vec<_> = (0..in_flight)
        .map(|t| {
            let file = file.clone();
            std::thread::spawn(move || {
                let data = vec![0x5au8; WRITE];
                let mut lat = Vec::with_capacity(per_task);
                for i in 0..per_task {
                    let off = ((t * per_task + i) as u64 % slots) * WRITE as u64;
                    let start = Instant::now();
                    file.write_all_at(&data, off).expect("pwrite");
                    lat.push(start.elapsed());
                }
                lat
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().expect("writer"))
        .collect()
}

fn percentiles(mut lat: Vec<Duration>) -> (f64, f64) {
    lat.sort();
    let us = |d: Duration| d.as_nanos() as f64 / 1000.0;
    (us(lat[lat.len() / 2]), us(lat[lat.len() * 99 / 100]))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` / `cargo bench -- --list`: nothing to list.
        return;
    }
    if !io_uring_available() {
        eprintln!("io_uring is unavailable here: nothing to compare");
        return;
    }
    let dir =
        tempfile::tempdir_in(std::env::var_os("FILEIO_BENCH_DIR").unwrap_or_else(|| ".".into()))
            .expect("tempdir");
    let size = file_size();
    let path: PathBuf = dir.path().join("uring-bench.bin");
    make_file(&path, size);
    let quick = std::env::args().any(|a| a == "--test");

    // 1. Cold random reads, 64 tasks.
    let tasks: usize = std::env::var("FILEIO_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let cold_count = if quick {
        256
    } else {
        (size / READ as u64 / 8).min(16_384) as usize
    };
    let offsets = distinct_offsets(size, cold_count, 0x9e37_79b9_7f4a_7c15);
    let u = uring(&path, "rb");
    let p = pool(&path, "rb");
    advise(u.std_backend(), rustix::fs::Advice::Random);
    advise(p.std_backend(), rustix::fs::Advice::Random);
    let rounds = if quick { 1 } else { 9 };
    // The two backends take turns, so that a disk whose speed drifts (a shared or
    // throttled virtual disk) affects both alike.
    let (mut ur, mut pr, mut u1, mut p1) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let submits_before = u.driver().submit_calls();
    for _ in 0..rounds {
        ur.push(cold_reads(&u, u.std_backend(), &offsets, tasks));
        pr.push(cold_reads(&p, p.std_backend(), &offsets, tasks));
    }
    let submits = u.driver().submit_calls() - submits_before;
    let serial = &offsets[..offsets.len() / 8];
    for _ in 0..rounds {
        u1.push(cold_reads(&u, u.std_backend(), serial, 1));
        p1.push(cold_reads(&p, p.std_backend(), serial, 1));
    }
    let summary = |v: &[Cold]| {
        let rate = median(v.iter().map(|c| c.reads_per_sec).collect());
        let cpu = median(
            v.iter()
                .map(|c| c.cpu_per_read.as_secs_f64() * 1e6)
                .collect(),
        );
        (rate, cpu)
    };
    let (ur, pr, u1, p1) = (summary(&ur), summary(&pr), summary(&u1), summary(&p1));
    println!(
        "\nCold 4 KiB random reads, {tasks} tasks, {} MiB file, {cold_count} reads, median of {rounds}",
        size >> 20
    );
    println!("| backend | reads/s | MiB/s | vs pool | CPU µs/read |");
    println!("|---|---:|---:|---:|---:|");
    for (name, (r, cpu), (base, _)) in [
        ("fileio io_uring", ur, pr),
        ("fileio pool (blocking)", pr, pr),
        ("fileio io_uring, 1 task", u1, p1),
        ("fileio pool (blocking), 1 task", p1, p1),
    ] {
        println!(
            "| {name} | {r:.0} | {:.1} | {:.2}x | {cpu:.1} |",
            r * READ as f64 / (1 << 20) as f64,
            r / base
        );
    }
    println!(
        "(io_uring: {} reads with {tasks} tasks took {submits} submitting io_uring_enter calls)",
        rounds * offsets.len()
    );

    if std::env::args().any(|a| a == "cold") {
        return;
    }

    // 2. Warm random reads, one task.
    warm(&path);
    let warm_count = if quick { 1000 } else { 200_000 };
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let blocks = size / READ as u64;
    let warm_offsets: Vec<u64> = (0..warm_count)
        .map(|_| rng.next() % blocks * READ as u64)
        .collect();
    let u_ring =
        UringBackend::with_driver(std_file(&path, "rb"), UringDriver::global().expect("ring"))
            .inline_reads(false);
    let std_f = std::fs::File::open(&path).expect("open");
    let mut results: Vec<(&str, Vec<f64>)> = vec![
        ("fileio io_uring (inline preadv2 first)", Vec::new()),
        ("fileio pool (inline preadv2 first)", Vec::new()),
        ("fileio io_uring, ring only", Vec::new()),
        ("std pread", Vec::new()),
    ];
    let rounds = if quick { 1 } else { 5 };
    for _ in 0..rounds {
        results[0].1.push(warm_reads(&u, &warm_offsets));
        results[1].1.push(warm_reads(&p, &warm_offsets));
        results[2].1.push(warm_reads(&u_ring, &warm_offsets));
        let start = Instant::now();
        let mut buf = vec![0u8; READ];
        for &off in &warm_offsets {
            black_box(std_f.read_at(&mut buf, off).expect("pread"));
        }
        results[3]
            .1
            .push(start.elapsed().as_nanos() as f64 / warm_offsets.len() as f64);
    }
    println!("\nWarm 4 KiB random reads, one task, {warm_count} reads, median of {rounds}");
    println!("| backend | ns/read |");
    println!("|---|---:|");
    for (name, v) in results {
        println!("| {name} | {:.0} |", median(v));
    }

    // 3. 64 KiB writes.
    let wpath = dir.path().join("uring-writes.bin");
    let region = 64u64 << 20;
    make_file(&wpath, region);
    let count = if quick { 64 } else { 4000 };
    let uw = uring(&wpath, "r+b");
    let pw = pool(&wpath, "r+b");
    println!("\n64 KiB writes into the page cache ({count} per row, 64 MiB region): µs per write");
    println!("| writer | in flight | p50 | p99 |");
    println!("|---|---:|---:|---:|");
    for in_flight in [1, 8] {
        let rows = [
            (
                "fileio io_uring",
                percentiles(async_writes(&uw, count, in_flight, region)),
            ),
            (
                "fileio pool (blocking)",
                percentiles(async_writes(&pw, count, in_flight, region)),
            ),
            (
                "std pwrite (threads)",
                percentiles(std_writes(&wpath, count, in_flight, region)),
            ),
        ];
        for (name, (p50, p99)) in rows {
            println!("| {name} | {in_flight} | {p50:.1} | {p99:.1} |");
        }
    }
}
