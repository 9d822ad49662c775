//! What makes these files cheap: the in-flight bound on the blocking pool, the inline
//! `preadv2(RWF_NOWAIT)` fast path (short results finished on the pool, never taken as
//! end of file) and cache hits that cost no read system call.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fileio_core::runtime::{Offload, PoolBackend};
use fileio_core::{AsyncFile, OpenMode, Options, StdBackend};
use fileio_tokio::{
    AsyncStream, BackendChoice, Coherence, File, PoolConfig, RangeCache, TokioPool,
};

/// Threads of this process whose name is `name`.
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// [`TokioPool`] with a count of the jobs running at once (and the most seen), each job
/// held for a millisecond like a read that waits for a slow disk.
#[derive(Clone, Debug)]
struct Counting {
    pool: TokioPool,
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Offload for Counting {
    fn offload<F, T>(&self, f: F) -> impl Future<Output = T> + Send + 'static
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (now, peak) = (self.now.clone(), self.peak.clone());
        self.pool.offload(move || {
            // Counted before `f` runs: `f` gives the backend's in-flight permit back as
            // it returns, so counting past it would see the next job start early.
            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(running, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1));
            now.fetch_sub(1, Ordering::SeqCst);
            f()
        })
    }
}

/// A burst of 300 uncached, non-inline reads of one file on a fresh runtime, with the
/// file's in-flight bound set to `bound`: the most pool jobs that ran at once, and the
/// pool threads the runtime started.
fn burst(bound: usize, name: &str) -> (usize, usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(512)
        .thread_name(name)
        .build()
        .unwrap();
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("burst.bin");
        std::fs::write(&path, vec![9u8; 1 << 20]).unwrap();
        let offload = Counting {
            pool: TokioPool::current(),
            now: Arc::new(AtomicUsize::new(0)),
            peak: peak.clone(),
        };
        let config = PoolConfig::new().max_in_flight(bound).inline_reads(false);
        let mode = OpenMode::parse("rb").unwrap();
        let backend = PoolBackend::open(&path, mode, offload, config)
            .await
            .unwrap();
        let mut options = Options::new();
        options.mode("rb").no_cache();
        let file = Arc::new(AsyncFile::from_backend(Arc::new(backend), &path, &options).unwrap());
        let reads: Vec<_> = (0..300u64)
            .map(|i| {
                let f = file.clone();
                tokio::spawn(async move { f.read_at((i * 4096) % (1 << 20), 4096).await })
            })
            .collect();
        for r in reads {
            assert_eq!(r.await.unwrap().unwrap().len(), 4096);
        }
    });
    // Less the 2 workers.
    (peak.load(Ordering::SeqCst), threads_named(name) - 2)
}

#[test]
fn a_burst_of_reads_is_bounded_by_the_in_flight_limit() {
    let (bounded, bounded_threads) = burst(4, "fio-bound-4");
    let (unbounded, unbounded_threads) = burst(10_000, "fio-bound-none");
    eprintln!(
        "300 reads of 1 ms each: at most {bounded} at once on {bounded_threads} pool \
         threads with a bound of 4, {unbounded} on {unbounded_threads} without"
    );
    assert!(bounded <= 4, "{bounded} jobs at once with a bound of 4");
    assert!(
        bounded >= 2,
        "the bound of 4 ran only {bounded} job at a time"
    );
    // Without a bound the pool runs far more at once (how many depends on how fast
    // tokio starts threads, so only a clear excess over the bound is checked).
    assert!(unbounded > 4, "{unbounded} jobs at once without a bound");
}

#[cfg(target_os = "linux")]
#[test]
fn short_nowait_reads_are_finished_on_the_pool_not_taken_as_eof() {
    use rustix::fs::{Advice, fadvise};
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("half.bin");
            let data: Vec<u8> = (0..2u32 << 20).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &data).unwrap();
            let std_file = std::fs::File::open(&path).unwrap();
            std_file.sync_all().unwrap();
            // Drop the second megabyte from the page cache (clean pages go at once on
            // disk-backed filesystems; tmpfs keeps them, and then the read is whole).
            let mib = std::num::NonZeroU64::new(1 << 20).unwrap();
            fadvise(&std_file, 1 << 20, Some(mib), Advice::DontNeed).unwrap();
            let probe = StdBackend::from_std(std_file.try_clone().unwrap()).unwrap();
            let start = (1 << 20) - 8192;
            let inline = probe.try_read_at_nowait(start, 65_536).unwrap();
            if let Some(got) = &inline {
                eprintln!(
                    "note: the range stayed resident ({} bytes inline)",
                    got.len()
                );
            }
            let file = File::options()
                .backend(BackendChoice::Pool)
                .mode("rb")
                .no_cache()
                .open(&path)
                .await
                .unwrap();
            fadvise(&std_file, 1 << 20, Some(mib), Advice::DontNeed).unwrap();
            let got = file.read_at(start, 65_536).await.unwrap();
            assert_eq!(
                got.len(),
                65_536,
                "a partly resident range is not end of file"
            );
            assert_eq!(&got[..], &data[start as usize..start as usize + 65_536]);
            // At the real end of file the inline path may return short.
            let tail = file.read_at((2 << 20) - 100, 4096).await.unwrap();
            assert_eq!(&tail[..], &data[(2 << 20) - 100..]);
        });
}

#[test]
fn cache_hits_make_no_read_system_call() {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("hit.bin");
            std::fs::write(&path, vec![5u8; 64 * 1024]).unwrap();
            let cache = RangeCache::builder().capacity(1 << 20).build().unwrap();
            let file = File::options()
                .backend(BackendChoice::Pool)
                .mode("rb")
                .cache(cache.clone())
                .coherence(Coherence::Exclusive)
                .open(&path)
                .await
                .unwrap();
            // Twice: a local file's blocks are cached on their second touch.
            for _ in 0..2 {
                assert_eq!(
                    &file.read_at(4096, 8192).await.unwrap()[..],
                    &[5u8; 8192][..]
                );
            }
            // Behind the library's back (which Exclusive promises will not happen), the
            // file is emptied: a hit still returns the cached bytes, so it read nothing.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(0)
                .unwrap();
            let before = cache.stats();
            assert_eq!(
                &file.read_at(6000, 4000).await.unwrap()[..],
                &[5u8; 4000][..]
            );
            assert_eq!(cache.stats().hits, before.hits + 1);
            // Strict coherence checks the stamp (one fstat) and sees the change.
            let strict = File::options()
                .backend(BackendChoice::Pool)
                .mode("rb")
                .cache(cache)
                .open(&path)
                .await
                .unwrap();
            assert!(strict.read_at(6000, 4000).await.unwrap().is_empty());
        });
}
