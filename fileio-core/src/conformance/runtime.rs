//! The suite for runtime crates (`fileio-tokio`, `fileio-smol`): a [`Runtime`] says
//! what is particular to one runtime (its `File` type, how to block on a future, which
//! backends to run); [`RuntimeHarness`] and [`run_on`] do the rest, so that a runtime
//! crate's test file holds nothing another runtime's would repeat.

use std::fmt;
use std::io::{self, SeekFrom};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use fileio_cache::RangeCache;
use futures_core::Stream;
use futures_lite::StreamExt as _;

use crate::clock::Clock;
use crate::error::Result;
use crate::mode::OpenMode;
use crate::options::BackendChoice;
use crate::pool::PoolConfig;
use crate::stream::AsyncStream;

use super::harness::{ConformanceFile, Harness, Hook, OpenSpec, SuiteFuture, small_cache};
use super::list::{Behaviour, run_all};
use super::scratch::ScratchDir;

/// A runtime crate's file type and how to drive it, implemented by a marker type in the
/// runtime crate's test file.
///
/// # Implementation
///
/// For a fileio runtime crate, [`conformance_runtime_file!`](crate::conformance_runtime_file)
/// writes the file-side items (`File`, `open` and the inherent methods) from the `File`
/// type alone; the test file then writes `block_on` and `backends`.
pub trait Runtime: 'static {
    /// The runtime's file type.
    type File: AsyncStream + Clone + fmt::Debug + Send + Sync + 'static;

    /// Opens `path` with `spec`'s settings on `backend`.
    ///
    /// # Errors
    ///
    /// What the file type's open returns (see [`Harness`]'s `# Implementation`).
    fn open(
        path: PathBuf,
        spec: &OpenSpec,
        backend: BackendChoice,
    ) -> SuiteFuture<'static, Result<Self::File>>;

    /// The file type's `on_read`.
    fn on_read(file: &Self::File, hook: Hook);
    /// The file type's `on_write`.
    fn on_write(file: &Self::File, hook: Hook);
    /// The file type's `read_text(max_chars)`.
    fn read_text(file: &mut Self::File, max_chars: usize) -> SuiteFuture<'_, Result<String>>;
    /// The file type's `read_line()`.
    fn read_line(file: &mut Self::File) -> SuiteFuture<'_, Result<Option<String>>>;
    /// The file type's `write_str(text)`.
    fn write_str<'a>(file: &'a mut Self::File, text: &'a str) -> SuiteFuture<'a, Result<usize>>;
    /// The file type's `lines()`, collected.
    fn lines(file: &mut Self::File) -> SuiteFuture<'_, Vec<Result<String>>>;
    /// The file type's `chunks(size)`, collected.
    fn chunks(file: &mut Self::File, size: usize) -> SuiteFuture<'_, Vec<Result<Bytes>>>;
    /// The file type's `metadata()`.
    fn metadata(file: &Self::File) -> SuiteFuture<'_, Result<std::fs::Metadata>>;
    /// The file type's `set_permissions(perm)`.
    fn set_permissions(
        file: &Self::File,
        perm: std::fs::Permissions,
    ) -> SuiteFuture<'_, Result<()>>;
    /// Whether the file type's `as_fd()` gives a descriptor (`false` off Unix).
    fn has_fd(file: &Self::File) -> bool;
    /// The file type's `try_into_std()`.
    fn try_into_std(file: Self::File) -> std::result::Result<std::fs::File, Self::File>;

    /// Opens `path` with `spec`'s settings on [`BackendChoice::Pool`] configured by
    /// `pool` (for the [`cancel`](super::cancel) checks, which need one operation in
    /// flight at a time).
    ///
    /// # Errors
    ///
    /// As [`open`](Runtime::open).
    fn open_on_pool(
        path: PathBuf,
        spec: &OpenSpec,
        pool: PoolConfig,
    ) -> SuiteFuture<'static, Result<Self::File>>;

    /// `write_all(data)` of the runtime's own I/O write trait.
    fn io_write_all<'a>(
        file: &'a mut Self::File,
        data: &'a [u8],
    ) -> SuiteFuture<'a, io::Result<()>>;
    /// `read_exact(buf)` of the runtime's own I/O read trait.
    fn io_read_exact<'a>(
        file: &'a mut Self::File,
        buf: &'a mut [u8],
    ) -> SuiteFuture<'a, io::Result<()>>;
    /// `flush()` of the runtime's own I/O write trait.
    fn io_flush(file: &mut Self::File) -> SuiteFuture<'_, io::Result<()>>;

    /// Runs the future `test()` to completion in every way the runtime should be
    /// tested (say, on a current-thread and on a multi-thread executor), calling `test`
    /// once for each; panics propagate.
    fn block_on(test: &dyn Fn() -> SuiteFuture<'static, ()>);

    /// The backends every behaviour runs on (in order); [`available_backends`] is all
    /// that this machine offers.
    fn backends() -> Vec<BackendChoice>;
}

