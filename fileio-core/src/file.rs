//! The blocking [`File`].

use std::fmt;
use std::io::{self, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_lite::future::block_on;

use fileio_cache::Stamp;

use crate::backend::{Backend, StdBackend};
use crate::engine::Handle;
use crate::error::{Error, Op, Result};
use crate::hooks::IoEvent;
use crate::mode::OpenMode;
use crate::options::Options;
use crate::stream::Stream;
use crate::text::strip_terminator;

/// A file for blocking code: Python-style modes, positional and cursor I/O, the shared
/// range cache, text and hooks.
///
/// Implements [`Stream`] (import it to call `read_at`, `write_at`, `read`, `seek`...) and
/// `std::io::{Read, Write, Seek}`; code that imports both calls through the trait path
/// (`Stream::read(&mut file, 10)`). Hooks, the text layer, [`lines`](File::lines) and
/// [`chunks`](File::chunks) are inherent.
///
/// `clone` gives another handle on the same open file with its own cursor (starting
/// where this one's is) and a copy of this one's hooks.
///
/// # Examples
///
/// ```
/// # fn main() -> fileio_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("log.bin");
/// use fileio_core::{File, Stream};
///
/// let file = File::open(&path, "w+b")?;
/// file.write_at(0, b"0123456789")?;
/// assert_eq!(&file.read_at(3, 4)?[..], b"3456");
/// assert_eq!(file.tell(), 0); // positional I/O leaves the cursor alone
/// # Ok(()) }
/// ```
pub struct File {
    h: Handle,
}

impl File {
    /// Opens `path` with a Python mode string (`"r"`, `"rb+"`, `"a"`, `"x"`...) and
    /// default [`Options`].
    ///
    /// # Errors
    ///
    /// - [`Error::Mode`] for a mode Python's `open()` rejects.
    /// - [`Error::Io`] with kind `NotFound` for a missing file in `"r"` modes,
    ///   `AlreadyExists` for `"x"` on an existing file, `PermissionDenied`...
    pub fn open(path: impl AsRef<Path>, mode: &str) -> Result<File> {
        File::options().mode(mode).open(path)
    }

    /// The builder: `File::options().mode("rb").no_cache().open(path)`.
    pub fn options() -> Options {
        Options::default()
    }

    /// Wraps an already open file. `mode` must describe how it was opened (fileio
    /// cannot ask the OS portably); the cursor starts at the file's current position
    /// (at its end in append modes).
    ///
    /// # Errors
    ///
    /// [`Error::Mode`] for an invalid mode; [`Error::Io`] when the file's metadata
    /// cannot be read.
    pub fn from_std(file: std::fs::File, path: impl Into<PathBuf>, mode: &str) -> Result<File> {
        let path = path.into();
        let mode = OpenMode::parse(mode)?;
        let position = (&file)
            .stream_position()
            .map_err(|e| Error::io(Op::Open, path.clone(), e))?;
        let backend =
            StdBackend::from_std(file).map_err(|e| Error::io(Op::Open, path.clone(), e))?;
        let mut options = Options::default();
        options.mode(&mode.to_string());
        let mut file = File::from_backend(Arc::new(backend), path, &options)?;
        if !mode.appending() {
            file.h.seek_to(position);
        }
        Ok(file)
    }

    /// Runs the engine over any backend (blocking the calling thread on its futures).
    ///
    /// # Errors
    ///
    /// [`Error::Mode`] for an invalid mode, [`Error::UnknownEncoding`], and in append
    /// modes [`Error::Io`] if the backend cannot tell the file's length.
    pub fn from_backend(
        backend: Arc<dyn Backend>,
        path: impl Into<PathBuf>,
        options: &Options,
    ) -> Result<File> {
        let path: Arc<Path> = Arc::from(path.into());
        Ok(File {
            h: block_on(Handle::open(backend, path, options))?,
        })
    }

    /// The file's current version; see [`AsyncFile::stamp`](crate::AsyncFile::stamp).
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] after `close`; [`Error::Io`] when the backend cannot say.
    pub fn stamp(&self) -> Result<Stamp> {
        block_on(self.h.stamp())
    }

    /// Registers a hook called after every successful read (cache hits included) with
    /// the offset and the bytes returned. Clones made later inherit it.
    pub fn on_read(&self, hook: impl Fn(&IoEvent) + Send + Sync + 'static) -> &Self {
        self.h.on_read(Arc::new(hook));
        self
    }

    /// Registers a hook called after every successful write with the offset and bytes.
    pub fn on_write(&self, hook: impl Fn(&IoEvent) + Send + Sync + 'static) -> &Self {
        self.h.on_write(Arc::new(hook));
        self
    }

    /// Reads at most `max_chars` characters from the cursor with the handle's encoding,
    /// never splitting a character; fewer only at end of file.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] with the offset of the first invalid byte (the cursor does not
    /// move); the errors of [`Stream::read`].
    pub fn read_text(&mut self, max_chars: usize) -> Result<String> {
        block_on(self.h.read_text(max_chars))
    }

    /// Reads one line from the cursor, keeping its `"\n"` or `"\r\n"`; `None` at end of
    /// file. Never reads past the terminator (the cursor stops right after it).
    ///
    /// # Errors
    ///
    /// As [`File::read_text`].
    pub fn read_line(&mut self) -> Result<Option<String>> {
        block_on(self.h.read_line())
    }

    /// Encodes `text` with the handle's encoding and writes it at the cursor; returns
    /// the number of bytes written.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] for characters the encoding cannot represent (nothing is
    /// written); the errors of [`Stream::write`].
    pub fn write_str(&mut self, text: &str) -> Result<usize> {
        block_on(self.h.write_str(text))
    }

    /// The lines from the cursor on, without terminators, advancing the cursor.
    pub fn lines(&mut self) -> Lines<'_> {
        Lines {
            file: self,
            done: false,
        }
    }

    /// `size`-byte chunks from the cursor on (the last may be shorter), advancing the
    /// cursor. A `size` of 0 yields one [`Error::InvalidArgument`].
    pub fn chunks(&mut self, size: usize) -> Chunks<'_> {
        Chunks {
            file: self,
            size,
            done: false,
        }
    }
}

