//! Fault injection: a [`Backend`] wrapper that fails, shortens, delays or disturbs chosen
//! operations, for testing how code (fileio's engine, or yours) copes.
//!
//! ```
//! # futures_lite::future::block_on(async {
//! use std::sync::Arc;
//! use fileio_core::fault::{Fault, FaultBackend, Target};
//! use fileio_core::{AsyncFile, AsyncStream, MemBackend, Options};
//!
//! let backend = Arc::new(FaultBackend::new(MemBackend::with_data(b"hello".to_vec())));
//! // The second write from now fails as if the disk were full.
//! backend.inject(Target::Write, 2, Fault::storage_full());
//!
//! let mut options = Options::new();
//! options.mode("r+b").no_cache();
//! let file = AsyncFile::from_backend(backend.clone(), "mem", &options)?;
//! file.write_at(0, b"J").await?;
//! let err = file.write_at(1, b"E").await.unwrap_err();
//! assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
//! assert_eq!(&file.read_at(0, 5).await?[..], b"Jello"); // the failed write changed nothing
//! # Ok::<(), fileio_core::Error>(()) }).unwrap();
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fileio_cache::{FileKey, Stamp};

use crate::backend::Backend;

/// Which operations a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// `read_at` and `read_at_stamped` (and `read_at_inline`).
    Read,
    /// `write_at`.
    Write,
    /// `len`.
    Len,
    /// `set_len`.
    SetLen,
    /// `sync_all` and `sync_data`.
    Sync,
    /// `stamp` (and `stamp_inline`).
    Stamp,
    /// Every operation above.
    Any,
}

impl Target {
    const ALL: [Target; 6] = [
        Target::Read,
        Target::Write,
        Target::Len,
        Target::SetLen,
        Target::Sync,
        Target::Stamp,
    ];

    fn index(self) -> usize {
        match self {
            Target::Read => 0,
            Target::Write => 1,
            Target::Len => 2,
            Target::SetLen => 3,
            Target::Sync => 4,
            Target::Stamp => 5,
            Target::Any => 6,
        }
    }

    fn matches(self, op: Target) -> bool {
        self == Target::Any || self == op
    }
}

/// Changes the file behind the caller's back (another process writing, say).
pub type Mutation<B> = Arc<dyn Fn(&B) + Send + Sync>;

/// What happens to the operation a fault hits.
#[non_exhaustive]
pub enum Fault<B> {
    /// The operation fails with this error and does nothing.
    Error(io::Error),
    /// A read returns at most this many bytes (a short read before end of file, which
    /// the `Backend` contract forbids and robust callers retry).
    ShortRead(usize),
    /// A write writes at most this many bytes (a partial write) and reports so.
    ShortWrite(usize),
    /// The operation runs after this long (on the `blocking` pool's timer thread for
    /// async callers, so no executor thread sleeps).
    Delay(Duration),
    /// The closure runs on the inner backend right before the operation does.
    Mutate(Mutation<B>),
}

impl<B> Fault<B> {
    /// `EIO`: an I/O error (kind `Other` on most platforms).
    pub fn io_error() -> Fault<B> {
        Fault::Error(os_error(5, io::ErrorKind::Other))
    }

    /// `ENOSPC`: the disk is full (kind `StorageFull`).
    pub fn storage_full() -> Fault<B> {
        Fault::Error(os_error(28, io::ErrorKind::StorageFull))
    }

    /// `EINTR`: interrupted by a signal (kind `Interrupted`); callers retry.
    pub fn interrupted() -> Fault<B> {
        Fault::Error(os_error(4, io::ErrorKind::Interrupted))
    }

    /// `EAGAIN`: would block (kind `WouldBlock`).
    pub fn would_block() -> Fault<B> {
        Fault::Error(os_error(11, io::ErrorKind::WouldBlock))
    }

    /// Runs `change` on the inner backend right before the operation.
    pub fn mutate(change: impl Fn(&B) + Send + Sync + 'static) -> Fault<B> {
        Fault::Mutate(Arc::new(change))
    }
}