/// A runtime `File`'s builder set up as an [`OpenSpec`] says (its mode, coherence,
/// encoding, sync on close, clock and cache), for [`conformance_runtime_file!`]; not a
/// stable interface.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_options {
    ($file:ty, $spec:expr) => {{
        let spec: &$crate::conformance::OpenSpec = $spec;
        let mut options = <$file>::options();
        options
            .mode(&spec.mode)
            .coherence(spec.coherence)
            .encoding(&spec.encoding)
            .sync_on_close(spec.sync_on_close)
            .clock(spec.clock.clone());
        $crate::__set_std_flags!(options, spec.std_flags);
        match &spec.cache {
            Some(cache) => options.cache(cache.clone()),
            None => options.no_cache(),
        };
        options
    }};
}

/// The file-side items of [`Runtime`] for a fileio runtime crate's `File` type `$file`:
/// `type File = $file`, `open` and `open_on_pool` through `$file::options()` (whose
/// setters every fileio builder shares), the hooks and text methods forwarded to
/// `$file`'s inherent methods of the same names, and the `io_*` methods through the
/// runtime's I/O extension traits in module `$io` (`tokio::io`, `futures::io`).
///
/// Use it inside `impl Runtime for ...`; see [`Runtime`].
#[macro_export]
macro_rules! conformance_runtime_file {
    ($file:ty, io = $($io:ident)::+) => {
        type File = $file;

        fn open_on_pool(
            path: ::std::path::PathBuf,
            spec: &$crate::conformance::OpenSpec,
            pool: $crate::PoolConfig,
        ) -> $crate::conformance::SuiteFuture<'static, $crate::Result<$file>> {
            let mut options = $crate::__conformance_options!($file, spec);
            options.backend($crate::BackendChoice::Pool).pool(pool);
            ::std::boxed::Box::pin(options.open(path))
        }
        fn io_write_all<'a>(
            file: &'a mut $file,
            data: &'a [u8],
        ) -> $crate::conformance::SuiteFuture<'a, ::std::io::Result<()>> {
            ::std::boxed::Box::pin($($io)::+::AsyncWriteExt::write_all(file, data))
        }
        fn io_read_exact<'a>(
            file: &'a mut $file,
            buf: &'a mut [u8],
        ) -> $crate::conformance::SuiteFuture<'a, ::std::io::Result<()>> {
            let read = $($io)::+::AsyncReadExt::read_exact(file, buf);
            ::std::boxed::Box::pin(async move { read.await.map(|_| ()) })
        }
        fn io_flush(
            file: &mut $file,
        ) -> $crate::conformance::SuiteFuture<'_, ::std::io::Result<()>> {
            ::std::boxed::Box::pin($($io)::+::AsyncWriteExt::flush(file))
        }

        fn open(
            path: ::std::path::PathBuf,
            spec: &$crate::conformance::OpenSpec,
            backend: $crate::BackendChoice,
        ) -> $crate::conformance::SuiteFuture<'static, $crate::Result<$file>> {
            let mut options = $crate::__conformance_options!($file, spec);
            options.backend(backend);
            ::std::boxed::Box::pin(options.open(path))
        }
        fn on_read(file: &$file, hook: $crate::conformance::Hook) {
            file.on_read(hook);
        }
        fn on_write(file: &$file, hook: $crate::conformance::Hook) {
            file.on_write(hook);
        }
        fn read_text(
            file: &mut $file,
            max_chars: usize,
        ) -> $crate::conformance::SuiteFuture<'_, $crate::Result<String>> {
            ::std::boxed::Box::pin(file.read_text(max_chars))
        }
        fn read_line(
            file: &mut $file,
        ) -> $crate::conformance::SuiteFuture<'_, $crate::Result<Option<String>>> {
            ::std::boxed::Box::pin(file.read_line())
        }
        fn write_str<'a>(
            file: &'a mut $file,
            text: &'a str,
        ) -> $crate::conformance::SuiteFuture<'a, $crate::Result<usize>> {
            ::std::boxed::Box::pin(file.write_str(text))
        }
        fn lines(
            file: &mut $file,
        ) -> $crate::conformance::SuiteFuture<'_, Vec<$crate::Result<String>>> {
            $crate::conformance::__collect(file.lines())
        }
        fn chunks(
            file: &mut $file,
            size: usize,
        ) -> $crate::conformance::SuiteFuture<'_, Vec<$crate::Result<$crate::Bytes>>> {
            $crate::conformance::__collect(file.chunks(size))
        }
        fn metadata(
            file: &$file,
        ) -> $crate::conformance::SuiteFuture<'_, $crate::Result<::std::fs::Metadata>> {
            ::std::boxed::Box::pin(file.metadata())
        }
        fn set_permissions(
            file: &$file,
            perm: ::std::fs::Permissions,
        ) -> $crate::conformance::SuiteFuture<'_, $crate::Result<()>> {
            ::std::boxed::Box::pin(file.set_permissions(perm))
        }
        fn has_fd(file: &$file) -> bool {
            #[cfg(unix)]
            return file.as_fd().is_some();
            #[cfg(not(unix))]
            false
        }
        fn try_into_std(file: $file) -> ::std::result::Result<::std::fs::File, $file> {
            file.try_into_std()
        }
    };
}

