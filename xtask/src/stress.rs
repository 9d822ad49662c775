//! `cargo xtask stress [--secs N]`: thousands of concurrent tasks on a few files with a
//! small cache, checking fileio's invariants throughout.
//!
//! 2,000 tokio tasks (multi-thread runtime, 2 workers) share 4 files of 512 KiB through
//! `fileio_tokio::File` and one 256 KiB `RangeCache` (4 KiB blocks). Each file's first
//! half is a read-only region with a known pattern; its second half is cut into one
//! 512-byte region per task. A task writes random bytes at random places of its own
//! region (positional writes, which the pool batches per file; cursor writes through its
//! own clone of a handle; pieces through tokio's `AsyncWrite`, write-behind, sometimes
//! flushed; now and then a `sync_data`, which group commit shares), and
//! reads its region and the shared region back, positionally and through the cursor:
//! every read must return exactly what the task's model (or the pattern) says. The
//! files differ in write rate (none, 1 %, 30 %, 30 %) and coherence policy (three
//! `Exclusive`, one `Strict`), so the cache serves hits, evicts, patches and drops. A monitor checks every 20 ms that the cache stays
//! within its capacity and validates (`RangeCache::validate`). At the end every region
//! is read back through fileio and with `std::fs` and compared with the task models.
//!
//! Exit status: non-zero on any violation. The summary gives operations per second,
//! cache counters, the hit ratio of each file's reads with its coherence policy (through
//! `on_read` hooks: the written files against the read-only one; the `Exclusive` written
//! files keep hitting on the blocks no write in flight may change, the `Strict` one,
//! written within the racy window all along, serves none by design), the peak resident
//! bytes against the capacity and the peak RSS.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fileio_core::{AsyncStream, Coherence, RangeCache};
use fileio_tokio::File;

const TASKS: usize = 2000;
const FILES: usize = 4;
/// Separately opened handles per file; tasks clone one of them.
const OPENS_PER_FILE: usize = 4;
const REGION: usize = 512;
const SHARED: usize = 256 << 10;
const TASKS_PER_FILE: usize = TASKS / FILES;
const FILE_LEN: usize = SHARED + TASKS_PER_FILE * REGION;
const CACHE_CAPACITY: u64 = 256 << 10;
const CACHE_BLOCK: usize = 4096;
/// Writes per thousand operations, per file: file 0 is only read (the cache serves and
/// evicts), file 1 is rarely written (hits and patches), files 2 and 3 are written often
/// (a write in flight makes lookups of the blocks it may change miss, while the file's
/// other blocks keep serving; writes in flight together each patch their own blocks, and
/// drop only the blocks two of them wrote; file 3 is `Strict`, whose stamp is racy while
/// it is written that often, so its reads go around the cache).
const WRITE_PERMILLE: [usize; FILES] = [0, 10, 300, 300];
/// The operation choices past the positional ones: write-behind pieces, and a sync.
const WRITE_BEHIND: usize = 100;
const SYNC: usize = 101;
/// How many violations are printed in full.
const SHOWN: usize = 20;

const USAGE: &str = "\
usage: cargo xtask stress [--secs N]

  --secs N   how long the tasks run (default 10)
";

/// Parsed arguments.
#[derive(Debug)]
struct Args {
    secs: u64,
}

impl Args {
    fn parse(args: &[String]) -> Result<Option<Args>, String> {
        let mut secs = 10;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--secs" => {
                    let value = it.next().ok_or("--secs needs a value")?;
                    secs = value
                        .parse()
                        .map_err(|_| format!("--secs: not a number of seconds: `{value}`"))?;
                }
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("stress: unknown argument `{other}`\n\n{USAGE}")),
            }
        }
        Ok(Some(Args { secs }))
    }
}

