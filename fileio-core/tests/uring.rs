//! The io_uring backends (`fileio_core::uring`: `UringBackend`, and `SplitBackend`,
//! which `BackendChoice::Auto` opens): the conformance suite through `AsyncFile`, a
//! model test against a `Vec<u8>`, dropped operations in flight, and 10,000 concurrent
//! operations on an 8-entry ring.
//!
//! Every test returns early (saying so) where `io_uring` is unavailable: the backend
//! then refuses to be created, which is what `uring_unavailable_is_reported` checks.

#![cfg(all(target_os = "linux", feature = "io-uring"))]

use std::future::Future;
use std::io;
use std::num::NonZeroU64;
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use fileio_core::runtime::BlockingPool;
use fileio_core::uring::{
    SplitBackend, UringBackend, UringConfig, UringDriver, io_uring_available,
};
use fileio_core::{Backend, OpenMode, PoolConfig, StdBackend};

/// Whether to run: false (with a note) where the kernel or a filter refuses io_uring.
fn have_uring() -> bool {
    let ok = io_uring_available();
    if !ok {
        eprintln!("io_uring unavailable here: skipping");
    }
    ok
}

fn std_file(path: &Path, mode: &str) -> StdBackend {
    StdBackend::open(path, OpenMode::parse(mode).expect("mode")).expect("open")
}

fn small_driver(entries: u32) -> UringDriver {
    UringDriver::new(UringConfig::new().entries(entries)).expect("private ring")
}

/// Drops the page cache's copy of the file, so that reads really wait for the disk.
fn evict(file: &StdBackend) {
    rustix::fs::fadvise(
        file.as_std(),
        0,
        None::<NonZeroU64>,
        rustix::fs::Advice::DontNeed,
    )
    .expect("fadvise");
}

/// Waits (a few seconds at most) until the driver has nothing in flight.
fn wait_idle(driver: &UringDriver) {
    let start = Instant::now();
    while driver.in_flight() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "operations still in flight: {}",
            driver.in_flight()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn uring_unavailable_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = std_file(&dir.path().join("f"), "w+b");
    match (io_uring_available(), UringBackend::new(file)) {
        (true, Ok(backend)) => {
            assert!(backend.driver().max_in_flight() >= 1);
            assert_eq!(
                UringDriver::global().unwrap().entries(),
                backend.driver().entries()
            );
        }
        (false, Err(e)) => eprintln!("io_uring unavailable: {e}"),
        (available, backend) => {
            panic!("io_uring_available() = {available} but UringBackend::new gave {backend:?}")
        }
    }
}

#[test]
fn types_are_send_sync_and_object_safe() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<UringBackend>();
    send_sync::<UringDriver>();
    if !have_uring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let backend: Arc<dyn Backend> =
        Arc::new(UringBackend::new(std_file(&dir.path().join("f"), "w+b")).unwrap());
    futures::executor::block_on(async {
        assert_eq!(backend.write_at(3, "abc".into()).await.unwrap(), 3);
        assert_eq!(&backend.read_at(0, 10).await.unwrap()[..], b"\0\0\0abc");
    });
}

#[test]
fn private_ring_sizes() {
    if !have_uring() {
        return;
    }
    for (asked, entries) in [(0, 2), (1, 2), (5, 8), (8, 8), (300, 512)] {
        let driver = small_driver(asked);
        assert_eq!(driver.entries(), entries, "entries({asked})");
        assert_eq!(driver.max_in_flight(), entries as usize - 1);
        assert_eq!(driver.in_flight(), 0);
    }
}

