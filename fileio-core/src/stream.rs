//! The stream traits: [`Stream`] for blocking code, [`AsyncStream`] for async code.
//!
//! The method names follow Python's `io` module (`read`, `write`, `seek`, `tell`), so they
//! overlap with `std::io::{Read, Write, Seek}` and the async I/O extension traits. Both sets
//! work on the same value; code that imports both calls through the trait path:
//! `Stream::read(&mut file, 10)` or `AsyncStream::read(&mut file, 10).await`.

use std::io::SeekFrom;
use std::path::Path;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::Result;
use crate::mode::OpenMode;

/// A file-like object for blocking code: positional I/O beside a cursor.
///
/// # Implementation
///
/// - `read_at` / `read` return fewer bytes than asked only at end of file, and empty
///   [`Bytes`] past it.
/// - `write_at` / `write` write all of `data` or fail, and return `data.len()`.
/// - Only `read`, `read_to_end`, `write` and `seek` move the cursor.
/// - After `close`, every method that does I/O returns [`Error::Closed`](crate::Error::Closed);
///   `close` itself stays `Ok`.
#[allow(clippy::len_without_is_empty)] // a file's length, not a collection's
pub trait Stream {
    /// Reads up to `len` bytes at `offset` without touching the cursor.
    ///
    /// # Errors
    ///
    /// - [`Error::Closed`](crate::Error::Closed) after `close`.
    /// - [`Error::NotReadable`](crate::Error::NotReadable) on a handle opened without read access.
    /// - [`Error::Overflow`](crate::Error::Overflow) when `offset + len` overflows.
    /// - [`Error::Io`](crate::Error::Io) when the backend fails.
    fn read_at(&self, offset: u64, len: usize) -> Result<Bytes>;
    /// Reads from `offset` to the end of the file without touching the cursor.
    ///
    /// # Errors
    ///
    /// As [`Stream::read_at`].
    fn read_to_end_at(&self, offset: u64) -> Result<Bytes>;
    /// Writes all of `data` at `offset` without touching the cursor.
    ///
    /// # Errors
    ///
    /// - [`Error::Closed`](crate::Error::Closed), [`Error::NotWritable`](crate::Error::NotWritable).
    /// - [`Error::AppendOnly`](crate::Error::AppendOnly) on an append-mode handle.
    /// - [`Error::Overflow`](crate::Error::Overflow), [`Error::Io`](crate::Error::Io).
    fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize>;
    /// Reads up to `len` bytes at the cursor and advances it by what was read.
    ///
    /// # Errors
    ///
    /// As [`Stream::read_at`].
    fn read(&mut self, len: usize) -> Result<Bytes>;
    /// Reads from the cursor to the end of the file and moves the cursor there.
    ///
    /// # Errors
    ///
    /// As [`Stream::read_at`].
    fn read_to_end(&mut self) -> Result<Bytes>;
    /// Writes all of `data` at the cursor (at the end of the file in append mode) and
    /// moves the cursor past it.
    ///
    /// # Errors
    ///
    /// As [`Stream::write_at`], except that appending is what append mode does.
    fn write(&mut self, data: &[u8]) -> Result<usize>;
    /// Moves the cursor; returns the new position. Seeking past the end is allowed.
    ///
    /// # Errors
    ///
    /// - [`Error::NegativeSeek`](crate::Error::NegativeSeek) for a target before 0.
    /// - [`Error::Closed`](crate::Error::Closed); [`Error::Io`](crate::Error::Io) when
    ///   `SeekFrom::End` cannot read the length.
    fn seek(&mut self, pos: SeekFrom) -> Result<u64>;
    /// The cursor.
    fn tell(&self) -> u64;
    /// The file's current length.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`](crate::Error::Closed), [`Error::Io`](crate::Error::Io).
    fn len(&self) -> Result<u64>;
    /// Truncates or extends (with zeros) the file. The cursor does not move.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`](crate::Error::Closed), [`Error::NotWritable`](crate::Error::NotWritable),
    /// [`Error::Io`](crate::Error::Io).
    fn set_len(&self, len: u64) -> Result<()>;
    /// Flushes data and metadata to durable storage.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`](crate::Error::Closed), [`Error::Io`](crate::Error::Io).
    /// Once a sync of the open file has failed (through this handle or a clone), every
    /// later one returns [`Error::SyncFailed`](crate::Error::SyncFailed).
    fn sync_all(&self) -> Result<()>;
    /// Flushes data to durable storage.
    ///
    /// # Errors
    ///
    /// As [`sync_all`](Stream::sync_all).
    fn sync_data(&self) -> Result<()>;
    /// Closes the handle, syncing data first if it wrote and `sync_on_close` is set.
    /// Idempotent: later calls return `Ok(())`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`](crate::Error::Io) from the sync; with `sync_on_close` set,
    /// [`Error::SyncFailed`](crate::Error::SyncFailed) after an earlier failed sync of
    /// the open file. The handle is closed all the same.
    fn close(&mut self) -> Result<()>;
    /// Whether `close` was called.
    fn is_closed(&self) -> bool;
    /// The path the file was opened with.
    fn path(&self) -> &Path;
    /// The mode the file was opened with.
    fn mode(&self) -> OpenMode;
}

