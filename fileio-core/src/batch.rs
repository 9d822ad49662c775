//! Batched writes: a pool backend's writes to one open file are queued and written by one
//! pool job at a time, so writes from many tasks cost a system call each, not a thread
//! hand-off each.
//!
//! - A write joins its file's queue. If no job is draining the queue, the write starts
//!   one; otherwise the running job takes it with the next batch. The job takes the
//!   whole queue as one batch, writes it, and takes the queue again until it finds it
//!   empty.
//! - In a batch, writes that follow each other in the queue and in the file (each
//!   starting where the one before ended) form a *run*, written with one `pwritev` (more
//!   than one when the kernel writes part of it, or past `IOV_MAX` pieces); the other
//!   writes are written one after another, in queue order, by the same job. Queue order
//!   is kept, so overlapping writes land in the order they were queued.
//! - Each write's future completes when the job has written it: with the number of its
//!   bytes that reached the OS, which may be fewer than it asked for when a call failed
//!   part-way ([`Backend::write_at`](crate::Backend::write_at) may be partial; the
//!   engine's `write_all_at` loop then writes the rest as a new write and receives the
//!   error), or with the error when none of its bytes did. A failure inside a run ends
//!   that call; the writes after it each get calls of their own. So every caller learns
//!   exactly which of its bytes landed, and the engine patches the cache only for
//!   writes that landed whole (a failed write drops the file's cached blocks).
//! - The job wakes a batch's tasks together once the whole batch is written (their
//!   outcomes are in place as each call returns): a runtime worker woken once then
//!   finds them all ready, instead of being woken, and parking again, once per write.
//! - A queued write lands even if its future is dropped: the job owns the data.
//! - A write queued whole ([`QueuedWrite`], the engine's path for uncached positional
//!   writes) follows the same rules, except that one failing part-way reports the
//!   error rather than the count that landed: its caller treats both alike (the
//!   version of the file is unknown, the error is returned).
//!
//! Design note: the job holds one thread of the pool for as long as the queue keeps
//! refilling; it takes no permit of the backend's in-flight bound, since a file has at
//! most one such job at a time. Sorting a batch by offset would find more runs, but
//! would reorder overlapping writes; queue order already makes runs of a sequential
//! writer's pieces, and random writes gain from the batching alone (one hand-off for
//! the whole batch).

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

/// The most pieces one vectored write carries (Linux's `IOV_MAX`).
const MAX_PIECES: usize = 1024;

/// A file that one positional vectored write can be asked of, on a pool thread.
pub(crate) trait VectoredWrite: Send + Sync + 'static {
    /// Writes `bufs` one after another at `offset`; returns how many bytes were
    /// written, which may be fewer than asked for. `Interrupted` is the caller's to
    /// retry.
    fn write_vectored_at(&self, offset: u64, bufs: &[io::IoSlice<'_>]) -> io::Result<usize>;
}

impl VectoredWrite for crate::backend::StdBackend {
    #[cfg(unix)]
    fn write_vectored_at(&self, offset: u64, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        Ok(rustix::io::pwritev(self.as_std(), bufs, offset)?)
    }

    #[cfg(not(unix))]
    fn write_vectored_at(&self, offset: u64, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        use std::os::windows::fs::FileExt;
        // No positional vectored write here: the first piece, the caller loops.
        match bufs.iter().find(|b| !b.is_empty()) {
            Some(first) => self.as_std().seek_write(first, offset),
            None => Ok(0),
        }
    }
}

/// Where one queued write's outcome is delivered: the outcome and the waker of the task
/// waiting for it, under one small lock (the job fills it, the waiting task takes it).
#[derive(Debug, Default)]
struct Slot(Mutex<SlotState>);

#[derive(Debug, Default)]
struct SlotState {
    outcome: Option<io::Result<usize>>,
    waker: Option<Waker>,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Delivers `outcome`; returns the waker of the task waiting for it, to be woken
    /// by the caller (the job wakes a batch's tasks together, after the batch).
    fn fill(&self, outcome: io::Result<usize>) -> Option<Waker> {
        let mut st = self.lock();
        st.outcome = Some(outcome);
        st.waker.take()
    }

    fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut st = self.lock();
        if let Some(outcome) = st.outcome.take() {
            return Poll::Ready(outcome);
        }
        match &mut st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    async fn wait(&self) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_outcome(cx)).await
    }
}

