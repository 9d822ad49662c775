//! The ring driver: one `io_uring` instance, the registry of operations in flight, the
//! batched submission path and the reaper thread.
//!
//! Locking: one mutex ([`State`]) guards the registry, the counters, and every access
//! to the submission and completion rings from user space (pushing entries, reading
//! their lengths, popping completions). The kernel is the only other party touching
//! the rings, through their atomic head and tail words. `io_uring_enter` itself runs
//! outside the mutex: the submitting thread passes the count it read under the mutex,
//! and the reaper passes a count of zero, so no thread reads the submission tail while
//! another moves it.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use event_listener::{Event, EventListener};
use io_uring::{EnterFlags, IoUring, Probe, opcode, squeue, types};

use crate::backend::StdBackend;

use super::UringConfig;

/// `user_data` of the no-op that wakes the reaper for shutdown: no slot has this key.
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
        use std::os::fd::AsRawFd as _;
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
    /// Entries pushed and not yet completed (the wake no-op excluded).
    in_flight: usize,
    /// A thread is in the submit loop: others only push.
    submitting: bool,
    /// The reaper is handing out completions and submits whatever is queued before it
    /// waits again: others only push.
    reaper_awake: bool,
    /// The last [`Driver`] handle is gone: the reaper exits once nothing is in flight.
    shutdown: bool,
}

impl State {
    /// Whether the thread that just pushed must run the submit loop: not when another
    /// thread is in it or the reaper is about to submit (then one `io_uring_enter`
    /// carries several threads' entries).
    fn take_submit_role(&mut self) -> bool {
        if self.submitting || self.reaper_awake {
            return false;
        }
        self.submitting = true;
        true
    }
}

/// The parts of a driver shared by the handles, the futures and the reaper thread.
pub(super) struct Shared {
    ring: IoUring,
    state: Mutex<State>,
    /// Notified when completions free ring capacity.
    capacity: Event,
    /// At most this many operations in flight: one less than the submission queue, so
    /// that pushing never fails (the spare entry is for the shutdown no-op), and half
    /// the completion queue, so that it never overflows.
    limit: usize,
    entries: u32,
    ftruncate: bool,
    submits: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; if something did, the state is still
        // consistent between statements, so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `request` and pushes its entry, or gives it back when the ring is full.
    /// Returns the key and whether the caller must run the submit loop.
    fn try_push(&self, mut request: Request) -> Result<(usize, bool), Request> {
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
        // No waker yet: the caller checks for the result under the lock right after and
        // leaves its waker then, so a completion in between is never missed.
        let key = st.slots.insert(Slot {
            request,
            waker: None,
            result: None,
            orphan: false,
        });
        // SAFETY: the entry points into buffers owned by the slot just registered, which
        // stays registered (its buffers alive and untouched) until this key's completion
        // has been taken from the completion queue; the queue has room (checked above,
        // under the same lock), so the push cannot fail.
        let _ = unsafe { sq.push(&entry.user_data(key as u64)) };
        drop(sq);
        st.in_flight += 1;
        Ok((key, st.take_submit_role()))
    }

    /// The submit loop, run by the thread that set `submitting`: hands every pushed
    /// entry to the kernel (those pushed by other threads meanwhile included, in one
    /// `io_uring_enter` each round), then takes the completions that are already there.
    fn submit_all(&self) {
        let mut round = 0u32;
        loop {
            let pending = {
                let mut st = self.lock();
                // SAFETY: under the state lock (see `try_push`).
                let pending = unsafe { self.ring.submission_shared() }.len();
                if pending == 0 {
                    st.submitting = false;
                    break;
                }
                pending
            };
            // SAFETY: `enter` with a count read under the lock just now, no wait, no
            // argument: the kernel consumes at most `pending` published entries, whose
            // buffers are owned by their slots.
            let res = unsafe {
                self.ring
                    .submitter()
                    .enter::<()>(pending as u32, 0, 0, None)
            };
            self.submits.fetch_add(1, Ordering::Relaxed);
            match res {
                Ok(_) => round = 0,
                Err(e) if e.raw_os_error() == Some(EINTR) => {}
                // EAGAIN / EBUSY (kernel short of memory, completions backed up) and
                // anything else: the entries stay queued; try again shortly.
                Err(_) => {
                    round += 1;
                    backoff(round);
                }
            }
        }
        self.reap(false);
    }

