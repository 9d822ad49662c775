//! What a runtime crate plugs into: the pieces `fileio-tokio` and `fileio-smol` are
//! built from, for anyone adapting fileio to another executor.
//!
//! A runtime crate supplies two things of its own: an [`Offload`] (where blocking system
//! calls run: tokio's `spawn_blocking`, the `blocking` crate's pool) and its runtime's
//! I/O trait impls. Everything else lives here, once:
//!
//! - [`open_backend`] / [`backend_for`] pick the [`Backend`](crate::Backend) of a local
//!   file from a [`BackendChoice`](crate::BackendChoice): reads on io_uring and the rest
//!   on the pool ([`uring::SplitBackend`](crate::uring), the default on Linux), all of it
//!   on io_uring, or all of it on the pool ([`PoolBackend`]).
//! - [`runtime_file!`](crate::runtime_file) defines the crate's `File` and
//!   `OpenOptions` with every method the runtimes share, and their docs.
//! - [`SeekSlot`] holds a seek started in one call and completed in another (tokio's
//!   `start_seek` / `poll_complete`).
//! - [`SyncFuture`] makes the futures of `&mut self` methods `Sync`.
//! - [`Coop`] decides when an operation that completes without waiting yields to the
//!   executor: the runtime's budget where it has one (tokio's), [`Bounded`] (a yield
//!   after [`Bounded::LIMIT`] ready operations in a row on a thread) elsewhere.
//!
//! How a read is served, whichever runtime runs it, is described on
//! [`AsyncFile`](crate::AsyncFile); what dropping a future does, under "Cancellation"
//! in the crate docs.

mod coop;
mod file;
mod fs;
mod seek;
mod sync_future;

pub use crate::backend::openat2_cached_available;
pub use crate::pool::{BlockingPool, Offload, PoolBackend, PoolConfig};
pub use crate::select::{backend_for, open_backend};
pub use coop::{
    Bounded, Coop, CoopStream, Cooperative, Unbounded, cooperate, poll_cooperative,
    poll_cooperative_if,
};
pub use seek::SeekSlot;
pub use sync_future::SyncFuture;
