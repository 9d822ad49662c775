//! The engine: turns a [`Backend`] plus a cache plus hooks into a file with a cursor.
//!
//! Written once as `async` code. [`AsyncFile`](crate::AsyncFile) awaits it;
//! [`File`](crate::File) drives it with `block_on`, usually over a backend whose futures
//! complete on their first poll ([`StdBackend`](crate::StdBackend)), and skips the
//! executor altogether for reads that finish inline ([`Shared::read_now`]).
//!
//! Two levels:
//! - [`Shared`]: one per open file, shared by all clones of a handle: the backend, the
//!   cache and the coherence state. Reads and writes at explicit offsets.
//! - [`Handle`]: one per handle: cursor, hooks, closed flag. Checks access and turns
//!   cursor operations into positional ones.
//!
//! One file per concern, each adding its part of `impl Shared`:
//! - [`coherence`]: stamps, the racy-window rule, the version known between operations
//!   and how a read learns the file's version;
//! - [`read`]: the read path, inline first ([`Shared::read_now`]), then awaited;
//! - [`write`](mod@write): writes and `set_len`, which finish even when their future is dropped;
//! - [`queued`]: the short path of an uncached positional write, onto the backend's
//!   write queue;
//! - [`commit`]: group commit, concurrent syncs sharing one backend sync;
//! - [`handle`]: the cursor, access checks, hooks and the text layer.

mod coherence;
mod commit;
mod handle;
mod queued;
mod read;
mod write;

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::{Arc, OnceLock};

use fileio_cache::{FileKey, RangeCache};

use crate::backend::Backend;
use crate::clock::Clock;
use crate::error::{Error, Op, Result};
use crate::options::{Coherence, Options};
use crate::text::TextCodec;

use coherence::KnownCell;

pub(crate) use handle::{Handle, ReadAt};
pub(crate) use queued::WriteAt;
pub(crate) use write::ignore_outcome;

/// `offset + len`, or [`Error::Overflow`] past `u64::MAX`.
fn end_of(offset: u64, len: usize) -> Result<u64> {
    offset.checked_add(len as u64).ok_or(Error::Overflow {
        offset,
        len: len as u64,
    })
}

/// One open file, shared by every clone of a handle.
#[derive(Debug)]
pub(crate) struct Shared {
    backend: Arc<dyn Backend>,
    key: FileKey,
    path: Arc<Path>,
    cache: Option<RangeCache>,
    coherence: Coherence,
    pub(crate) codec: TextCodec,
    sync_on_close: bool,
    /// The file's last known version, shared by every open of the same file in the
    /// process (see [`known_cell`](coherence::known_cell)); looked up on first use
    /// ([`known_slot`](Self::known_slot)): a `Strict` reader never needs it, and opening
    /// a small file to read it is a few system calls, beside which the lookup shows.
    known: OnceLock<KnownCell>,
    /// Where "now" comes from for the racy window and `Interval` periods.
    clock: Clock,
    /// The first sync of this open file that failed (`sync_all`, `sync_data` or the
    /// sync in `close`), if one did: from then on no sync of it reports success.
    sync_failure: OnceLock<SyncFailure>,
    /// Taken by an append from reading where the file ends until its write has landed
    /// and its version is recorded, so that appends through this open file (from any of
    /// its handles, dropped futures included) each start where the one before ended.
    appends: Arc<async_lock::Mutex<()>>,
    /// Concurrent syncs share one backend sync ([`commit`]).
    commit: commit::GroupCommit,
    /// Changes whose futures were dropped, finishing in the background; a sync waits
    /// for those that started before it.
    detached: write::Detached,
    /// The backend gave back a cached write offered to its queue
    /// ([`Backend::write_at_queued`]): cached writes no longer try it ([`queued`]).
    queue_refused: AtomicBool,
    /// Misses still to cache at once because inline reads of this file were slow (see
    /// `read::first_touch_now`).
    slow_misses: AtomicU32,
    /// Whether the file's last timed inline read was slow (see `read::read_around_now`).
    slow_read: AtomicBool,
}

/// What [`Error::SyncFailed`] repeats of the first failed sync of an open file.
#[derive(Debug)]
struct SyncFailure {
    kind: io::ErrorKind,
    message: String,
}

impl Shared {
    pub(crate) fn new(
        backend: Arc<dyn Backend>,
        path: Arc<Path>,
        options: &Options,
    ) -> Result<Shared> {
        let codec = TextCodec::for_label(&options.encoding)
            .map_err(|_| Error::UnknownEncoding(options.encoding.to_string()))?;
        let key = backend.key();
        Ok(Shared {
            key,
            backend,
            path,
            cache: options.cache.resolve(),
            coherence: options.coherence,
            codec,
            sync_on_close: options.sync_on_close,
            known: OnceLock::new(),
            clock: options.clock.clone(),
            sync_failure: OnceLock::new(),
            appends: Arc::default(),
            commit: commit::GroupCommit::default(),
            detached: write::Detached::default(),
            queue_refused: AtomicBool::new(false),
            slow_misses: AtomicU32::new(0),
            slow_read: AtomicBool::new(false),
        })
    }

