//! [`assert_file_futures_send_sync!`](crate::assert_file_futures_send_sync): the
//! compile-time `Send`/`Sync` checks every runtime crate's `File` must pass.

/// Compile-time checks that a runtime crate's `File` type `$file`, its builder
/// `$options` and the types listed in `also` are `Send + Sync`, and so are the futures
/// of the builders, of `open`, of every inherent async method and of the `read`,
/// `write` and `seek` of the runtime's I/O extension traits in module `$io`
/// (`tokio::io`, `futures::io`); the futures of the
/// [`AsyncStream`](crate::AsyncStream) methods are `Send` (they are
/// `Pin<Box<dyn Future + Send>>`, the shape `async_trait` gives every implementation).
///
/// Expands to an unnamed constant holding functions that are never called: the checks
/// are that they compile.
///
/// In a runtime crate's test (`AsyncFile`'s futures are `Send` only, so it does not
/// pass):
///
/// ```ignore
/// fileio_core::assert_file_futures_send_sync!(
///     fileio_tokio::File,
///     fileio_tokio::OpenOptions,
///     io = tokio::io,
///     also = [fileio_tokio::TokioPool, fileio_tokio::TokioBackend],
/// );
/// ```
#[macro_export]
macro_rules! assert_file_futures_send_sync {
    ($file:ty, $options:ty, io = $($io:ident)::+, also = [$($also:ty),* $(,)?] $(,)?) => {
        #[allow(dead_code, clippy::let_underscore_future)]
        const _: () = {
            use $crate::AsyncStream as _;

            fn send_sync<T: Send + Sync>(_: &T) {}
            fn send<T: Send>(_: &T) {}
            fn send_sync_static<T: Send + Sync + 'static>(_: &T) {}

            fn types(f: &$file, o: &$options) {
                send_sync(f);
                send_sync(o);
            }

            fn is_send_sync<T: Send + Sync>() {}

            fn also_types() {
                $(is_send_sync::<$also>();)*
            }

            fn io_trait_futures(f: &mut $file) {
                use $($io)::+::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};
                let mut buf = [0u8; 4];
                send_sync(&$($io)::+::AsyncReadExt::read(f, &mut buf));
                send_sync(&$($io)::+::AsyncWriteExt::write(f, b"x"));
                send_sync(&$($io)::+::AsyncSeekExt::seek(f, ::std::io::SeekFrom::Start(0)));
            }

            fn builder_and_open_futures(o: &$options) {
                send_sync_static(&<$file>::open("x", "r"));
                send_sync_static(&o.open("x"));
            }

            fn std_api_futures(f: &$file, perm: ::std::fs::Permissions) {
                send_sync_static(&<$file>::create("x"));
                send_sync_static(&<$file>::create_new("x"));
                send_sync(&f.metadata());
                send_sync(&f.set_permissions(perm));
                send(&<$file>::into_std(f.clone()));
            }

            fn inherent_futures(f: &mut $file) {
                send_sync(&f.read_text(1));
                send_sync(&f.read_line());
                send_sync(&f.write_str("x"));
                send(&f.lines());
                send(&f.chunks(1));
            }

            fn stream_futures(f: &mut $file) {
                send(&f.read_at(0, 1));
                send(&f.read_to_end_at(0));
                send(&f.write_at(0, b"x"));
                send(&f.len());
                send(&f.set_len(0));
                send(&f.sync_all());
                send(&f.sync_data());
                send(&$crate::AsyncStream::read(f, 1));
                send(&$crate::AsyncStream::read_to_end(f));
                send(&$crate::AsyncStream::write(f, b"x"));
                send(&$crate::AsyncStream::seek(f, ::std::io::SeekFrom::Start(0)));
                send(&$crate::AsyncStream::close(f));
            }
        };
    };
}