/// Every operation of the backend on a fresh file, on rings with and without the
/// ftruncate operation, with and without the inline read path, with and without
/// deferred completion work.
#[test]
fn operations() {
    if !have_uring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let configs = [
        (true, true, true),
        (false, false, false),
        (true, false, false),
    ];
    for (i, (ftruncate, inline, defer)) in configs.into_iter().enumerate() {
        let config = UringConfig::new()
            .entries(4)
            .ftruncate_op(ftruncate)
            .defer_taskrun(defer);
        let driver = UringDriver::new(config).unwrap();
        if !defer {
            assert!(!driver.deferred_task_run());
        }
        let path = dir.path().join(format!("ops{i}"));
        let b =
            UringBackend::with_driver(std_file(&path, "w+b"), driver.clone()).inline_reads(inline);
        futures::executor::block_on(async {
            let data = pattern(300_000, 7);
            assert_eq!(
                b.write_at(0, data.clone().into()).await.unwrap(),
                data.len()
            );
            assert_eq!(b.len().await.unwrap(), 300_000);
            assert_eq!(b.read_at(0, 300_000).await.unwrap(), data);
            assert_eq!(b.read_at(299_990, 100).await.unwrap(), data[299_990..]);
            assert!(b.read_at(300_000, 10).await.unwrap().is_empty());
            assert!(b.read_at(u64::MAX - 5, 10).await.unwrap().is_empty());
            // A request for everything allocates only what the file holds.
            assert_eq!(b.read_at(10, usize::MAX).await.unwrap(), data[10..]);
            b.set_len(1000).await.unwrap();
            assert_eq!(b.len().await.unwrap(), 1000);
            b.set_len(2000).await.unwrap();
            let tail = b.read_at(990, 2000).await.unwrap();
            assert_eq!(tail[..10], data[990..1000]);
            assert!(tail[10..].iter().all(|&x| x == 0));
            assert_eq!(tail.len(), 1010);
            b.sync_all().await.unwrap();
            b.sync_data().await.unwrap();
            let stamp = b.stamp().await.unwrap();
            assert_eq!(stamp.len(), 2000);
            assert_eq!(b.stamp_inline().unwrap().unwrap(), stamp);
            assert_eq!(b.key(), b.std_backend().key());
        });
        assert_eq!(std::fs::read(&path).unwrap().len(), 2000);
        wait_idle(&driver);
    }
}

#[test]
fn errors_are_the_kernels() {
    if !have_uring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro");
    std::fs::write(&path, b"read only").unwrap();
    let b = UringBackend::new(std_file(&path, "rb")).unwrap();
    futures::executor::block_on(async {
        let e = b.write_at(0, "x".into()).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(9), "EBADF: {e}");
        assert!(b.set_len(0).await.is_err());
        assert_eq!(&b.read_at(5, 4).await.unwrap()[..], b"only");
    });
    let dir_path = dir.path().to_path_buf();
    let e = futures::executor::block_on(UringBackend::open(
        dir_path.join("missing"),
        OpenMode::parse("r").unwrap(),
    ))
    .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
}

/// Random positional reads, writes and truncations against a `Vec<u8>` model, on a
/// 4-entry ring with several operations in flight at once.
#[test]
fn model() {
    if !have_uring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, (defer, split)) in [(true, false), (false, false), (true, true)]
        .into_iter()
        .enumerate()
    {
        let driver = UringDriver::new(UringConfig::new().entries(4).defer_taskrun(defer)).unwrap();
        let path = dir.path().join(format!("model{i}"));
        let file = std_file(&path, "w+b");
        let b: Box<dyn Backend> = if split {
            let config = PoolConfig::new().inline_reads(false).max_in_flight(2);
            Box::new(SplitBackend::new(
                file,
                driver.clone(),
                BlockingPool,
                config,
            ))
        } else {
            Box::new(UringBackend::with_driver(file, driver.clone()).inline_reads(false))
        };
        model_on(&*b, &path);
        wait_idle(&driver);
    }
}

fn model_on(b: &dyn Backend, path: &Path) {
    let mut model: Vec<u8> = Vec::new();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    futures::executor::block_on(async {
        for step in 0..1500 {
            match rng.below(10) {
                0..=3 => {
                    let at = rng.below(70_000) as usize;
                    let len = 1 + rng.below(9_000) as usize;
                    let data = pattern(len, step as u8);
                    assert_eq!(
                        b.write_at(at as u64, data.clone().into()).await.unwrap(),
                        len
                    );
                    if model.len() < at + len {
                        model.resize(at + len, 0);
                    }
                    model[at..at + len].copy_from_slice(&data);
                }
                4..=7 => {
                    // Three reads in flight together.
                    let reqs: Vec<(usize, usize)> = (0..3)
                        .map(|_| (rng.below(80_000) as usize, rng.below(20_000) as usize))
                        .collect();
                    let got = futures::future::join_all(
                        reqs.iter().map(|&(at, len)| b.read_at(at as u64, len)),
                    )
                    .await;
                    for ((at, len), got) in reqs.into_iter().zip(got) {
                        let start = at.min(model.len());
                        let end = (at + len).min(model.len());
                        assert_eq!(
                            got.unwrap(),
                            model[start..end],
                            "step {step}: read {at}+{len}"
                        );
                    }
                }
                8 => {
                    let len = rng.below(80_000) as usize;
                    b.set_len(len as u64).await.unwrap();
                    model.resize(len, 0);
                }
                _ => {
                    assert_eq!(b.len().await.unwrap(), model.len() as u64, "step {step}");
                }
            }
        }
    });
    assert_eq!(std::fs::read(path).unwrap(), model);
}