/// What `std::fs::File` users reach for: `create`, `create_new`, `metadata`,
/// `set_permissions`, the descriptor and the std file.
impl File {
    /// Creates `path` or truncates it, for writing: mode `"wb"` (std's `File::create`).
    ///
    /// # Errors
    ///
    /// As [`File::open`].
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> fileio_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("new.bin");
    /// use fileio_core::{File, Stream};
    ///
    /// let mut file = File::create(&path)?;
    /// file.write(b"data")?;
    /// assert_eq!(file.metadata()?.len(), 4);
    /// assert!(File::create_new(&path).is_err()); // AlreadyExists
    /// # Ok(()) }
    /// ```
    pub fn create(path: impl AsRef<Path>) -> Result<File> {
        File::open(path, "wb")
    }

    /// Creates `path` for writing, failing with `AlreadyExists` if it exists: mode
    /// `"xb"` (std's `File::create_new`).
    ///
    /// # Errors
    ///
    /// As [`File::open`].
    pub fn create_new(path: impl AsRef<Path>) -> Result<File> {
        File::open(path, "xb")
    }

    /// The file's [`std::fs::Metadata`] (one `fstat` of the open descriptor).
    ///
    /// # Errors
    ///
    /// [`Error::Closed`]; [`Error::Io`] with kind `Unsupported` when the backend is not
    /// a local file ([`Backend::local_file`]), or what `fstat` says.
    pub fn metadata(&self) -> Result<std::fs::Metadata> {
        self.h.metadata()
    }

    /// Changes the file's permissions (`fchmod` of the open descriptor).
    ///
    /// # Errors
    ///
    /// As [`File::metadata`], with what `fchmod` says.
    pub fn set_permissions(&self, perm: std::fs::Permissions) -> Result<()> {
        self.h
            .require_local_file(Op::SetPermissions)?
            .set_permissions(perm)
            .map_err(|e| Error::io(Op::SetPermissions, self.h.path().to_path_buf(), e))
    }