/// `stress` (a release build of this binary runs `stress-run`) or the hidden
/// `stress-run` (the stress test in this process).
pub(crate) fn run(args: &[String], in_process: bool) -> Result<(), String> {
    let Some(parsed) = Args::parse(args)? else {
        print!("{USAGE}");
        return Ok(());
    };
    if !in_process && cfg!(debug_assertions) {
        eprintln!(
            "xtask stress: building with --release, then running for {} s",
            parsed.secs
        );
        let mut cmd = crate::util::cargo();
        cmd.args(["run", "--release", "--quiet", "--package", "xtask", "--"])
            .args(["stress-run", "--secs", &parsed.secs.to_string()]);
        return crate::util::run_step("stress (release)", &mut cmd);
    }
    stress(parsed.secs)
}

/// The violations seen so far (the first [`SHOWN`] in full).
#[derive(Default)]
struct Violations {
    count: AtomicU64,
    shown: Mutex<Vec<String>>,
}

impl Violations {
    fn report(&self, message: String) {
        if self.count.fetch_add(1, Ordering::SeqCst) < SHOWN as u64 {
            self.shown
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(message);
        }
    }
}

/// Counters shared by the tasks.
#[derive(Default)]
struct Counters {
    /// Per file: reads, and reads the cache served (through `on_read` hooks).
    file_reads: [AtomicU64; FILES],
    file_hits: [AtomicU64; FILES],
    reads: AtomicU64,
    writes: AtomicU64,
    bytes: AtomicU64,
}

/// xorshift64*: a tiny deterministic generator, one per task.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The read-only pattern of the shared region of file `f`.
fn pattern(f: usize, offset: usize) -> u8 {
    (offset as u8).wrapping_mul(13) ^ (offset >> 8) as u8 ^ (f as u8).wrapping_mul(101)
}

fn coherence(f: usize) -> Coherence {
    if f == FILES - 1 {
        Coherence::Strict
    } else {
        Coherence::Exclusive
    }
}

/// A random range `start..end` (not empty) inside `0..len`.
fn range(rng: &mut Rng, len: usize, max: usize) -> (usize, usize) {
    let start = rng.below(len);
    let n = 1 + rng.below(max.min(len - start));
    (start, start + n)
}

