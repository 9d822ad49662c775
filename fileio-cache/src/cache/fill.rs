//! Single flight: a [`Miss`] claims its block span in the file's fill table
//! ([`Miss::begin_fill`]); the first claimant leads ([`FillGuard`]) and later overlapping
//! ones wait ([`FillWait`]) until the leader completes or is dropped.

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use event_listener::{Event, EventListener, Listener};

use super::RangeCache;
use super::inner::CacheInner;
use crate::file::{FileState, FillSlot};
use crate::key::{FileKey, Stamp};
use crate::shard::Queue;

/// What a lookup could not serve, with the state needed to fill the cache safely (the
/// file's generation, write sequence and dropping writes at lookup time).
///
/// `Send`; it keeps a reference to the cache that produced it.
///
/// # Examples
///
/// See [`RangeCache`].
pub struct Miss {
    pub(super) cache: Arc<CacheInner>,
    pub(super) file: Arc<FileState>,
    pub(super) stamp: Stamp,
    pub(super) range: Range<u64>,
    pub(super) blocks: Range<u64>,
    pub(super) generation: u64,
    pub(super) write_seq: u64,
    /// The file's dropping writes at lookup time (none in flight when `cacheable`).
    pub(super) dropping: u64,
    pub(super) cacheable: bool,
    /// Whether the ghost filter remembered enough touches of a block of the miss.
    pub(super) hot: bool,
}

impl fmt::Debug for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Miss")
            .field("key", &self.file.key)
            .field("stamp", &self.stamp)
            .field("range", &self.range)
            .field("cacheable", &self.cacheable)
            .field("hot", &self.hot)
            .finish_non_exhaustive()
    }
}

impl Miss {
    /// The byte span to read: from the start of the first missing block to the end of the
    /// last missing block of the request, the end clamped to the stamp's length.
    /// Block-aligned at the start, never empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(1024).build()?;
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(1), &Stamp::new(5000, 0), 1500, 10) else { panic!() };
    /// assert_eq!(m.range(), 1024..2048);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }

    /// The key of the file that missed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(4), &Stamp::new(10, 0), 0, 1) else { panic!() };
    /// assert_eq!(m.key(), FileKey::new(4));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn key(&self) -> FileKey {
        self.file.key
    }

    /// The stamp the lookup was made under.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let s = Stamp::new(10, 3);
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(4), &s, 0, 1) else { panic!() };
    /// assert_eq!(m.stamp(), s);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn stamp(&self) -> Stamp {
        self.stamp
    }

    /// Whether caching these blocks has proven worth it: the cache saw a block of this
    /// miss recently (earlier misses on it that were not cached, or a block that left
    /// probation unused), so this is at least its second touch, or its sixth once the
    /// block's shard is full (see the [crate docs](crate)). A filled hot miss enters the
    /// main queue; any other fill enters probation.
    ///
    /// A caller whose misses are cheap to repeat (data the OS serves from memory) may
    /// read only the request around the cache while this is false, and fill once it is
    /// true: the lookup that returned this miss remembered its blocks, so touching them
    /// again soon makes the miss hot. A caller whose misses are slow fills them all.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let (key, stamp) = (FileKey::new(1), Stamp::new(10, 0));
    /// let Lookup::Miss(first) = cache.lookup(key, &stamp, 0, 10) else { panic!() };
    /// assert!(!first.is_hot());
    /// drop(first); // read around the cache, not filled
    /// let Lookup::Miss(second) = cache.lookup(key, &stamp, 0, 10) else { panic!() };
    /// assert!(second.is_hot());
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn is_hot(&self) -> bool {
        self.hot
    }

    /// Single flight: claims the fill of [`range`](Self::range).
    ///
    /// If no block of the range is being filled by someone else, returns
    /// [`Fill::Lead`]: read the range and [`complete`](FillGuard::complete) the guard. If
    /// one is, returns [`Fill::Wait`] on that fill; after waiting, look up again (it
    /// usually hits; if the leader failed or was dropped the new lookup misses and the
    /// caller leads in its place). Nobody waits forever: a leader that completes, fails or
    /// is dropped wakes its waiters. A miss taken while a write that may change its
    /// blocks was in flight, or made stale by a later write or re-stamp, always leads (without making anyone wait),
    /// since its data could not be cached anyway.
    ///
    /// The miss remembers the cache that produced it and the fill always goes there;
    /// pass that cache as `cache`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let stamp = Stamp::new(3, 0);
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(1), &stamp, 0, 3) else { panic!() };
    /// match m.begin_fill(&cache) {
    ///     Fill::Lead(guard) => guard.complete(&Bytes::from_static(b"abc")),
    ///     Fill::Wait(wait) => wait.wait(),
    /// }
    /// assert!(matches!(cache.lookup(FileKey::new(1), &stamp, 0, 3), Lookup::Hit(b) if b == "abc"));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn begin_fill(self, cache: &RangeCache) -> Fill {
        // The miss carries its own cache; `cache` is only there for the call's shape.
        let _ = cache;
        if !self.cacheable {
            return Fill::Lead(FillGuard {
                miss: self,
                slot: None,
            });
        }
        let mut f = self.file.lock();
        if f.generation != self.generation
            || f.write_seq != self.write_seq
            || self.file.dropping() != self.dropping
        {
            drop(f);
            return Fill::Lead(FillGuard {
                miss: self,
                slot: None,
            });
        }
        let overlapping = f.fills.iter().find(|s| {
            s.generation == self.generation
                && s.write_seq == self.write_seq
                && s.blocks.start < self.blocks.end
                && self.blocks.start < s.blocks.end
        });
        if let Some(slot) = overlapping {
            // Listening under the mutex: the leader notifies under it, so it cannot be missed.
            let listener = slot.event.listen();
            return Fill::Wait(FillWait {
                listener: Some(listener),
            });
        }
        let slot = Arc::new(FillSlot {
            blocks: self.blocks.clone(),
            generation: self.generation,
            write_seq: self.write_seq,
            event: Event::new(),
        });
        f.fills.push(Arc::clone(&slot));
        drop(f);
        Fill::Lead(FillGuard {
            miss: self,
            slot: Some(slot),
        })
    }
}