/// The platform's error for `errno` where errno values are Linux's, else one of `kind`.
fn os_error(errno: i32, kind: io::ErrorKind) -> io::Error {
    if cfg!(target_os = "linux") {
        io::Error::from_raw_os_error(errno)
    } else {
        io::Error::new(kind, "injected fault")
    }
}

impl<B> Clone for Fault<B> {
    fn clone(&self) -> Self {
        match self {
            Fault::Error(e) => Fault::Error(match e.raw_os_error() {
                Some(code) => io::Error::from_raw_os_error(code),
                None => io::Error::new(e.kind(), e.to_string()),
            }),
            Fault::ShortRead(n) => Fault::ShortRead(*n),
            Fault::ShortWrite(n) => Fault::ShortWrite(*n),
            Fault::Delay(d) => Fault::Delay(*d),
            Fault::Mutate(f) => Fault::Mutate(f.clone()),
        }
    }
}

impl<B> fmt::Debug for Fault<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Error(e) => f.debug_tuple("Error").field(e).finish(),
            Fault::ShortRead(n) => f.debug_tuple("ShortRead").field(n).finish(),
            Fault::ShortWrite(n) => f.debug_tuple("ShortWrite").field(n).finish(),
            Fault::Delay(d) => f.debug_tuple("Delay").field(d).finish(),
            Fault::Mutate(_) => f.write_str("Mutate(..)"),
        }
    }
}

struct Rule<B> {
    target: Target,
    /// Fires when the target's count reaches this value; `None`: on every operation.
    at: Option<u64>,
    fault: Fault<B>,
}

/// A [`Backend`] that injects [`Fault`]s into another.
///
/// Rules are checked in the order they were added; the first that matches an operation
/// applies. A rule made with [`inject`](FaultBackend::inject) fires once, on the Nth
/// matching operation counted from when it was added; one made with
/// [`always`](FaultBackend::always) fires on every matching operation until
/// [`clear`](FaultBackend::clear).
pub struct FaultBackend<B> {
    inner: B,
    rules: Mutex<VecDeque<Rule<B>>>,
    /// Operations seen, per [`Target`] (index 6: all).
    counts: [AtomicU64; 7],
}

impl<B: Backend> FaultBackend<B> {
    /// Wraps `inner` with no faults planned.
    pub fn new(inner: B) -> FaultBackend<B> {
        FaultBackend {
            inner,
            rules: Mutex::new(VecDeque::new()),
            counts: Default::default(),
        }
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// Applies `fault` once, to the `nth` (1 = the next) operation matching `target`.
    /// `nth == 0` counts as 1.
    pub fn inject(&self, target: Target, nth: u64, fault: Fault<B>) -> &Self {
        let at = self.count(target) + nth.max(1);
        self.rules().push_back(Rule {
            target,
            at: Some(at),
            fault,
        });
        self
    }

    /// Applies `fault` to every operation matching `target`, until [`clear`](Self::clear).
    pub fn always(&self, target: Target, fault: Fault<B>) -> &Self {
        self.rules().push_back(Rule {
            target,
            at: None,
            fault,
        });
        self
    }

    /// Removes every planned fault.
    pub fn clear(&self) {
        self.rules().clear();
    }

    /// How many operations matching `target` have run (or failed) so far.
    pub fn count(&self, target: Target) -> u64 {
        self.counts[target.index()].load(Ordering::SeqCst)
    }

    fn rules(&self) -> std::sync::MutexGuard<'_, VecDeque<Rule<B>>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts the operation and returns the fault that applies to it, if any.
    fn next_fault(&self, op: Target) -> Option<Fault<B>> {
        let n = self.counts[op.index()].fetch_add(1, Ordering::SeqCst) + 1;
        let any = self.counts[Target::Any.index()].fetch_add(1, Ordering::SeqCst) + 1;
        let mut rules = self.rules();
        let pos = rules.iter().position(|rule| {
            rule.target.matches(op)
                && match rule.at {
                    None => true,
                    Some(at) => at == if rule.target == Target::Any { any } else { n },
                }
        })?;
        if rules[pos].at.is_some() {
            rules.remove(pos).map(|rule| rule.fault)
        } else {
            Some(rules[pos].fault.clone())
        }
    }

    /// Applies a fault that is not specific to reads or writes; returns the error to
    /// fail with, if any.
    async fn apply(&self, fault: Option<&Fault<B>>) -> io::Result<()> {
        match fault {
            Some(Fault::Error(e)) => Err(match e.raw_os_error() {
                Some(code) => io::Error::from_raw_os_error(code),
                None => io::Error::new(e.kind(), e.to_string()),
            }),
            Some(Fault::Delay(d)) => {
                let d = *d;
                blocking::unblock(move || std::thread::sleep(d)).await;
                Ok(())
            }
            Some(Fault::Mutate(change)) => {
                change(&self.inner);
                Ok(())
            }
            Some(Fault::ShortRead(_) | Fault::ShortWrite(_)) | None => Ok(()),
        }
    }

    async fn plain<T>(
        &self,
        op: Target,
        run: impl std::future::Future<Output = io::Result<T>>,
    ) -> io::Result<T> {
        let fault = self.next_fault(op);
        self.apply(fault.as_ref()).await?;
        run.await
    }
}

impl<B> fmt::Debug for FaultBackend<B>
where
    B: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let planned = self.rules.lock().map_or(0, |r| r.len());
        let counts: Vec<(Target, u64)> = Target::ALL
            .iter()
            .map(|&t| (t, self.counts[t.index()].load(Ordering::SeqCst)))
            .collect();
        f.debug_struct("FaultBackend")
            .field("inner", &self.inner)
            .field("planned", &planned)
            .field("counts", &counts)
            .finish()
    }
}

