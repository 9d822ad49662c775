//! [`Handle`]: one per handle: the cursor, access checks, the closed flag, hooks, and the
//! text layer over the shared file's positional reads and writes.

use std::io::SeekFrom;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use fileio_cache::Stamp;
use futures_lite::future::block_on;

use super::ignore_outcome;
use super::queued::{QueuedOp, WriteAt};
use super::read::{MAX_CACHED_READ, Pending, ReadNow};
use super::{Shared, end_of};
use crate::backend::Backend;
use crate::error::{Error, Op, Result};
use crate::hooks::{self, AsyncHook, Hooks, IoEvent, Kind, SyncHook};
use crate::mode::OpenMode;
use crate::options::Options;

/// First chunk the text layer reads when looking for a line end.
const LINE_CHUNK: usize = 8 * 1024;

/// How far [`Handle::read_at_now`] took a read.
pub(crate) enum ReadAt {
    /// Finished, nothing left to do.
    Done(Result<Bytes>),
    /// Read (from the cache when the flag is set); the read hooks are still to fire.
    Fire(Bytes, bool),
    /// Needs [`Shared::read_pending`], then the hooks (boxed, as in [`ReadNow`]).
    Pending(Box<Pending>),
}

/// One handle: the shared file plus a cursor, hooks and a closed flag.
#[derive(Debug)]
pub(crate) struct Handle {
    shared: Option<Arc<Shared>>,
    path: Arc<Path>,
    mode: OpenMode,
    /// Shared with this handle's writes, which move it the moment they reach the backend
    /// (while the write future borrows the handle) and put it back if they then fail.
    cursor: Arc<Cursor>,
    wrote: AtomicBool,
    hooks: Hooks,
}

/// A handle's cursor: its position and how many times it moved.
#[derive(Debug)]
struct Cursor(Mutex<CursorState>);

#[derive(Debug, Clone, Copy)]
struct CursorState {
    pos: u64,
    moves: u64,
}