    /// The backend as a trait object: calling through `&dyn Backend` rather than the
    /// `Arc` skips the `Arc` forwarding impl and its extra boxed future.
    fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// The backend's local file, if it has one ([`Backend::local_file`]).
    pub(crate) fn local_file(&self) -> Option<&std::fs::File> {
        self.backend.local_file()
    }

    /// The backend, for `Debug` output.
    pub(crate) fn backend_debug(&self) -> &dyn Backend {
        &*self.backend
    }

    fn err(&self, op: Op, source: std::io::Error) -> Error {
        Error::io(op, self.path.to_path_buf(), source)
    }

    pub(crate) async fn len(&self) -> Result<u64> {
        self.backend()
            .len()
            .await
            .map_err(|e| self.err(Op::Stat, e))
    }

    /// `sync_all`, sharing the backend's sync with concurrent syncs ([`commit`]).
    pub(crate) async fn sync_all(self: &Arc<Self>) -> Result<()> {
        self.sync_grouped(true, Op::SyncAll).await
    }

    /// `sync_data`, sharing the backend's sync with concurrent syncs ([`commit`]).
    pub(crate) async fn sync_data(self: &Arc<Self>) -> Result<()> {
        self.sync_grouped(false, Op::SyncData).await
    }

    /// The sync `close` runs when the handle wrote and `sync_on_close` is set.
    pub(crate) async fn sync_for_close(self: &Arc<Self>) -> Result<()> {
        self.sync_grouped(false, Op::Close).await
    }

    /// Whether a failed sync may be retried ([`Backend::sync_retryable`]).
    pub(crate) fn sync_retryable(&self) -> bool {
        self.backend.sync_retryable()
    }

    /// Whether `close` syncs (`sync_on_close`).
    pub(crate) fn sync_on_close(&self) -> bool {
        self.sync_on_close
    }

    /// [`Error::SyncFailed`] for `op` if a sync of this open file has failed.
    pub(crate) fn earlier_sync_failure(&self, op: Op) -> Result<()> {
        match self.sync_failure.get() {
            None => Ok(()),
            Some(failure) => Err(Error::SyncFailed {
                path: self.path.to_path_buf(),
                op,
                kind: failure.kind,
                message: failure.message.clone(),
            }),
        }
    }

    /// What a sync (`op`) that returned `result` reports, the failure being sticky
    /// (PostgreSQL's "fsyncgate"): after a failed `fsync` Linux may have dropped the
    /// dirty pages and marked them clean, so a second `fsync` returns 0 although the
    /// data never reached the disk.
    ///
    /// - A failure is remembered for this open file (the [`Shared`] behind every clone
    ///   of the handle) and the cache's blocks of the file are dropped, since what the
    ///   disk holds is unknown. The first failure is reported as it is
    ///   ([`Error::Io`]).
    /// - Once a sync has failed, every later one reports [`Error::SyncFailed`], even
    ///   when the backend's sync (still run: later writes get their chance to reach the
    ///   disk) succeeds.
    ///
    /// Other opens of the same file keep their own state, as the kernel's error
    /// tracking (per open file description) does: they learn of the failure only from
    /// what the OS reports to them.
    ///
    /// A backend whose failed syncs lose nothing ([`Backend::sync_retryable`]) reports
    /// each sync's own outcome instead, and its cache blocks stay.
    fn sync_outcome(&self, op: Op, result: io::Result<()>) -> Result<()> {
        match result {
            Ok(()) => self.earlier_sync_failure(op),
            Err(e) if self.backend.sync_retryable() => Err(self.err(op, e)),
            Err(e) => {
                let failure = SyncFailure {
                    kind: e.kind(),
                    message: e.to_string(),
                };
                // The first failure is the one later syncs repeat.
                let _ = self.sync_failure.set(failure);
                if let Some(cache) = &self.cache {
                    cache.invalidate(self.key);
                }
                self.forget();
                Err(self.err(op, e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn near_max() -> impl Strategy<Value = u64> {
        prop_oneof![any::<u64>(), (0u64..4096).prop_map(|back| u64::MAX - back)]
    }

    fn size() -> impl Strategy<Value = usize> {
        prop_oneof![any::<usize>(), 0usize..4096]
    }

    proptest! {
        /// `end_of` is the sum in `u128`, an error naming the operands when it does not
        /// fit in a `u64`.
        #[test]
        fn end_of_is_the_sum_or_overflow(offset in near_max(), len in size()) {
            let sum = u128::from(offset) + len as u128;
            match end_of(offset, len) {
                Ok(end) => prop_assert_eq!(u128::from(end), sum),
                Err(Error::Overflow { offset: o, len: l }) => {
                    prop_assert!(sum > u128::from(u64::MAX));
                    prop_assert_eq!((o, l), (offset, len as u64));
                }
                Err(e) => prop_assert!(false, "unexpected error {:?}", e),
            }
        }
    }
}