/// One task's life: random operations on its region and the shared one until `deadline`.
/// Returns its region's model.
async fn task(
    id: usize,
    mut file: File,
    deadline: Instant,
    violations: Arc<Violations>,
    counters: Arc<Counters>,
) -> Vec<u8> {
    let f = id % FILES;
    let base = (SHARED + (id / FILES) * REGION) as u64;
    let mut model = vec![0u8; REGION];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (id as u64 + 1).wrapping_mul(0x1000_0001));
    let fail = |what: String| violations.report(format!("task {id} (file {f}): {what}"));
    while Instant::now() < deadline {
        let (mut reads, mut writes, mut bytes) = (0u64, 0u64, 0u64);
        for _ in 0..8 {
            let write = rng.below(1000) < WRITE_PERMILLE[f];
            let choice = if write {
                match rng.below(6) {
                    4 => WRITE_BEHIND,
                    5 if rng.below(20) == 0 => SYNC,
                    n => n.min(3),
                }
            } else {
                4 + rng.below(6)
            };
            match choice {
                // Positional write into the task's region.
                0..=2 => {
                    let (s, e) = range(&mut rng, REGION, REGION);
                    let data: Vec<u8> = (s..e).map(|_| rng.next() as u8).collect();
                    match file.write_at(base + s as u64, &data).await {
                        Ok(n) if n == data.len() => model[s..e].copy_from_slice(&data),
                        other => fail(format!("write_at({}): {other:?}", base + s as u64)),
                    }
                    writes += 1;
                    bytes += data.len() as u64;
                }
                // Cursor write: seek, then write.
                3 => {
                    let (s, e) = range(&mut rng, REGION, 128);
                    let data: Vec<u8> = (s..e).map(|_| rng.next() as u8).collect();
                    let at = base + s as u64;
                    let result =
                        match AsyncStream::seek(&mut file, std::io::SeekFrom::Start(at)).await {
                            Ok(_) => AsyncStream::write(&mut file, &data).await,
                            Err(e) => Err(e),
                        };
                    match result {
                        Ok(n) if n == data.len() && file.tell() == at + n as u64 => {
                            model[s..e].copy_from_slice(&data);
                        }
                        other => fail(format!(
                            "write at cursor {at}: {other:?}, tell {}",
                            file.tell()
                        )),
                    }
                    writes += 1;
                    bytes += data.len() as u64;
                }
                // Write-behind: pieces at the cursor through tokio's `AsyncWrite`, queued
                // and acknowledged at once; sometimes flushed. The task's next read of
                // its region, whichever, must see them (an overlapping read drains).
                WRITE_BEHIND => {
                    use tokio::io::AsyncWriteExt as _;
                    let (s, _) = range(&mut rng, REGION, 1);
                    let at = base + s as u64;
                    let mut result = AsyncStream::seek(&mut file, std::io::SeekFrom::Start(at))
                        .await
                        .map(drop)
                        .map_err(std::io::Error::from);
                    let mut end = s;
                    for _ in 0..1 + rng.below(4) {
                        if end == REGION || result.is_err() {
                            break;
                        }
                        let n = 1 + rng.below((REGION - end).min(96));
                        let data: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                        result = file.write_all(&data).await;
                        if result.is_ok() {
                            model[end..end + n].copy_from_slice(&data);
                            end += n;
                            bytes += n as u64;
                        }
                    }
                    if result.is_ok() && rng.below(2) == 0 {
                        result = file.flush().await;
                    }
                    match result {
                        Ok(()) if file.tell() == base + end as u64 => {}
                        other => fail(format!(
                            "write-behind at {at}: {other:?}, tell {} (want {})",
                            file.tell(),
                            base + end as u64
                        )),
                    }
                    writes += 1;
                }
                // `sync_data`: concurrent syncs of one open file share one `fsync`.
                SYNC => {
                    if let Err(e) = file.sync_data().await {
                        fail(format!("sync_data: {e}"));
                    }
                }
                // Positional read of the task's region.
                4..=6 => {
                    let (s, e) = range(&mut rng, REGION, REGION);
                    match file.read_at(base + s as u64, e - s).await {
                        Ok(got) if got[..] == model[s..e] => {}
                        Ok(got) => fail(format!(
                            "read_at({}, {}) returned {} bytes that differ from the model",
                            base + s as u64,
                            e - s,
                            got.len()
                        )),
                        Err(e) => fail(format!("read_at: {e}")),
                    }
                    reads += 1;
                    bytes += (e - s) as u64;
                }
                // Cursor read of the task's region.
                7 => {
                    let (s, e) = range(&mut rng, REGION, REGION);
                    let at = base + s as u64;
                    let result =
                        match AsyncStream::seek(&mut file, std::io::SeekFrom::Start(at)).await {
                            Ok(_) => AsyncStream::read(&mut file, e - s).await,
                            Err(e) => Err(e),
                        };
                    match result {
                        Ok(got)
                            if got[..] == model[s..e] && file.tell() == at + got.len() as u64 => {}
                        other => fail(format!(
                            "read at cursor {at}: {:?} bytes, tell {}",
                            other.map(|b| b.len()),
                            file.tell()
                        )),
                    }
                    reads += 1;
                    bytes += (e - s) as u64;
                }
                // Read of the shared read-only region (many tasks hit the same blocks).
                _ => {
                    let (s, e) = range(&mut rng, SHARED, 16 << 10);
                    match file.read_at(s as u64, e - s).await {
                        Ok(got) => {
                            if let Some(i) =
                                (s..e).find(|&i| got.get(i - s) != Some(&pattern(f, i)))
                            {
                                fail(format!("shared read {s}..{e}: wrong byte at {i}"));
                            }
                        }
                        Err(e) => fail(format!("shared read: {e}")),
                    }
                    reads += 1;
                    bytes += (e - s) as u64;
                }
            }
        }
        counters.reads.fetch_add(reads, Ordering::Relaxed);
        counters.writes.fetch_add(writes, Ordering::Relaxed);
        counters.bytes.fetch_add(bytes, Ordering::Relaxed);
        tokio::task::yield_now().await;
    }
    // What write-behind still holds lands before the final comparison.
    if let Err(e) = tokio::io::AsyncWriteExt::flush(&mut file).await {
        fail(format!("final flush: {e}"));
    }
    model
}

