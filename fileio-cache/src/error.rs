//! The builder's error type.

/// Why [`RangeCacheBuilder::build`](crate::RangeCacheBuilder::build) rejected a configuration.
///
/// Every variant names the offending value and the allowed range. Nothing else in the
/// crate returns errors: lookups, fills and patches are infallible (a cache that cannot
/// serve simply misses).
///
/// # Examples
///
/// ```
/// use fileio_cache::{Error, RangeCache};
///
/// let err = RangeCache::builder().capacity(0).build().unwrap_err();
/// assert_eq!(err, Error::ZeroCapacity);
/// assert_eq!(err.to_string(), "cache capacity must be greater than zero bytes");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The capacity was zero. (`RangeCache::set_capacity(0)` is allowed at run time and
    /// turns the cache off; a cache *built* with nothing to hold is a configuration mistake.)
    #[error("cache capacity must be greater than zero bytes")]
    ZeroCapacity,
    /// The capacity exceeds [`MAX_CAPACITY`](crate::MAX_CAPACITY).
    #[error("cache capacity {bytes} bytes exceeds the maximum of {max} bytes")]
    CapacityTooLarge {
        /// The rejected capacity.
        bytes: u64,
        /// The largest capacity accepted.
        max: u64,
    },
    /// The block size is not a power of two in
    /// [[`MIN_BLOCK_SIZE`](crate::MIN_BLOCK_SIZE), [`MAX_BLOCK_SIZE`](crate::MAX_BLOCK_SIZE)].
    #[error("block size {bytes} bytes is not a power of two in [{min}, {max}]")]
    InvalidBlockSize {
        /// The rejected block size.
        bytes: usize,
        /// The smallest block size accepted.
        min: usize,
        /// The largest block size accepted.
        max: usize,
    },
    /// The shard count is not a power of two in [1, [`MAX_SHARDS`](crate::MAX_SHARDS)].
    #[error("shard count {shards} is not a power of two in [1, {max}]")]
    InvalidShards {
        /// The rejected shard count.
        shards: usize,
        /// The largest shard count accepted.
        max: usize,
    },
}