/// A write queued whole on a pool backend's write queue
/// ([`Backend::write_at_queued`](crate::Backend::write_at_queued)): resolves to `Ok(())`
/// once all of its bytes reached the OS, or to the error of the system call that failed
/// (some of its bytes may have landed before it). The write lands whether or not this
/// future is polled or kept: the queue's job owns the bytes.
#[derive(Debug)]
#[must_use = "the write lands anyway; drop the future only if its outcome does not matter"]
pub struct QueuedWrite {
    slot: Arc<Slot>,
}

impl QueuedWrite {
    /// A write of nothing: done at once.
    fn empty() -> QueuedWrite {
        let slot = Slot::default();
        slot.lock().outcome = Some(Ok(0));
        QueuedWrite {
            slot: Arc::new(slot),
        }
    }
}

impl std::future::Future for QueuedWrite {
    type Output = io::Result<()>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Once the outcome is taken, further polls wait forever: polling a completed
        // future is a caller bug, answered without panicking.
        self.slot.poll_outcome(cx).map(|outcome| outcome.map(drop))
    }
}

/// One write in the queue. Its outcome is delivered when it is known; its task is woken
/// when it is dropped, which the job does for a whole batch at once after writing it.
/// Dropped without an outcome (only if the job panicked), it tells its caller so.
struct Queued {
    offset: u64,
    data: Bytes,
    /// Whether the caller asked for all of it ([`QueuedWrite`]): a write that fails
    /// part-way then reports the error, not the count that landed.
    whole: bool,
    slot: Option<Arc<Slot>>,
    /// The waiting task, once the outcome is delivered.
    waker: Option<Waker>,
}

impl Queued {
    fn new(offset: u64, data: Bytes, whole: bool, slot: Arc<Slot>) -> Queued {
        Queued {
            offset,
            data,
            whole,
            slot: Some(slot),
            waker: None,
        }
    }

    fn complete(&mut self, outcome: io::Result<usize>) {
        if let Some(slot) = self.slot.take() {
            self.waker = slot.fill(outcome);
        }
    }

    /// Completes a write that failed with `e` after `done` of its bytes landed.
    fn fail(&mut self, done: usize, e: io::Error) {
        self.complete(if done > 0 && !self.whole {
            Ok(done)
        } else {
            Err(e)
        });
    }

    /// Where the write ends, if that fits in a `u64`.
    fn end(&self) -> Option<u64> {
        self.offset.checked_add(self.data.len() as u64)
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        if self.slot.is_some() {
            self.complete(Err(io::Error::other(
                "the write queue's job ended before this write",
            )));
        }
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// The write queue of one open file.
#[derive(Default)]
pub(crate) struct WriteQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    pending: Vec<Queued>,
    /// Whether a job is draining the queue (from the moment one is asked for).
    draining: bool,
}

impl std::fmt::Debug for WriteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("WriteQueue")
            .field("queued", &st.pending.len())
            .field("draining", &st.draining)
            .finish()
    }
}