/// The process's peak resident set size in KiB (Linux), for the summary.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn stress(secs: u64) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let cache = RangeCache::builder()
        .capacity(CACHE_CAPACITY)
        .block_size(CACHE_BLOCK)
        .build()
        .map_err(|e| format!("cache: {e}"))?;
    let paths: Vec<_> = (0..FILES)
        .map(|f| dir.path().join(format!("stress-{f}.bin")))
        .collect();
    for (f, path) in paths.iter().enumerate() {
        let mut content: Vec<u8> = (0..SHARED).map(|i| pattern(f, i)).collect();
        content.resize(FILE_LEN, 0);
        std::fs::write(path, content).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let violations = Arc::new(Violations::default());
    let counters = Arc::new(Counters::default());
    println!(
        "stress: {TASKS} tasks, {FILES} files of {} KiB, cache {} KiB ({} KiB blocks), 2 workers, {secs} s",
        FILE_LEN >> 10,
        CACHE_CAPACITY >> 10,
        CACHE_BLOCK >> 10
    );

    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let (models, peak_resident, checks) = runtime.block_on(async {
        let mut opens = Vec::new();
        for (f, path) in paths.iter().enumerate() {
            for _ in 0..OPENS_PER_FILE {
                let file = File::options()
                    .mode("r+b")
                    .cache(cache.clone())
                    .coherence(coherence(f))
                    .open(path)
                    .await
                    .map_err(|e| format!("open {}: {e}", path.display()))?;
                let counters = counters.clone();
                file.on_read(move |event| {
                    counters.file_reads[f].fetch_add(1, Ordering::Relaxed);
                    if event.from_cache() {
                        counters.file_hits[f].fetch_add(1, Ordering::Relaxed);
                    }
                });
                opens.push(file);
            }
        }
        // The monitor: the memory bound and the cache's invariants, throughout, on a
        // thread of its own so that busy workers cannot delay it.
        let monitor = {
            let cache = cache.clone();
            let violations = violations.clone();
            std::thread::spawn(move || {
                let (mut peak, mut checks) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let stats = cache.stats();
                    peak = peak.max(stats.resident_bytes);
                    if stats.resident_bytes > stats.capacity_bytes {
                        violations.report(format!(
                            "cache over its bound: {} resident of {}",
                            stats.resident_bytes, stats.capacity_bytes
                        ));
                    }
                    if let Err(e) = cache.validate() {
                        violations.report(format!("cache invariant broken: {e}"));
                    }
                    checks += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                (peak, checks)
            })
        };
        let tasks: Vec<_> = (0..TASKS)
            .map(|id| {
                let f = id % FILES;
                let handle = opens[f * OPENS_PER_FILE + (id / FILES) % OPENS_PER_FILE].clone();
                tokio::spawn(task(
                    id,
                    handle,
                    deadline,
                    violations.clone(),
                    counters.clone(),
                ))
            })
            .collect();
        let mut models = Vec::with_capacity(TASKS);
        for t in tasks {
            models.push(t.await.map_err(|e| format!("a task panicked: {e}"))?);
        }
        let (peak, checks) = monitor
            .join()
            .map_err(|_| "the monitor panicked".to_string())?;
        // Final check through fileio (cache included) on fresh handles.
        for (f, path) in paths.iter().enumerate() {
            let file = File::options()
                .mode("rb")
                .cache(cache.clone())
                .coherence(coherence(f))
                .open(path)
                .await
                .map_err(|e| format!("reopen: {e}"))?;
            let all = file
                .read_at(0, FILE_LEN)
                .await
                .map_err(|e| format!("final read: {e}"))?;
            verify(f, &all, &models, &violations, "through fileio");
        }
        for file in &mut opens {
            if let Err(e) = file.close().await {
                violations.report(format!("close: {e}"));
            }
        }
        Ok::<_, String>((models, peak, checks))
    })?;
    let elapsed = started.elapsed();
    for (f, path) in paths.iter().enumerate() {
        let disk = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        verify(f, &disk, &models, &violations, "on disk");
    }
    if let Err(e) = cache.validate() {
        violations.report(format!("cache invariant broken at the end: {e}"));
    }

    let stats = cache.stats();
    let reads = counters.reads.load(Ordering::Relaxed);
    let writes = counters.writes.load(Ordering::Relaxed);
    let ops = reads + writes;
    let secs_f = elapsed.as_secs_f64().max(1e-9);
    println!(
        "stress: {ops} operations in {:.1} s: {:.0} ops/s ({reads} reads, {writes} writes, {:.1} MiB/s)",
        secs_f,
        ops as f64 / secs_f,
        counters.bytes.load(Ordering::Relaxed) as f64 / secs_f / (1 << 20) as f64
    );
    println!(
        "stress: cache hits {} misses {} inserted {} KiB evicted {} KiB patched {} KiB invalidations {}",
        stats.hits,
        stats.misses,
        stats.inserted_bytes >> 10,
        stats.evicted_bytes >> 10,
        stats.patched_bytes >> 10,
        stats.invalidations
    );
    // The hit ratio of each file's reads: what the cache keeps of files written while
    // they are read (files 1 to 3) against the file that is only read (file 0).
    let per_file: Vec<String> = (0..FILES)
        .map(|f| {
            let reads = counters.file_reads[f].load(Ordering::Relaxed);
            let hits = counters.file_hits[f].load(Ordering::Relaxed);
            format!(
                "file {f} ({}‰ writes, {:?}) {:.1}%",
                WRITE_PERMILLE[f],
                coherence(f),
                hits as f64 * 100.0 / reads.max(1) as f64
            )
        })
        .collect();
    println!("stress: hit ratio of reads: {}", per_file.join(", "));
    println!(
        "stress: (a Strict file written within the racy window serves no hits by design: \
         its reads go around the cache until a stamp past the window confirms the cache)"
    );
    println!(
        "stress: peak resident {} KiB of {} KiB capacity ({checks} checks); peak RSS {}",
        peak_resident >> 10,
        stats.capacity_bytes >> 10,
        peak_rss_kib().map_or_else(|| "unknown".to_string(), |k| format!("{} MiB", k >> 10))
    );
    let count = violations.count.load(Ordering::SeqCst);
    if count == 0 {
        println!("stress: no violations");
        return Ok(());
    }
    for message in violations
        .shown
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
    {
        eprintln!("violation: {message}");
    }
    Err(format!("stress: {count} violations"))
}

