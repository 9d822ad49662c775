//! Benchmark data the runtime crates' benches share: a xorshift generator, the warm
//! 256 MiB file they read ([`bench_file`]) and the random block offsets they read at
//! ([`offsets`]).

use std::io::Read;
use std::path::PathBuf;

/// The length of [`bench_file`]: 256 MiB.
pub const FILE_LEN: u64 = 256 << 20;
/// The size of a random read, and the alignment of [`offsets`]: 4 KiB.
pub const BLOCK: usize = 4096;
/// The size of a sequential read: 1 MiB.
pub const CHUNK: usize = 1 << 20;
/// How many random offsets [`offsets`] gives (every random-read case cycles through
/// them).
pub const OFFSETS: usize = 1 << 16;
/// The working set of the cache-hit cases: 16 MiB (fits the caches built for them).
pub const HOT_SPAN: u64 = 16 << 20;

/// Marsaglia's xorshift64 (shifts 13, 7, 17): cheap, deterministic pseudo-random
/// numbers.
#[derive(Clone, Debug)]
pub struct XorShift(pub u64);

impl XorShift {
    /// The next number (the new state).
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// The benchmark file, `fileio-bench-256m.bin` under [`std::env::temp_dir`]: made
/// once ([`FILE_LEN`] bytes of [`XorShift`] output seeded `0x9e37_79b9_7f4a_7c15`,
/// little-endian), reused by later runs and by every crate's benchmark, and read
/// through once so that it is warm in the page cache.
///
/// # Panics
///
/// When the file cannot be written or read.
pub fn bench_file() -> PathBuf {
    let path = std::env::temp_dir().join("fileio-bench-256m.bin");
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(FILE_LEN) {
        let mut block = vec![0u8; CHUNK];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        // One temporary name per process: benchmarks of two crates may race to make it.
        let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
        for _ in 0..FILE_LEN / CHUNK as u64 {
            for b in block.chunks_mut(8) {
                b.copy_from_slice(&rng.next_u64().to_le_bytes());
            }
            std::io::Write::write_all(&mut out, &block).unwrap();
        }
        out.into_inner().unwrap().sync_all().unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    // Warm the page cache.
    let mut f = std::fs::File::open(&path).unwrap();
    let mut buf = vec![0u8; CHUNK];
    while f.read(&mut buf).unwrap() > 0 {}
    path
}

/// [`OFFSETS`] random [`BLOCK`]-aligned offsets below `span` ([`XorShift`] seeded
/// `0x2545_f491_4f6c_dd1d`): the same list on every call.
pub fn offsets(span: u64) -> Vec<u64> {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    (0..OFFSETS)
        .map(|_| (rng.next_u64() % (span / BLOCK as u64)) * BLOCK as u64)
        .collect()
}