/// `SplitBackend` (what `BackendChoice::Auto` opens) reads on the ring and writes,
/// syncs and truncates on the pool: only its reads reach the ring.
#[test]
fn split_backend_reads_on_the_ring_and_writes_on_the_pool() {
    if !have_uring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("split");
    let driver = small_driver(8);
    let config = PoolConfig::new().inline_reads(false);
    let b = SplitBackend::new(std_file(&path, "w+b"), driver.clone(), BlockingPool, config);
    let data = pattern(100_000, 5);
    futures::executor::block_on(async {
        assert_eq!(
            b.write_at(0, data.clone().into()).await.unwrap(),
            data.len()
        );
        b.set_len(90_000).await.unwrap();
        b.sync_data().await.unwrap();
        b.sync_all().await.unwrap();
        assert_eq!(b.len().await.unwrap(), 90_000);
        assert_eq!(b.stamp().await.unwrap().len(), 90_000);
    });
    assert_eq!(
        driver.submit_calls(),
        0,
        "writes, syncs and set_len used the ring"
    );
    futures::executor::block_on(async {
        assert_eq!(b.read_at(1000, 5000).await.unwrap(), data[1000..6000]);
        assert_eq!(b.read_at(89_990, 100).await.unwrap(), data[89_990..90_000]);
    });
    assert!(driver.submit_calls() > 0, "reads did not use the ring");
    assert_eq!(b.key(), b.pool().std_backend().key());
    assert!(b.read_at_inline(0, 10).is_none(), "inline reads are off");
    let inline = SplitBackend::new(
        std_file(&path, "rb"),
        driver.clone(),
        BlockingPool,
        PoolConfig::new(),
    );
    // The file was just read and written: its pages are in the page cache.
    let got = inline.read_at_inline(0, 10).expect("inline read").unwrap();
    assert_eq!(got, data[..10]);
    wait_idle(&driver);
}

/// Reads whose futures are dropped while the kernel still works on them: the buffers
/// stay alive until completion (no write into freed memory: the canary buffers
/// allocated meanwhile stay intact), and every one is freed then (nothing left in
/// flight).
#[test]
fn dropped_reads() {
    if !have_uring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cold");
    let content = pattern(4 << 20, 3);
    std::fs::write(&path, &content).unwrap();
    let driver = small_driver(16);
    let b = UringBackend::with_driver(std_file(&path, "rb"), driver.clone()).inline_reads(false);
    let mut canaries = Vec::new();
    let mut pending = 0;
    for round in 0..8 {
        evict(b.std_backend());
        for i in 0..15u64 {
            // 64 KiB reads spread over the file: most are not in the page cache.
            let at = (i * 257 + round * 31) % 64 * 65536;
            if poll_once(b.read_at(at, 65536)).is_none() {
                pending += 1;
            }
            // Reuse freed memory at once: a late kernel write would corrupt these.
            canaries.push(vec![0xa5u8; 65536]);
        }
    }
    wait_idle(&driver);
    assert!(
        canaries.iter().all(|c| c.iter().all(|&x| x == 0xa5)),
        "a dropped read wrote into memory it no longer owned"
    );
    eprintln!("{pending} of 120 reads were still in flight when dropped");
    // The file is intact and the backend still works.
    futures::executor::block_on(async {
        assert_eq!(
            b.read_at(12345, 100_000).await.unwrap(),
            content[12345..112_345]
        );
    });
    wait_idle(&driver);
}

/// Writes whose futures are dropped after the first poll (which submits them) still
/// land, and all of them.
#[test]
fn dropped_writes() {
    if !have_uring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("writes");
    let driver = small_driver(8);
    let b = UringBackend::with_driver(std_file(&path, "w+b"), driver.clone());
    let mut expected = vec![0u8; 32 * 65536];
    for i in 0..32usize {
        let data = pattern(65536, i as u8);
        expected[i * 65536..(i + 1) * 65536].copy_from_slice(&data);
        // Polled once, then dropped. The first 7 are submitted at once; later ones may
        // find the 8-entry ring full and are then never submitted: wait for room first
        // so that each is submitted by its single poll.
        while driver.in_flight() >= driver.max_in_flight() {
            std::thread::yield_now();
        }
        let _ = poll_once(b.write_at((i * 65536) as u64, data.into()));
    }
    wait_idle(&driver);
    assert_eq!(std::fs::read(&path).unwrap(), expected);
}

