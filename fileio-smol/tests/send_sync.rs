//! Compile-time checks: the public types are `Send + Sync`, and so are the futures of
//! every inherent async method and of the builders; the futures of the `AsyncStream`
//! methods are `Send` (they are `Pin<Box<dyn Future + Send>>`, the shape `async_trait`
//! gives every implementation of the trait).
#![allow(dead_code, clippy::let_underscore_future)]

use std::io::SeekFrom;

use fileio_core::runtime::Offload;
use fileio_smol::{AsyncStream, File, OpenOptions, SmolBackend, SmolPool};

fn send_sync<T: Send + Sync>(_: &T) {}
fn send<T: Send>(_: &T) {}
fn send_sync_static<T: Send + Sync + 'static>(_: &T) {}

fn types(f: &File, o: &OpenOptions, p: &SmolPool, b: &SmolBackend) {
    send_sync(f);
    send_sync(o);
    send_sync(p);
    send_sync(b);
}

fn builder_and_open_futures(o: &OpenOptions) {
    send_sync_static(&File::open("x", "r"));
    send_sync_static(&o.open("x"));
    send(&SmolPool.offload(|| 1));
}

fn inherent_futures(f: &mut File) {
    send_sync(&f.read_text(1));
    send_sync(&f.read_line());
    send_sync(&f.write_str("x"));
    send(&f.lines());
    send(&f.chunks(1));
}

fn stream_futures(f: &mut File) {
    send(&f.read_at(0, 1));
    send(&f.read_to_end_at(0));
    send(&f.write_at(0, b"x"));
    send(&f.len());
    send(&f.set_len(0));
    send(&f.sync_all());
    send(&f.sync_data());
    send(&AsyncStream::read(f, 1));
    send(&AsyncStream::read_to_end(f));
    send(&AsyncStream::write(f, b"x"));
    send(&AsyncStream::seek(f, SeekFrom::Start(0)));
    send(&AsyncStream::close(f));
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
