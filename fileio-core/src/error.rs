//! The one error type of fileio.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::mode::ModeError;

/// `Result<T, fileio_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The operation that failed, carried by [`Error::Io`] so that every I/O error names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// Opening the file.
    Open,
    /// Reading bytes.
    Read,
    /// Writing bytes.
    Write,
    /// Reading the file's length or metadata.
    Stat,
    /// Changing the file's length.
    SetLen,
    /// `sync_all`.
    SyncAll,
    /// `sync_data`.
    SyncData,
    /// Closing the file (the sync that `close` performs).
    Close,
    /// `set_permissions`.
    SetPermissions,
}

impl Op {
    /// The lowercase verb used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Open => "open",
            Op::Read => "read",
            Op::Write => "write",
            Op::Stat => "stat",
            Op::SetLen => "set length of",
            Op::SyncAll => "sync",
            Op::SyncData => "sync data of",
            Op::Close => "close",
            Op::SetPermissions => "set permissions of",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in fileio.
///
/// Messages are lowercase and name the file and the operation where there is one.
/// [`Error::kind`] maps every variant to an [`io::ErrorKind`], and `From<Error> for
/// io::Error` keeps that kind, so fileio errors flow into `io::Result` code unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system (or a custom [`Backend`](crate::Backend)) reported an error.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// The file's path, as given when it was opened.
        path: PathBuf,
        /// What fileio was doing.
        op: Op,
        /// The underlying error; [`Error::kind`] is its kind.
        #[source]
        source: io::Error,
    },
    /// The mode string is not one Python's `open()` accepts.
    #[error(transparent)]
    Mode(#[from] ModeError),
    /// The handle was closed; every operation after `close` fails this way.
    #[error("i/o operation on closed file")]
    Closed,
    /// A read on a handle opened without read access (`"w"`, `"a"`, `"x"`).
    #[error("file not open for reading")]
    NotReadable,
    /// A write on a handle opened without write access (`"r"`).
    #[error("file not open for writing")]
    NotWritable,
    /// Bytes that are not valid in the handle's encoding (decoding is strict).
    #[error("invalid byte sequence for the file's encoding at offset {offset}")]
    Decode {
        /// Absolute file offset of the first invalid byte.
        offset: u64,
    },
    /// Text that the handle's encoding cannot represent (encoding is strict).
    #[error("character {index} of the text cannot be encoded as {encoding}")]
    Encode {
        /// Index (in characters) of the first character that cannot be encoded.
        index: usize,
        /// The encoding's name.
        encoding: &'static str,
    },
    /// The `encoding` option names no encoding fileio knows.
    #[error("unknown encoding: {0:?}")]
    UnknownEncoding(String),
    /// `write_at` on an append-mode handle: appends only go at the end of the file.
    #[error("positional write on a file opened in append mode")]
    AppendOnly,
    /// `offset + len` does not fit in a `u64`.
    #[error("offset {offset} plus length {len} overflows a 64-bit file position")]
    Overflow {
        /// The requested offset.
        offset: u64,
        /// The requested length.
        len: u64,
    },
    /// A seek to a position before the start of the file.
    #[error("invalid seek to a negative position")]
    NegativeSeek,
    /// An argument outside what the operation accepts (a chunk size of 0...).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// An earlier sync of this open file failed (`sync_all`, `sync_data` or the sync in
    /// `close`, through this handle or a clone of it), so what the disk holds is
    /// unknown: no later sync of the open file reports success. A second `fsync` after
    /// a failed one may return 0 on Linux although the data was lost (PostgreSQL's
    /// "fsyncgate"). Reopening the file does not bring the data back: write it again
    /// from where it came from.
    #[error("{op} {}: an earlier sync of the file failed: {message}", path.display())]
    SyncFailed {
        /// The file's path, as given when it was opened.
        path: PathBuf,
        /// The operation that reports the earlier failure (`SyncAll`, `SyncData` or
        /// `Close`).
        op: Op,
        /// The kind of the earlier failure's error; [`Error::kind`] is this.
        kind: io::ErrorKind,
        /// The earlier failure's message.
        message: String,
    },
}

impl Error {
    /// The [`io::ErrorKind`] this error corresponds to.
    ///
    /// `Io` reports its source's kind; bad arguments (`Mode`, `Overflow`, `NegativeSeek`,
    /// `UnknownEncoding`, `AppendOnly`, `InvalidArgument`) are `InvalidInput`; `NotReadable` and `NotWritable`
    /// are `PermissionDenied`; `Decode` and `Encode` are `InvalidData`; `Closed` is
    /// `Other`, since no OS error describes a handle closed by its owner; `SyncFailed`
    /// is the kind of the earlier failed sync's error.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            Error::Io { source, .. } => source.kind(),
            Error::Mode(_)
            | Error::Overflow { .. }
            | Error::NegativeSeek
            | Error::UnknownEncoding(_)
            | Error::InvalidArgument(_)
            | Error::AppendOnly => io::ErrorKind::InvalidInput,
            Error::NotReadable | Error::NotWritable => io::ErrorKind::PermissionDenied,
            Error::Decode { .. } | Error::Encode { .. } => io::ErrorKind::InvalidData,
            Error::Closed => io::ErrorKind::Other,
            Error::SyncFailed { kind, .. } => *kind,
        }
    }

    pub(crate) fn io(op: Op, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            op,
            source,
        }
    }
}

impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        // The whole error (path and operation included) stays reachable through
        // `io::Error::get_ref` / `into_inner` and downcasting.
        io::Error::new(error.kind(), error)
    }
}
