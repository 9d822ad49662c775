//! The ring driver: one `io_uring` instance, the registry of operations in flight, and
//! the reaper thread that submits and completes them.
//!
//! Only the reaper thread enters the kernel for a ring. Tasks register their operation
//! and push its entry under the mutex ([`State`]), and wake the reaper through an
//! eventfd when it is waiting; the reaper submits everything pushed so far in the same
//! `io_uring_enter` that waits for completions. So the kernel's completion work always
//! runs on the reaper (never interrupting an executor thread), submissions batch
//! whenever tasks push faster than one system call, and the ring can be set up with
//! `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN`.
//!
//! Locking: the mutex guards the registry, the counters, and every access to the
//! submission and completion rings from user space (pushing entries, reading their
//! lengths, popping completions). The kernel is the only other party touching the
//! rings, through their atomic head and tail words.

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use event_listener::{Event, EventListener};
use io_uring::{EnterFlags, IoUring, Probe, opcode, squeue, types};
use rustix::event::{EventfdFlags, eventfd};

use crate::backend::StdBackend;

use super::UringConfig;

/// `user_data` of the reaper's wake-up read of its eventfd: no slot has this key.
const WAKE_KEY: u64 = u64::MAX;

/// The largest transfer one read or write entry asks for (Linux's `MAX_RW_COUNT`).
pub(super) const MAX_RW: usize = 0x7fff_f000;

/// An operation for the kernel, owning everything the kernel may touch while it runs:
/// the buffer and the open file (so that the descriptor cannot be closed and reused
/// under it).
pub(super) enum Request {
    /// Read into the spare capacity of `buf` (from `buf.len()`, at most `len` bytes).
    Read {
        file: Arc<StdBackend>,
        buf: Vec<u8>,
        len: usize,
        offset: u64,
    },
    /// Write `data` (at most [`MAX_RW`] bytes of it).
    Write {
        file: Arc<StdBackend>,
        data: Bytes,
        offset: u64,
    },
    /// `fsync` or `fdatasync`.
    Fsync {
        file: Arc<StdBackend>,
        datasync: bool,
    },
    /// `ftruncate` (Linux 6.9).
    Ftruncate { file: Arc<StdBackend>, len: u64 },
}

impl Request {
    /// The submission entry for this request. The pointers in it stay valid as long as
    /// `self` is alive and not modified: a `Vec`'s or a `Bytes`' heap block does not move
    /// when the value holding it moves.
    fn entry(&mut self) -> squeue::Entry {
        match self {
            Request::Read {
                file,
                buf,
                len,
                offset,
            } => {
                let spare = buf.spare_capacity_mut();
                let n = (*len).min(spare.len()).min(MAX_RW);
                // `n <= MAX_RW < u32::MAX`.
                opcode::Read::new(
                    types::Fd(file.as_std().as_raw_fd()),
                    spare.as_mut_ptr().cast::<u8>(),
                    n as u32,
                )
                .offset(*offset)
                .build()
            }
            Request::Write { file, data, offset } => {
                let n = data.len().min(MAX_RW);
                opcode::Write::new(
                    types::Fd(file.as_std().as_raw_fd()),
                    data.as_ptr(),
                    n as u32,
                )
                .offset(*offset)
                .build()
            }
            Request::Fsync { file, datasync } => {
                let flags = if *datasync {
                    types::FsyncFlags::DATASYNC
                } else {
                    types::FsyncFlags::empty()
                };
                opcode::Fsync::new(types::Fd(file.as_std().as_raw_fd()))
                    .flags(flags)
                    .build()
            }
            Request::Ftruncate { file, len } => {
                opcode::Ftruncate::new(types::Fd(file.as_std().as_raw_fd()), *len).build()
            }
        }
    }

    /// The buffer of a read (empty for the other requests).
    pub(super) fn into_buf(self) -> Vec<u8> {
        match self {
            Request::Read { buf, .. } => buf,
            _ => Vec::new(),
        }
    }

    /// Takes in the kernel's result: for a read, the bytes it wrote become part of the
    /// buffer. Returns the result as `io::Result`.
    fn finish(&mut self, res: i32) -> io::Result<usize> {
        if res < 0 {
            return Err(io::Error::from_raw_os_error(-res));
        }
        let n = res as usize;
        if let Request::Read { buf, len, .. } = self {
            let n = n.min(*len).min(buf.capacity() - buf.len());
            // SAFETY: the kernel reported writing `res` bytes into the spare capacity that
            // `entry` handed it, which starts at `buf.len()`; `n` is no more than `res`
            // and no more than that spare capacity, so the first `buf.len() + n` bytes
            // are initialised and within the allocation.
            unsafe { buf.set_len(buf.len() + n) };
            return Ok(n);
        }
        Ok(n)
    }
}