    /// The descriptor of the local file, or `None` when the file is closed or its
    /// backend is not a local file. An `Option` rather than std's `AsFd`, because a
    /// `File` can run over any [`Backend`] ([`File::from_backend`]).
    #[cfg(unix)]
    pub fn as_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.h.as_fd()
    }

    /// The raw descriptor of the local file; `None` as for [`File::as_fd`].
    #[cfg(unix)]
    pub fn as_raw_fd(&self) -> Option<std::os::fd::RawFd> {
        self.h.as_raw_fd()
    }

    /// The local file as a [`std::fs::File`] positioned at this handle's cursor (at the
    /// end in append modes), and this handle dropped without `close` (so no sync on
    /// close: call [`Stream::sync_all`] first if you need one). fileio's writes are not
    /// buffered, so nothing is left to flush.
    ///
    /// The std file is a duplicate descriptor (`dup`) of the open file: other clones of
    /// this handle keep working and share its open file description (fileio only uses
    /// positional I/O on it, so moving the std file's position does not disturb them).
    /// Writes through the std file bypass fileio's cache; handles with
    /// [`Coherence::Strict`](crate::Coherence::Strict) see them.
    ///
    /// # Errors
    ///
    /// Gives the file back (`Err(self)`) when it is closed, its backend is not a local
    /// file, or `dup` fails.
    pub fn try_into_std(self) -> std::result::Result<std::fs::File, File> {
        self.h.std_duplicate().ok_or(self)
    }
}

impl Clone for File {
    fn clone(&self) -> File {
        File {
            h: self.h.duplicate(),
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("path", &self.h.path())
            .field("mode", &format_args!("{}", self.h.mode()))
            .field("cursor", &self.h.tell())
            .field("closed", &self.h.is_closed())
            .field("backend", &self.h.backend_debug())
            .finish()
    }
}

impl Stream for File {
    fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        self.h.read_at_blocking(offset, len)
    }
    fn read_to_end_at(&self, offset: u64) -> Result<Bytes> {
        block_on(self.h.read_to_end_at(offset))
    }
    fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        self.h.write_at_blocking(offset, data)
    }
    fn read(&mut self, len: usize) -> Result<Bytes> {
        self.h.read_blocking(len)
    }
    fn read_to_end(&mut self) -> Result<Bytes> {
        block_on(self.h.read_to_end())
    }
    fn write(&mut self, data: &[u8]) -> Result<usize> {
        block_on(self.h.write(Bytes::copy_from_slice(data)))
    }
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        block_on(self.h.seek(pos))
    }
    fn tell(&self) -> u64 {
        self.h.tell()
    }
    fn len(&self) -> Result<u64> {
        block_on(self.h.len())
    }
    fn set_len(&self, len: u64) -> Result<()> {
        block_on(self.h.set_len(len))
    }
    fn sync_all(&self) -> Result<()> {
        block_on(self.h.sync_all())
    }
    fn sync_data(&self) -> Result<()> {
        block_on(self.h.sync_data())
    }
    fn close(&mut self) -> Result<()> {
        block_on(self.h.close())
    }
    fn is_closed(&self) -> bool {
        self.h.is_closed()
    }
    fn path(&self) -> &Path {
        self.h.path()
    }
    fn mode(&self) -> OpenMode {
        self.h.mode()
    }
}

impl io::Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let data = Stream::read(self, buf.len())?;
        buf[..data.len()].copy_from_slice(&data);
        Ok(data.len())
    }
}

impl io::Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(Stream::write(self, buf)?)
    }
    fn flush(&mut self) -> io::Result<()> {
        // Writes are not buffered: each one has reached the backend when it returns.
        if self.h.is_closed() {
            return Err(Error::Closed.into());
        }
        Ok(())
    }
}

impl io::Seek for File {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        Ok(Stream::seek(self, pos)?)
    }
}

/// The lines of a [`File`], from [`File::lines`].
#[derive(Debug)]
pub struct Lines<'a> {
    file: &'a mut File,
    done: bool,
}

impl Iterator for Lines<'_> {
    type Item = Result<String>;
    fn next(&mut self) -> Option<Result<String>> {
        if self.done {
            return None;
        }
        match self.file.read_line() {
            Ok(Some(line)) => Some(Ok(strip_terminator(line))),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// The chunks of a [`File`], from [`File::chunks`].
#[derive(Debug)]
pub struct Chunks<'a> {
    file: &'a mut File,
    size: usize,
    done: bool,
}

impl Iterator for Chunks<'_> {
    type Item = Result<Bytes>;
    fn next(&mut self) -> Option<Result<Bytes>> {
        if self.done {
            return None;
        }
        if self.size == 0 {
            self.done = true;
            return Some(Err(Error::InvalidArgument("chunk size must be at least 1")));
        }
        match Stream::read(self.file, self.size) {
            Ok(chunk) if chunk.is_empty() => {
                self.done = true;
                None
            }
            Ok(chunk) => {
                if chunk.len() < self.size {
                    self.done = true;
                }
                Some(Ok(chunk))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
