//! What makes these files cheap: the in-flight bound on the blocking pool, the inline
//! `preadv2(RWF_NOWAIT)` fast path (short results finished on the pool, never taken as
//! end of file) and cache hits that cost no read system call.

use std::sync::Arc;

use fileio_core::StdBackend;
use fileio_tokio::{AsyncStream, BackendChoice, Coherence, File, PoolConfig, RangeCache};

/// Threads of this process whose name is `name`.
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// Pool threads a burst of 300 uncached, non-inline reads of one file starts on a fresh
/// runtime, with the file's in-flight bound set to `bound`.
fn threads_for_a_burst(bound: usize, name: &str) -> usize {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(512)
        .thread_name(name)
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("burst.bin");
        std::fs::write(&path, vec![9u8; 1 << 20]).unwrap();
        let file = File::options()
            .backend(BackendChoice::Pool)
            .mode("rb")
            .no_cache()
            .pool(PoolConfig::new().max_in_flight(bound).inline_reads(false))
            .open(&path)
            .await
            .unwrap();
        let file = Arc::new(file);
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
    threads_named(name) - 2
}

#[test]
fn a_burst_of_reads_is_bounded_by_the_in_flight_limit() {
    let bounded = threads_for_a_burst(4, "fio-bound-4");
    let unbounded = threads_for_a_burst(10_000, "fio-bound-none");
    eprintln!("pool threads for 300 reads: {bounded} with a bound of 4, {unbounded} without");
    // At most 4 lanes run at once; the count includes the thread that opened the file and
    // any lane tokio started while an ending one had not yet given its thread back.
    // (How many the unbounded burst starts depends on the machine's load, so it is only
    // printed; the bound is what is checked.)
    assert!(bounded <= 16, "{bounded} threads with a bound of 4");
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
            assert_eq!(
                &file.read_at(4096, 8192).await.unwrap()[..],
                &[5u8; 8192][..]
            );
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
