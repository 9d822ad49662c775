//! The whole-file helpers of a runtime crate's `fs` module, written once:
//! [`runtime_fs!`](crate::runtime_fs).

/// Defines a runtime crate's `pub mod fs`: `read`, `read_to_string` and `write` over
/// the crate's `File` (from [`runtime_file!`](crate::runtime_file)), with their docs.
/// For the runtime crates (fileio-tokio, fileio-smol); not a stable interface.
///
/// The runtime crate passes `like:` (the module whose names these are, for the docs),
/// `doc_run:` (the hidden doc-test line that starts the runtime and opens an `async`
/// block) and `krate:` (its name as examples `use` it), as for `runtime_file!`.
#[doc(hidden)]
#[macro_export]
// `crate::File` is meant: the calling runtime crate's `File`.
#[allow(clippy::crate_in_macro_def)]
macro_rules! runtime_fs {
    (like: $like:literal, doc_run: $run:literal, krate: $krate:literal $(,)?) => {
        #[doc = concat!("Whole-file helpers, as ", $like, " has them: [`read`](fs::read),")]
        /// [`read_to_string`](fs::read_to_string) and [`write`](fs::write), through
        /// [`File`](crate::File) (so reads use the process-wide cache and its fast paths).
        pub mod fs {
            /// The whole file at `path`, as [`Bytes`](crate::Bytes): opened with default
            /// options (so through the process-wide cache and its fast paths), one
            /// `read_to_end_at(0)`, closed. A cache hit shares the cached block; `Vec` users
            /// convert with `Vec::from`.
            ///
            /// # Errors
            ///
            /// As [`File::open`](crate::File::open) with `"rb"`, and the errors of
            /// [`AsyncStream::read_to_end_at`](crate::AsyncStream::read_to_end_at).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $run]
            /// # let dir = tempfile::tempdir().unwrap();
            /// # let path = dir.path().join("greeting.txt");
            #[doc = concat!("use ", $krate, "::fs;")]
            ///
            /// fs::write(&path, "hello").await?;
            /// assert_eq!(&fs::read(&path).await?[..], b"hello");
            /// assert_eq!(fs::read_to_string(&path).await?, "hello");
            /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
            /// ```
            pub async fn read(
                path: impl AsRef<::std::path::Path>,
            ) -> $crate::Result<$crate::Bytes> {
                let mut file = crate::File::open(path, "rb").await?;
                let data = $crate::AsyncStream::read_to_end_at(&file, 0).await?;
                $crate::AsyncStream::close(&mut file).await?;
                Ok(data)
            }

            /// The whole file at `path`, decoded as UTF-8.
            ///
            /// # Errors
            ///
            /// As [`read`]; [`Error::Decode`](crate::Error::Decode) with the offset of the
            /// first invalid byte.
            pub async fn read_to_string(
                path: impl AsRef<::std::path::Path>,
            ) -> $crate::Result<String> {
                $crate::fs::utf8(read(path).await?)
            }

            /// Creates or truncates `path` (mode `"wb"`), writes `contents` and closes it.
            /// With the default `sync_on_close(true)`, closing syncs the data (tokio's and
            /// async-fs's `write` do not).
            ///
            /// # Errors
            ///
            /// As [`File::create`](crate::File::create), and the errors of
            /// [`AsyncStream::write_at`](crate::AsyncStream::write_at) and
            /// [`AsyncStream::close`](crate::AsyncStream::close).
            pub async fn write(
                path: impl AsRef<::std::path::Path>,
                contents: impl AsRef<[u8]>,
            ) -> $crate::Result<()> {
                let mut file = crate::File::create(path).await?;
                $crate::AsyncStream::write_at(&file, 0, contents.as_ref()).await?;
                $crate::AsyncStream::close(&mut file).await
            }
        }
    };
}