/// Dropping the last handle on a private driver while abandoned reads are still with
/// the kernel: the reaper finishes them, then exits.
#[test]
fn driver_dropped_with_operations_in_flight() {
    if !have_uring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, pattern(1 << 20, 9)).unwrap();
    for _ in 0..20 {
        let b =
            UringBackend::with_driver(std_file(&path, "rb"), small_driver(4)).inline_reads(false);
        evict(b.std_backend());
        for i in 0..3 {
            let _ = poll_once(b.read_at(i * 300_000, 4096));
        }
        drop(b);
    }
}

/// The `io_uring` descriptors this process has open.
fn open_rings() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().contains("io_uring"))
        .count()
}

/// Every private driver's ring is closed once its last handle is gone and its
/// operations (abandoned ones included) completed: the reaper thread exits and frees
/// it, on both kinds of ring.
#[test]
fn rings_are_closed_after_the_last_handle() {
    if !have_uring() {
        return;
    }
    // The process-wide ring exists from here on (`have_uring` created it).
    let before = open_rings();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, pattern(1 << 20, 3)).unwrap();
    for i in 0..10u64 {
        let config = UringConfig::new().entries(4).defer_taskrun(i % 2 == 0);
        let b = UringBackend::with_driver(std_file(&path, "rb"), UringDriver::new(config).unwrap())
            .inline_reads(false);
        evict(b.std_backend());
        let got = futures::executor::block_on(b.read_at(i * 4096, 100)).unwrap();
        assert_eq!(got, pattern(1 << 20, 3)[(i * 4096) as usize..][..100]);
        // Two reads abandoned in flight.
        let _ = poll_once(b.read_at(500_000, 4096));
        let _ = poll_once(b.read_at(900_000, 4096));
        drop(b);
    }
    // Exact under nextest (a process per test). Under `cargo test`, other tests of the
    // process may hold private rings for a while: wait for the count to come back down.
    let start = Instant::now();
    while open_rings() > before {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} rings still open, {before} before",
            open_rings()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Linux 6.1 and later get a ring with deferred completion work unless it is turned
/// off.
#[test]
fn deferred_task_run_where_the_kernel_has_it() {
    if !have_uring() {
        return;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.trim().split(['.', '-']).map(|p| p.parse::<u32>());
    let version = match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor),
        _ => panic!("unexpected kernel release {release:?}"),
    };
    let on = UringDriver::new(UringConfig::new().entries(4)).unwrap();
    let off = UringDriver::new(UringConfig::new().entries(4).defer_taskrun(false)).unwrap();
    // Older kernels refuse the flags and get a plain ring; 6.1 and later have them.
    if version >= (6, 1) {
        assert!(on.deferred_task_run(), "kernel {version:?}");
    }
    assert!(!off.deferred_task_run());
    assert!(format!("{on:?}").contains("task_run"));
}

/// 10,000 operations at once from 4 threads on an 8-entry ring: all wait their turn,
/// none fails, and submissions are batched.
#[test]
fn many_concurrent_operations_small_ring() {
    if !have_uring() {
        return;
    }
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2500;
    const BLOCK: usize = 512;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many");
    let content = pattern(PER_THREAD * BLOCK, 1);
    std::fs::write(&path, &content).unwrap();
    let driver = small_driver(8);
    let b = Arc::new(
        UringBackend::with_driver(std_file(&path, "r+b"), driver.clone()).inline_reads(false),
    );
    let content = Arc::new(content);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let b = b.clone();
            let content = content.clone();
            std::thread::spawn(move || {
                futures::executor::block_on(futures::future::join_all((0..PER_THREAD).map(|i| {
                    let b = b.clone();
                    let content = content.clone();
                    async move {
                        let at = i * BLOCK;
                        if t == 0 {
                            // Thread 0 rewrites the blocks with the same bytes.
                            let data = content[at..at + BLOCK].to_vec();
                            let n = b.write_at(at as u64, data.into()).await.unwrap();
                            assert_eq!(n, BLOCK);
                        } else {
                            let got = b.read_at(at as u64, BLOCK).await.unwrap();
                            assert_eq!(got, content[at..at + BLOCK]);
                        }
                    }
                })));
            })
        })
        .collect();
    for t in threads {
        t.join().expect("worker");
    }
    wait_idle(&driver);
    let submits = driver.submit_calls();
    eprintln!(
        "{} operations in {submits} submitting io_uring_enter calls",
        THREADS * PER_THREAD
    );
    assert!(submits as usize <= THREADS * PER_THREAD);
    assert_eq!(std::fs::read(&path).unwrap(), *content);
}

