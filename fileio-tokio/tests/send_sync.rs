//! Compile-time checks: `File`, `OpenOptions`, `TokioPool`, `TokioBackend` and the futures
//! of their methods and of `tokio::io`'s I/O traits on `File` are `Send`/`Sync` (the
//! checks every runtime crate shares, in `fileio_core::assert_file_futures_send_sync!`);
//! what is particular to tokio: the pool's `offload` future is `Send + Sync + 'static`.
#![allow(dead_code, clippy::let_underscore_future)]

use fileio_core::runtime::Offload;
use fileio_tokio::{File, OpenOptions, TokioBackend, TokioPool};

fileio_core::assert_file_futures_send_sync!(
    File,
    OpenOptions,
    io = tokio::io,
    also = [TokioPool, TokioBackend],
);

fn send_sync_static<T: Send + Sync + 'static>(_: &T) {}

fn offload_future() {
    send_sync_static(&TokioPool::current().offload(|| 1));
}

#[test]
fn the_checks_compile() {}