/// One registered operation.
struct Slot {
    request: Request,
    waker: Option<Waker>,
    result: Option<i32>,
    /// The future was dropped: the reaper frees the slot when the completion arrives.
    orphan: bool,
}

/// A slab of slots: the key is the index, and the `user_data` of the entry.
#[derive(Default)]
struct Slots {
    entries: Vec<Option<Slot>>,
    free: Vec<usize>,
}

impl Slots {
    fn insert(&mut self, slot: Slot) -> usize {
        match self.free.pop() {
            Some(key) => {
                self.entries[key] = Some(slot);
                key
            }
            None => {
                self.entries.push(Some(slot));
                self.entries.len() - 1
            }
        }
    }

    fn get_mut(&mut self, key: usize) -> Option<&mut Slot> {
        self.entries.get_mut(key).and_then(Option::as_mut)
    }

    fn remove(&mut self, key: usize) -> Option<Slot> {
        let slot = self.entries.get_mut(key)?.take()?;
        self.free.push(key);
        Some(slot)
    }
}

struct State {
    slots: Slots,
    /// Entries pushed and not yet completed (the wake-up read excluded).
    in_flight: usize,
    /// The reaper is in, or on its way into, `io_uring_enter` waiting for completions:
    /// a thread that pushes an entry must wake it through the eventfd.
    reaper_asleep: bool,
    /// The eventfd was written since the reaper went to sleep: later pushers need not.
    wake_sent: bool,
    /// The last [`Driver`] handle is gone: the reaper exits once nothing is in flight.
    shutdown: bool,
}