/// The outcome of [`Miss::begin_fill`].
///
/// # Examples
///
/// See [`Miss::begin_fill`].
#[derive(Debug)]
pub enum Fill {
    /// This caller reads the range and completes the guard.
    Lead(FillGuard),
    /// Someone else is reading an overlapping range: wait, then look up again.
    Wait(FillWait),
}

/// A claimed fill. `Send`. Dropping it without [`complete`](Self::complete) (the read
/// failed, or the future was cancelled) releases the claim and wakes the waiters, one of
/// which then leads.
///
/// # Examples
///
/// See [`Miss::begin_fill`].
pub struct FillGuard {
    miss: Miss,
    slot: Option<Arc<FillSlot>>,
}

impl fmt::Debug for FillGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FillGuard")
            .field("miss", &self.miss)
            .field("single_flight", &self.slot.is_some())
            .finish()
    }
}

impl FillGuard {
    /// The byte span to read (the miss's [`range`](Miss::range)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(1), &Stamp::new(10, 0), 0, 1) else { panic!() };
    /// let Fill::Lead(g) = m.begin_fill(&cache) else { panic!() };
    /// assert_eq!(g.range(), 0..10);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn range(&self) -> Range<u64> {
        self.miss.range()
    }

    /// The stamp the lookup was made under ([`Miss::stamp`]): the version to read, since
    /// the fill is kept only under it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let s = Stamp::new(10, 7);
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(1), &s, 0, 1) else { panic!() };
    /// let Fill::Lead(g) = m.begin_fill(&cache) else { panic!() };
    /// assert_eq!(g.stamp(), s);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn stamp(&self) -> Stamp {
        self.miss.stamp
    }

    /// Hands over `data`, the bytes read from the file at `range().start` (shorter than
    /// the range only at end of file; extra bytes are ignored).
    ///
    /// Inserts the whole blocks `data` covers, plus a partial tail block only if `data`
    /// reaches the stamp's length, valid under the lookup's stamp — but only if since the
    /// lookup the file was not invalidated or re-stamped and no write began or was in
    /// flight. A [hot](Miss::is_hot) miss's blocks enter the main queue, others
    /// probation. When `data` is exactly one block it is kept as it is (no copy: the
    /// caller may hand slices of the same `data` to its readers); blocks of a longer
    /// `data` are each copied into their own allocation, so that freeing one frees its
    /// memory and the capacity accounting stays exact. Wakes the waiters either way.
    ///
    /// # Examples
    ///
    /// See [`Miss::begin_fill`].
    pub fn complete(self, data: &Bytes) {
        let queue = if self.miss.hot {
            Queue::Main
        } else {
            Queue::Probation
        };
        self.finish(data, queue);
    }

    /// [`complete`](Self::complete), on probation whatever the miss: for read-ahead
    /// and other speculative fills, whose blocks must prove hot (be read while on
    /// probation) before they can take room from blocks that did.
    ///
    /// # Examples
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let (key, stamp) = (FileKey::new(1), Stamp::new(4096, 0));
    /// // Read ahead the second half of the file.
    /// let Lookup::Miss(m) = cache.lookup(key, &stamp, 2048, 2048) else { panic!() };
    /// let Fill::Lead(g) = m.begin_fill(&cache) else { panic!() };
    /// g.complete_on_probation(&Bytes::from(vec![1u8; 2048]));
    /// assert!(matches!(cache.lookup(key, &stamp, 3000, 10), Lookup::Hit(b) if b == vec![1u8; 10]));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn complete_on_probation(self, data: &Bytes) {
        self.finish(data, Queue::Probation);
    }

    fn finish(mut self, data: &Bytes, queue: Queue) {
        let m = &self.miss;
        let cache = &m.cache;
        let mut f = m.file.lock();
        // Since the lookup, nothing dropped the file's blocks (the generation) and no
        // write may have changed these blocks: none in flight now, none begun since.
        // Writes that finished meanwhile without touching them may have moved the
        // recorded stamp on (their patches); the blocks hold the same bytes under it.
        // A write in flight at the lookup that could touch them made the miss
        // uncacheable, and one that extended the file touched its old tail block. A
        // dropping write may touch any block: none may have begun since the lookup.
        if m.cacheable
            && f.generation == m.generation
            && f.stamp.is_some()
            && f.unexplained.is_empty()
            && !f.writing(&m.blocks)
            && !f.changed_since(m.write_seq, &m.blocks)
            && m.file.dropping_fenced() == m.dropping
        {
            let filled = cache
                .blocks
                .filled(m.blocks.clone(), &m.range, data.len(), m.stamp.len());
            for (i, d) in filled {
                let block = if d.start == 0 && d.end == data.len() {
                    data.clone()
                } else {
                    Bytes::copy_from_slice(&data[d])
                };
                cache.insert_block(&m.file, i, m.generation, block, queue);
            }
        }
        // Release the claim only now, so woken waiters find the blocks.
        if let Some(slot) = self.slot.take() {
            f.fills.retain(|s| !Arc::ptr_eq(s, &slot));
            drop(f);
            slot.event.notify(usize::MAX);
        }
    }
}