#[async_trait]
impl<B: Backend> Backend for FaultBackend<B> {
    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let fault = self.next_fault(Target::Read);
        self.apply(fault.as_ref()).await?;
        let mut data = self.inner.read_at(offset, len).await?;
        if let Some(Fault::ShortRead(max)) = fault {
            data.truncate(max.max(1).min(data.len()));
        }
        Ok(data)
    }
    async fn read_at_stamped(&self, offset: u64, len: usize, stamp: &Stamp) -> io::Result<Bytes> {
        let fault = self.next_fault(Target::Read);
        self.apply(fault.as_ref()).await?;
        let mut data = self.inner.read_at_stamped(offset, len, stamp).await?;
        if let Some(Fault::ShortRead(max)) = fault {
            data.truncate(max.max(1).min(data.len()));
        }
        Ok(data)
    }
    async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
        let fault = self.next_fault(Target::Write);
        self.apply(fault.as_ref()).await?;
        let data = match fault {
            Some(Fault::ShortWrite(max)) if !data.is_empty() => {
                data.slice(..max.clamp(1, data.len()))
            }
            _ => data,
        };
        self.inner.write_at(offset, data).await
    }
    async fn len(&self) -> io::Result<u64> {
        self.plain(Target::Len, self.inner.len()).await
    }
    async fn set_len(&self, len: u64) -> io::Result<()> {
        self.plain(Target::SetLen, self.inner.set_len(len)).await
    }
    async fn sync_all(&self) -> io::Result<()> {
        self.plain(Target::Sync, self.inner.sync_all()).await
    }
    async fn sync_data(&self) -> io::Result<()> {
        self.plain(Target::Sync, self.inner.sync_data()).await
    }
    async fn stamp(&self) -> io::Result<Stamp> {
        self.plain(Target::Stamp, self.inner.stamp()).await
    }
    fn key(&self) -> FileKey {
        self.inner.key()
    }
    fn local_file(&self) -> Option<&std::fs::File> {
        self.inner.local_file()
    }
    fn miss_cost(&self) -> crate::backend::MissCost {
        self.inner.miss_cost()
    }
    fn read_ahead_served(&self, offset: u64, len: usize, stamp: &Stamp) -> bool {
        self.inner.read_ahead_served(offset, len, stamp)
    }
    // No inline fast paths: every operation goes through the fault plan.
}