/// A file-like object for async code: the methods of [`Stream`], `async` where they do I/O.
///
/// Object safe (`Box<dyn AsyncStream>` works).
///
/// # Implementation
///
/// As [`Stream`]. In addition, cancellation: dropping a read future loses nothing and
/// leaves the cursor where it was; dropping a write future after the write reached the
/// backend lets it complete and moves the cursor as if it had finished.
#[allow(clippy::len_without_is_empty)] // a file's length, not a collection's
#[async_trait]
pub trait AsyncStream: Send + Sync {
    /// See [`Stream::read_at`].
    ///
    /// # Errors
    ///
    /// As [`Stream::read_at`].
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes>;
    /// See [`Stream::read_to_end_at`].
    ///
    /// # Errors
    ///
    /// As [`Stream::read_at`].
    async fn read_to_end_at(&self, offset: u64) -> Result<Bytes>;
    /// See [`Stream::write_at`].
    ///
    /// # Errors
    ///
    /// As [`Stream::write_at`].
    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize>;
    /// See [`Stream::read`].
    ///
    /// # Errors
    ///
    /// As [`Stream::read_at`].
    async fn read(&mut self, len: usize) -> Result<Bytes>;
    /// See [`Stream::read_to_end`].
    ///
    /// # Errors
    ///
    /// As [`Stream::read_at`].
    async fn read_to_end(&mut self) -> Result<Bytes>;
    /// See [`Stream::write`].
    ///
    /// # Errors
    ///
    /// As [`Stream::write`].
    async fn write(&mut self, data: &[u8]) -> Result<usize>;
    /// See [`Stream::seek`].
    ///
    /// # Errors
    ///
    /// As [`Stream::seek`].
    async fn seek(&mut self, pos: SeekFrom) -> Result<u64>;
    /// See [`Stream::tell`].
    fn tell(&self) -> u64;
    /// See [`Stream::len`].
    ///
    /// # Errors
    ///
    /// As [`Stream::len`].
    async fn len(&self) -> Result<u64>;
    /// See [`Stream::set_len`].
    ///
    /// # Errors
    ///
    /// As [`Stream::set_len`].
    async fn set_len(&self, len: u64) -> Result<()>;
    /// See [`Stream::sync_all`].
    ///
    /// # Errors
    ///
    /// As [`Stream::sync_all`].
    async fn sync_all(&self) -> Result<()>;
    /// See [`Stream::sync_data`].
    ///
    /// # Errors
    ///
    /// As [`Stream::sync_data`].
    async fn sync_data(&self) -> Result<()>;
    /// See [`Stream::close`].
    ///
    /// # Errors
    ///
    /// As [`Stream::close`].
    async fn close(&mut self) -> Result<()>;
    /// See [`Stream::is_closed`].
    fn is_closed(&self) -> bool;
    /// See [`Stream::path`].
    fn path(&self) -> &Path;
    /// See [`Stream::mode`].
    fn mode(&self) -> OpenMode;
}