/// Compares file `f`'s content with the pattern and the task models.
fn verify(f: usize, content: &[u8], models: &[Vec<u8>], violations: &Violations, how: &str) {
    if content.len() != FILE_LEN {
        violations.report(format!(
            "file {f} {how}: {} bytes, expected {FILE_LEN}",
            content.len()
        ));
        return;
    }
    if let Some(i) = (0..SHARED).find(|&i| content[i] != pattern(f, i)) {
        violations.report(format!("file {f} {how}: shared region changed at {i}"));
    }
    for (id, model) in models.iter().enumerate().filter(|(id, _)| id % FILES == f) {
        let base = SHARED + (id / FILES) * REGION;
        if content[base..base + REGION] != model[..] {
            violations.report(format!(
                "file {f} {how}: task {id}'s region differs from its model"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        assert_eq!(Args::parse(&[]).unwrap().unwrap().secs, 10);
        let args = ["--secs".to_string(), "3".to_string()];
        assert_eq!(Args::parse(&args).unwrap().unwrap().secs, 3);
        assert!(Args::parse(&["--secs".to_string()]).is_err());
        assert!(Args::parse(&["--bogus".to_string()]).is_err());
        assert!(Args::parse(&["--help".to_string()]).unwrap().is_none());
    }

    #[test]
    fn layout() {
        assert_eq!(TASKS % FILES, 0);
        assert_eq!(FILE_LEN, SHARED + TASKS_PER_FILE * REGION);
        let mut rng = Rng(1);
        for _ in 0..1000 {
            let (s, e) = range(&mut rng, REGION, 128);
            assert!(s < e && e <= REGION && e - s <= 128);
        }
    }
}