impl Drop for FillGuard {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.miss
                .file
                .lock()
                .fills
                .retain(|s| !Arc::ptr_eq(s, &slot));
            slot.event.notify(usize::MAX);
        }
    }
}

/// Waiting for another caller's fill. `Send`; a [`Future`] (any executor) and, for
/// blocking code, [`wait`](Self::wait). When it resolves, look up again.
///
/// # Examples
///
/// ```
/// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
/// let cache = RangeCache::builder().build()?;
/// let stamp = Stamp::new(10, 0);
/// let miss = |c: &RangeCache| match c.lookup(FileKey::new(1), &stamp, 0, 10) {
///     Lookup::Miss(m) => m,
///     Lookup::Hit(_) => unreachable!(),
/// };
/// let Fill::Lead(leader) = miss(&cache).begin_fill(&cache) else { panic!() };
/// let Fill::Wait(wait) = miss(&cache).begin_fill(&cache) else { panic!() };
/// drop(leader); // the read failed: the waiter wakes and will lead next time
/// futures::executor::block_on(wait);
/// assert!(matches!(miss(&cache).begin_fill(&cache), Fill::Lead(_)));
/// # Ok::<(), fileio_cache::Error>(())
/// ```
pub struct FillWait {
    listener: Option<EventListener>,
}

impl fmt::Debug for FillWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FillWait")
            .field("done", &self.listener.is_none())
            .finish()
    }
}

impl FillWait {
    /// Blocks the current thread until the fill it waits on is completed or abandoned.
    /// Do not call it on an async executor's thread: `.await` the `FillWait` instead.
    ///
    /// # Examples
    ///
    /// See [`Miss::begin_fill`].
    pub fn wait(self) {
        if let Some(l) = self.listener {
            l.wait();
        }
    }

    /// Like [`wait`](Self::wait), giving up after `timeout`. Returns whether the fill
    /// finished (either way, look up again).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
    /// # let cache = RangeCache::builder().build()?;
    /// # let stamp = Stamp::new(10, 0);
    /// # let miss = |c: &RangeCache| match c.lookup(FileKey::new(1), &stamp, 0, 10) {
    /// #     Lookup::Miss(m) => m,
    /// #     Lookup::Hit(_) => unreachable!(),
    /// # };
    /// let Fill::Lead(_leader) = miss(&cache).begin_fill(&cache) else { panic!() };
    /// let Fill::Wait(wait) = miss(&cache).begin_fill(&cache) else { panic!() };
    /// assert!(!wait.wait_timeout(std::time::Duration::from_millis(1)));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn wait_timeout(self, timeout: Duration) -> bool {
        match self.listener {
            Some(l) => l.wait_timeout(timeout).is_some(),
            None => true,
        }
    }
}

impl Future for FillWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.listener.as_mut() {
            None => Poll::Ready(()),
            Some(l) => match Pin::new(l).poll(cx) {
                Poll::Ready(()) => {
                    self.listener = None;
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
