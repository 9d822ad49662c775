//! Compile-time checks: `File`, `OpenOptions`, `SmolPool`, `SmolBackend` and the futures
//! of their methods and of `futures::io`'s I/O traits on `File` are `Send`/`Sync` (the
//! checks every runtime crate shares, in `fileio_core::assert_file_futures_send_sync!`);
//! what is particular to smol: the pool's `offload` future is `Send`.
#![allow(dead_code, clippy::let_underscore_future)]

use fileio_core::runtime::Offload;
use fileio_smol::{File, OpenOptions, SmolBackend, SmolPool};

fileio_core::assert_file_futures_send_sync!(
    File,
    OpenOptions,
    io = futures::io,
    also = [SmolPool, SmolBackend],
);

fn send<T: Send>(_: &T) {}

fn offload_future() {
    send(&SmolPool.offload(|| 1));
}

#[test]
fn the_checks_compile() {}