impl WriteQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a write of `data` at `offset` and returns its outcome once the job has
    /// written it. `start` is called, at most once, with a job to run on a pool thread
    /// when none is draining the queue; it must run the job exactly once.
    pub(crate) async fn write<S: VectoredWrite>(
        self: &Arc<Self>,
        file: &Arc<S>,
        offset: u64,
        data: Bytes,
        start: impl FnOnce(Box<dyn FnOnce() + Send>),
    ) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        self.submit(file, offset, data, false, start).wait().await
    }

    /// Queues a write of all of `data` at `offset` (see [`QueuedWrite`]); `start` as in
    /// [`write`](Self::write).
    pub(crate) fn write_whole<S: VectoredWrite>(
        self: &Arc<Self>,
        file: &Arc<S>,
        offset: u64,
        data: Bytes,
        start: impl FnOnce(Box<dyn FnOnce() + Send>),
    ) -> QueuedWrite {
        if data.is_empty() {
            return QueuedWrite::empty();
        }
        QueuedWrite {
            slot: self.submit(file, offset, data, true, start),
        }
    }

    /// Queues a non-empty write and starts a job if none is draining the queue.
    fn submit<S: VectoredWrite>(
        self: &Arc<Self>,
        file: &Arc<S>,
        offset: u64,
        data: Bytes,
        whole: bool,
        start: impl FnOnce(Box<dyn FnOnce() + Send>),
    ) -> Arc<Slot> {
        let slot = Arc::new(Slot::default());
        let lead = {
            let mut st = self.lock();
            st.pending
                .push(Queued::new(offset, data, whole, slot.clone()));
            !std::mem::replace(&mut st.draining, true)
        };
        if lead {
            let (queue, file) = (self.clone(), file.clone());
            start(Box::new(move || queue.drain(&*file)));
        }
        slot
    }

    /// The job: writes batches until the queue is empty.
    fn drain<S: VectoredWrite>(&self, file: &S) {
        /// Ends the drain if a write panics: the queue's writes fail and the next
        /// write starts a new job.
        struct Stop<'a>(&'a WriteQueue);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                let mut st = self.0.lock();
                st.draining = false;
                drop(std::mem::take(&mut st.pending));
            }
        }
        let stop = Stop(self);
        // Two vectors swap roles, so that the queue keeps its capacity across batches.
        let mut batch = Vec::new();
        loop {
            {
                let mut st = self.lock();
                if st.pending.is_empty() {
                    st.draining = false;
                    std::mem::forget(stop);
                    return;
                }
                std::mem::swap(&mut st.pending, &mut batch);
            }
            write_batch(file, &mut batch);
            // Wakes the batch's tasks together: a worker woken once finds them all
            // ready, instead of being woken (and parking again) once per write.
            batch.clear();
        }
    }
}

/// Writes `batch` in order, each contiguous run with as few vectored writes as the
/// kernel allows, and completes every write.
fn write_batch<S: VectoredWrite + ?Sized>(file: &S, batch: &mut [Queued]) {
    let mut start = 0;
    while start < batch.len() {
        let mut end = start + 1;
        while end < batch.len()
            && end - start < MAX_PIECES
            && batch[end - 1].end() == Some(batch[end].offset)
        {
            end += 1;
        }
        write_run(file, &mut batch[start..end]);
        start = end;
    }
}