impl Cursor {
    fn new(pos: u64) -> Arc<Cursor> {
        Arc::new(Cursor(Mutex::new(CursorState { pos, moves: 0 })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CursorState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self) -> u64 {
        self.state().pos
    }

    /// Moves the cursor to `pos`; returns the move's number, for [`Cursor::put_back`].
    fn set(&self, pos: u64) -> u64 {
        let mut state = self.state();
        state.pos = pos;
        state.moves = state.moves.wrapping_add(1);
        state.moves
    }

    /// Moves the cursor to `pos` if its last move is still move number `moved`.
    fn put_back(&self, moved: u64, pos: u64) {
        let mut state = self.state();
        if state.moves == moved {
            state.pos = pos;
            state.moves = state.moves.wrapping_add(1);
        }
    }
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>, mode: OpenMode, cursor: u64) -> Handle {
        let path = shared.path.clone();
        Handle::build(Some(shared), path, mode, cursor, false, Arc::default())
    }

    /// A handle from its parts: the one place that lists them.
    fn build(
        shared: Option<Arc<Shared>>,
        path: Arc<Path>,
        mode: OpenMode,
        cursor: u64,
        wrote: bool,
        hooks: Arc<hooks::HookSet>,
    ) -> Handle {
        Handle {
            shared,
            path,
            mode,
            cursor: Cursor::new(cursor),
            wrote: AtomicBool::new(wrote),
            hooks: Hooks::new(hooks),
        }
    }

    /// Opens the engine over `backend`: parses the mode and options, puts the cursor at
    /// the end in append modes.
    pub(crate) async fn open(
        backend: Arc<dyn Backend>,
        path: Arc<Path>,
        options: &Options,
    ) -> Result<Handle> {
        let mode = options.open_mode(&path)?;
        let shared = Arc::new(Shared::new(backend, path, options)?);
        let cursor = if mode.appending() {
            shared.len().await?
        } else {
            0
        };
        Ok(Handle::new(shared, mode, cursor))
    }

    /// Another handle on the same open file, with its own cursor starting at this one's
    /// and a copy of this one's hooks.
    pub(crate) fn duplicate(&self) -> Handle {
        let (path, mode, at) = (self.path.clone(), self.mode, self.tell());
        Handle::build(
            self.shared.clone(),
            path,
            mode,
            at,
            false,
            self.hooks.snapshot(),
        )
    }

    /// Moves the open file into a new handle that will close it, leaving this one closed
    /// at once (for `poll_close`, whose work outlives the call).
    pub(crate) fn take_for_close(&mut self) -> Handle {
        let (path, mode, at) = (self.path.clone(), self.mode, self.tell());
        let wrote = self.wrote.load(Ordering::Relaxed);
        Handle::build(self.shared.take(), path, mode, at, wrote, Arc::default())
    }

    pub(crate) fn shared(&self) -> Result<&Arc<Shared>> {
        // Not `ok_or`: that builds the error and drops it on every call.
        match &self.shared {
            Some(shared) => Ok(shared),
            None => Err(Error::Closed),
        }
    }

    fn readable(&self) -> Result<&Arc<Shared>> {
        let shared = self.shared()?;
        if self.mode.readable() {
            Ok(shared)
        } else {
            Err(Error::NotReadable)
        }
    }

    pub(crate) fn writable(&self) -> Result<&Arc<Shared>> {
        let shared = self.shared()?;
        if self.mode.writable() {
            Ok(shared)
        } else {
            Err(Error::NotWritable)
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn mode(&self) -> OpenMode {
        self.mode
    }

    pub(crate) fn tell(&self) -> u64 {
        self.cursor.get()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.shared.is_none()
    }

    async fn fire(&self, kind: Kind, offset: u64, data: &Bytes, from_cache: bool) {
        if let Some(set) = self.hooks.active(kind) {
            let event = IoEvent::new(self.path.clone(), offset, data.clone(), from_cache);
            hooks::fire_all(&set, kind, event).await;
        }
    }

    pub(crate) async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        let now = self.read_at_now(offset, len);
        self.read_at_rest(offset, len, now).await
    }

    /// Everything of [`read_at`](Self::read_at) that needs no waiting: the access checks
    /// and [`Shared::read_now`]. A read that finished and has no read hook to fire is
    /// [`ReadAt::Done`]; anything else goes on in [`read_at_rest`](Self::read_at_rest).
    #[inline]
    pub(crate) fn read_at_now(&self, offset: u64, len: usize) -> ReadAt {
        self.read_at_now_with(offset, len, Shared::read_now)
    }

    /// [`read_at_now`](Self::read_at_now) with `read` for [`Shared::read_now`].
    #[inline]
    fn read_at_now_with(
        &self,
        offset: u64,
        len: usize,
        read: impl FnOnce(&Shared, u64, usize) -> ReadNow,
    ) -> ReadAt {
        let shared = match self.readable() {
            Ok(shared) => shared,
            Err(e) => return ReadAt::Done(Err(e)),
        };
        match read(shared, offset, len) {
            ReadNow::Ready(Ok((data, from_cache))) => match self.hooks.active(Kind::Read) {
                None => ReadAt::Done(Ok(data)),
                Some(_) => ReadAt::Fire(data, from_cache),
            },
            ReadNow::Ready(Err(e)) => ReadAt::Done(Err(e)),
            ReadNow::Pending(pending) => ReadAt::Pending(pending),
        }
    }

    /// The rest of a [`read_at`](Self::read_at) that [`read_at_now`](Self::read_at_now)
    /// began: the waiting part of the read, then the read hooks.
    pub(crate) async fn read_at_rest(&self, offset: u64, len: usize, now: ReadAt) -> Result<Bytes> {
        let (data, from_cache) = match now {
            ReadAt::Done(result) => return result,
            ReadAt::Fire(data, from_cache) => (data, from_cache),
            ReadAt::Pending(pending) => {
                self.readable()?.read_pending(offset, len, *pending).await?
            }
        };
        self.fire(Kind::Read, offset, &data, from_cache).await;
        Ok(data)
    }

    /// [`read_at`](Self::read_at) for blocking callers: no executor at all when nothing
    /// has to wait (a cache hit, an inline read, no read hook).
    #[inline]
    pub(crate) fn read_at_blocking(&self, offset: u64, len: usize) -> Result<Bytes> {
        // A hit returns on its own: merged with the other outcomes, its bytes were
        // written out through the whole error-sized result.
        if let Some(data) = self.hit_now(offset, len) {
            return Ok(data);
        }
        self.read_at_blocking_rest(offset, len)
    }

    /// A read finished by a cache hit alone ([`Shared::hit_now`]), on a readable open
    /// handle with no read hook to fire. `None`: nothing done yet.
    #[inline]
    fn hit_now(&self, offset: u64, len: usize) -> Option<Bytes> {
        let shared = self.readable().ok()?;
        if self.hooks.any(Kind::Read) {
            return None;
        }
        shared.hit_now(offset, len)
    }

    /// [`read_at_blocking`](Self::read_at_blocking) past [`hit_now`](Self::hit_now).
    #[inline(never)]
    fn read_at_blocking_rest(&self, offset: u64, len: usize) -> Result<Bytes> {
        match self.read_at_now_with(offset, len, Shared::read_now_rest) {
            ReadAt::Done(result) => result,
            now => block_on(self.read_at_rest(offset, len, now)),
        }
    }

    /// [`read`](Self::read) for blocking callers.
    pub(crate) fn read_blocking(&mut self, len: usize) -> Result<Bytes> {
        let start = self.tell();
        let data = self.read_at_blocking(start, len)?;
        self.cursor.set(start + data.len() as u64);
        Ok(data)
    }

    pub(crate) async fn read_to_end_at(&self, offset: u64) -> Result<Bytes> {
        let shared = self.readable()?;
        let (len, basis) = shared.len_and_basis().await?;
        let rest = usize::try_from(len.saturating_sub(offset)).unwrap_or(usize::MAX);
        let data = match basis {
            // Under a policy that stamps every read, one stamp gives the length and is the
            // read's basis: the rest of the file as that stamp has it. The stamp says
            // where the file ended, so no second read looks for the end. A stamp that
            // says nothing is left (procfs files all say 0) proves nothing: like a
            // length alone, it is read on until a read comes back short.
            Some(basis) if rest > 0 => shared.read_on(offset, rest, basis).await?.0,
            _ => read_rest(shared, offset, rest).await?,
        };
        self.fire(Kind::Read, offset, &data, false).await;
        Ok(data)
    }

    /// Writes `data` at `offset` (at the end of the file when `None`), fires the write
    /// hooks and returns the offset written at. Leaves the cursor alone.
    pub(crate) async fn write_op<L>(
        &self,
        offset: Option<u64>,
        data: &Bytes,
        submitted: impl FnOnce(u64) -> L,
    ) -> Result<u64>
    where
        L: FnOnce(&Result<u64>) + Send + 'static,
    {
        let shared = self.writable()?;
        let at = shared.write(offset, data, submitted).await?;
        self.mark_wrote();
        self.fire(Kind::Write, at, data, false).await;
        Ok(at)
    }

    pub(crate) fn mark_wrote(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }

    /// Where a write at the cursor goes: `None` (the end) in append mode.
    pub(crate) fn cursor_write_offset(&self, len: usize) -> Result<Option<u64>> {
        if self.mode.appending() {
            Ok(None)
        } else {
            let cursor = self.tell();
            end_of(cursor, len)?;
            Ok(Some(cursor))
        }
    }

    /// The checks of a positional write, then the write queued at once when
    /// nothing needs to happen around it but its registration with the cache (no
    /// stamps, no write hooks; see [`Shared::write_at_queued`]); otherwise the bytes
    /// back, for
    /// [`write_at_other`](Self::write_at_other).
    pub(crate) fn write_at_start(&self, offset: u64, data: Bytes) -> Result<WriteAt<'_>> {
        let shared = self.writable()?;
        if self.mode.appending() {
            return Err(Error::AppendOnly);
        }
        if self.hooks.active(Kind::Write).is_some() {
            return Ok(WriteAt::Other(data));
        }
        shared.write_at_queued(offset, data)
    }

    /// A write [`write_at_start`](Self::write_at_start) queued, `len` bytes long.
    pub(crate) async fn write_at_queued(&self, write: QueuedOp<'_>, len: usize) -> Result<usize> {
        write.await?;
        self.mark_wrote();
        Ok(len)
    }

    /// A write [`write_at_start`](Self::write_at_start) gave back: the general path.
    pub(crate) async fn write_at_other(&self, offset: u64, data: Bytes) -> Result<usize> {
        self.write_op(Some(offset), &data, |_| ignore_outcome)
            .await?;
        Ok(data.len())
    }

    /// A positional write for blocking callers: the caller's slice goes to the
    /// backend as it is (see [`Shared::write_at_blocking`]); it is copied only for the
    /// write hooks, when there are any.
    pub(crate) fn write_at_blocking(&self, offset: u64, data: &[u8]) -> Result<usize> {
        let shared = self.writable()?;
        if self.mode.appending() {
            return Err(Error::AppendOnly);
        }
        shared.write_at_blocking(offset, data)?;
        self.mark_wrote();
        if let Some(set) = self.hooks.active(Kind::Write) {
            let data = Bytes::copy_from_slice(data);
            let event = IoEvent::new(self.path.clone(), offset, data, false);
            block_on(hooks::fire_all(&set, Kind::Write, event));
        }
        Ok(data.len())
    }

    pub(crate) async fn read(&mut self, len: usize) -> Result<Bytes> {
        let start = self.tell();
        let data = self.read_at(start, len).await?;
        self.cursor.set(start + data.len() as u64);
        Ok(data)
    }

    pub(crate) async fn read_to_end(&mut self) -> Result<Bytes> {
        let start = self.tell();
        let data = self.read_to_end_at(start).await?;
        self.cursor.set(start + data.len() as u64);
        Ok(data)
    }

    pub(crate) async fn write(&mut self, data: Bytes) -> Result<usize> {
        self.writable()?;
        let offset = self.cursor_write_offset(data.len())?;
        let start = self.tell();
        let len = data.len() as u64;
        let cursor = Arc::clone(&self.cursor);
        // Once the write reaches the backend at `at` (the end of the file in append mode),
        // the cursor is where the finished write leaves it, `at + len`: a future dropped
        // from then on has moved it, one dropped before has not. A write that then fails
        // puts it back at `start`, as an awaited failed write leaves it, unless the handle
        // moved it in the meantime. (`Shared::write` checked that `at + len` fits.)
        let submitted = |at: u64| {
            let moved = cursor.set(at + len);
            move |landed: &Result<u64>| {
                if landed.is_err() {
                    cursor.put_back(moved, start);
                }
            }
        };
        let result = self.write_op(offset, &data, submitted).await;
        match result {
            Ok(at) => {
                self.cursor.set(at + len);
                Ok(data.len())
            }
            Err(e) => {
                self.cursor.set(start);
                Err(e)
            }
        }
    }

    pub(crate) fn seek_to(&mut self, pos: u64) {
        self.cursor.set(pos);
    }

    /// What moves this handle's cursor from elsewhere: a queued append of write-behind,
    /// once it knows where it lands.
    pub(crate) fn cursor_mover(&self) -> impl Fn(u64) + Send + Sync + 'static {
        let cursor = Arc::clone(&self.cursor);
        move |pos| {
            cursor.set(pos);
        }
    }

