//! fileio-cache: the sharded, byte-bounded block cache behind fileio (skeleton API; the
//! implementation follows).
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub,
    clippy::future_not_send
)]
#![forbid(unsafe_code)]

mod error;
mod key;

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;

pub use error::Error;
pub use key::{FileKey, Stamp};

/// Smallest block size accepted.
pub const MIN_BLOCK_SIZE: usize = 512;
/// Largest block size accepted.
pub const MAX_BLOCK_SIZE: usize = 16 << 20;
/// Largest capacity accepted.
pub const MAX_CAPACITY: u64 = 1 << 44;
/// Largest shard count accepted.
pub const MAX_SHARDS: usize = 1 << 12;
/// Default capacity.
pub const DEFAULT_CAPACITY: u64 = 64 << 20;
/// Default block size.
pub const DEFAULT_BLOCK_SIZE: usize = 16 << 10;

/// The cache.
#[derive(Clone, Debug)]
pub struct RangeCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    capacity: AtomicU64,
    block_size: usize,
}

/// Builder.
#[derive(Clone, Debug)]
pub struct RangeCacheBuilder {
    capacity: u64,
    block_size: usize,
    shards: Option<usize>,
}

impl RangeCacheBuilder {
    /// Capacity.
    pub fn capacity(mut self, bytes: u64) -> Self {
        self.capacity = bytes;
        self
    }
    /// Block size.
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes;
        self
    }
    /// Shards.
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = Some(n);
        self
    }
    /// Build.
    ///
    /// # Errors
    /// Bad configuration.
    pub fn build(self) -> Result<RangeCache, Error> {
        if self.capacity == 0 {
            return Err(Error::ZeroCapacity);
        }
        Ok(RangeCache {
            inner: Arc::new(Inner {
                capacity: AtomicU64::new(self.capacity),
                block_size: self.block_size,
            }),
        })
    }
}

impl RangeCache {
    /// Builder.
    pub fn builder() -> RangeCacheBuilder {
        RangeCacheBuilder {
            capacity: DEFAULT_CAPACITY,
            block_size: DEFAULT_BLOCK_SIZE,
            shards: None,
        }
    }
    /// Global.
    pub fn global() -> &'static RangeCache {
        static GLOBAL: OnceLock<RangeCache> = OnceLock::new();
        GLOBAL.get_or_init(|| RangeCache::builder().build().expect("defaults are valid"))
    }
    /// Set capacity.
    pub fn set_capacity(&self, bytes: u64) {
        self.inner.capacity.store(bytes, Ordering::Relaxed);
    }
    /// Capacity.
    pub fn capacity(&self) -> u64 {
        self.inner.capacity.load(Ordering::Relaxed)
    }
    /// Block size.
    pub fn block_size(&self) -> usize {
        self.inner.block_size
    }
    /// Stats.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            capacity_bytes: self.capacity(),
            ..CacheStats::default()
        }
    }
    /// Clear.
    pub fn clear(&self) {}
    /// Validate.
    ///
    /// # Errors
    /// Broken invariant.
    pub fn validate(&self) -> Result<(), String> {
        Ok(())
    }
    /// Lookup.
    pub fn lookup(&self, key: FileKey, stamp: &Stamp, offset: u64, len: usize) -> Lookup {
        let end = offset.saturating_add(len as u64).min(stamp.len());
        if offset >= end {
            return Lookup::Hit(Bytes::new());
        }
        let bs = self.inner.block_size as u64;
        let start = offset / bs * bs;
        Lookup::Miss(Miss {
            key,
            stamp: *stamp,
            range: start..end.div_ceil(bs).saturating_mul(bs).min(stamp.len()),
        })
    }
    /// Begin write.
    pub fn begin_write(&self, key: FileKey) -> WriteGuard {
        WriteGuard { key }
    }
    /// Invalidate.
    pub fn invalidate(&self, key: FileKey) {
        let _ = key;
    }
}

/// Lookup result.
#[derive(Debug)]
pub enum Lookup {
    /// Hit.
    Hit(Bytes),
    /// Miss.
    Miss(Miss),
}

/// Miss.
#[derive(Debug)]
pub struct Miss {
    key: FileKey,
    stamp: Stamp,
    range: Range<u64>,
}

impl Miss {
    /// Range.
    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }
    /// Begin fill.
    pub fn begin_fill(self, cache: &RangeCache) -> Fill {
        let _ = cache;
        Fill::Lead(FillGuard { miss: self })
    }
}

/// Fill.
#[derive(Debug)]
pub enum Fill {
    /// Lead.
    Lead(FillGuard),
    /// Wait.
    Wait(FillWait),
}

/// Fill guard.
#[derive(Debug)]
pub struct FillGuard {
    miss: Miss,
}

impl FillGuard {
    /// Range.
    pub fn range(&self) -> Range<u64> {
        self.miss.range()
    }
    /// Complete.
    pub fn complete(self, data: &Bytes) {
        let _ = (data, self.miss.key, self.miss.stamp);
    }
}

/// Fill wait.
#[derive(Debug)]
pub struct FillWait {
    _private: (),
}

impl FillWait {
    /// Wait.
    pub fn wait(self) {}
}

impl Future for FillWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

/// Write guard.
#[derive(Debug)]
pub struct WriteGuard {
    key: FileKey,
}

impl WriteGuard {
    /// Patch.
    pub fn patch(self, before: &Stamp, after: &Stamp, offset: u64, data: &[u8]) {
        let _ = (before, after, offset, data, self.key);
    }
    /// Truncate.
    pub fn truncate(self, before: &Stamp, after: &Stamp, len: u64) {
        let _ = (before, after, len);
    }
    /// Release.
    pub fn release(self) {}
}

/// Stats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// Inserted.
    pub inserted_bytes: u64,
    /// Evicted.
    pub evicted_bytes: u64,
    /// Patched.
    pub patched_bytes: u64,
    /// Invalidations.
    pub invalidations: u64,
    /// Resident.
    pub resident_bytes: u64,
    /// Capacity.
    pub capacity_bytes: u64,
    /// Entries.
    pub entries: u64,
}
