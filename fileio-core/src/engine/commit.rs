//! Group commit: concurrent syncs of one open file share one `fsync` / `fdatasync`.
//!
//! Each sync request takes a number when it starts. Rounds (one backend sync each) run
//! one at a time; a round notes, before it calls the backend, the highest number taken
//! so far (`covers`), and every request numbered up to it is answered by that round's
//! outcome. A request that starts while a round is already running has a higher number,
//! so it waits for the next round: the `fsync` that answers it always began after it was
//! asked, and so after every write that had landed before it was asked. The requests that
//! queue up behind a running round are then all answered by the one round after it.
//!
//! A `sync_all` request is answered only by a round that ran `sync_all`; a round runs
//! `sync_all` when any request it answers asked for it, so one `fsync` serves both kinds.
//!
//! Every request answered by a failed round reports the failure, and the first failure
//! is remembered for the open file ([`Shared::sync_outcome`]): no later request reports
//! success. A round, once its backend call started, runs to the end and records its
//! outcome even if the caller that ran it stops polling ([`Finish`]); the requests
//! waiting for it are answered by it.
//!
//! A round's requests learn its outcome together: the round records it and wakes every
//! waiting request at once, and each checks whether that round answered it; the first
//! one it did not answer leads the next round. No request takes a lock in turn behind
//! the others (with an async lock handed from waiter to waiter, 64 waiters of a round
//! learned its outcome one wake-up after another, and the next round waited for all of
//! them).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use event_listener::Event;

use super::Shared;
use super::write::Finish;
use crate::error::{Op, Result};

/// The group-commit state of one open file.
#[derive(Debug, Default)]
pub(super) struct GroupCommit {
    /// The number of sync requests ever made: a request's number is the value it made.
    requested: AtomicU64,
    /// The highest number of a `sync_all` request.
    all_requested: AtomicU64,
    /// Held by the request that runs a round, so rounds never overlap.
    leader: Arc<async_lock::Mutex<()>>,
    /// The last round that ended.
    last: Mutex<Round>,
    /// How many rounds have ended.
    ended: AtomicU64,
    /// Notified, every listener, when a round has ended.
    done: Event,
}

/// What the last round answered, and how.
#[derive(Debug, Default)]
struct Round {
    /// Every request numbered up to this one is answered by the round.
    covers: u64,
    /// Whether it ran `sync_all`.
    all: bool,
    /// Its outcome; `None` before the first round.
    outcome: Option<std::result::Result<(), Failure>>,
}

/// A failed round's error, copied out for each request it answers.
#[derive(Clone, Debug)]
struct Failure {
    os: Option<i32>,
    kind: io::ErrorKind,
    message: String,
}