#[cfg(feature = "conformance")]
mod conformance_suite {
    use super::*;
    use fileio_core::conformance::{self, Behaviour, Harness, OpenSpec, ScratchDir, SuiteFuture};
    use fileio_core::{AsyncFile, RangeCache, Result};

    /// `AsyncFile` over `UringBackend` (or, with `split`, `SplitBackend`) on local
    /// files.
    #[derive(Debug)]
    struct UringHarness {
        dir: ScratchDir,
        cache: RangeCache,
        driver: UringDriver,
        split: bool,
    }

    impl UringHarness {
        fn new(driver: UringDriver, split: bool) -> UringHarness {
            UringHarness {
                dir: ScratchDir::new().expect("scratch dir"),
                cache: conformance::small_cache(),
                driver,
                split,
            }
        }
    }

    impl Harness for UringHarness {
        type File = AsyncFile;
        fn open<'a>(
            &'a self,
            name: &'a str,
            spec: &'a OpenSpec,
        ) -> SuiteFuture<'a, Result<AsyncFile>> {
            Box::pin(async move {
                let path = self.dir.join(name);
                let mode = spec.open_mode(&path)?;
                let file =
                    StdBackend::open(&path, mode).map_err(|source| fileio_core::Error::Io {
                        path: path.clone(),
                        op: fileio_core::Op::Open,
                        source,
                    })?;
                let driver = self.driver.clone();
                let backend: Arc<dyn Backend> = if self.split {
                    Arc::new(SplitBackend::new(
                        file,
                        driver,
                        BlockingPool,
                        PoolConfig::new(),
                    ))
                } else {
                    Arc::new(UringBackend::with_driver(file, driver))
                };
                AsyncFile::from_backend(backend, path, &spec.to_options())
            })
        }
        fn outside_write(&self, name: &str, data: &[u8]) {
            self.dir.outside_write(name, data);
        }
        fn outside_read(&self, name: &str) -> Vec<u8> {
            self.dir.outside_read(name)
        }
        fn cache(&self) -> RangeCache {
            self.cache.clone()
        }
        fn clock(&self) -> fileio_core::Clock {
            self.dir.clock().clone()
        }
    }

    /// Runs `behaviour` on the shared ring, through `UringBackend` and `SplitBackend`.
    fn run(behaviour: Behaviour) {
        let Ok(driver) = UringDriver::global() else {
            eprintln!("io_uring unavailable here: skipping");
            return;
        };
        for split in [false, true] {
            let harness = UringHarness::new(driver.clone(), split);
            futures::executor::block_on(behaviour.run(&harness));
        }
    }

    fileio_core::behaviour_tests!(run);

    /// The whole suite on a 2-entry ring (one operation at a time) with the ring
    /// doing every read (no inline path) and ftruncate on the pool.
    #[test]
    fn run_all_on_a_tiny_ring() {
        let Ok(driver) = UringDriver::new(UringConfig::new().entries(2).ftruncate_op(false)) else {
            eprintln!("io_uring unavailable here: skipping");
            return;
        };
        #[derive(Debug)]
        struct NoInline(UringHarness);
        impl Harness for NoInline {
            type File = AsyncFile;
            fn open<'a>(
                &'a self,
                name: &'a str,
                spec: &'a OpenSpec,
            ) -> SuiteFuture<'a, Result<AsyncFile>> {
                Box::pin(async move {
                    let path = self.0.dir.join(name);
                    let mode = spec.open_mode(&path)?;
                    let file =
                        StdBackend::open(&path, mode).map_err(|source| fileio_core::Error::Io {
                            path: path.clone(),
                            op: fileio_core::Op::Open,
                            source,
                        })?;
                    let backend =
                        UringBackend::with_driver(file, self.0.driver.clone()).inline_reads(false);
                    AsyncFile::from_backend(Arc::new(backend), path, &spec.to_options())
                })
            }
            fn outside_write(&self, name: &str, data: &[u8]) {
                self.0.outside_write(name, data);
            }
            fn outside_read(&self, name: &str) -> Vec<u8> {
                self.0.outside_read(name)
            }
            fn cache(&self) -> RangeCache {
                self.0.cache()
            }
            fn clock(&self) -> fileio_core::Clock {
                self.0.clock()
            }
        }
        let harness = NoInline(UringHarness::new(driver.clone(), false));
        futures::executor::block_on(conformance::run_all(&harness));
        wait_idle(&driver);
    }
}
