//! [`UringBackend`]: a local file whose reads, writes and syncs run on an `io_uring`.

use std::io;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use fileio_cache::{FileKey, Stamp};

use super::UringDriver;
use super::driver::{MAX_RW, Request};
use crate::backend::{Backend, StdBackend};
use crate::mode::OpenMode;

/// Reads asking for more than this first check the file's length, so that a request
/// for "everything" (`usize::MAX`) allocates no more than the file holds.
const CLAMP_ABOVE: usize = 1 << 20;

/// A local file whose reads, writes, syncs and truncations run on an `io_uring`
/// ([`UringDriver`]), with the same inline fast path as the pool backend.
///
/// - Reads first try `preadv2(RWF_NOWAIT)` on the calling thread
///   ([`Backend::read_at_inline`], unless turned off with
///   [`inline_reads`](UringBackend::inline_reads)); the rest go to the ring, looping
///   until the request is filled or end of file.
/// - Writes go to the ring and loop until all of the data is written.
/// - `sync_all` / `sync_data` are `IORING_OP_FSYNC` (with `IORING_FSYNC_DATASYNC`);
///   `set_len` is `IORING_OP_FTRUNCATE` where the kernel has it and runs on the
///   `blocking` crate's pool otherwise.
/// - `stamp` and `len` are one `fstat` of the open descriptor on the calling thread.
///
/// Dropping any of its futures is safe at any point: see the
/// [module's `# Cancellation`](super#cancellation).
#[derive(Debug)]
pub struct UringBackend {
    file: Arc<StdBackend>,
    driver: UringDriver,
    inline_reads: bool,
}

impl UringBackend {
    /// Opens `path` with `mode`'s semantics on the process-wide ring
    /// ([`UringDriver::global`]). The `open` system call itself runs on the `blocking`
    /// crate's pool.
    ///
    /// # Errors
    ///
    /// - The error of [`UringDriver::global`] when `io_uring` is unavailable (the file is
    ///   not opened then: a caller that falls back opens it its own way).
    /// - What the OS says when opening (`NotFound`, `AlreadyExists` for `"x"`...).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("log.txt");
    /// use fileio_core::uring::UringBackend;
    /// use fileio_core::{Backend, OpenMode};
    ///
    /// futures_lite::future::block_on(async {
    ///     match UringBackend::open(&path, OpenMode::parse("a+").unwrap()).await {
    ///         Ok(backend) => {
    ///             backend.write_at(0, "line\n".into()).await?;
    ///             assert_eq!(backend.len().await?, 5);
    ///         }
    ///         Err(e) => eprintln!("no io_uring here ({e}): use the pool backend"),
    ///     }
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn open(path: impl AsRef<Path>, mode: OpenMode) -> io::Result<UringBackend> {
        let driver = UringDriver::global()?;
        let path = path.as_ref().to_path_buf();
        let file = blocking::unblock(move || StdBackend::open(path, mode)).await?;
        Ok(UringBackend::with_driver(file, driver))
    }

    /// Runs an open file on the process-wide ring.
    ///
    /// # Errors
    ///
    /// The error of [`UringDriver::global`] when `io_uring` is unavailable.
    pub fn new(file: StdBackend) -> io::Result<UringBackend> {
        Ok(UringBackend::with_driver(file, UringDriver::global()?))
    }

    /// Runs an open file on `driver`'s ring.
    pub fn with_driver(file: StdBackend, driver: UringDriver) -> UringBackend {
        UringBackend::from_shared(Arc::new(file), driver)
    }

    /// Runs an open file that another backend shares on `driver`'s ring.
    pub(crate) fn from_shared(file: Arc<StdBackend>, driver: UringDriver) -> UringBackend {
        UringBackend {
            file,
            driver,
            inline_reads: true,
        }
    }

    /// Whether reads first try `preadv2(RWF_NOWAIT)` on the calling thread (default:
    /// on). Off, every read that misses fileio's cache goes through the ring.
    pub fn inline_reads(mut self, on: bool) -> UringBackend {
        self.inline_reads = on;
        self
    }