    /// Takes every completion from the queue: records results, wakes their tasks,
    /// frees the slots of dropped futures, and tells waiting submitters about the room.
    /// Returns whether the reaper should exit.
    fn reap(&self, reaper: bool) -> bool {
        let mut wakers = Vec::new();
        let mut garbage = Vec::new();
        let mut freed = 0usize;
        let exit = {
            let mut st = self.lock();
            if reaper {
                st.reaper_awake = true;
            }
            // SAFETY: every user-space access to the completion queue happens under the
            // state lock, which we hold, so no other `CompletionQueue` exists.
            let cq = unsafe { self.ring.completion_shared() };
            for cqe in cq {
                let key = cqe.user_data();
                if key == WAKE_KEY {
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
            st.shutdown && st.in_flight == 0
        };
        drop(garbage);
        for waker in wakers {
            waker.wake();
        }
        if freed > 0 {
            self.capacity.notify_additional(freed);
        }
        exit
    }

    /// The reaper thread: submits what was queued while it was awake, waits for
    /// completions and hands them out, until shutdown.
    fn reaper(self: Arc<Self>) {
        let mut round = 0u32;
        while !self.reap(true) {
            let pending = {
                let mut st = self.lock();
                st.reaper_awake = false;
                // SAFETY: under the state lock (see `try_push`).
                unsafe { self.ring.submission_shared() }.len()
            };
            if pending > 0 {
                self.submits.fetch_add(1, Ordering::Relaxed);
            }
            // SAFETY: `enter` with a count read under the lock just now (entries pushed
            // since are submitted by their own thread, which found the reaper asleep, or
            // by the next round here), waiting for one completion, with no argument.
            // Entries that another thread submits meanwhile are not submitted twice:
            // the kernel takes at most the entries published and not yet consumed.
            let res = unsafe {
                self.ring.submitter().enter::<()>(
                    pending as u32,
                    1,
                    EnterFlags::GETEVENTS.bits(),
                    None,
                )
            };
            match res {
                Ok(_) => round = 0,
                Err(e) if e.raw_os_error() == Some(EINTR) => {}
                Err(_) => {
                    round += 1;
                    backoff(round);
                }
            }
        }
    }

    /// Marks the driver shut down and wakes the reaper with a no-op.
    fn shutdown(&self) {
        let lead = {
            let mut st = self.lock();
            st.shutdown = true;
            let nop = opcode::Nop::new().build().user_data(WAKE_KEY);
            // SAFETY: under the state lock (see `try_push`); a no-op points at nothing.
            // The queue has room: `limit` keeps one entry spare, and no entry is pushed
            // after `shutdown` is set.
            let _ = unsafe { self.ring.submission_shared().push(&nop) };
            st.take_submit_role()
        };
        if lead {
            self.submit_all();
        }
    }
}

const EINTR: i32 = 4;

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
            .finish()
    }
}

impl Driver {
    /// Sets up a ring of `config.entries` entries, checks that the kernel has the
    /// operations this module needs, and starts the reaper thread.
    pub(super) fn new(config: &UringConfig) -> io::Result<Driver> {
        let entries = config.entries.clamp(2, 32_768).next_power_of_two();
        let ring: IoUring = IoUring::builder()
            .setup_cqsize(entries * 2)
            .setup_clamp()
            .build(entries)?;
        let mut probe = Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        for code in [
            opcode::Read::CODE,
            opcode::Write::CODE,
            opcode::Fsync::CODE,
            opcode::Nop::CODE,
        ] {
            if !probe.is_supported(code) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("io_uring lacks opcode {code}"),
                ));
            }
        }
        let ftruncate = config.ftruncate_op && probe.is_supported(opcode::Ftruncate::CODE);
        let sq = ring.params().sq_entries() as usize;
        let cq = ring.params().cq_entries() as usize;
        let limit = (sq - 1).min(cq / 2).max(1);
        let shared = Arc::new(Shared {
            ring,
            state: Mutex::new(State {
                slots: Slots::default(),
                in_flight: 0,
                submitting: false,
                reaper_awake: true,
                shutdown: false,
            }),
            capacity: Event::new(),
            limit,
            entries: sq as u32,
            ftruncate,
            submits: AtomicU64::new(0),
        });
        let reaper = shared.clone();
        thread::Builder::new()
            .name("fileio-uring".into())
            .spawn(move || reaper.reaper())?;
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
                    match this.driver.shared().try_push(req) {
                        Ok((key, lead)) => {
                            this.listener = None;
                            this.state = OpState::Submitted(key);
                            if lead {
                                this.driver.shared().submit_all();
                            }
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
