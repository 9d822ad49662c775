//! Compile-time checks: `File`, `OpenOptions` and the futures of their methods are
//! `Send`/`Sync` (the checks every runtime crate shares, in
//! `fileio_core::assert_file_futures_send_sync!`), and so are what is particular to
//! tokio: its pool and backend, the pool's `offload` future, and the futures of
//! `tokio::io`'s I/O traits on `File`.
#![allow(dead_code, clippy::let_underscore_future)]

use std::io::SeekFrom;

use fileio_core::runtime::Offload;
use fileio_tokio::{File, OpenOptions, TokioBackend, TokioPool};

fileio_core::assert_file_futures_send_sync!(File, OpenOptions);

fn send_sync<T: Send + Sync>(_: &T) {}
fn send<T: Send>(_: &T) {}
fn send_sync_static<T: Send + Sync + 'static>(_: &T) {}

fn types(p: &TokioPool, b: &TokioBackend) {
    send_sync(p);
    send_sync(b);
}

fn offload_future() {
    send_sync_static(&TokioPool::current().offload(|| 1));
}

fn tokio_trait_futures(f: &mut File) {
    use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    let mut buf = [0u8; 4];
    send_sync(&AsyncReadExt::read(f, &mut buf));
    send_sync(&AsyncWriteExt::write(f, b"x"));
    send_sync(&AsyncSeekExt::seek(f, SeekFrom::Start(0)));
}

#[test]
fn the_checks_compile() {}
