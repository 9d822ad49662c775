//! [`RangeCacheBuilder`]: the settings of a new [`RangeCache`], their validation and the
//! default shard count.

#[cfg(doc)]
use super::ENTRY_OVERHEAD_BYTES;
use super::{
    DEFAULT_BLOCK_SIZE, DEFAULT_CAPACITY, MAX_BLOCK_SIZE, MAX_CAPACITY, MAX_SHARDS, MIN_BLOCK_SIZE,
    RangeCache,
};
use crate::error::Error;
use crate::shard::ENTRY_OVERHEAD;

/// Default shards are reduced until each shard can hold at least this many blocks.
const MIN_BLOCKS_PER_SHARD: u64 = 16;

/// Builder for a [`RangeCache`]; get one from [`RangeCache::builder`].
///
/// Defaults: capacity [`DEFAULT_CAPACITY`] (64 MiB), block size [`DEFAULT_BLOCK_SIZE`]
/// (16 KiB), shards `4 × available parallelism` rounded up to a power of two, then halved
/// until every shard can hold at least 16 blocks (a block larger than a shard's share of
/// the capacity is never cached).
///
/// # Examples
///
/// ```
/// use fileio_cache::RangeCache;
///
/// let cache = RangeCache::builder()
///     .capacity(256 << 20)
///     .block_size(64 << 10)
///     .shards(8)
///     .build()?;
/// assert_eq!(cache.capacity(), 256 << 20);
/// assert_eq!(cache.block_size(), 64 << 10);
/// # Ok::<(), fileio_cache::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RangeCacheBuilder {
    capacity: u64,
    block_size: usize,
    shards: Option<usize>,
}

impl RangeCacheBuilder {
    /// The documented defaults.
    pub(super) fn defaults() -> RangeCacheBuilder {
        RangeCacheBuilder {
            capacity: DEFAULT_CAPACITY,
            block_size: DEFAULT_BLOCK_SIZE,
            shards: None,
        }
    }

    /// Sets the capacity in bytes: payload plus [`ENTRY_OVERHEAD_BYTES`] per block.
    /// Must be in `1..=MAX_CAPACITY` (checked by [`build`](Self::build)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// let cache = RangeCache::builder().capacity(1 << 20).build()?;
    /// assert_eq!(cache.stats().capacity_bytes, 1 << 20);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn capacity(mut self, bytes: u64) -> Self {
        self.capacity = bytes;
        self
    }

    /// Sets the block size: a power of two in
    /// `MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE` (checked by [`build`](Self::build)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// assert!(RangeCache::builder().block_size(4096).build().is_ok());
    /// assert!(RangeCache::builder().block_size(3000).build().is_err());
    /// ```
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes;
        self
    }

    /// Sets the shard count: a power of two in `1..=MAX_SHARDS` (checked by
    /// [`build`](Self::build)). An explicit count is used as given, even when it leaves
    /// shards too small to hold a block.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// assert!(RangeCache::builder().shards(16).build().is_ok());
    /// assert!(RangeCache::builder().shards(12).build().is_err());
    /// ```
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = Some(n);
        self
    }

    /// Builds the cache.
    ///
    /// # Errors
    ///
    /// - [`Error::ZeroCapacity`]: the capacity is zero.
    /// - [`Error::CapacityTooLarge`]: the capacity exceeds [`MAX_CAPACITY`].
    /// - [`Error::InvalidBlockSize`]: the block size is not a power of two in
    ///   `MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE`.
    /// - [`Error::InvalidShards`]: the shard count is not a power of two in `1..=MAX_SHARDS`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{Error, RangeCache};
    /// let err = RangeCache::builder().shards(0).build().unwrap_err();
    /// assert!(matches!(err, Error::InvalidShards { shards: 0, .. }));
    /// ```
    pub fn build(self) -> Result<RangeCache, Error> {
        if self.capacity == 0 {
            return Err(Error::ZeroCapacity);
        }
        if self.capacity > MAX_CAPACITY {
            return Err(Error::CapacityTooLarge {
                bytes: self.capacity,
                max: MAX_CAPACITY,
            });
        }
        if !self.block_size.is_power_of_two()
            || !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&self.block_size)
        {
            return Err(Error::InvalidBlockSize {
                bytes: self.block_size,
                min: MIN_BLOCK_SIZE,
                max: MAX_BLOCK_SIZE,
            });
        }
        let shards = match self.shards {
            Some(n) if n.is_power_of_two() && n <= MAX_SHARDS => n,
            Some(n) => {
                return Err(Error::InvalidShards {
                    shards: n,
                    max: MAX_SHARDS,
                });
            }
            None => default_shards(self.capacity, self.block_size),
        };
        Ok(RangeCache::from_valid(
            self.capacity,
            self.block_size,
            shards,
        ))
    }
}

/// `4 × parallelism` rounded to a power of two, halved while a shard would hold fewer
/// than [`MIN_BLOCKS_PER_SHARD`] blocks.
pub(super) fn default_shards(capacity: u64, block_size: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut n = cpus
        .saturating_mul(4)
        .checked_next_power_of_two()
        .unwrap_or(MAX_SHARDS)
        .min(MAX_SHARDS);
    let per_block = block_size as u64 + ENTRY_OVERHEAD;
    while n > 1 && capacity / (n as u64) < MIN_BLOCKS_PER_SHARD * per_block {
        n /= 2;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_shards_shrink_for_small_caches() {
        assert_eq!(default_shards(1 << 10, 16 << 10), 1);
        assert!(default_shards(64 << 20, 16 << 10).is_power_of_two());
    }
}
