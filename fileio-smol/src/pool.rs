//! [`SmolPool`]: the `blocking` crate's pool (smol's) as a [`fileio_core::Offload`].

use fileio_core::PoolBackend;

/// A local file whose blocking system calls run on the `blocking` crate's pool (the one
/// `smol::unblock` uses), with the inline `preadv2(RWF_NOWAIT)` fast path of
/// [`PoolBackend`] on Linux.
///
/// This is the backend behind [`File::open`](crate::File::open); build one yourself to
/// hand it to [`fileio_core::AsyncFile::from_backend`] with options of your own.
pub type SmolBackend = PoolBackend<SmolPool>;

/// The `blocking` crate's thread pool (smol's) as a [`fileio_core::Offload`]: fileio-core's
/// [`BlockingPool`](fileio_core::BlockingPool) under the name this crate's users look for.
/// Jobs run exactly once even if their future is dropped.
pub use fileio_core::BlockingPool as SmolPool;
