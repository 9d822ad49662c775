//! Cooperative scheduling checks for runtime crates, generic over [`Runtime`]: a task
//! looping over operations that complete without waiting (cache hits, inline reads,
//! seeks) still yields to its executor, so the other tasks of its thread run.
//!
//! Each check is an `async fn` that the runtime crate's `tests/coop.rs` runs on its
//! executor; [`ticker`] is the other task, which the runtime crate spawns on the same
//! thread as [`reader_lets_others_run`].

use std::io::SeekFrom;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use fileio_cache::RangeCache;

use crate::options::{BackendChoice, Coherence};
use crate::stream::AsyncStream;

use super::harness::{OpenSpec, small_cache};
use super::runtime::Runtime;
use super::scratch::ScratchDir;

/// The length of the file the checks read: 64 KiB, all of it cached.
const FILE_LEN: usize = 64 * 1024;
/// The bytes each read takes.
const READ_LEN: usize = 4096;

/// How many read + seek rounds [`ready_loop_yields`] allows before the loop must have
/// returned `Pending` (tokio's budget is 128 operations, [`Bounded`](crate::runtime::Bounded)'s run [`Bounded::LIMIT`](crate::runtime::Bounded::LIMIT)).
///
/// [`Bounded`]: crate::runtime::Bounded
pub const YIELD_WITHIN: usize = 1_000;

/// How many ready reads [`reader_lets_others_run`] makes.
pub const READS: usize = 20_000;

/// A cached file read only through the cache: `rb` on the pool, with
/// [`Coherence::Exclusive`] and a manual clock moved past the racy window, so that
/// every read after the first two (a block is cached on its second touch) is a cache
/// hit with no system call.
struct Warm<F> {
    file: F,
    cache: RangeCache,
    _dir: ScratchDir,
}

impl<F: AsyncStream> Warm<F> {
    async fn open<R: Runtime<File = F>>() -> Warm<F> {
        let dir = ScratchDir::new().expect("scratch dir");
        let path = dir.join("warm.bin");
        let data: Vec<u8> = (0..FILE_LEN).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let cache = small_cache();
        let mut spec = OpenSpec::new("rb", Some(cache.clone()));
        spec.coherence = Coherence::Exclusive;
        spec.clock = dir.clock().clone();
        let file = R::open(path, &spec, BackendChoice::Pool).await.unwrap();
        dir.clock().pass_racy_window();
        // Twice: a local file's blocks are cached on their second touch.
        for _ in 0..2 {
            assert_eq!(file.read_at(0, FILE_LEN).await.unwrap().len(), FILE_LEN);
        }
        Warm {
            file,
            cache,
            _dir: dir,
        }
    }

    /// Cache misses so far.
    fn misses(&self) -> u64 {
        self.cache.stats().misses
    }
}

/// Polls a loop of read + seek rounds on a warm cached file by hand (tokio's own `coop`
/// test for `tokio::fs::File`, in fileio's terms): one poll of the loop must return
/// `Pending` within [`YIELD_WITHIN`] rounds, though every read is a cache hit. Then the
/// same with the runtime's I/O read trait (`read_exact`) instead of
/// [`AsyncStream::read`].
///
/// # Panics
///
/// When the loop never yields, or a read missed the cache.
pub async fn ready_loop_yields<R: Runtime>() {
    let mut warm = Warm::open::<R>().await;
    let misses = warm.misses();
    for io_trait in [false, true] {
        let file = &mut warm.file;
        let mut rounds = 0;
        let mut buf = vec![0; READ_LEN];
        let yielded = {
            let mut task = pin!(async {
                while rounds < YIELD_WITHIN {
                    if io_trait {
                        R::io_read_exact(file, &mut buf).await.unwrap();
                    } else {
                        let data = AsyncStream::read(file, READ_LEN).await.unwrap();
                        assert_eq!(data.len(), READ_LEN);
                    }
                    AsyncStream::seek(file, SeekFrom::Start(0)).await.unwrap();
                    rounds += 1;
                }
            });
            std::future::poll_fn(|cx| Poll::Ready(task.as_mut().poll(cx).is_pending())).await
        };
        assert!(
            yielded,
            "{YIELD_WITHIN} ready read + seek rounds never returned Pending (io trait: {io_trait})"
        );
    }
    assert_eq!(warm.misses(), misses, "a read missed the cache");
}

/// [`ready_loop_yields`] for reads around the cache: a loop of `read_at` on a file opened
/// without a cache, whose bytes the page cache holds (each read is an inline read of the
/// local file, on the executor's thread), returns `Pending` within [`YIELD_WITHIN`]
/// reads. Every read is checked against the bytes written.
///
/// # Panics
///
/// When the loop never yields, or a read returns other bytes than the file's.
pub async fn uncached_read_loop_yields<R: Runtime>() {
    let dir = ScratchDir::new().expect("scratch dir");
    let path = dir.join("uncached.bin");
    let data: Vec<u8> = (0..FILE_LEN).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let file = R::open(path, &OpenSpec::new("rb", None), BackendChoice::Pool)
        .await
        .unwrap();
    let mut reads = 0;
    let yielded = {
        let mut task = pin!(async {
            while reads < YIELD_WITHIN {
                let offset = reads * READ_LEN % FILE_LEN;
                let got = file.read_at(offset as u64, READ_LEN).await.unwrap();
                assert_eq!(&got[..], &data[offset..offset + READ_LEN]);
                reads += 1;
            }
        });
        std::future::poll_fn(|cx| Poll::Ready(task.as_mut().poll(cx).is_pending())).await
    };
    assert!(
        yielded,
        "{YIELD_WITHIN} uncached reads of a warm file never returned Pending"
    );
}

/// The other task of [`reader_lets_others_run`]: counts its turns in `ticks`, yielding
/// after each, forever. Spawn it on the reader's thread.
pub async fn ticker(ticks: Arc<AtomicUsize>) {
    loop {
        ticks.fetch_add(1, Ordering::Relaxed);
        futures_lite::future::yield_now().await;
    }
}

/// Makes [`READS`] ready reads, alternating between two handles on a warm cached file,
/// while a [`ticker`] runs on the same thread: by the end the ticker must have had a
/// turn. Without cooperative yielding the reader never returns `Pending` and `ticks`
/// stays at its value from before the reads.
///
/// # Panics
///
/// When the ticker never ran during the reads, or a read missed the cache.
pub async fn reader_lets_others_run<R: Runtime>(ticks: &AtomicUsize) {
    let warm = Warm::open::<R>().await;
    let other = warm.file.clone();
    let misses = warm.misses();
    let before = ticks.load(Ordering::Relaxed);
    for i in 0..READS {
        let file = if i % 2 == 0 { &warm.file } else { &other };
        let offset = (i * READ_LEN % FILE_LEN) as u64;
        assert_eq!(
            file.read_at(offset, READ_LEN).await.unwrap().len(),
            READ_LEN
        );
    }
    let after = ticks.load(Ordering::Relaxed);
    assert_eq!(warm.misses(), misses, "a read missed the cache");
    assert!(
        after > before,
        "the other task never ran during {READS} ready reads"
    );
}
