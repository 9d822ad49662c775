//! Checks that need a file opened over a [`FaultBackend`], which a [`Harness`]
//! (files by name in a scratch space) cannot give: each takes a function that opens
//! the file type under test over a given backend, so the blocking `File`, `AsyncFile`
//! and the runtime crates' files all run the same check.
//!
//! - [`sync_failures_are_sticky`]: after a failed sync no later sync of the open file
//!   (through any clone of the handle) reports success, and the cache drops the file's
//!   blocks.
//!
//! A runtime crate runs them with [`run_on_runtime`], over its `File` made from an
//! [`AsyncFile`] (`From<AsyncFile>`).
//!
//! [`Harness`]: super::Harness

use std::io;
use std::sync::Arc;

use fileio_cache::RangeCache;

use crate::async_file::AsyncFile;
use crate::backend::{Backend, MemBackend};
use crate::clock::Clock;
use crate::error::{Error, Op, Result};
use crate::fault::{Fault, FaultBackend, Target};
use crate::options::Options;
use crate::stream::AsyncStream;

use super::harness::small_cache;
use super::helpers::pattern;
use super::runtime::Runtime;

/// How a check opens the file type under test: over `backend`, with `options`
/// (`File::from_backend`, `AsyncFile::from_backend`, or a runtime crate's
/// `File::from(AsyncFile::from_backend(..)?)`).
pub type OpenOver<F> = dyn Fn(Arc<dyn Backend>, &Options) -> Result<F> + Send + Sync;

/// The length of the file the checks write: two cache blocks.
const LEN: usize = 8192;

/// One file over a [`FaultBackend`] with its own cache and manual clock.
struct Faulty<F> {
    backend: Arc<FaultBackend<MemBackend>>,
    cache: RangeCache,
    clock: Clock,
    file: F,
}

impl<F: AsyncStream + Clone> Faulty<F> {
    fn open(open: &OpenOver<F>, sync_on_close: bool) -> Faulty<F> {
        let backend = Arc::new(FaultBackend::new(MemBackend::new()));
        let cache = small_cache();
        let clock = Clock::manual();
        let mut options = Options::new();
        options
            .mode("w+b")
            .cache(cache.clone())
            .clock(clock.clone())
            .sync_on_close(sync_on_close);
        let file = open(backend.clone(), &options).expect("open over a FaultBackend");
        Faulty {
            backend,
            cache,
            clock,
            file,
        }
    }

    /// Writes [`LEN`] bytes and reads them twice, so that the second read is served
    /// from the cache; returns the bytes.
    async fn write_and_cache(&self) -> Vec<u8> {
        let data = pattern(LEN, 7);
        self.file.write_at(0, &data).await.expect("write");
        self.clock.pass_racy_window();
        assert_eq!(self.file.read_at(0, LEN).await.expect("read"), data);
        let hits = self.cache.stats().hits;
        assert_eq!(self.file.read_at(0, LEN).await.expect("read"), data);
        assert!(
            self.cache.stats().hits > hits,
            "the second read is a cache hit"
        );
        data
    }

    /// The next sync of the backend fails with `EIO`.
    fn fail_next_sync(&self) {
        self.backend.inject(Target::Sync, 1, Fault::io_error());
    }

    /// Asserts that the cache holds none of the file's blocks: a read goes to the
    /// backend and is no cache hit (then it is cached again).
    async fn assert_not_cached(&self, expected: &[u8], what: &str) {
        let hits = self.cache.stats().hits;
        let reads = self.backend.count(Target::Read);
        assert_eq!(
            self.file.read_at(0, expected.len()).await.expect("read"),
            expected,
            "{what}: the read returns the file's bytes"
        );
        assert_eq!(self.cache.stats().hits, hits, "{what}: no cache hit");
        assert!(
            self.backend.count(Target::Read) > reads,
            "{what}: the read went to the backend"
        );
        self.cache.validate().expect("the cache validates");
    }
}

/// The kind of the injected sync error, [`Fault::io_error`] (`EIO`).
fn eio_kind() -> io::ErrorKind {
    match Fault::<MemBackend>::io_error() {
        Fault::Error(e) => e.kind(),
        other => unreachable!("io_error is an error, not {other:?}"),
    }
}

/// Asserts that `result` is the first report of the injected failure: [`Error::Io`] for
/// `op`, the injected `EIO`.
#[track_caller]
fn first_failure(result: Result<()>, op: Op, what: &str) {
    match result {
        Err(Error::Io { op: o, source, .. }) if o == op && source.kind() == eio_kind() => {}
        other => panic!("{what}: expected the injected EIO from {op:?}, got {other:?}"),
    }
}

/// Asserts that `result` reports the earlier failure: [`Error::SyncFailed`] for `op`,
/// with the injected error's kind, which `Error::kind` and `io::Error` keep.
#[track_caller]
fn earlier_failure(result: Result<()>, op: Op, what: &str) {
    match result {
        Err(e @ Error::SyncFailed { .. }) => {
            let Error::SyncFailed { op: o, kind, .. } = &e else {
                unreachable!()
            };
            assert_eq!(*o, op, "{what}: the operation reporting it");
            assert_eq!(*kind, eio_kind(), "{what}: the earlier error's kind");
            assert_eq!(e.kind(), eio_kind(), "{what}: Error::kind");
            let message = e.to_string();
            assert!(
                message.contains("an earlier sync of the file failed"),
                "{what}: the message says so: {message}"
            );
            assert_eq!(io::Error::from(e).kind(), eio_kind(), "{what}: io::Error");
        }
        other => panic!("{what}: expected Error::SyncFailed from {op:?}, got {other:?}"),
    }
}