impl Failure {
    fn of(e: &io::Error) -> Failure {
        Failure {
            os: e.raw_os_error(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    fn to_error(&self) -> io::Error {
        match self.os {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(self.kind, self.message.clone()),
        }
    }
}

impl GroupCommit {
    fn last(&self) -> std::sync::MutexGuard<'_, Round> {
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The outcome of request `number` (a `sync_all` when `all`), if the last round
    /// answered it.
    fn answer(&self, number: u64, all: bool) -> Option<io::Result<()>> {
        let last = self.last();
        let outcome = last.outcome.as_ref()?;
        (last.covers >= number && (last.all || !all))
            .then(|| outcome.as_ref().map_err(Failure::to_error).copied())
    }
}

impl Shared {
    /// A sync of this open file (`sync_all` when `all`) reported as `op`, answered by
    /// the first round of the group commit that starts after it is asked (see the
    /// module docs).
    pub(super) async fn sync_grouped(self: &Arc<Self>, all: bool, op: Op) -> Result<()> {
        // A change whose future was dropped before this sync was asked is counted as
        // done by its handle (the cursor moved): the sync covers it.
        self.detached.settled().await;
        let commit = &self.commit;
        let number = commit.requested.fetch_add(1, Ordering::SeqCst) + 1;
        if all {
            commit.all_requested.fetch_max(number, Ordering::SeqCst);
        }
        loop {
            let epoch = commit.ended.load(Ordering::SeqCst);
            if let Some(result) = commit.answer(number, all) {
                return self.sync_outcome(op, result);
            }
            if let Some(lead) = commit.leader.try_lock_arc() {
                // A round that ended since the check above may have answered it.
                if let Some(result) = commit.answer(number, all) {
                    return self.sync_outcome(op, result);
                }
                return self.run_round(lead, all, op).await;
            }
            // A round is running: wait for it to end, then look again. Listening before
            // the second look at `ended` loses no notification.
            let listener = commit.done.listen();
            if commit.ended.load(Ordering::SeqCst) == epoch {
                listener.await;
            }
        }
    }

    /// Runs one round as its leader (`lead` held) and answers the leader's own request.
    async fn run_round(
        self: &Arc<Self>,
        lead: async_lock::MutexGuardArc<()>,
        all: bool,
        op: Op,
    ) -> Result<()> {
        let commit = &self.commit;
        // Taken before the backend call starts: each request numbered up to here was
        // asked before this round's sync began.
        let covers = commit.requested.load(Ordering::SeqCst);
        let run_all = all || commit.all_requested.load(Ordering::SeqCst) > commit.last().covers;
        let this = Arc::clone(self);
        Finish::new(self, async move {
            let result = if run_all {
                this.backend().sync_all().await
            } else {
                this.backend().sync_data().await
            };
            *this.commit.last() = Round {
                covers,
                all: run_all,
                outcome: Some(result.as_ref().map(|_| ()).map_err(Failure::of)),
            };
            drop(lead);
            this.commit.ended.fetch_add(1, Ordering::SeqCst);
            this.commit.done.notify(usize::MAX);
            this.sync_outcome(op, result)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    use std::time::Duration;

    use async_trait::async_trait;
    use bytes::Bytes;
    use fileio_cache::{FileKey, Stamp};

    use crate::backend::{Backend, MemBackend};
    use crate::error::Error;
    use crate::{File, Stream};

    use super::*;

    /// A memory file whose syncs block their thread for a while, counted, and fail
    /// while `fail` is set.
    #[derive(Debug, Default)]
    struct SlowSync {
        inner: MemBackend,
        data_syncs: AtomicUsize,
        all_syncs: AtomicUsize,
        running: AtomicUsize,
        most_running: AtomicUsize,
        fail: AtomicBool,
    }

    impl SlowSync {
        fn sync(&self, counter: &AtomicUsize) -> io::Result<()> {
            counter.fetch_add(1, Ordering::SeqCst);
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_running.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(30));
            self.running.fetch_sub(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                return Err(io::Error::from_raw_os_error(5));
            }
            Ok(())
        }

        fn syncs(&self) -> (usize, usize) {
            (
                self.data_syncs.load(Ordering::SeqCst),
                self.all_syncs.load(Ordering::SeqCst),
            )
        }

        /// Waits until a backend sync is running.
        fn wait_running(&self) {
            while self.running.load(Ordering::SeqCst) == 0 {
                std::thread::yield_now();
            }
        }
    }

    #[async_trait]
    impl Backend for SlowSync {
        async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
            self.inner.read_at(offset, len).await
        }
        async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
            self.inner.write_at(offset, data).await
        }
        async fn len(&self) -> io::Result<u64> {
            self.inner.len().await
        }
        async fn set_len(&self, len: u64) -> io::Result<()> {
            self.inner.set_len(len).await
        }
        async fn sync_all(&self) -> io::Result<()> {
            self.sync(&self.all_syncs)
        }
        async fn sync_data(&self) -> io::Result<()> {
            self.sync(&self.data_syncs)
        }
        async fn stamp(&self) -> io::Result<Stamp> {
            self.inner.stamp().await
        }
        fn key(&self) -> FileKey {
            self.inner.key()
        }
    }

    fn open(backend: &Arc<SlowSync>) -> File {
        let mut options = File::options();
        options.mode("r+b").no_cache();
        File::from_backend(backend.clone(), "slow-sync", &options).unwrap()
    }

    /// Runs `sync` on a thread of its own over a clone of `file`.
    fn spawn_sync(
        file: &File,
        sync: fn(&File) -> crate::Result<()>,
    ) -> std::thread::JoinHandle<crate::Result<()>> {
        let file = file.clone();
        std::thread::spawn(move || sync(&file))
    }

    /// Many threads syncing at once share few backend syncs, never two at a time.
    #[test]
    fn concurrent_syncs_share_one_backend_sync() {
        let backend = Arc::new(SlowSync::default());
        let file = open(&backend);
        let threads: Vec<_> = (0..16)
            .map(|_| spawn_sync(&file, |f| f.sync_data()))
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        let (data, all) = backend.syncs();
        assert_eq!(all, 0);
        assert!((1..16).contains(&data), "{data} syncs for 16 requests");
        assert_eq!(backend.most_running.load(Ordering::SeqCst), 1);
    }

    /// A sync asked while a backend sync is already running is answered by the next
    /// one, and one `sync_all` round answers the `sync_data` requests beside it.
    #[test]
    fn a_sync_asked_during_a_round_waits_for_the_next() {
        let backend = Arc::new(SlowSync::default());
        let file = open(&backend);
        let round = |later: &[fn(&File) -> crate::Result<()>]| {
            let first = spawn_sync(&file, |f| f.sync_data());
            backend.wait_running();
            let later: Vec<_> = later.iter().map(|&sync| spawn_sync(&file, sync)).collect();
            first.join().unwrap().unwrap();
            for t in later {
                t.join().unwrap().unwrap();
            }
        };
        // The first round could not answer the later requests: one more round.
        round(&[|f| f.sync_data(), |f| f.sync_data()]);
        assert_eq!(backend.syncs(), (2, 0));
        // That round runs `sync_all`, because one of the requests asked for it, and
        // answers the `sync_data` requests beside it.
        round(&[|f| f.sync_data(), |f| f.sync_all(), |f| f.sync_data()]);
        assert_eq!(backend.syncs(), (3, 1));
        // Nothing is running now, so the next request runs a round of its own.
        file.sync_data().unwrap();
        assert_eq!(backend.syncs(), (4, 1));
    }

    /// Every request answered by a failed round fails, and none after it succeeds.
    #[test]
    fn every_waiter_of_a_failed_round_fails() {
        let backend = Arc::new(SlowSync::default());
        let file = open(&backend);
        backend.fail.store(true, Ordering::SeqCst);
        let threads: Vec<_> = (0..8)
            .map(|_| spawn_sync(&file, |f| f.sync_data()))
            .collect();
        for t in threads {
            let err = t.join().unwrap().unwrap_err();
            assert!(
                matches!(&err, Error::Io { source, .. } if source.raw_os_error() == Some(5))
                    || matches!(err, Error::SyncFailed { .. }),
                "{err:?}"
            );
        }
        backend.fail.store(false, Ordering::SeqCst);
        assert!(matches!(file.sync_all(), Err(Error::SyncFailed { .. })));
        assert!(matches!(file.sync_data(), Err(Error::SyncFailed { .. })));
    }

    /// Threads that sync again and again, each as soon as its last sync returned: every
    /// sync is answered (a lost wake-up would hang a thread), rounds never overlap,
    /// and the requests waiting behind a round share the next one.
    #[test]
    fn repeated_syncs_from_many_threads_are_all_answered() {
        let backend = Arc::new(SlowSync::default());
        let file = open(&backend);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let file = file.clone();
                std::thread::spawn(move || {
                    for _ in 0..5 {
                        file.sync_data().unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let (data, all) = backend.syncs();
        assert_eq!(all, 0);
        assert!(data < 40, "{data} backend syncs for 40 requests");
        assert_eq!(backend.most_running.load(Ordering::SeqCst), 1);
    }
}
