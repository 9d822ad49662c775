//! The part of a runtime crate's `File` and `OpenOptions` that every runtime shares,
//! written once: [`runtime_file!`](crate::runtime_file).
//!
//! A runtime crate's `File` is a newtype over [`AsyncFile`](crate::AsyncFile) so that it
//! can implement its runtime's I/O traits (the orphan rule allows no other way). Its
//! inherent methods — opening, the builder, hooks, the text layer, line and chunk
//! streams — and its [`AsyncStream`](crate::AsyncStream) implementation are the same
//! for every runtime but for the pool that runs blocking calls; this macro defines them
//! in the calling crate, with their documentation. The runtime crate writes `File`'s
//! type-level docs, names its pool, and implements its runtime's I/O traits.

/// Defines a runtime crate's `File` and `OpenOptions` types with every inherent method
/// and the [`AsyncStream`](crate::AsyncStream) implementation that all runtimes share.
/// For the runtime crates (fileio-tokio, fileio-smol); not a stable interface.
///
/// The runtime crate passes:
/// - the docs of `File` (attributes before `pub struct File;`);
/// - `pool:` an expression giving the [`Offload`](crate::runtime::Offload) that runs the
///   blocking calls, evaluated when a file is opened;
/// - `coop:` the [`Coop`](crate::runtime::Coop) every operation goes through: the
///   runtime's budget, or [`Bounded`](crate::runtime::Bounded) for an executor without
///   one (the `AsyncFile` inside does not count again);
/// - `pool_name:` how the docs call that pool;
/// - `doc_run:` the hidden doc-test line that starts the runtime and opens an `async`
///   block (the examples end with `}).unwrap();`);
/// - `krate:` the crate's name as examples `use` it.
///
/// The defined `File` has two private fields: `inner` (the [`AsyncFile`](crate::AsyncFile))
/// and `seek` (a [`SeekSlot`](crate::runtime::SeekSlot)), which the runtime crate's
/// trait impls use.
#[doc(hidden)]
#[macro_export]
macro_rules! runtime_file {
    (
        $(#[$file_attr:meta])*
        pub struct File;
        pool: $pool:expr,
        coop: $coop:ty,
        pool_name: $pool_name:literal,
        doc_run: $run:literal,
        krate: $krate:literal $(,)?
    ) => {
        $(#[$file_attr])*
        pub struct File {
            inner: $crate::AsyncFile,
            seek: $crate::runtime::SeekSlot,
        }

        /// The builder behind [`File::options`]: the settings every fileio file type
        /// shares (mode, cache, coherence, encoding, sync on close, backend) plus how the
        /// blocking pool is used.
        ///
        /// Defaults: mode `"r"`, the process-wide cache,
        /// [`Coherence::Strict`](crate::Coherence::Strict), encoding `"utf-8"`,
        /// `sync_on_close(true)`, [`BackendChoice::Auto`](crate::BackendChoice::Auto), at
        /// most 64 pool operations in flight per file, inline reads on.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = $run]
        /// # let dir = tempfile::tempdir().unwrap();
        /// # let path = dir.path().join("log.txt");
        #[doc = concat!("use ", $krate, "::{Coherence, File};")]
        ///
        /// let mut file = File::options()
        ///     .mode("a+")
        ///     .coherence(Coherence::Exclusive)
        ///     .max_in_flight(8)
        ///     .open(&path)
        ///     .await?;
        /// file.write_str("one line\n").await?;
        /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
        /// ```
        #[derive(Clone, Debug, Default)]
        pub struct OpenOptions {
            options: $crate::Options,
            pool: $crate::PoolConfig,
        }

        impl OpenOptions {
            $crate::__option_setters!();

            /// Default options (see the type's documentation).
            pub fn new() -> OpenOptions {
                OpenOptions::default()
            }

            /// How the blocking pool is used: in-flight bound and inline reads.
            pub fn pool(&mut self, config: $crate::PoolConfig) -> &mut Self {
                self.pool = config;
                self
            }

            #[doc = concat!("The most operations of the file that may occupy ", $pool_name, " at once")]
            /// (default 64); more wait their turn without holding a thread. Values below 1
            /// count as 1.
            pub fn max_in_flight(&mut self, n: usize) -> &mut Self {
                self.pool = self.pool.max_in_flight(n);
                self
            }

            /// Opens `path` with these options. The returned future owns what it needs (it
            /// does not borrow the builder).
            ///
            /// # Errors
            ///
            /// - [`Error::Mode`](crate::Error::Mode) for a mode Python's `open()` rejects.
            /// - [`Error::UnknownEncoding`](crate::Error::UnknownEncoding) for an encoding
            ///   fileio does not know.
            /// - [`Error::Io`](crate::Error::Io) with kind `NotFound` for a missing file in
            ///   `"r"` modes, `AlreadyExists` for `"x"` on an existing file,
            ///   `PermissionDenied`...
            pub fn open<P: AsRef<::std::path::Path>>(
                &self,
                path: P,
            ) -> impl ::std::future::Future<Output = $crate::Result<File>> + Send + Sync + 'static + use<P>
            {
                let options = self.options.clone();
                let config = self.pool;
                let path: ::std::sync::Arc<::std::path::Path> = ::std::sync::Arc::from(path.as_ref());
                $crate::runtime::SyncFuture::new(async move {
                    $crate::AsyncFile::open_shared_on(path, &options, $pool, config)
                        .await
                        .map(File::from)
                })
            }
        }

        impl File {
            /// Opens `path` with a Python mode string (`"r"`, `"rb+"`, `"w"`, `"a"`,
            /// `"x"`...) and default options.
            ///
            /// # Errors
            ///
            /// As [`OpenOptions::open`].
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $run]
            /// # let dir = tempfile::tempdir().unwrap();
            /// # let path = dir.path().join("new.txt");
            #[doc = concat!("use ", $krate, "::File;")]
            ///
            /// let mut file = File::open(&path, "x").await?;
            /// file.write_str("created").await?;
            /// assert!(File::open(&path, "x").await.is_err());
            /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
            /// ```
            pub fn open<P: AsRef<::std::path::Path>>(
                path: P,
                mode: &str,
            ) -> impl ::std::future::Future<Output = $crate::Result<File>> + Send + Sync + 'static + use<P>
            {
                File::options().mode(mode).open(path)
            }

            /// The builder: `File::options().mode("rb").no_cache().open(path).await`.
            pub fn options() -> OpenOptions {
                OpenOptions::default()
            }

            /// Wraps an already open file (aiofile's `from_fp`). `mode` must describe how
            /// it was opened; the cursor starts at the file's current position (its end in
            /// append modes). Default options otherwise.
            ///
            /// # Errors
            ///
            /// [`Error::Mode`](crate::Error::Mode) for an invalid mode;
            /// [`Error::Io`](crate::Error::Io) when the file's metadata or position cannot
            /// be read.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $run]
            /// # let dir = tempfile::tempdir().unwrap();
            /// # let path = dir.path().join("data.bin");
            /// # std::fs::write(&path, b"abc").unwrap();
            #[doc = concat!("use ", $krate, "::{AsyncStream, File};")]
            ///
            /// let std_file = std::fs::File::open(&path).unwrap();
            /// let mut file = File::from_std(std_file, &path, "rb")?;
            /// assert_eq!(&file.read_to_end().await?[..], b"abc");
            /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
            /// ```
            pub fn from_std(
                file: ::std::fs::File,
                path: impl Into<::std::path::PathBuf>,
                mode: &str,
            ) -> $crate::Result<File> {
                $crate::AsyncFile::from_std_with(file, path, mode, $pool, $crate::PoolConfig::default())
                    .map(File::from)
            }

            /// The runtime-agnostic file inside. A seek started through the runtime's
            /// seek trait and not completed stays with it. It counts its operations
            /// under [`Bounded`](crate::runtime::Bounded) again.
            pub fn into_inner(self) -> $crate::AsyncFile {
                let mut inner = self.inner;
                inner.__bounded_coop(true);
                inner
            }

            /// The file's current version; see
            /// [`AsyncFile::stamp`](crate::AsyncFile::stamp).
            ///
            /// # Errors
            ///
            /// [`Error::Closed`](crate::Error::Closed) after `close`;
            /// [`Error::Io`](crate::Error::Io) when the backend cannot say.
            pub async fn stamp(&self) -> $crate::Result<$crate::Stamp> {
                self.inner.stamp().await
            }

            /// The runtime-agnostic file inside, borrowed. Its operations take no part
            /// in the cooperative budget (this `File`'s do).
            pub fn get_ref(&self) -> &$crate::AsyncFile {
                &self.inner
            }

            /// Reads up to `len` bytes at `offset` without touching the cursor: what
            /// [`AsyncStream::read_at`](crate::AsyncStream::read_at) does, through a
            /// future that is not boxed (the trait's is). With the trait in scope,
            /// `file.read_at(..)` calls this method.
            ///
            /// A read that needs no waiting (a cache hit, an inline read of a warm local
            /// file) finishes on the first poll, after the runtime's cooperative budget
            /// allows it.
            ///
            /// # Errors
            ///
            /// As [`Stream::read_at`](crate::Stream::read_at).
            pub fn read_at(
                &self,
                offset: u64,
                len: usize,
            ) -> impl ::std::future::Future<Output = $crate::Result<$crate::Bytes>> + Send + '_ {
                $crate::runtime::cooperate::<$coop, _>(self.inner.__read_at(offset, len))
            }

            /// Writes all of `data` at `offset` without touching the cursor: what
            /// [`AsyncStream::write_at`](crate::AsyncStream::write_at) does, through a
            /// future that is not boxed (the trait's is). With the trait in scope,
            /// `file.write_at(..)` calls this method.
            ///
            /// `data` is copied when the method is called; the write completes when
            /// all of it has reached the OS. Concurrent writes to one file share a
            /// thread hand-off (they are batched); a write whose future is dropped
            /// after its first poll still lands.
            ///
            /// # Errors
            ///
            /// As [`Stream::write_at`](crate::Stream::write_at).
            pub fn write_at(
                &self,
                offset: u64,
                data: &[u8],
            ) -> impl ::std::future::Future<Output = $crate::Result<usize>> + Send + '_ {
                $crate::runtime::cooperate::<$coop, _>(self.inner.__write_at(offset, data))
            }

            /// Registers a hook called after every successful read (cache hits included)
            /// with the offset and the bytes returned. Clones made later inherit it.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $run]
            /// # let dir = tempfile::tempdir().unwrap();
            /// # let path = dir.path().join("data.bin");
            /// # std::fs::write(&path, b"abcdef").unwrap();
            /// use std::sync::Arc;
            /// use std::sync::atomic::{AtomicUsize, Ordering};
            #[doc = concat!("use ", $krate, "::File;")]
            ///
            /// let file = File::open(&path, "rb").await?;
            /// let total = Arc::new(AtomicUsize::new(0));
            /// let counter = total.clone();
            /// file.on_read(move |ev| {
            ///     counter.fetch_add(ev.len(), Ordering::Relaxed);
            /// });
            /// file.read_at(0, 4).await?;
            /// assert_eq!(total.load(Ordering::Relaxed), 4);
            /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
            /// ```
            pub fn on_read(&self, hook: impl Fn(&$crate::IoEvent) + Send + Sync + 'static) -> &Self {
                self.inner.on_read(hook);
                self
            }

            /// Registers a hook called after every successful write with the offset and
            /// bytes. Clones made later inherit it.
            pub fn on_write(&self, hook: impl Fn(&$crate::IoEvent) + Send + Sync + 'static) -> &Self {
                self.inner.on_write(hook);
                self
            }

            /// Registers an async hook, awaited after every successful read (after the
            /// sync hooks) before the read returns.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $run]
            /// # let dir = tempfile::tempdir().unwrap();
            /// # let path = dir.path().join("data.bin");
            /// # std::fs::write(&path, b"abcdef").unwrap();
            #[doc = concat!("use ", $krate, "::File;")]
            ///
            /// let (tx, rx) = std::sync::mpsc::channel();
            /// let file = File::open(&path, "rb").await?;
            /// file.on_read_async(move |ev| {
            ///     let tx = tx.clone();
            ///     async move { tx.send(ev.offset()).unwrap() }
            /// });
            /// file.read_at(2, 2).await?;
            /// // The hook has run by the time the read returns.
            /// assert_eq!(rx.try_recv(), Ok(2));
            /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
            /// ```
            pub fn on_read_async<F, Fut>(&self, hook: F) -> &Self
            where
                F: Fn($crate::IoEvent) -> Fut + Send + Sync + 'static,
                Fut: ::std::future::Future<Output = ()> + Send + 'static,
            {
                self.inner.on_read_async(hook);
                self
            }

            /// Registers an async hook, awaited after every successful write.
            pub fn on_write_async<F, Fut>(&self, hook: F) -> &Self
            where
                F: Fn($crate::IoEvent) -> Fut + Send + Sync + 'static,
                Fut: ::std::future::Future<Output = ()> + Send + 'static,
            {
                self.inner.on_write_async(hook);
                self
            }

            /// Reads at most `max_chars` characters from the cursor with the handle's
            /// encoding, never splitting one, and moves the cursor past them.
            ///
            /// # Errors
            ///
            /// - [`Error::Decode`](crate::Error::Decode) with the offset of the first
            ///   invalid byte (the cursor does not move).
            /// - [`Error::Closed`](crate::Error::Closed),
            ///   [`Error::NotReadable`](crate::Error::NotReadable),
            ///   [`Error::Io`](crate::Error::Io).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $run]
            /// # let dir = tempfile::tempdir().unwrap();
            /// # let path = dir.path().join("text.txt");
            /// # std::fs::write(&path, "héllo").unwrap();
            #[doc = concat!("let mut file = ", $krate, "::File::open(&path, \"r\").await?;")]
            /// assert_eq!(file.read_text(2).await?, "hé");
            /// assert_eq!(file.read_text(10).await?, "llo");
            /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
            /// ```
            pub fn read_text(
                &mut self,
                max_chars: usize,
            ) -> impl ::std::future::Future<Output = $crate::Result<String>> + Send + Sync + '_ {
                $crate::runtime::SyncFuture::new($crate::runtime::cooperate::<$coop, _>(async move {
                    self.seek.finish(&mut self.inner).await?;
                    self.inner.read_text(max_chars).await
                }))
            }

            /// Reads one line from the cursor, keeping its terminator (`"\n"` or
            /// `"\r\n"`); `None` at end of file.
            ///
            /// # Errors
            ///
            /// As [`File::read_text`].
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $run]
            /// # let dir = tempfile::tempdir().unwrap();
            /// # let path = dir.path().join("text.txt");
            /// # std::fs::write(&path, "a\r\nb").unwrap();
            #[doc = concat!("let mut file = ", $krate, "::File::open(&path, \"r\").await?;")]
            /// assert_eq!(file.read_line().await?.as_deref(), Some("a\r\n"));
            /// assert_eq!(file.read_line().await?.as_deref(), Some("b"));
            /// assert_eq!(file.read_line().await?, None);
            /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
            /// ```
            pub fn read_line(
                &mut self,
            ) -> impl ::std::future::Future<Output = $crate::Result<Option<String>>> + Send + Sync + '_
            {
                $crate::runtime::SyncFuture::new($crate::runtime::cooperate::<$coop, _>(async move {
                    self.seek.finish(&mut self.inner).await?;
                    self.inner.read_line().await
                }))
            }

            /// Encodes `text` with the handle's encoding and writes it at the cursor (at
            /// the end in append modes); returns the number of bytes written.
            ///
            /// # Errors
            ///
            /// - [`Error::Encode`](crate::Error::Encode) when the encoding cannot represent
            ///   the text (nothing is written).
            /// - [`Error::Closed`](crate::Error::Closed),
            ///   [`Error::NotWritable`](crate::Error::NotWritable),
            ///   [`Error::Io`](crate::Error::Io).
            pub fn write_str<'a>(
                &'a mut self,
                text: &'a str,
            ) -> impl ::std::future::Future<Output = $crate::Result<usize>> + Send + Sync + 'a {
                $crate::runtime::SyncFuture::new($crate::runtime::cooperate::<$coop, _>(async move {
                    self.seek.finish(&mut self.inner).await?;
                    self.inner.write_str(text).await
                }))
            }

            /// The lines from the cursor on, without terminators, advancing the cursor.
            /// The stream is `Unpin`: `while let Some(line) = lines.next().await` needs no
            /// pinning.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $run]
            /// # let dir = tempfile::tempdir().unwrap();
            /// # let path = dir.path().join("text.txt");
            /// # std::fs::write(&path, "one\ntwo\n").unwrap();
            /// use futures::TryStreamExt;
            ///
            #[doc = concat!("let mut file = ", $krate, "::File::open(&path, \"r\").await?;")]
            /// let lines: Vec<String> = file.lines().try_collect().await?;
            /// assert_eq!(lines, ["one", "two"]);
            /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
            /// ```
            pub fn lines(
                &mut self,
            ) -> impl $crate::__private::Stream<Item = $crate::Result<String>> + Send + Unpin + '_ {
                self.seek.forget_done();
                $crate::runtime::CoopStream::<$coop, _>::new(Box::pin(self.inner.lines()))
            }

            /// `size`-byte chunks from the cursor on (the last may be shorter), advancing
            /// the cursor. A `size` of 0 yields one
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
            pub fn chunks(
                &mut self,
                size: usize,
            ) -> impl $crate::__private::Stream<Item = $crate::Result<$crate::Bytes>> + Send + Unpin + '_
            {
                self.seek.forget_done();
                $crate::runtime::CoopStream::<$coop, _>::new(Box::pin(self.inner.chunks(size)))
            }
        }

        /// What `tokio::fs` and `async_fs` users reach for: `create`, `create_new`,
        /// `metadata`, `set_permissions`, the descriptor and the std file.
        impl File {
            /// Creates `path` or truncates it, for writing: mode `"wb"` (std's
            /// `File::create`).
            ///
            /// # Errors
            ///
            /// As [`OpenOptions::open`].
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $run]
            /// # let dir = tempfile::tempdir().unwrap();
            /// # let path = dir.path().join("new.bin");
            #[doc = concat!("use ", $krate, "::{AsyncStream, File};")]
            ///
            /// let mut file = File::create(&path).await?;
            /// file.write(b"data").await?;
            /// assert_eq!(file.metadata().await?.len(), 4);
            /// assert!(File::create_new(&path).await.is_err()); // AlreadyExists
            ///
            /// // std's builder flags work beside mode strings:
            /// let file = File::options().read(true).write(true).open(&path).await?;
            /// assert_eq!(file.mode().to_string(), "rb+");
            /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
            /// ```
            pub fn create<P: AsRef<::std::path::Path>>(
                path: P,
            ) -> impl ::std::future::Future<Output = $crate::Result<File>> + Send + Sync + 'static + use<P>
            {
                File::open(path, "wb")
            }

            /// Creates `path` for writing, failing with `AlreadyExists` if it exists:
            /// mode `"xb"` (std's `File::create_new`).
            ///
            /// # Errors
            ///
            /// As [`OpenOptions::open`].
            pub fn create_new<P: AsRef<::std::path::Path>>(
                path: P,
            ) -> impl ::std::future::Future<Output = $crate::Result<File>> + Send + Sync + 'static + use<P>
            {
                File::open(path, "xb")
            }

            /// The file's [`std::fs::Metadata`]: one `fstat` of the open descriptor, on
            /// the calling thread (it does not wait for the disk).
            ///
            /// # Errors
            ///
            /// [`Error::Closed`](crate::Error::Closed); [`Error::Io`](crate::Error::Io)
            /// with kind `Unsupported` when the backend is not a local file, or what
            /// `fstat` says.
            pub fn metadata(
                &self,
            ) -> impl ::std::future::Future<Output = $crate::Result<::std::fs::Metadata>> + Send + Sync + '_
            {
                $crate::runtime::SyncFuture::new(self.inner.metadata())
            }

            #[doc = concat!("Changes the file's permissions (`fchmod` of the open descriptor) on ", $pool_name, ".")]
            ///
            /// # Errors
            ///
            /// As [`File::metadata`], with what `fchmod` says.
            pub fn set_permissions(
                &self,
                perm: ::std::fs::Permissions,
            ) -> impl ::std::future::Future<Output = $crate::Result<()>> + Send + Sync + '_ {
                $crate::runtime::SyncFuture::new(self.inner.set_permissions_on(perm, $pool))
            }

            /// The descriptor of the local file, or `None` when the file is closed or
            /// its backend is not a local file. An `Option` rather than std's `AsFd`,
            /// because a `File` can run over any [`Backend`](crate::Backend)
            /// (`File::from(AsyncFile::from_backend(..))`).
            #[cfg(unix)]
            pub fn as_fd(&self) -> Option<::std::os::fd::BorrowedFd<'_>> {
                self.inner.as_fd()
            }

            /// The raw descriptor of the local file; `None` as for [`File::as_fd`].
            #[cfg(unix)]
            pub fn as_raw_fd(&self) -> Option<::std::os::fd::RawFd> {
                self.inner.as_raw_fd()
            }

            /// Finishes what the runtime's I/O traits left in flight (a seek, a read, a
            /// write), then [`try_into_std`](File::try_into_std), like tokio's
            /// `into_std`.
            ///
            /// # Errors
            ///
            /// Gives the file back as [`File::try_into_std`] does, and when an operation
            /// in flight fails.
            pub async fn into_std(mut self) -> ::std::result::Result<::std::fs::File, File> {
                if self.seek.finish(&mut self.inner).await.is_err() {
                    return Err(self);
                }
                let seek = self.seek;
                self.inner
                    .into_std()
                    .await
                    .map_err(|inner| File { inner, seek })
            }

            /// The local file as a [`std::fs::File`] positioned at this handle's cursor
            /// (at the end in append modes); this handle is dropped without `close`, so
            /// there is no sync on close. The std file is a duplicate descriptor of the
            /// open file: see [`AsyncFile::try_into_std`](crate::AsyncFile::try_into_std).
            ///
            /// # Errors
            ///
            /// Gives the file back (`Err(self)`) when an operation started through the
            /// runtime's I/O traits is still in flight, the file is closed, its backend
            /// is not a local file, or `dup` fails.
            pub fn try_into_std(self) -> ::std::result::Result<::std::fs::File, File> {
                if self.seek.is_in_flight() {
                    return Err(self);
                }
                let seek = self.seek;
                self.inner.try_into_std().map_err(|inner| File { inner, seek })
            }
        }

        impl From<$crate::AsyncFile> for File {
            /// Runs an [`AsyncFile`](crate::AsyncFile) (over any backend) behind the
            /// runtime's I/O traits.
            fn from(mut inner: $crate::AsyncFile) -> File {
                inner.__bounded_coop(false);
                File {
                    inner,
                    seek: $crate::runtime::SeekSlot::default(),
                }
            }
        }

        impl Clone for File {
            /// Another handle on the same open file, with its own cursor starting at this
            /// one's.
            fn clone(&self) -> File {
                File::from(self.inner.clone())
            }
        }

        impl ::std::fmt::Debug for File {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("File")
                    .field("inner", &self.inner)
                    .field("seek", &self.seek)
                    .finish()
            }
        }

        #[$crate::__private::async_trait]
        impl $crate::AsyncStream for File {
            async fn read_at(&self, offset: u64, len: usize) -> $crate::Result<$crate::Bytes> {
                File::read_at(self, offset, len).await
            }
            async fn read_to_end_at(&self, offset: u64) -> $crate::Result<$crate::Bytes> {
                $crate::runtime::cooperate::<$coop, _>($crate::AsyncStream::read_to_end_at(&self.inner, offset)).await
            }
            async fn write_at(&self, offset: u64, data: &[u8]) -> $crate::Result<usize> {
                File::write_at(self, offset, data).await
            }
            async fn read(&mut self, len: usize) -> $crate::Result<$crate::Bytes> {
                $crate::runtime::cooperate::<$coop, _>(async move {
                    self.seek.finish(&mut self.inner).await?;
                    $crate::AsyncStream::read(&mut self.inner, len).await
                })
                .await
            }
            async fn read_to_end(&mut self) -> $crate::Result<$crate::Bytes> {
                $crate::runtime::cooperate::<$coop, _>(async move {
                    self.seek.finish(&mut self.inner).await?;
                    $crate::AsyncStream::read_to_end(&mut self.inner).await
                })
                .await
            }
            async fn write(&mut self, data: &[u8]) -> $crate::Result<usize> {
                $crate::runtime::cooperate::<$coop, _>(async move {
                    self.seek.finish(&mut self.inner).await?;
                    $crate::AsyncStream::write(&mut self.inner, data).await
                })
                .await
            }
            async fn seek(&mut self, pos: ::std::io::SeekFrom) -> $crate::Result<u64> {
                $crate::runtime::cooperate::<$coop, _>(async move {
                    self.seek.finish(&mut self.inner).await?;
                    $crate::AsyncStream::seek(&mut self.inner, pos).await
                })
                .await
            }
            fn tell(&self) -> u64 {
                $crate::AsyncStream::tell(&self.inner)
            }
            async fn len(&self) -> $crate::Result<u64> {
                $crate::runtime::cooperate::<$coop, _>($crate::AsyncStream::len(&self.inner)).await
            }
            async fn set_len(&self, len: u64) -> $crate::Result<()> {
                $crate::runtime::cooperate::<$coop, _>($crate::AsyncStream::set_len(&self.inner, len)).await
            }
            async fn sync_all(&self) -> $crate::Result<()> {
                $crate::runtime::cooperate::<$coop, _>($crate::AsyncStream::sync_all(&self.inner)).await
            }
            async fn sync_data(&self) -> $crate::Result<()> {
                $crate::runtime::cooperate::<$coop, _>($crate::AsyncStream::sync_data(&self.inner)).await
            }
            async fn close(&mut self) -> $crate::Result<()> {
                $crate::runtime::cooperate::<$coop, _>(async move {
                    let seek = self.seek.finish(&mut self.inner).await;
                    let closed = $crate::AsyncStream::close(&mut self.inner).await;
                    seek.and(closed)
                })
                .await
            }
            fn is_closed(&self) -> bool {
                $crate::AsyncStream::is_closed(&self.inner)
            }
            fn path(&self) -> &::std::path::Path {
                $crate::AsyncStream::path(&self.inner)
            }
            fn mode(&self) -> $crate::OpenMode {
                $crate::AsyncStream::mode(&self.inner)
            }
        }
    };
}