/// Collects `stream` (for [`conformance_runtime_file!`](crate::conformance_runtime_file)).
#[doc(hidden)]
pub fn __collect<'a, S>(stream: S) -> SuiteFuture<'a, Vec<S::Item>>
where
    S: Stream + Send + Unpin + 'a,
    S::Item: Send,
{
    Box::pin(stream.collect())
}

/// The backends this machine offers: the thread pool, `Auto` (reads on io_uring and the
/// rest on the pool where the kernel offers io_uring, the pool elsewhere) and, where
/// io_uring works, io_uring alone.
pub fn available_backends() -> Vec<BackendChoice> {
    #[cfg_attr(
        not(all(target_os = "linux", feature = "io-uring")),
        expect(unused_mut, reason = "io_uring is pushed on Linux only")
    )]
    let mut backends = vec![BackendChoice::Pool, BackendChoice::Auto];
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    if crate::uring::io_uring_available() {
        backends.push(BackendChoice::IoUring);
    }
    backends
}

/// A file of runtime `R` seen through the suite's trait: every method forwards to the
/// file's method of the same name ([`AsyncStream`]'s, or [`Runtime`]'s).
pub struct RuntimeFile<R: Runtime>(pub R::File);

impl<R: Runtime> Clone for RuntimeFile<R> {
    fn clone(&self) -> Self {
        RuntimeFile(self.0.clone())
    }
}

impl<R: Runtime> fmt::Debug for RuntimeFile<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[async_trait]
impl<R: Runtime> AsyncStream for RuntimeFile<R> {
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        AsyncStream::read_at(&self.0, offset, len).await
    }
    async fn read_to_end_at(&self, offset: u64) -> Result<Bytes> {
        AsyncStream::read_to_end_at(&self.0, offset).await
    }
    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        AsyncStream::write_at(&self.0, offset, data).await
    }
    async fn read(&mut self, len: usize) -> Result<Bytes> {
        AsyncStream::read(&mut self.0, len).await
    }
    async fn read_to_end(&mut self) -> Result<Bytes> {
        AsyncStream::read_to_end(&mut self.0).await
    }
    async fn write(&mut self, data: &[u8]) -> Result<usize> {
        AsyncStream::write(&mut self.0, data).await
    }
    async fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        AsyncStream::seek(&mut self.0, pos).await
    }
    fn tell(&self) -> u64 {
        AsyncStream::tell(&self.0)
    }
    async fn len(&self) -> Result<u64> {
        AsyncStream::len(&self.0).await
    }
    async fn set_len(&self, len: u64) -> Result<()> {
        AsyncStream::set_len(&self.0, len).await
    }
    async fn sync_all(&self) -> Result<()> {
        AsyncStream::sync_all(&self.0).await
    }
    async fn sync_data(&self) -> Result<()> {
        AsyncStream::sync_data(&self.0).await
    }
    async fn close(&mut self) -> Result<()> {
        AsyncStream::close(&mut self.0).await
    }
    fn is_closed(&self) -> bool {
        AsyncStream::is_closed(&self.0)
    }
    fn path(&self) -> &Path {
        AsyncStream::path(&self.0)
    }
    fn mode(&self) -> OpenMode {
        AsyncStream::mode(&self.0)
    }
}

