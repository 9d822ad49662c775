//! What fileio-core's file benchmarks share: the bench file (made, synced and read once so
//! the page cache holds it) and the random offsets they use, so every bench reads or
//! writes the same data at the same places.

#![allow(dead_code)] // each bench uses its own part

use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

/// xorshift64*: a fixed, fast sequence, the same in every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The bench file's size: `FILEIO_BENCH_MIB` MiB, or `default_mib`.
pub(crate) fn file_size(default_mib: u64) -> u64 {
    let mib: u64 = std::env::var("FILEIO_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_mib);
    mib << 20
}

/// Creates `dir/bench.bin` of `size` bytes, syncs it and reads it once.
pub(crate) fn make_file(dir: &Path, size: u64) -> PathBuf {
    let path = dir.join("bench.bin");
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .expect("create bench file");
    let chunk: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 + 3) as u8).collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).expect("write bench file");
        left -= n as u64;
    }
    f.sync_all().expect("sync bench file");
    // Warm the page cache.
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0;
    while off < size {
        off += f.read_at(&mut buf, off).expect("warm") as u64;
    }
    path
}

/// `count` random `unit`-aligned offsets below `size`.
pub(crate) fn offsets(size: u64, count: usize, unit: usize) -> Vec<u64> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let blocks = size / unit as u64;
    (0..count)
        .map(|_| rng.next() % blocks * unit as u64)
        .collect()
}

/// `path` opened in `mode` with a 64 MiB cache of its own under `coherence`, the blocks
/// at `hot` (each `unit` bytes) read once so that the cache holds them.
pub(crate) fn cached_file(
    path: &Path,
    mode: &str,
    coherence: fileio_core::Coherence,
    hot: &[u64],
    unit: usize,
) -> (fileio_core::File, fileio_core::RangeCache) {
    use fileio_core::Stream as _;
    let cache = fileio_core::RangeCache::builder()
        .capacity(64 << 20)
        .build()
        .expect("cache");
    let file = fileio_core::File::options()
        .mode(mode)
        .cache(cache.clone())
        .coherence(coherence)
        .open(path)
        .expect("open");
    // A local file's blocks are cached on their second touch: read the set until a pass
    // misses nothing.
    for _ in 0..8 {
        let misses = cache.stats().misses;
        for &off in hot {
            file.read_at(off, unit).expect("fill");
        }
        if cache.stats().misses == misses {
            break;
        }
    }
    (file, cache)
}

/// The process's CPU time so far (user and system, every thread), in nanoseconds:
/// unlike wall time, it barely moves with what other processes on the machine do.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub(crate) fn cpu_ns() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: `usage` is a writable `struct rusage` the call fills.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage failed");
    // SAFETY: the call succeeded, so the kernel filled the struct.
    let usage = unsafe { usage.assume_init() };
    let ns = |t: libc::timeval| t.tv_sec as f64 * 1e9 + t.tv_usec as f64 * 1e3;
    ns(usage.ru_utime) + ns(usage.ru_stime)
}