/// How the ring was set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TaskRun {
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` (Linux 6.1): the
    /// kernel's completion work runs only when the reaper asks for completions.
    Deferred,
    /// The kernel's default: completion work interrupts the reaper thread (the only
    /// thread that submits).
    Signal,
}

/// The parts of a driver shared by the handles, the futures and the reaper thread.
pub(super) struct Shared {
    ring: IoUring,
    state: Mutex<State>,
    /// Written to wake the reaper; a read of it is always in flight while the reaper
    /// waits, so the write completes that read and ends the wait.
    wake_fd: OwnedFd,
    /// Where the kernel puts the eventfd's counter. Only the kernel writes it, and only
    /// while the wake-up read is in flight; the reaper never exits (so `Shared` is never
    /// freed) before that read has completed.
    wake_buf: AtomicU64,
    /// Notified when completions free ring capacity.
    capacity: Event,
    /// At most this many operations in flight: one less than the submission queue, so
    /// that pushing never fails (the spare entry is for the wake-up read), and half the
    /// completion queue, so that it never overflows.
    limit: usize,
    entries: u32,
    ftruncate: bool,
    task_run: TaskRun,
    submits: AtomicU64,
}

/// What one pass over the completion queue found.
struct Reaped {
    /// The wake-up read completed: it must be armed again.
    wake_done: bool,
    /// ... with an error (it never fails in practice; if it did, re-arming at once
    /// would spin).
    wake_failed: bool,
}

impl Shared {
    /// Sets up the ring and the eventfd. Runs on the reaper thread: with
    /// `IORING_SETUP_SINGLE_ISSUER` the thread that creates the ring is the only one
    /// allowed to submit to it or register with it.
    fn setup(config: &UringConfig) -> io::Result<Shared> {
        let entries = config.entries.clamp(2, 32_768).next_power_of_two();
        let build = |deferred: bool| {
            let mut builder = IoUring::builder();
            builder.setup_cqsize(entries * 2).setup_clamp();
            if deferred {
                builder.setup_single_issuer().setup_defer_taskrun();
            }
            builder.build(entries)
        };
        // Kernels before 6.1 refuse the flags with EINVAL: set up the plain ring then.
        let (mut ring, task_run) = match config.defer_taskrun.then(|| build(true)) {
            Some(Ok(ring)) => (ring, TaskRun::Deferred),
            Some(Err(e)) if e.raw_os_error() != Some(EINVAL) => return Err(e),
            Some(Err(_)) | None => (build(false)?, TaskRun::Signal),
        };
        let mut probe = Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        for code in [opcode::Read::CODE, opcode::Write::CODE, opcode::Fsync::CODE] {
            if !probe.is_supported(code) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("io_uring lacks opcode {code}"),
                ));
            }
        }
        let ftruncate = config.ftruncate_op && probe.is_supported(opcode::Ftruncate::CODE);
        round_trip(&mut ring)?;
        // Blocking on purpose: io_uring answers a read of a non-blocking descriptor
        // with EAGAIN at once instead of waiting for a write.
        let wake_fd = eventfd(0, EventfdFlags::CLOEXEC)?;
        let sq = ring.params().sq_entries() as usize;
        let cq = ring.params().cq_entries() as usize;
        let limit = (sq - 1).min(cq / 2).max(1);
        Ok(Shared {
            ring,
            state: Mutex::new(State {
                slots: Slots::default(),
                in_flight: 0,
                reaper_asleep: false,
                wake_sent: false,
                shutdown: false,
            }),
            wake_fd,
            wake_buf: AtomicU64::new(0),
            capacity: Event::new(),
            limit,
            entries: sq as u32,
            ftruncate,
            task_run,
            submits: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; if something did, the state is still
        // consistent between statements, so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `request` with `waker` and pushes its entry for the reaper to submit,
    /// or gives the request back when the ring is full. Returns the key.
    fn try_push(&self, mut request: Request, waker: &Waker) -> Result<usize, Request> {
        let (key, wake) = {
            let mut st = self.lock();
            if st.shutdown || st.in_flight >= self.limit {
                return Err(request);
            }
            // SAFETY: every user-space access to the submission queue happens under the
            // state lock, which we hold, so no other `SubmissionQueue` exists.
            let mut sq = unsafe { self.ring.submission_shared() };
            if sq.is_full() {
                // Not reached while `limit` is below the queue size; wait for room if it is.
                return Err(request);
            }
            let entry = request.entry();
            let key = st.slots.insert(Slot {
                request,
                waker: Some(waker.clone()),
                result: None,
                orphan: false,
            });
            // SAFETY: the entry points into buffers owned by the slot just registered,
            // which stays registered (its buffers alive and untouched) until this key's
            // completion has been taken from the completion queue; the queue has room
            // (checked above, under the same lock), so the push cannot fail.
            let _ = unsafe { sq.push(&entry.user_data(key as u64)) };
            drop(sq);
            st.in_flight += 1;
            let wake = st.reaper_asleep && !st.wake_sent;
            st.wake_sent |= wake;
            (key, wake)
        };
        if wake {
            self.wake();
        }
        Ok(key)
    }

    /// Ends the reaper's wait: completes the wake-up read in flight, or, when none is,
    /// makes the next one complete at once.
    fn wake(&self) {
        // A write of 1 to an eventfd fails only if the counter would overflow, which a
        // reaper that reads it on every wake-up never lets happen.
        let _ = rustix::io::write(&self.wake_fd, &1u64.to_ne_bytes());
    }

    /// The wake-up read: the eventfd's counter into `wake_buf`.
    fn wake_entry(&self) -> squeue::Entry {
        opcode::Read::new(
            types::Fd(self.wake_fd.as_raw_fd()),
            self.wake_buf.as_ptr().cast::<u8>(),
            8,
        )
        .build()
        .user_data(WAKE_KEY)
    }

    /// Takes every completion from the queue: records results, wakes their tasks,
    /// frees the slots of dropped futures, and tells waiting submitters about the room.
    fn reap(&self) -> Reaped {
        let mut wakers = Vec::new();
        let mut garbage = Vec::new();
        let mut freed = 0usize;
        let mut wake_done = false;
        let mut wake_failed = false;
        {
            let mut st = self.lock();
            st.reaper_asleep = false;
            // SAFETY: every user-space access to the completion queue happens under the
            // state lock, which we hold, so no other `CompletionQueue` exists.
            let cq = unsafe { self.ring.completion_shared() };
            for cqe in cq {
                let key = cqe.user_data();
                if key == WAKE_KEY {
                    wake_done = true;
                    wake_failed |= cqe.result() < 0;
                    continue;
                }
                freed += 1;
                st.in_flight -= 1;
                let key = key as usize;
                let orphan = match st.slots.get_mut(key) {
                    Some(slot) if slot.orphan => true,
                    Some(slot) => {
                        slot.result = Some(cqe.result());
                        if let Some(waker) = slot.waker.take() {
                            wakers.push(waker);
                        }
                        false
                    }
                    None => false,
                };
                if orphan {
                    // The kernel is done with the buffer: free it (outside the lock).
                    garbage.extend(st.slots.remove(key));
                }
            }
        }
        drop(garbage);
        for waker in wakers {
            waker.wake();
        }
        if freed > 0 {
            self.capacity.notify_additional(freed);
        }
        Reaped {
            wake_done,
            wake_failed,
        }
    }

    /// The reaper thread, the only one that enters the kernel for this ring: submits
    /// what the tasks pushed, waits for completions and hands them out, until shutdown.
    fn reaper(&self) {
        // Whether the wake-up read is with the kernel.
        let mut armed = false;
        let mut round = 0u32;
        let mut wake_errors = 0u32;
        loop {
            let reaped = self.reap();
            if reaped.wake_done {
                armed = false;
                if reaped.wake_failed {
                    wake_errors = wake_errors.saturating_add(1);
                    backoff(wake_errors);
                } else {
                    wake_errors = 0;
                }
            }
            let mut rearmed = false;
            let to_submit = {
                let mut st = self.lock();
                if st.shutdown && st.in_flight == 0 && !armed {
                    // Nothing the kernel could still write into: `Shared` may go.
                    return;
                }
                // SAFETY: under the state lock (see `try_push`).
                let mut sq = unsafe { self.ring.submission_shared() };
                if !armed && !st.shutdown {
                    rearmed = true;
                    // SAFETY: the read writes 8 bytes into `wake_buf`, which lives as
                    // long as `Shared`, and `Shared` outlives this thread's loop, which
                    // does not return while the read is in flight. The queue has room:
                    // operations hold at most `limit` entries, one less than its size.
                    let _ = unsafe { sq.push(&self.wake_entry()) };
                    armed = true;
                }
                st.reaper_asleep = true;
                st.wake_sent = false;
                sq.len()
            };
            if to_submit > usize::from(rearmed) {
                // Operations' entries go in this call (not only the wake-up read).
                self.submits.fetch_add(1, Ordering::Relaxed);
            }
            // SAFETY: `enter` with no argument. The kernel consumes only entries that
            // were published under the state lock, each pointing into buffers its slot
            // (or `Shared`, for the wake-up read) owns until its completion is reaped.
            let res = unsafe {
                self.ring.submitter().enter::<()>(
                    to_submit as u32,
                    1,
                    EnterFlags::GETEVENTS.bits(),
                    None,
                )
            };
            match res {
                Ok(_) => round = 0,
                Err(e) if e.raw_os_error() == Some(EINTR) => {}
                // EAGAIN / EBUSY (kernel short of memory, completions backed up) and
                // anything else: the entries stay queued; try again shortly.
                Err(_) => {
                    round = round.saturating_add(1);
                    backoff(round);
                }
            }
        }
    }

    /// Marks the driver shut down and wakes the reaper.
    fn shutdown(&self) {
        self.lock().shutdown = true;
        self.wake();
    }
}

/// Submits a no-op and waits for its completion: a ring that a seccomp filter (or
/// anything else) lets us create but not use fails here, at setup, instead of leaving
/// operations waiting forever.
fn round_trip(ring: &mut IoUring) -> io::Result<()> {
    let nop = opcode::Nop::new().build().user_data(WAKE_KEY);
    // SAFETY: a no-op points at no memory; the queue is empty (nothing was pushed yet)
    // and has at least two entries.
    unsafe { ring.submission().push(&nop) }
        .map_err(|_| io::Error::other("io_uring submission queue full at setup"))?;
    loop {
        match ring.submit_and_wait(1) {
            Ok(_) => break,
            Err(e) if e.raw_os_error() == Some(EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    match ring.completion().next() {
        Some(cqe) if cqe.result() >= 0 => Ok(()),
        Some(cqe) => Err(io::Error::from_raw_os_error(-cqe.result())),
        None => Err(io::Error::other("io_uring no-op did not complete")),
    }
}

const EINTR: i32 = 4;
const EINVAL: i32 = 22;

/// Sleeps a little longer each round (up to a millisecond) while the kernel refuses work.
fn backoff(round: u32) {
    if round < 3 {
        thread::yield_now();
    } else {
        thread::sleep(Duration::from_micros(u64::from(round.min(20)) * 50));
    }
}

/// Owner of a driver: dropping the last one shuts the reaper down.
struct Owner {
    shared: Arc<Shared>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.shutdown();
    }
}

/// A handle on one ring and its reaper thread; clones share them.
#[derive(Clone)]
pub(super) struct Driver {
    owner: Arc<Owner>,
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.owner.shared;
        f.debug_struct("UringDriver")
            .field("entries", &shared.entries)
            .field("max_in_flight", &shared.limit)
            .field("in_flight", &shared.lock().in_flight)
            .field("ftruncate_op", &shared.ftruncate)
            .field("task_run", &shared.task_run)
            .finish()
    }
}

impl Driver {
    /// Starts the reaper thread, which sets up a ring of `config.entries` entries and
    /// checks that the kernel has the operations this module needs.
    pub(super) fn new(config: &UringConfig) -> io::Result<Driver> {
        let config = *config;
        let (tx, rx) = mpsc::sync_channel(1);
        thread::Builder::new()
            .name("fileio-uring".into())
            .spawn(move || match Shared::setup(&config) {
                Ok(shared) => {
                    let shared = Arc::new(shared);
                    if tx.send(Ok(shared.clone())).is_ok() {
                        shared.reaper();
                    }
                }
                Err(e) => drop(tx.send(Err(e))),
            })?;
        let shared = rx
            .recv()
            .map_err(|_| io::Error::other("the io_uring thread exited during setup"))??;
        Ok(Driver {
            owner: Arc::new(Owner { shared }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.owner.shared
    }

    /// Runs `request` on the ring.
    pub(super) fn run(&self, request: Request) -> Op {
        Op {
            driver: self.clone(),
            state: OpState::Idle(Some(request)),
            listener: None,
        }
    }

    pub(super) fn entries(&self) -> u32 {
        self.shared().entries
    }

    pub(super) fn max_in_flight(&self) -> usize {
        self.shared().limit
    }

    pub(super) fn in_flight(&self) -> usize {
        self.shared().lock().in_flight
    }

    pub(super) fn submit_calls(&self) -> u64 {
        self.shared().submits.load(Ordering::Relaxed)
    }

    pub(super) fn has_ftruncate(&self) -> bool {
        self.shared().ftruncate
    }

    pub(super) fn task_run(&self) -> TaskRun {
        self.shared().task_run
    }
}

enum OpState {
    /// Not registered yet (waiting for room, or not polled).
    Idle(Option<Request>),
    /// Registered under this key.
    Submitted(usize),
    /// The output was returned.
    Done,
}

/// The future of one operation: resolves to the request (with its buffer) and the
/// kernel's result.
///
/// Dropping it before completion leaves the request registered; the reaper frees it
/// when the kernel reports completion.
pub(super) struct Op {
    driver: Driver,
    state: OpState,
    listener: Option<EventListener>,
}

impl Future for Op {
    type Output = (Request, io::Result<usize>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                OpState::Idle(request) => {
                    let Some(req) = request.take() else {
                        return Poll::Pending;
                    };
                    match this.driver.shared().try_push(req, cx.waker()) {
                        Ok(key) => {
                            this.listener = None;
                            this.state = OpState::Submitted(key);
                            return Poll::Pending;
                        }
                        Err(req) => {
                            *request = Some(req);
                            match &mut this.listener {
                                // Registered before the last check: wait for room.
                                Some(listener) => {
                                    std::task::ready!(Pin::new(listener).poll(cx));
                                    this.listener = None;
                                }
                                // Listen, then check again (room may have come between).
                                None => {
                                    this.listener = Some(this.driver.shared().capacity.listen())
                                }
                            }
                        }
                    }
                }
                OpState::Submitted(key) => {
                    let key = *key;
                    let mut st = this.driver.shared().lock();
                    let Some(slot) = st.slots.get_mut(key) else {
                        return Poll::Pending;
                    };
                    let Some(res) = slot.result else {
                        let old = match &slot.waker {
                            Some(w) if w.will_wake(cx.waker()) => None,
                            _ => slot.waker.replace(cx.waker().clone()),
                        };
                        drop(st);
                        // A waker is dropped outside the lock: it may be the last
                        // reference to a task whose drop reaches this driver again.
                        drop(old);
                        return Poll::Pending;
                    };
                    let slot = st.slots.remove(key);
                    drop(st);
                    this.state = OpState::Done;
                    let Some(mut slot) = slot else {
                        return Poll::Pending;
                    };
                    let out = slot.request.finish(res);
                    return Poll::Ready((slot.request, out));
                }
                OpState::Done => return Poll::Pending,
            }
        }
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        if let OpState::Submitted(key) = self.state {
            // Dropped outside the lock (a waker, a file, a buffer).
            let (_slot, _waker) = {
                let mut st = self.driver.shared().lock();
                match st.slots.get_mut(key) {
                    // Completed but not collected: free it now.
                    Some(slot) if slot.result.is_some() => (st.slots.remove(key), None),
                    // Still with the kernel: the reaper frees it on completion.
                    Some(slot) => {
                        slot.orphan = true;
                        (None, slot.waker.take())
                    }
                    None => (None, None),
                }
            };
        }
    }
}