/// Writes one run (each write starting where the one before ended) and completes each
/// write: `Ok(len)` when all of it landed; when a call fails, the write it failed in
/// gets the bytes of it that landed (the error if none did, or if it asked to land
/// whole), and the writes after it are written again as a run of their own.
fn write_run<S: VectoredWrite + ?Sized>(file: &S, run: &mut [Queued]) {
    // The first write not yet whole, and how much of it has landed.
    let (mut at, mut done) = (0, 0usize);
    while at < run.len() {
        let pos = run[at].offset + done as u64;
        let first = io::IoSlice::new(&run[at].data[done..]);
        let outcome = if at + 1 == run.len() {
            // One piece (every random write): no vector to allocate.
            file.write_vectored_at(pos, &[first])
        } else {
            let mut bufs = Vec::with_capacity(run.len() - at);
            bufs.push(first);
            bufs.extend(run[at + 1..].iter().map(|w| io::IoSlice::new(&w.data)));
            file.write_vectored_at(pos, &bufs)
        };
        let mut written = match outcome {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "pwritev wrote no bytes",
            )),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => other,
        }
        .unwrap_or_else(|e| {
            run[at].fail(done, e);
            // The rest start again with a call of their own.
            at += 1;
            done = 0;
            0
        });
        while written > 0 && at < run.len() {
            let w = &mut run[at];
            let take = (w.data.len() - done).min(written);
            done += take;
            written -= take;
            if done == w.data.len() {
                let len = w.data.len();
                w.complete(Ok(len));
                at += 1;
                done = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures_lite::future::block_on;
    use proptest::prelude::*;

    use super::*;

    /// A file in memory that holds at most `space` bytes past `0` (writes beyond fail
    /// with `StorageFull`, as a full disk does, after writing what fits) and writes at
    /// most `chunk` bytes per call.
    struct Disk {
        data: Mutex<Vec<u8>>,
        space: usize,
        chunk: usize,
        calls: AtomicUsize,
    }

    impl VectoredWrite for Disk {
        fn write_vectored_at(&self, offset: u64, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let mut data = self.data.lock().unwrap();
            let offset = offset as usize;
            let mut n = 0;
            for b in bufs {
                for &byte in b.iter() {
                    let at = offset + n;
                    if n == self.chunk {
                        return Ok(n);
                    }
                    if at >= self.space {
                        return if n > 0 {
                            Ok(n)
                        } else {
                            Err(io::Error::from(io::ErrorKind::StorageFull))
                        };
                    }
                    if data.len() <= at {
                        data.resize(at + 1, 0);
                    }
                    data[at] = byte;
                    n += 1;
                }
            }
            Ok(n)
        }
    }

    fn queued(offset: u64, data: Vec<u8>) -> (Queued, Arc<Slot>) {
        queued_as(offset, data, false)
    }

    fn queued_as(offset: u64, data: Vec<u8>, whole: bool) -> (Queued, Arc<Slot>) {
        let slot = Arc::new(Slot::default());
        (
            Queued::new(offset, Bytes::from(data), whole, slot.clone()),
            slot,
        )
    }

    fn writes() -> impl Strategy<Value = Vec<(u64, Vec<u8>)>> {
        // Offsets often contiguous with the write before, so that runs form.
        proptest::collection::vec((0u64..3, 0u64..96, 1usize..40), 1..24).prop_map(|specs| {
            let mut end = 0u64;
            let mut out = Vec::new();
            for (i, (kind, offset, len)) in specs.into_iter().enumerate() {
                let at = if kind == 0 { offset } else { end };
                let data: Vec<u8> = (0..len).map(|j| (i * 7 + j) as u8 | 1).collect();
                end = at + len as u64;
                out.push((at, data));
            }
            out
        })
    }

    proptest! {
        /// A batch against a model: applied in order, each write's outcome says exactly
        /// which of its bytes landed (all, a prefix, or none with `StorageFull`), and the
        /// file holds exactly those bytes; contiguous runs take fewer calls than writes.
        #[test]
        fn a_batch_lands_in_order_and_reports_what_landed(
            writes in writes(),
            wholes in proptest::collection::vec(any::<bool>(), 24),
            space in 0usize..160,
            chunk in 1usize..200,
        ) {
            let disk = Disk { data: Mutex::new(Vec::new()), space, chunk, calls: AtomicUsize::new(0) };
            let (mut batch, slots): (Vec<_>, Vec<_>) = writes
                .iter()
                .zip(&wholes)
                .map(|((o, d), &whole)| queued_as(*o, d.clone(), whole))
                .unzip();
            write_batch(&disk, &mut batch);
            drop(batch);
            let mut model: Vec<u8> = Vec::new();
            for (((offset, data), slot), whole) in writes.iter().zip(&slots).zip(&wholes) {
                let outcome = block_on(slot.wait());
                let offset = *offset as usize;
                // What fits before the disk is full lands; the rest does not.
                let fits = space.saturating_sub(offset).min(data.len());
                match outcome {
                    Ok(n) => {
                        prop_assert!(n > 0 && n <= data.len());
                        prop_assert_eq!(n, fits, "a write reports the bytes that fit");
                        prop_assert!(!whole || n == data.len(), "a whole write lands whole or fails");
                    }
                    Err(e) => {
                        // A whole write that landed in part reports the error.
                        prop_assert_eq!(e.kind(), io::ErrorKind::StorageFull);
                        prop_assert!(fits == 0 || (*whole && fits < data.len()));
                    }
                }
                if fits > 0 {
                    if model.len() < offset + fits {
                        model.resize(offset + fits, 0);
                    }
                    model[offset..offset + fits].copy_from_slice(&data[..fits]);
                }
            }
            let data = disk.data.lock().unwrap().clone();
            prop_assert_eq!(data, model);
            if chunk >= 200 && space >= 160 {
                let runs = 1 + writes.windows(2)
                    .filter(|w| w[0].0 + w[0].1.len() as u64 != w[1].0)
                    .count();
                prop_assert_eq!(disk.calls.load(Ordering::Relaxed), runs);
            }
        }
    }

    /// Writes queued from many threads while a job drains all land, each reporting its
    /// length, in fewer jobs than writes.
    #[test]
    fn writes_from_many_threads_share_jobs() {
        let disk = Arc::new(Disk {
            data: Mutex::new(Vec::new()),
            space: usize::MAX,
            chunk: usize::MAX,
            calls: AtomicUsize::new(0),
        });
        let queue = Arc::new(WriteQueue::default());
        let jobs = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8u64)
            .map(|t| {
                let (disk, queue, jobs) = (disk.clone(), queue.clone(), jobs.clone());
                std::thread::spawn(move || {
                    for i in 0..50u64 {
                        let offset = (i * 8 + t) * 16;
                        let data = Bytes::from(vec![t as u8 + 1; 16]);
                        let start = |job: Box<dyn FnOnce() + Send>| {
                            jobs.fetch_add(1, Ordering::Relaxed);
                            std::thread::spawn(move || {
                                std::thread::sleep(std::time::Duration::from_micros(200));
                                job();
                            });
                        };
                        let n = block_on(queue.write(&disk, offset, data, start)).unwrap();
                        assert_eq!(n, 16);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let data = disk.data.lock().unwrap().clone();
        assert_eq!(data.len(), 400 * 16);
        for (i, piece) in data.chunks(16).enumerate() {
            assert_eq!(piece, &[(i % 8) as u8 + 1; 16][..]);
        }
        assert!(jobs.load(Ordering::Relaxed) < 400);
    }

    /// A [`FaultBackend`](crate::fault::FaultBackend) as the file under a batch: each
    /// vectored write is one backend write of the pieces joined.
    impl VectoredWrite for crate::fault::FaultBackend<crate::MemBackend> {
        fn write_vectored_at(&self, offset: u64, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
            let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            block_on(crate::Backend::write_at(self, offset, Bytes::from(joined)))
        }
    }

    /// `ENOSPC` in the middle of a batch, through `FaultBackend`: the run it hits fails
    /// at its first write, the writes after it in the run are written with a call of
    /// their own, and the other runs land; each write reports exactly its own outcome.
    #[test]
    fn storage_full_mid_batch_fails_only_the_write_it_hits() {
        use crate::fault::{Fault, FaultBackend, Target};
        let disk = FaultBackend::new(crate::MemBackend::with_data(vec![0u8; 64]));
        // Three runs: 0..12 (3 writes), 32..40 (2 writes), 50..54 (1 write).
        let plan: [(u64, usize); 6] = [(0, 4), (4, 4), (8, 4), (32, 4), (36, 4), (50, 4)];
        let (mut batch, slots): (Vec<_>, Vec<_>) = plan
            .iter()
            .enumerate()
            .map(|(i, &(offset, len))| queued(offset, vec![i as u8 + 1; len]))
            .unzip();
        // The second call (the run at 32) finds the disk full.
        disk.inject(Target::Write, 2, Fault::storage_full());
        write_batch(&disk, &mut batch);
        drop(batch);
        let outcomes: Vec<_> = slots
            .iter()
            .map(|s| block_on(s.wait()).map_err(|e| e.kind()))
            .collect();
        assert_eq!(
            outcomes,
            [
                Ok(4),
                Ok(4),
                Ok(4),
                Err(io::ErrorKind::StorageFull),
                Ok(4),
                Ok(4)
            ]
        );
        // Four calls: the first run, the failed one, the rest of that run, the last.
        assert_eq!(disk.count(Target::Write), 4);
        let mut want = vec![0u8; 64];
        for (i, &(offset, len)) in plan.iter().enumerate() {
            if i != 3 {
                want[offset as usize..offset as usize + len].fill(i as u8 + 1);
            }
        }
        assert_eq!(disk.inner().contents(), want);
    }
}
