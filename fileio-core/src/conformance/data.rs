//! Benchmark data the runtime crates' benches share: a xorshift generator, the warm
//! 256 MiB file they read ([`bench_file`]), the random block offsets they read at
//! ([`offsets`]) and the sequential pass over it ([`read_sequentially`]).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::stream::AsyncStream;

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

/// Criterion's warm-up time for every case of the runtime crates' benches.
pub const WARM_UP: Duration = Duration::from_millis(500);
/// Criterion's measurement time for every case of the runtime crates' benches.
pub const MEASUREMENT: Duration = Duration::from_secs(2);
/// Criterion's sample size for the runtime crates' benches (groups of whole-file reads
/// take fewer).
pub const SAMPLE_SIZE: usize = 20;

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
    std_read_all(&path, &mut vec![0u8; CHUNK]);
    path
}

/// `std`'s sequential reads of a whole [`bench_file`] in [`CHUNK`]s into one buffer:
/// the baseline of the sequential cases.
#[derive(Debug)]
pub struct StdSequential {
    path: PathBuf,
    buf: Vec<u8>,
}

impl StdSequential {
    /// Reads of the file at `path`.
    pub fn new(path: &Path) -> StdSequential {
        StdSequential {
            path: path.to_owned(),
            buf: vec![0u8; CHUNK],
        }
    }

    /// Opens the file and reads it from start to end.
    ///
    /// # Panics
    ///
    /// When the file cannot be opened or read, or is not [`FILE_LEN`] bytes long.
    pub fn read_all(&mut self) {
        assert_eq!(std_read_all(&self.path, &mut self.buf), FILE_LEN);
    }
}

/// Reads the file at `path` from start to end with `std`'s `Read::read` into `buf`,
/// and returns how many bytes that was.
///
/// # Panics
///
/// When the file cannot be opened or read.
pub fn std_read_all(path: &Path, buf: &mut [u8]) -> u64 {
    let mut f = std::fs::File::open(path).unwrap();
    let mut total = 0u64;
    loop {
        let n = f.read(buf).unwrap();
        if n == 0 {
            return total;
        }
        total += n as u64;
    }
}

/// [`OFFSETS`] random [`BLOCK`]-aligned offsets below `span` ([`XorShift`] seeded
/// `0x2545_f491_4f6c_dd1d`): the same list on every call.
pub fn offsets(span: u64) -> Vec<u64> {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    (0..OFFSETS)
        .map(|_| (rng.next_u64() % (span / BLOCK as u64)) * BLOCK as u64)
        .collect()
}

/// Reads `file` (a [`bench_file`]) from start to end in [`CHUNK`]s with `read_at`, and
/// checks that that was [`FILE_LEN`] bytes.
///
/// # Panics
///
/// When a read fails or the file has another length.
pub async fn read_sequentially<S: AsyncStream + ?Sized>(file: &S) {
    let mut off = 0u64;
    loop {
        let data = file.read_at(off, CHUNK).await.unwrap();
        if data.is_empty() {
            break;
        }
        off += data.len() as u64;
    }
    assert_eq!(off, FILE_LEN);
}

/// `std`'s positional reads of [`BLOCK`] bytes at offsets taken in turn from a list
/// (cycling): the baseline of the random-read cases.
#[cfg(unix)]
#[derive(Debug)]
pub struct StdPreads {
    file: std::fs::File,
    offsets: Vec<u64>,
    buf: Vec<u8>,
    next: usize,
}

#[cfg(unix)]
impl StdPreads {
    /// Opens the file at `path` to read at `offsets`, from the first.
    ///
    /// # Panics
    ///
    /// When the file cannot be opened, or `offsets` is empty.
    pub fn new(path: &Path, offsets: &[u64]) -> StdPreads {
        assert!(!offsets.is_empty(), "StdPreads needs offsets");
        StdPreads {
            file: std::fs::File::open(path).unwrap(),
            offsets: offsets.to_vec(),
            buf: vec![0u8; BLOCK],
            next: 0,
        }
    }

    /// `read_exact_at` of [`BLOCK`] bytes at the next offset.
    ///
    /// # Panics
    ///
    /// When the read fails.
    pub fn read_next(&mut self) {
        use std::os::unix::fs::FileExt as _;
        let offset = self.offsets[self.next % self.offsets.len()];
        self.file.read_exact_at(&mut self.buf, offset).unwrap();
        self.next += 1;
    }
}

/// Runs `step(0)`, `step(1)`, ... `step(iters - 1)` in turn and returns how long that
/// took: the body of a criterion `iter_custom` case, inside the runtime's `block_on`.
pub async fn time_iters(iters: u64, mut step: impl AsyncFnMut(usize)) -> Duration {
    let start = Instant::now();
    for i in 0..iters as usize {
        step(i).await;
    }
    start.elapsed()
}