    /// The underlying blocking backend (the open file).
    pub fn std_backend(&self) -> &Arc<StdBackend> {
        &self.file
    }

    /// The ring this backend runs on.
    pub fn driver(&self) -> &UringDriver {
        &self.driver
    }

    /// One read on the ring into `buf`'s spare capacity.
    async fn read_once(
        &self,
        buf: Vec<u8>,
        len: usize,
        offset: u64,
    ) -> (Vec<u8>, io::Result<usize>) {
        let request = Request::Read {
            file: self.file.clone(),
            buf,
            len,
            offset,
        };
        let (request, res) = self.driver.inner.run(request).await;
        (request.into_buf(), res)
    }

    async fn run(&self, request: Request) -> io::Result<usize> {
        self.driver.inner.run(request).await.1
    }
}

#[async_trait]
impl Backend for UringBackend {
    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        if offset > i64::MAX as u64 {
            // Past the largest file offset Linux has, hence past end of file (the kernel
            // would call the offset invalid).
            return Ok(Bytes::new());
        }
        let len = if len > CLAMP_ABOVE {
            let size = self.file.stamp_blocking()?.len();
            let left = size.saturating_sub(offset);
            len.min(usize::try_from(left).unwrap_or(usize::MAX))
        } else {
            len
        };
        let mut buf = Vec::with_capacity(len);
        while buf.len() < len {
            let pos = offset.saturating_add(buf.len() as u64);
            let want = len - buf.len();
            let (back, res) = self.read_once(buf, want, pos).await;
            buf = back;
            match res {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Bytes::from(buf))
    }

    async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
        let mut done = 0;
        while done < data.len() {
            let end = data.len().min(done.saturating_add(MAX_RW));
            let request = Request::Write {
                file: self.file.clone(),
                data: data.slice(done..end),
                offset: offset.saturating_add(done as u64),
            };
            match self.run(request).await {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "io_uring write wrote no bytes",
                    ));
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Report what was written; the caller's next attempt sees the error.
                Err(_) if done > 0 => return Ok(done),
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    async fn len(&self) -> io::Result<u64> {
        Ok(self.file.stamp_blocking()?.len())
    }

    async fn set_len(&self, len: u64) -> io::Result<()> {
        if self.driver.has_ftruncate_op() {
            loop {
                let request = Request::Ftruncate {
                    file: self.file.clone(),
                    len,
                };
                match self.run(request).await {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    res => return res.map(drop),
                }
            }
        }
        let file = self.file.clone();
        blocking::unblock(move || file.as_std().set_len(len)).await
    }

    async fn sync_all(&self) -> io::Result<()> {
        self.sync(false).await
    }

    async fn sync_data(&self) -> io::Result<()> {
        self.sync(true).await
    }

    async fn stamp(&self) -> io::Result<Stamp> {
        self.file.stamp_blocking()
    }

    fn key(&self) -> FileKey {
        self.file.key()
    }

    /// `preadv2(RWF_NOWAIT)` on the calling thread: data only when all of it is in the
    /// page cache; `None` sends the read to the ring.
    fn read_at_inline(&self, offset: u64, len: usize) -> Option<io::Result<Bytes>> {
        if !self.inline_reads {
            return None;
        }
        self.file.try_read_at_nowait(offset, len).transpose()
    }

    /// One `fstat` of the open descriptor: it does not wait for the disk.
    fn stamp_inline(&self) -> Option<io::Result<Stamp>> {
        Some(self.file.stamp_blocking())
    }

    fn local_file(&self) -> Option<&std::fs::File> {
        Some(self.file.as_std())
    }
}

impl UringBackend {
    async fn sync(&self, datasync: bool) -> io::Result<()> {
        loop {
            let request = Request::Fsync {
                file: self.file.clone(),
                datasync,
            };
            match self.run(request).await {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                res => return res.map(drop),
            }
        }
    }
}
