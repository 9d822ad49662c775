//! Compile-time checks: `File`, `OpenOptions` and the futures of their methods are
//! `Send`/`Sync` (the checks every runtime crate shares, in
//! `fileio_core::assert_file_futures_send_sync!`), and so are what is particular to
//! smol: its pool and backend, the pool's `offload` future, and the futures of
//! `futures`'s I/O traits on `File`.
#![allow(dead_code, clippy::let_underscore_future)]

use std::io::SeekFrom;

use fileio_core::runtime::Offload;
use fileio_smol::{File, OpenOptions, SmolBackend, SmolPool};

fileio_core::assert_file_futures_send_sync!(File, OpenOptions);

fn send_sync<T: Send + Sync>(_: &T) {}
fn send<T: Send>(_: &T) {}
fn send_sync_static<T: Send + Sync + 'static>(_: &T) {}

fn types(p: &SmolPool, b: &SmolBackend) {
    send_sync(p);
    send_sync(b);
}

fn offload_future() {
    send(&SmolPool.offload(|| 1));
}

fn futures_trait_futures(f: &mut File) {
    use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    let mut buf = [0u8; 4];
    send_sync(&AsyncReadExt::read(f, &mut buf));
    send_sync(&AsyncWriteExt::write(f, b"x"));
    send_sync(&AsyncSeekExt::seek(f, SeekFrom::Start(0)));
}

#[test]
fn the_checks_compile() {}
