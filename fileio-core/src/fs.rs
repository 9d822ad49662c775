//! Whole-file helpers for blocking code, as [`std::fs`] has them: [`read`],
//! [`read_to_string`] and [`write()`].
//!
//! They open a [`File`] with default [`Options`](crate::Options) (so reads go through
//! the process-wide cache and its fast paths), do one `read_to_end_at(0)` or one write,
//! and close it. The runtime crates' `fs` modules do the same on their async files.

use std::path::Path;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::file::File;
use crate::stream::Stream;

/// The whole file at `path`, as [`Bytes`] (a cache hit shares the cached block; `Vec`
/// users convert with `Vec::from`).
///
/// # Errors
///
/// As [`File::open`] with `"rb"`, and the errors of [`Stream::read_to_end_at`].
///
/// # Examples
///
/// ```
/// # fn main() -> fileio_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("greeting.txt");
/// fileio_core::fs::write(&path, "hello")?;
/// assert_eq!(&fileio_core::fs::read(&path)?[..], b"hello");
/// assert_eq!(fileio_core::fs::read_to_string(&path)?, "hello");
/// # Ok(()) }
/// ```
pub fn read(path: impl AsRef<Path>) -> Result<Bytes> {
    let mut file = File::open(path, "rb")?;
    let data = file.read_to_end_at(0)?;
    file.close()?;
    Ok(data)
}

/// The whole file at `path`, decoded as UTF-8.
///
/// # Errors
///
/// As [`read`]; [`Error::Decode`] with the offset of the first invalid byte.
pub fn read_to_string(path: impl AsRef<Path>) -> Result<String> {
    utf8(read(path)?)
}

/// Creates or truncates `path` (mode `"wb"`), writes `contents` and closes it. With the
/// default `sync_on_close(true)`, closing syncs the data (`std::fs::write` does not).
///
/// # Errors
///
/// As [`File::create`], and the errors of [`Stream::write_at`] and [`Stream::close`].
pub fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> Result<()> {
    let mut file = File::create(path)?;
    file.write_at(0, contents.as_ref())?;
    file.close()
}

/// `bytes` as a `String`, or [`Error::Decode`] at the first invalid byte (for every
/// `read_to_string`).
#[doc(hidden)]
pub fn utf8(bytes: Bytes) -> Result<String> {
    String::from_utf8(Vec::from(bytes)).map_err(|e| Error::Decode {
        offset: e.utf8_error().valid_up_to() as u64,
    })
}