/// After a failed sync (`sync_all`, `sync_data`, or the sync in `close`) no later sync
/// of that open file reports success, through the handle or any clone of it, even when
/// the backend's later syncs succeed (Linux's second `fsync` after an `EIO` returns 0
/// although the data may be gone): each returns [`Error::SyncFailed`]. The failed sync
/// drops the cache's blocks of the file. Writes and reads still work (reads no longer
/// from the dropped blocks); `close` with `sync_on_close` reports the earlier failure
/// too, and the handle is closed all the same. Without `sync_on_close`, `close` does not
/// sync and returns `Ok(())`.
///
/// `open` opens the file type under test over a backend (see [`OpenOver`]).
///
/// # Panics
///
/// When the file type breaks the rule.
pub async fn sync_failures_are_sticky<F: AsyncStream + Clone>(open: &OpenOver<F>) {
    // A failed `sync_all`, then everything after it.
    let f = Faulty::open(open, true);
    let data = f.write_and_cache().await;
    let clone = f.file.clone();
    f.fail_next_sync();
    first_failure(f.file.sync_all().await, Op::SyncAll, "the failed sync_all");
    f.assert_not_cached(&data, "after the failed sync").await;
    let syncs = f.backend.count(Target::Sync);
    earlier_failure(f.file.sync_all().await, Op::SyncAll, "sync_all again");
    earlier_failure(f.file.sync_data().await, Op::SyncData, "sync_data after");
    earlier_failure(clone.sync_all().await, Op::SyncAll, "a clone's sync_all");
    earlier_failure(clone.sync_data().await, Op::SyncData, "a clone's sync_data");
    assert_eq!(
        f.backend.count(Target::Sync),
        syncs + 4,
        "later syncs still reach the backend (which succeeds)"
    );
    // Writes go on (into the OS's page cache); reads see them.
    let later = pattern(100, 9);
    assert_eq!(f.file.write_at(10, &later).await.expect("write after"), 100);
    let mut expected = data.clone();
    expected[10..110].copy_from_slice(&later);
    assert_eq!(f.file.read_at(0, LEN).await.expect("read after"), expected);
    earlier_failure(f.file.sync_data().await, Op::SyncData, "sync after a write");
    // A clone that did not write closes with the error too, and is closed.
    let mut reader = clone.clone();
    earlier_failure(reader.close().await, Op::Close, "a clone's close");
    assert!(reader.is_closed(), "the clone is closed");
    assert!(
        matches!(reader.sync_data().await, Err(Error::Closed)),
        "after close: Closed"
    );
    assert!(reader.close().await.is_ok(), "closing again is Ok");
    let mut file = f.file.clone();
    file.write(b"x").await.expect("write through a clone");
    earlier_failure(file.close().await, Op::Close, "close after a write");
    assert!(
        matches!(file.read_at(0, 1).await, Err(Error::Closed)),
        "after close: Closed"
    );
    f.cache.validate().expect("the cache validates");

    // A failed `sync_data` is remembered just the same.
    let f = Faulty::open(open, true);
    let data = f.write_and_cache().await;
    f.fail_next_sync();
    first_failure(
        f.file.sync_data().await,
        Op::SyncData,
        "the failed sync_data",
    );
    f.assert_not_cached(&data, "after the failed sync_data")
        .await;
    earlier_failure(f.file.sync_all().await, Op::SyncAll, "sync_all after");

    // The sync in `close` fails: close reports it and closes; clones remember it.
    let f = Faulty::open(open, true);
    let data = f.write_and_cache().await;
    let clone = f.file.clone();
    let mut file = f.file.clone();
    file.write(b"y").await.expect("write");
    f.fail_next_sync();
    first_failure(file.close().await, Op::Close, "the failed close");
    assert!(file.is_closed(), "closed despite the failed sync");
    assert!(
        matches!(file.sync_all().await, Err(Error::Closed)),
        "after close: Closed"
    );
    let mut expected = data;
    expected[0] = b'y';
    f.assert_not_cached(&expected, "after the failed close")
        .await;
    earlier_failure(clone.sync_data().await, Op::SyncData, "a clone after close");

    // Without `sync_on_close`, close does not sync and says nothing.
    let f = Faulty::open(open, false);
    f.write_and_cache().await;
    f.fail_next_sync();
    first_failure(f.file.sync_all().await, Op::SyncAll, "the failed sync_all");
    let mut file = f.file.clone();
    assert!(
        file.close().await.is_ok(),
        "close without sync_on_close is Ok"
    );
    earlier_failure(f.file.sync_all().await, Op::SyncAll, "sync_all after close");
}

/// Runs every check of this module on `R`'s file type (made from an [`AsyncFile`] over
/// the check's backend), in every way [`Runtime::block_on`] runs a test.
///
/// # Panics
///
/// When a check fails.
pub fn run_on_runtime<R: Runtime>()
where
    R::File: From<AsyncFile>,
{
    R::block_on(&|| {
        Box::pin(async {
            let open = |backend: Arc<dyn Backend>, options: &Options| {
                AsyncFile::from_backend(backend, "faulty.bin", options).map(R::File::from)
            };
            sync_failures_are_sticky(&open).await;
        })
    });
}
