//! [`SplitBackend`]: reads on the ring, everything else on a thread pool.

use std::fmt;
use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use fileio_cache::{FileKey, Stamp};

use super::{UringBackend, UringDriver};
use crate::backend::{Backend, StdBackend};
use crate::pool::{Offload, PoolBackend, PoolConfig};

/// A local file whose reads run on an `io_uring` and whose writes, syncs and
/// truncations run on a thread pool: what
/// [`BackendChoice::Auto`](crate::BackendChoice::Auto) opens where `io_uring` works.
///
/// The ring is where reads gain: a read the page cache cannot serve waits for the disk
/// without holding a thread, and one reaper thread completes them all (see the
/// [module documentation](super) for the measurements). Buffered writes, `fsync` and
/// `ftruncate` gain nothing there on most filesystems: the kernel runs them on its own
/// worker threads (io-wq), two more thread hand-offs than the pool makes, so on ext4 a
/// single 64 KiB write took about 1.5x as long on the ring as on the pool. Here they go
/// to the pool, with the same bound on operations in flight as a
/// [`PoolBackend`]. Use [`UringBackend`] (`BackendChoice::IoUring`) to run every
/// operation on the ring.
///
/// Both halves share one open file description, so positional reads and writes see each
/// other exactly as on a single backend.
pub struct SplitBackend<O: Offload> {
    reads: UringBackend,
    rest: PoolBackend<O>,
}

impl<O: Offload> fmt::Debug for SplitBackend<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplitBackend")
            .field("reads", &self.reads)
            .field("rest", &self.rest)
            .finish()
    }
}

impl<O: Offload> SplitBackend<O> {
    /// Runs an open file's reads on `driver`'s ring and its other operations on
    /// `offload`. `config` bounds the operations in flight on the pool and turns the
    /// inline `preadv2(RWF_NOWAIT)` read path on or off.
    pub fn new(file: StdBackend, driver: UringDriver, offload: O, config: PoolConfig) -> Self {
        let file = Arc::new(file);
        SplitBackend {
            reads: UringBackend::from_shared(file.clone(), driver)
                .inline_reads(config.inline_reads_enabled()),
            rest: PoolBackend::from_shared(file, offload, config),
        }
    }

    /// The ring half (reads).
    pub fn uring(&self) -> &UringBackend {
        &self.reads
    }

    /// The pool half (writes, syncs, truncation).
    pub fn pool(&self) -> &PoolBackend<O> {
        &self.rest
    }
}

#[async_trait]
impl<O: Offload> Backend for SplitBackend<O> {
    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        self.reads.read_at(offset, len).await
    }
    async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
        self.rest.write_at(offset, data).await
    }
    async fn len(&self) -> io::Result<u64> {
        self.rest.len().await
    }
    fn write_at_queued(&self, offset: u64, data: Bytes) -> Result<crate::QueuedWrite, Bytes> {
        self.rest.write_at_queued(offset, data)
    }
    async fn set_len(&self, len: u64) -> io::Result<()> {
        self.rest.set_len(len).await
    }
    async fn sync_all(&self) -> io::Result<()> {
        self.rest.sync_all().await
    }
    async fn sync_data(&self) -> io::Result<()> {
        self.rest.sync_data().await
    }
    async fn stamp(&self) -> io::Result<Stamp> {
        self.rest.stamp().await
    }
    fn key(&self) -> FileKey {
        self.rest.key()
    }
    /// The ring half's inline path: `preadv2(RWF_NOWAIT)` on the calling thread.
    fn read_at_inline(&self, offset: u64, len: usize) -> Option<io::Result<Bytes>> {
        self.reads.read_at_inline(offset, len)
    }
    /// One `fstat` of the open descriptor: it does not wait for the disk.
    fn stamp_inline(&self) -> Option<io::Result<Stamp>> {
        self.rest.stamp_inline()
    }
    fn local_file(&self) -> Option<&std::fs::File> {
        self.rest.local_file()
    }
}