    pub(crate) async fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        let shared = self.shared()?;
        let target = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(delta) => self.tell().checked_add_signed(delta),
            SeekFrom::End(delta) => shared.len().await?.checked_add_signed(delta),
        };
        // `checked_add_signed` fails both below zero and past u64::MAX; only the former
        // is a negative seek.
        let target = target.ok_or(match pos {
            SeekFrom::Current(d) | SeekFrom::End(d) if d < 0 => Error::NegativeSeek,
            _ => Error::Overflow {
                offset: self.tell(),
                len: u64::MAX,
            },
        })?;
        self.cursor.set(target);
        Ok(target)
    }

    pub(crate) async fn len(&self) -> Result<u64> {
        self.shared()?.len().await
    }

    /// The file's current version, asked of the backend (one `fstat` for local files).
    pub(crate) async fn stamp(&self) -> Result<Stamp> {
        self.shared()?.fresh_stamp(false).await
    }

    pub(crate) async fn set_len(&self, len: u64) -> Result<()> {
        let shared = self.writable()?;
        shared.set_len(len).await?;
        self.mark_wrote();
        Ok(())
    }

    pub(crate) async fn sync_all(&self) -> Result<()> {
        self.shared()?.sync_all().await
    }

    pub(crate) async fn sync_data(&self) -> Result<()> {
        self.shared()?.sync_data().await
    }

    /// Closes the handle: syncs data first if it wrote and `sync_on_close` is set. The
    /// handle is closed even when that sync fails (the error is returned once). With
    /// `sync_on_close` set, a close after an earlier failed sync of the open file
    /// returns [`Error::SyncFailed`] whether or not this handle wrote.
    pub(crate) async fn close(&mut self) -> Result<()> {
        let Some(shared) = self.shared.take() else {
            return Ok(());
        };
        if !shared.sync_on_close() {
            return Ok(());
        }
        if self.wrote.load(Ordering::Relaxed) {
            let result = shared.sync_for_close().await;
            if result.is_err() && shared.sync_retryable() {
                // Nothing was lost ([`Backend::sync_retryable`]): the handle stays open
                // so that `close` can be retried.
                self.shared = Some(shared);
            }
            result
        } else {
            shared.earlier_sync_failure(Op::Close)
        }
    }

    // ---- hooks ----

    pub(crate) fn on_read(&self, hook: SyncHook) {
        self.hooks.add(|set| set.read.push(hook));
    }

    pub(crate) fn on_write(&self, hook: SyncHook) {
        self.hooks.add(|set| set.write.push(hook));
    }

    pub(crate) fn on_read_async(&self, hook: AsyncHook) {
        self.hooks.add(|set| set.read_async.push(hook));
    }

    pub(crate) fn on_write_async(&self, hook: AsyncHook) {
        self.hooks.add(|set| set.write_async.push(hook));
    }

    // ---- text ----

    /// Reads at most `max_chars` characters from the cursor, never splitting one.
    pub(crate) async fn read_text(&mut self, max_chars: usize) -> Result<String> {
        let shared = self.readable()?.clone();
        let codec = shared.codec;
        let start = self.tell();
        let mut buf: Vec<u8> = Vec::new();
        let mut used = 0usize;
        let mut text = String::new();
        let mut remaining = max_chars;
        let mut eof = false;
        while remaining > 0 {
            if used == buf.len() || !eof {
                // Room for `remaining` characters of up to four bytes each, plus the tail
                // of a character the last chunk cut.
                let want = remaining.saturating_mul(4).clamp(16, 64 * 1024);
                let pos = end_of(start, buf.len())?;
                let (chunk, _) = shared.read(pos, want).await?;
                eof = chunk.len() < want;
                buf.extend_from_slice(&chunk);
            }
            let at = start + used as u64;
            let (part, n) = codec
                .decode_prefix(&buf[used..], at, remaining, eof)
                .map_err(|e| Error::Decode { offset: e.offset })?;
            used += n;
            remaining = remaining.saturating_sub(part.chars().count());
            text.push_str(&part);
            if eof && (n == 0 || used == buf.len()) {
                break;
            }
        }
        buf.truncate(used);
        self.cursor.set(start + used as u64);
        let data = Bytes::from(buf);
        self.fire(Kind::Read, start, &data, false).await;
        Ok(text)
    }

    /// Reads one line from the cursor, terminator included; `None` at end of file.
    pub(crate) async fn read_line(&mut self) -> Result<Option<String>> {
        let shared = self.readable()?.clone();
        let codec = shared.codec;
        let start = self.tell();
        let mut buf: Vec<u8> = Vec::new();
        let mut want = LINE_CHUNK;
        let mut resume = 0;
        loop {
            let pos = end_of(start, buf.len())?;
            let (chunk, _) = shared.read(pos, want).await?;
            let eof = chunk.len() < want;
            buf.extend_from_slice(&chunk);
            let line = codec
                .decode_line_from(&buf, start, eof, resume)
                .map_err(|e| Error::Decode { offset: e.offset })?;
            resume = line.resume;
            if line.complete || eof {
                if line.text.is_empty() {
                    // End of file (possibly after a `utf-8-sig` BOM, which is consumed).
                    self.cursor.set(start + line.consumed as u64);
                    return Ok(None);
                }
                buf.truncate(line.consumed);
                self.cursor.set(start + line.consumed as u64);
                let data = Bytes::from(buf);
                self.fire(Kind::Read, start, &data, false).await;
                return Ok(Some(line.text));
            }
            want = (want * 2).min(MAX_CACHED_READ);
        }
    }

    /// Encodes `text` with the handle's encoding and writes it at the cursor.
    pub(crate) async fn write_str(&mut self, text: &str) -> Result<usize> {
        let shared = self.writable()?;
        let bytes = shared.codec.encode(text).map_err(|e| Error::Encode {
            index: e.char_index,
            encoding: shared.codec.name(),
        })?;
        self.write(Bytes::copy_from_slice(&bytes)).await
    }
}

