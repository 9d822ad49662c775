//! [`SmolPool`]: the `blocking` crate's pool (smol's) as an [`Offload`](fileio_core::runtime::Offload).

use fileio_core::runtime::PoolBackend;

/// A local file whose blocking system calls run on the `blocking` crate's pool (the one
/// `smol::unblock` uses), with the inline `preadv2(RWF_NOWAIT)` fast path of
/// [`PoolBackend`] on Linux.
///
/// [`File::open`](crate::File::open) runs on it with
/// [`BackendChoice::Pool`](crate::BackendChoice::Pool), and everywhere io_uring is not
/// available; with the default [`BackendChoice::Auto`](crate::BackendChoice::Auto) on
/// Linux, reads go to io_uring and only the rest to [`SmolPool`]. Build one yourself to hand
/// it to [`fileio_core::AsyncFile::from_backend`] with options of your own.
pub type SmolBackend = PoolBackend<SmolPool>;

/// The `blocking` crate's thread pool (smol's) as an [`Offload`](fileio_core::runtime::Offload): fileio-core's
/// [`BlockingPool`](fileio_core::runtime::BlockingPool) under the name this crate's users look for.
/// Jobs run exactly once even if their future is dropped.
pub use fileio_core::runtime::BlockingPool as SmolPool;