impl<R: Runtime> ConformanceFile for RuntimeFile<R> {
    fn on_read(&self, hook: Hook) {
        R::on_read(&self.0, hook);
    }
    fn on_write(&self, hook: Hook) {
        R::on_write(&self.0, hook);
    }
    fn read_text(&mut self, max_chars: usize) -> SuiteFuture<'_, Result<String>> {
        R::read_text(&mut self.0, max_chars)
    }
    fn read_line(&mut self) -> SuiteFuture<'_, Result<Option<String>>> {
        R::read_line(&mut self.0)
    }
    fn write_str<'a>(&'a mut self, text: &'a str) -> SuiteFuture<'a, Result<usize>> {
        R::write_str(&mut self.0, text)
    }
    fn lines(&mut self) -> SuiteFuture<'_, Vec<Result<String>>> {
        R::lines(&mut self.0)
    }
    fn chunks(&mut self, size: usize) -> SuiteFuture<'_, Vec<Result<Bytes>>> {
        R::chunks(&mut self.0, size)
    }
    fn metadata(&self) -> SuiteFuture<'_, Result<std::fs::Metadata>> {
        R::metadata(&self.0)
    }
    fn set_permissions(&self, perm: std::fs::Permissions) -> SuiteFuture<'_, Result<()>> {
        R::set_permissions(&self.0, perm)
    }
    fn has_fd(&self) -> bool {
        R::has_fd(&self.0)
    }
    fn try_into_std(self) -> std::result::Result<std::fs::File, Self> {
        R::try_into_std(self.0).map_err(RuntimeFile)
    }
    fn io_write_all<'a>(&'a mut self, data: &'a [u8]) -> SuiteFuture<'a, std::io::Result<()>> {
        R::io_write_all(&mut self.0, data)
    }
    fn io_flush(&mut self) -> SuiteFuture<'_, std::io::Result<()>> {
        R::io_flush(&mut self.0)
    }
}

/// The harness of runtime `R` on one backend: files in a fresh [`ScratchDir`], opened
/// with [`Runtime::open`], and a [`small_cache`] of its own.
pub struct RuntimeHarness<R> {
    dir: ScratchDir,
    cache: RangeCache,
    backend: BackendChoice,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> RuntimeHarness<R> {
    /// A fresh harness on `backend`.
    ///
    /// # Panics
    ///
    /// When the scratch directory cannot be created.
    pub fn new(backend: BackendChoice) -> RuntimeHarness<R> {
        RuntimeHarness {
            dir: ScratchDir::new().expect("scratch dir"),
            cache: small_cache(),
            backend,
            runtime: PhantomData,
        }
    }
}

impl<R> fmt::Debug for RuntimeHarness<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeHarness")
            .field("runtime", &std::any::type_name::<R>())
            .field("dir", &self.dir)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Harness for RuntimeHarness<R> {
    type File = RuntimeFile<R>;

    fn open<'a>(
        &'a self,
        name: &'a str,
        spec: &'a OpenSpec,
    ) -> SuiteFuture<'a, Result<RuntimeFile<R>>> {
        let open = R::open(self.dir.join(name), spec, self.backend);
        Box::pin(async move { open.await.map(RuntimeFile) })
    }
    fn outside_write(&self, name: &str, data: &[u8]) {
        self.dir.outside_write(name, data);
    }
    fn outside_read(&self, name: &str) -> Vec<u8> {
        self.dir.outside_read(name)
    }
    fn cache(&self) -> RangeCache {
        self.cache.clone()
    }
    fn clock(&self) -> Clock {
        self.dir.clock().clone()
    }
}

/// Runs `behaviour` on runtime `R`: for each of [`Runtime::backends`], with
/// [`Runtime::block_on`], each run on a fresh [`RuntimeHarness`]. What a runtime
/// crate's [`behaviour_tests!`](crate::behaviour_tests) calls.
pub fn run_on<R: Runtime>(behaviour: Behaviour) {
    for backend in R::backends() {
        R::block_on(&move || {
            Box::pin(async move { behaviour.run(&RuntimeHarness::<R>::new(backend)).await })
        });
    }
}

/// [`run_all`] on each of [`Runtime::backends`] in turn, each on a fresh
/// [`RuntimeHarness`], as one future.
pub async fn run_all_on_backends<R: Runtime>() {
    for backend in R::backends() {
        run_all(&RuntimeHarness::<R>::new(backend)).await;
    }
}