// ---- the local file (std-style API) ----

impl Handle {
    /// The backend's local file ([`Backend::local_file`]):
    /// `Ok(None)` when the backend is not a local file.
    pub(crate) fn local_file(&self) -> Result<Option<&std::fs::File>> {
        Ok(self.shared()?.local_file())
    }

    /// The local file, or an `Unsupported` I/O error for `op` naming the path.
    pub(crate) fn require_local_file(&self, op: Op) -> Result<&std::fs::File> {
        self.local_file()?.ok_or_else(|| {
            Error::io(
                op,
                self.path.to_path_buf(),
                std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "the file's backend is not a local file",
                ),
            )
        })
    }

    /// `fstat` of the open descriptor: it does not wait for the disk, so async files
    /// call it inline too.
    pub(crate) fn metadata(&self) -> Result<std::fs::Metadata> {
        self.require_local_file(Op::Stat)?
            .metadata()
            .map_err(|e| Error::io(Op::Stat, self.path.to_path_buf(), e))
    }

    /// A duplicate descriptor of the local file with its position at this handle's
    /// cursor (the end in append modes, where every write goes anyway), or `None` when
    /// the handle is closed, the backend is not a local file or `dup` fails. The
    /// duplicate shares the open file description (and so its position) with the
    /// backend's descriptor, which fileio itself only uses positionally.
    pub(crate) fn std_duplicate(&self) -> Option<std::fs::File> {
        use std::io::Seek as _;
        let mut file = self.local_file().ok()??.try_clone().ok()?;
        let pos = if self.mode.appending() {
            SeekFrom::End(0)
        } else {
            SeekFrom::Start(self.tell())
        };
        file.seek(pos).ok()?;
        Some(file)
    }

    /// The local file's descriptor; `None` once closed or off a local file.
    #[cfg(unix)]
    pub(crate) fn as_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd as _;
        self.local_file().ok().flatten().map(|f| f.as_fd())
    }

    /// The local file's raw descriptor; `None` as for [`Handle::as_fd`].
    #[cfg(unix)]
    pub(crate) fn as_raw_fd(&self) -> Option<std::os::fd::RawFd> {
        self.as_fd().map(|fd| std::os::fd::AsRawFd::as_raw_fd(&fd))
    }

    /// The debug view of the backend, `None` once closed.
    pub(crate) fn backend_debug(&self) -> Option<&dyn crate::backend::Backend> {
        self.shared.as_ref().map(|s| s.backend_debug())
    }
}

/// The rest of the file from `offset`: what its length promised, then on in chunks while
/// the file grows, until a read comes back short (end of file). The common case is the
/// first read plus one that finds the end, and copies nothing.
async fn read_rest(shared: &Shared, offset: u64, promised: usize) -> Result<Bytes> {
    const CHUNK: usize = 64 * 1024;
    let want = promised.max(1);
    let (first, _) = shared.read(offset, want).await?;
    if first.len() < want {
        return Ok(first);
    }
    let mut out: Option<Vec<u8>> = None;
    loop {
        let pos = end_of(offset, out.as_ref().map_or(first.len(), Vec::len))?;
        let (chunk, _) = shared.read(pos, CHUNK).await?;
        if !chunk.is_empty() {
            out.get_or_insert_with(|| first.to_vec())
                .extend_from_slice(&chunk);
        }
        if chunk.len() < CHUNK {
            break;
        }
    }
    Ok(out.map_or(first, Bytes::from))
}
