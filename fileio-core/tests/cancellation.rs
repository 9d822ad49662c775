//! Cancellation at every await point.
//!
//! For each operation of [`AsyncFile`] (`read`, `read_at`, `write`, `write_at`, `set_len`,
//! `seek(End)`, `read_line`, `read_text`, `write_str`, `close`, and the `futures::io`
//! `poll_read` / `poll_write` path), the harness creates the operation's future, polls it
//! `k` times for `k = 0, 1, 2, ...` — after each `Pending` it waits for the waker to be
//! called, so every poll reaches the next await point, and a `Pending` that is never
//! woken fails the test — then drops it. This needs no runtime: the waker only records
//! wake-ups. After the drop it waits for the work the engine finishes on its own (a
//! sync, which waits for it, when the handle is still open; then no change for a
//! while) and checks, against a `Vec<u8>` model:
//!
//! - the content equals the model before the operation or after it, and which one is
//!   forced where the contract fixes it: a cursor write whose cursor moved, or a
//!   positional write / `set_len` that reached the backend, must have landed;
//! - the cursor is where the contract puts it: a dropped read leaves it alone, a
//!   dropped write leaves it alone before submission and moves it as if finished after;
//! - the cache validates, stays within its bound, and every read afterwards (hits
//!   included, through the same handle and through a new one) returns the model's bytes.
//!
//! Two setups: `AsyncFile` over `FaultBackend<MemBackend>` with a 1 ms delay on every
//! backend operation (so every await is really pending), and `AsyncFile::open` on a
//! real file with the `blocking` crate's pool.

use std::future::Future;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use fileio_core::fault::{Fault, FaultBackend, Target};
use fileio_core::{
    AsyncFile, AsyncStream, BackendChoice, Bytes, Clock, Coherence, Error, MemBackend, Options,
    RangeCache,
};
use futures::executor::block_on;
use futures::io::{AsyncReadExt, AsyncWriteExt};

/// The most polls tried for one operation; every operation here finishes well before.
const MAX_POLLS: usize = 64;
/// A pending future must be woken within this long.
const WAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Where the cursor stands before each operation (the start of a line of the content).
const START: u64 = 124;

// ---- the harness ----

/// A waker that counts its wake-ups and lets a thread wait for the next one.
#[derive(Default)]
struct Recorder {
    wakes: Mutex<usize>,
    cond: Condvar,
    total: AtomicUsize,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.total.fetch_add(1, Ordering::SeqCst);
        *self.wakes.lock().unwrap() += 1;
        self.cond.notify_all();
    }
}

impl Recorder {
    /// Waits until a wake-up newer than the last one consumed; false on timeout.
    fn wait(&self) -> bool {
        let deadline = Instant::now() + WAKE_TIMEOUT;
        let mut wakes = self.wakes.lock().unwrap();
        while *wakes == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            wakes = self.cond.wait_timeout(wakes, left).unwrap().0;
        }
        *wakes = 0;
        true
    }
}

/// What became of a future polled at most `k` times.
enum Outcome<T> {
    /// It completed within `k` polls.
    Done(T),
    /// It was still pending after `k` polls and was dropped.
    Dropped,
}

/// Polls `fut` up to `k` times, waiting for a wake-up between polls, then drops it.
///
/// # Panics
///
/// When a pending future is not woken within [`WAKE_TIMEOUT`] (a lost wake-up).
fn poll_then_drop<F: Future>(fut: F, k: usize) -> Outcome<F::Output> {
    let recorder = Arc::new(Recorder::default());
    let waker = Waker::from(recorder.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    for i in 0..k {
        if i > 0 {
            assert!(
                recorder.wait(),
                "a pending future was not woken within {WAKE_TIMEOUT:?} (poll {i})"
            );
        }
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Outcome::Done(out);
        }
    }
    Outcome::Dropped
}

// ---- setups ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    /// `FaultBackend<MemBackend>`, every backend operation delayed by 1 ms.
    MemDelayed,
    /// `AsyncFile::open` on a real file: the `blocking` crate's pool.
    Pool,
}

/// Lines of UTF-8 text with multibyte characters.
fn initial_content() -> Vec<u8> {
    let mut text = String::new();
    for i in 0..120 {
        text.push_str(&format!("line {i:03}: grüße, ßeta, 東京 — ok\n"));
    }
    text.into_bytes()
}

fn tiny_cache() -> RangeCache {
    RangeCache::builder()
        .capacity(16 << 10)
        .block_size(512)
        .build()
        .expect("cache")
}

/// One file under test, its cache and how to look at it from outside.
struct Env {
    setup: Setup,
    cache: RangeCache,
    /// Every handle's clock: advanced past the racy window instead of sleeping.
    clock: Clock,
    file: AsyncFile,
    fault: Option<Arc<FaultBackend<MemBackend>>>,
    path: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Env {
    /// A fresh file with [`initial_content`], its cache warmed by a full read, and the
    /// handle's cursor at [`START`].
    fn new(setup: Setup) -> Env {
        let cache = tiny_cache();
        let clock = Clock::manual();
        let (file, fault, path, dir) = match setup {
            Setup::MemDelayed => {
                let fault = Arc::new(FaultBackend::new(MemBackend::with_data(initial_content())));
                fault.always(Target::Any, Fault::Delay(Duration::from_millis(1)));
                let mut options = Options::new();
                options
                    .mode("r+b")
                    .cache(cache.clone())
                    .clock(clock.clone());
                let path = PathBuf::from("cancel.mem");
                let file =
                    AsyncFile::from_backend(fault.clone(), &path, &options).expect("from_backend");
                (file, Some(fault), path, None)
            }
            Setup::Pool => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("cancel.txt");
                std::fs::write(&path, initial_content()).expect("write");
                // Stamps taken within the racy window serve no hits: let it pass so that
                // the warm-up really fills the cache.
                clock.pass_racy_window();
                let file = block_on(
                    AsyncFile::options()
                        .mode("r+b")
                        .cache(cache.clone())
                        .clock(clock.clone())
                        .open(&path),
                )
                .expect("open");
                (file, None, path, Some(dir))
            }
        };
        let mut env = Env {
            setup,
            cache,
            clock,
            file,
            fault,
            path,
            _dir: dir,
        };
        let len = initial_content().len();
        // Twice: a local file's blocks are cached on their second touch.
        for _ in 0..2 {
            let warm = block_on(env.file.read_at(0, len)).expect("warm-up read");
            assert_eq!(warm.len(), len);
        }
        assert!(
            env.cache.stats().resident_bytes > 0,
            "the warm-up filled the cache"
        );
        block_on(AsyncStream::seek(&mut env.file, SeekFrom::Start(START))).expect("seek");
        env
    }

    fn contents(&self) -> Vec<u8> {
        match &self.fault {
            Some(fault) => fault.inner().contents(),
            None => std::fs::read(&self.path).expect("read back"),
        }
    }

    /// Backend operations of `target` seen so far (the delayed setup only).
    fn count(&self, target: Target) -> Option<u64> {
        self.fault.as_ref().map(|f| f.count(target))
    }

    /// Waits for the work the engine finishes on its own after a drop (a change handed
    /// to the pool): a sync waits for those changes when the handle is still open; then
    /// nothing may change for a while.
    fn quiesce(&self) {
        if !self.file.is_closed() {
            block_on(self.file.sync_data()).expect("a sync after the drop");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let snapshot = || (self.contents(), self.count(Target::Any));
        let mut last = snapshot();
        loop {
            std::thread::sleep(Duration::from_millis(30));
            let now = snapshot();
            if now == last {
                return;
            }
            assert!(Instant::now() < deadline, "the file never settled");
            last = now;
        }
    }

    /// A new handle on the same file and cache.
    fn open_again(&self) -> AsyncFile {
        let mut options = Options::new();
        options
            .mode("rb")
            .cache(self.cache.clone())
            .clock(self.clock.clone());
        match &self.fault {
            Some(fault) => {
                AsyncFile::from_backend(fault.clone(), &self.path, &options).expect("reopen")
            }
            None => block_on(
                AsyncFile::options()
                    .mode("rb")
                    .cache(self.cache.clone())
                    .clock(self.clock.clone())
                    .open(&self.path),
            )
            .expect("reopen"),
        }
    }

    /// The cache is consistent and every read (hits included) returns `model`.
    fn check_reads(&self, model: &[u8], closed: bool) -> std::result::Result<(), String> {
        self.cache
            .validate()
            .map_err(|e| format!("cache invariant: {e}"))?;
        let stats = self.cache.stats();
        if stats.resident_bytes > stats.capacity_bytes {
            return Err(format!(
                "cache over its bound: {} of {}",
                stats.resident_bytes, stats.capacity_bytes
            ));
        }
        if self.setup == Setup::Pool {
            // Let the stamp of a write made during the operation leave the racy window,
            // so the reads below are served from the blocks that write patched.
            self.clock.pass_racy_window();
        }
        let other = self.open_again();
        let handles: Vec<&AsyncFile> = if closed {
            vec![&other]
        } else {
            vec![&self.file, &other]
        };
        for handle in handles {
            // Twice: the first read may fill, the second is served by the cache.
            for _ in 0..2 {
                let all =
                    block_on(handle.read_at(0, model.len() + 100)).map_err(|e| e.to_string())?;
                if all[..] != model[..] {
                    return Err(format!(
                        "a read after the drop returned {} bytes that differ from the model's {}",
                        all.len(),
                        model.len()
                    ));
                }
                for offset in (0..model.len() as u64).step_by(700) {
                    let got = block_on(handle.read_at(offset, 300)).map_err(|e| e.to_string())?;
                    let end = (offset as usize + 300).min(model.len());
                    if got[..] != model[offset as usize..end] {
                        return Err(format!("read_at({offset}, 300) differs from the model"));
                    }
                }
            }
        }
        self.cache
            .validate()
            .map_err(|e| format!("cache invariant after reads: {e}"))
    }
}

// ---- operations ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    Read,
    ReadAt,
    Write,
    WriteAt,
    SetLen,
    SeekEnd,
    ReadLine,
    ReadText,
    WriteStr,
    Close,
    PollRead,
    PollWrite,
}

/// What an operation returned.
#[derive(Debug)]
enum Value {
    Bytes(Bytes),
    Unit,
    Pos(u64),
    Line(Option<String>),
    Text(String),
    Count(usize),
}

const WRITE_DATA: &[u8] = &[0xA5; 700];
const WRITE_AT_OFFSET: u64 = 3000;
const WRITE_AT_DATA: &[u8] = &[0x5A; 1500];
const SET_LEN: u64 = 1300;
const TEXT: &str = "ünïcødé ✓\n";
const SEEK_END: i64 = -10;
const READ_LEN: usize = 300;
const READ_AT: (u64, usize) = (1000, 800);
const TEXT_CHARS: usize = 40;

type OpFuture<'a> = Pin<Box<dyn Future<Output = OpResult> + 'a>>;

/// An operation's value, or its error (a fileio or an I/O error) as text.
type OpResult = std::result::Result<Value, String>;

fn text<T, E: std::fmt::Debug + std::fmt::Display>(
    r: std::result::Result<T, E>,
) -> std::result::Result<T, String> {
    r.map_err(|e| format!("{e} ({e:?})"))
}

/// The operation's future, borrowing the file.
fn start(op: Operation, file: &mut AsyncFile) -> OpFuture<'_> {
    match op {
        Operation::Read => {
            Box::pin(async move { text(AsyncStream::read(file, READ_LEN).await).map(Value::Bytes) })
        }
        Operation::ReadAt => {
            Box::pin(
                async move { text(file.read_at(READ_AT.0, READ_AT.1).await).map(Value::Bytes) },
            )
        }
        Operation::Write => {
            Box::pin(
                async move { text(AsyncStream::write(file, WRITE_DATA).await).map(Value::Count) },
            )
        }
        Operation::WriteAt => Box::pin(async move {
            text(file.write_at(WRITE_AT_OFFSET, WRITE_AT_DATA).await).map(Value::Count)
        }),
        Operation::SetLen => {
            Box::pin(async move { text(file.set_len(SET_LEN).await).map(|()| Value::Unit) })
        }
        Operation::SeekEnd => Box::pin(async move {
            text(AsyncStream::seek(file, SeekFrom::End(SEEK_END)).await).map(Value::Pos)
        }),
        Operation::ReadLine => {
            Box::pin(async move { text(file.read_line().await).map(Value::Line) })
        }
        Operation::ReadText => {
            Box::pin(async move { text(file.read_text(TEXT_CHARS).await).map(Value::Text) })
        }
        Operation::WriteStr => {
            Box::pin(async move { text(file.write_str(TEXT).await).map(Value::Count) })
        }
        Operation::Close => {
            Box::pin(async move { text(AsyncStream::close(file).await).map(|()| Value::Unit) })
        }
        Operation::PollRead => Box::pin(async move {
            let mut buf = vec![0u8; READ_LEN];
            let n = text(AsyncReadExt::read(file, &mut buf).await)?;
            buf.truncate(n);
            Ok(Value::Bytes(Bytes::from(buf)))
        }),
        Operation::PollWrite => {
            Box::pin(
                async move { text(AsyncWriteExt::write(file, WRITE_DATA).await).map(Value::Count) },
            )
        }
    }
}

fn write_into(model: &[u8], offset: u64, data: &[u8]) -> Vec<u8> {
    let mut out = model.to_vec();
    let (start, end) = (offset as usize, offset as usize + data.len());
    if out.len() < end {
        out.resize(end, 0);
    }
    out[start..end].copy_from_slice(data);
    out
}

/// The model after the operation completes, and the cursor it leaves.
fn finished(op: Operation, model: &[u8]) -> (Vec<u8>, u64) {
    let text_at = &model[START as usize..];
    let text = std::str::from_utf8(text_at).expect("the content is UTF-8");
    match op {
        Operation::Read | Operation::PollRead => {
            (model.to_vec(), START + READ_LEN.min(text_at.len()) as u64)
        }
        Operation::ReadAt | Operation::SetLen | Operation::Close => {
            let after = if op == Operation::SetLen {
                model[..SET_LEN as usize].to_vec()
            } else {
                model.to_vec()
            };
            (after, START)
        }
        Operation::Write | Operation::PollWrite => (
            write_into(model, START, WRITE_DATA),
            START + WRITE_DATA.len() as u64,
        ),
        Operation::WriteAt => (write_into(model, WRITE_AT_OFFSET, WRITE_AT_DATA), START),
        Operation::SeekEnd => (model.to_vec(), (model.len() as i64 + SEEK_END) as u64),
        Operation::ReadLine => {
            let line = text.split_inclusive('\n').next().unwrap_or("");
            (model.to_vec(), START + line.len() as u64)
        }
        Operation::ReadText => {
            let bytes: usize = text.chars().take(TEXT_CHARS).map(char::len_utf8).sum();
            (model.to_vec(), START + bytes as u64)
        }
        Operation::WriteStr => (
            write_into(model, START, TEXT.as_bytes()),
            START + TEXT.len() as u64,
        ),
    }
}

/// Checks a completed operation's return value against the model before it.
fn check_value(op: Operation, value: &Value, model: &[u8]) -> std::result::Result<(), String> {
    let text = std::str::from_utf8(&model[START as usize..]).expect("UTF-8");
    let ok = match (op, value) {
        (Operation::Read | Operation::PollRead, Value::Bytes(b)) => {
            b[..] == model[START as usize..(START as usize + READ_LEN).min(model.len())]
        }
        (Operation::ReadAt, Value::Bytes(b)) => {
            let (at, len) = (READ_AT.0 as usize, READ_AT.1);
            b[..] == model[at.min(model.len())..(at + len).min(model.len())]
        }
        (Operation::Write | Operation::PollWrite, Value::Count(n)) => *n == WRITE_DATA.len(),
        (Operation::WriteAt, Value::Count(n)) => *n == WRITE_AT_DATA.len(),
        (Operation::WriteStr, Value::Count(n)) => *n == TEXT.len(),
        (Operation::SetLen | Operation::Close, Value::Unit) => true,
        (Operation::SeekEnd, Value::Pos(p)) => *p == (model.len() as i64 + SEEK_END) as u64,
        (Operation::ReadLine, Value::Line(line)) => {
            line.as_deref() == text.split_inclusive('\n').next()
        }
        (Operation::ReadText, Value::Text(t)) => {
            t.chars().count() == TEXT_CHARS && text.starts_with(t.as_str())
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{op:?} returned {value:?}, which the model does not hold"
        ))
    }
}

/// Runs `op` polled `k` times on a fresh file and checks the aftermath; returns whether
/// the operation completed within `k` polls.
fn case(setup: Setup, op: Operation, k: usize) -> std::result::Result<bool, String> {
    let mut env = Env::new(setup);
    let before = env.contents();
    let (after, done_cursor) = finished(op, &before);
    let (writes, set_lens) = (env.count(Target::Write), env.count(Target::SetLen));

    let outcome = poll_then_drop(start(op, &mut env.file), k);
    let completed = matches!(outcome, Outcome::Done(_));
    if let Outcome::Done(result) = &outcome {
        let value = result
            .as_ref()
            .map_err(|e| format!("{op:?} failed: {e} ({e:?})"))?;
        check_value(op, value, &before)?;
    }
    env.quiesce();
    if op == Operation::PollWrite && completed {
        // Write-behind: `poll_write` returned once the bytes were queued; the flush
        // lands them.
        block_on(AsyncWriteExt::flush(&mut env.file)).map_err(|e| format!("flush: {e}"))?;
    }
    let content = env.contents();
    let cursor = env.file.tell();

    // Which model holds now, and where the cursor must be.
    let (model, want_cursor) = match op {
        _ if completed => (after.clone(), done_cursor),
        // Reads, seeks and text reads dropped: nothing moved.
        Operation::Read
        | Operation::ReadAt
        | Operation::SeekEnd
        | Operation::ReadLine
        | Operation::ReadText
        | Operation::Close => (before.clone(), START),
        // A cursor write: submitted iff the cursor moved; then it must land.
        Operation::Write | Operation::WriteStr => {
            if cursor == done_cursor {
                (after.clone(), done_cursor)
            } else {
                (before.clone(), START)
            }
        }
        // A positional write or truncation: lands iff it reached the backend (known
        // exactly in the delayed setup; either is allowed on the pool).
        Operation::WriteAt | Operation::SetLen => {
            let (target, seen) = if op == Operation::WriteAt {
                (Target::Write, writes)
            } else {
                (Target::SetLen, set_lens)
            };
            let reached = match (seen, env.count(target)) {
                (Some(a), Some(b)) => b > a,
                _ => content == after,
            };
            (
                if reached {
                    after.clone()
                } else {
                    before.clone()
                },
                START,
            )
        }
        // `poll_read`: a read in flight stays with the file; the cursor does not move
        // until a `poll_read` hands the data over.
        Operation::PollRead => (before.clone(), START),
        // `poll_write` without write-behind (it completes on its first poll with it):
        // once polled, the write stays with the file and lands; the cursor moves when a
        // later poll (here: flush) collects it.
        Operation::PollWrite => {
            if k == 0 {
                (before.clone(), START)
            } else {
                if cursor != START {
                    return Err(format!(
                        "poll_write in flight moved the cursor to {cursor} before completing"
                    ));
                }
                block_on(AsyncWriteExt::flush(&mut env.file)).map_err(|e| format!("flush: {e}"))?;
                (after.clone(), done_cursor)
            }
        }
    };
    let content = if op == Operation::PollWrite {
        env.contents()
    } else {
        content
    };
    let cursor = env.file.tell();
    if content != model {
        let which = if content == before {
            "the model before the operation"
        } else if content == after {
            "the model after it"
        } else {
            "neither the model before nor after it"
        };
        return Err(format!(
            "content after the drop is {which}, not what the contract requires"
        ));
    }
    if cursor != want_cursor {
        return Err(format!("cursor {cursor}, the contract says {want_cursor}"));
    }

    let closed = op == Operation::Close && (completed || k > 0);
    if env.file.is_closed() != closed {
        return Err(format!(
            "the handle is {} after close was polled {k} times",
            if env.file.is_closed() {
                "closed"
            } else {
                "open"
            }
        ));
    }
    if closed {
        match block_on(env.file.read_at(0, 1)) {
            Err(Error::Closed) => {}
            other => return Err(format!("a read after close returned {other:?}")),
        }
    } else if op == Operation::PollRead {
        // The abandoned read is dropped by the next operation, which reads at the
        // unchanged cursor.
        let next = block_on(AsyncStream::read(&mut env.file, 10)).map_err(|e| e.to_string())?;
        let want = if completed { done_cursor } else { START } as usize;
        if next[..] != model[want..want + 10] {
            return Err("the read after an abandoned poll_read is not at the cursor".into());
        }
    }
    env.check_reads(&model, closed)?;
    Ok(completed)
}

/// Polls `op` 0, 1, 2... times until it completes, checking each drop.
fn every_await_point(setup: Setup, op: Operation) {
    for k in 0..=MAX_POLLS {
        match case(setup, op, k) {
            Ok(true) => {
                eprintln!(
                    "{setup:?}, {op:?}: completed on poll {k}; dropped unpolled and after each of {} pending polls",
                    k - 1
                );
                return;
            }
            Ok(false) => {}
            Err(e) => panic!("{setup:?}, {op:?} dropped after {k} polls: {e}"),
        }
    }
    panic!("{setup:?}, {op:?} did not complete within {MAX_POLLS} polls");
}

macro_rules! cancellation_tests {
    ($($name:ident: $op:ident,)*) => {
        mod delayed_mem_backend {
            use super::*;
            $(
                #[test]
                fn $name() {
                    every_await_point(Setup::MemDelayed, Operation::$op);
                }
            )*
        }
        mod blocking_pool {
            use super::*;
            $(
                #[test]
                fn $name() {
                    every_await_point(Setup::Pool, Operation::$op);
                }
            )*
        }
    };
}

cancellation_tests! {
    read: Read,
    read_at: ReadAt,
    write: Write,
    write_at: WriteAt,
    set_len: SetLen,
    seek_end: SeekEnd,
    read_line: ReadLine,
    read_text: ReadText,
    write_str: WriteStr,
    close: Close,
    poll_read: PollRead,
    poll_write: PollWrite,
}

/// Every delayed operation is really pending at its first poll: the harness reaches
/// await points beyond the first.
#[test]
fn delayed_operations_are_pending_at_first() {
    for op in [
        Operation::Read,
        Operation::Write,
        Operation::SetLen,
        Operation::WriteAt,
    ] {
        let mut env = Env::new(Setup::MemDelayed);
        assert!(
            matches!(
                poll_then_drop(start(op, &mut env.file), 1),
                Outcome::Dropped
            ),
            "{op:?} completed on its first poll despite the delay"
        );
        env.quiesce();
    }
}

// ---- append mode ----
//
// In append mode a write lands at the end of the file whatever the cursor, and leaves the
// cursor right after what it wrote: a write dropped after it was handed to the backend
// must leave it there too (not at the old cursor plus the length), and one that then
// fails must leave it where a failed write leaves it (where it was).

/// An `"a+b"` [`AsyncFile`] over `backend`, with the cursor sent back to 0.
fn append_file(backend: Arc<dyn fileio_core::Backend>) -> AsyncFile {
    let mut options = Options::new();
    options.mode("a+b").cache(tiny_cache());
    let mut file = AsyncFile::from_backend(backend, "append.mem", &options).expect("open");
    block_on(AsyncStream::seek(&mut file, SeekFrom::Start(0))).expect("seek");
    file
}

/// Waits until `settled` holds (a write dropped mid-flight has landed).
fn wait_until(mut settled: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !settled() {
        assert!(Instant::now() < deadline, "the dropped write never landed");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// An uncached positional write on the pool (the short path onto the file's write
/// queue) whose future is dropped after one poll still lands, and then a cached
/// `Interval` open of the same file, which trusts the version the process knows within
/// its period, reads the new bytes: the dropped write forgot that version once it
/// landed, as an awaited one does.
#[test]
fn a_dropped_uncached_write_lands_and_other_opens_see_it() {
    for backend in [BackendChoice::Pool, BackendChoice::Auto] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queued.bin");
        std::fs::write(&path, [1u8; 4096]).unwrap();
        let clock = Clock::manual();
        let cache = tiny_cache();
        let reader = block_on(
            AsyncFile::options()
                .mode("rb")
                .cache(cache.clone())
                .coherence(Coherence::Interval(Duration::from_secs(3600)))
                .clock(clock.clone())
                .open(&path),
        )
        .unwrap();
        clock.pass_racy_window();
        let read = || block_on(reader.read_at(0, 4096)).unwrap();
        // Read until the blocks are cached and served as hits.
        wait_until(|| {
            assert_eq!(&read()[..], &[1u8; 4096][..]);
            cache.stats().hits > 0
        });
        let writer = block_on(
            AsyncFile::options()
                .mode("r+b")
                .no_cache()
                .backend(backend)
                .clock(clock.clone())
                .open(&path),
        )
        .unwrap();
        let waker = Waker::from(Arc::new(Recorder::default()));
        let mut cx = Context::from_waker(&waker);
        {
            let mut write = Box::pin(writer.write_at(0, &[2u8; 4096]));
            if let Poll::Ready(result) = write.as_mut().poll(&mut cx) {
                result.unwrap();
            }
        }
        wait_until(|| std::fs::read(&path).unwrap() == [2u8; 4096]);
        clock.pass_racy_window();
        // Until the version is forgotten the reader may still trust its cached blocks;
        // it never does for good.
        wait_until(|| read()[..] == [2u8; 4096][..]);
    }
}

/// The case: `seek(0)` in `"a+b"` on a 100-byte file, a 10-byte write polled
/// once (its backend write delayed, so still pending) and dropped. Once it lands the
/// file has 110 bytes and the cursor is at 110, as after an awaited append.
#[test]
fn dropped_append_leaves_the_cursor_at_the_end() {
    let fault = Arc::new(FaultBackend::new(MemBackend::with_data(vec![7u8; 100])));
    fault.always(Target::Write, Fault::Delay(Duration::from_millis(20)));
    let mut file = append_file(fault.clone());
    let done = poll_then_drop(AsyncStream::write(&mut file, &[1u8; 10]), 1);
    assert!(
        matches!(done, Outcome::Dropped),
        "the write was not pending"
    );
    // A sync waits for the writes whose futures were dropped once they had reached the
    // backend.
    block_on(file.sync_data()).expect("sync");
    assert_eq!(fault.inner().contents().len(), 110, "the sync did not wait");
    assert_eq!(
        file.tell(),
        110,
        "a dropped append must leave the cursor at the end"
    );
    let mut want = vec![7u8; 100];
    want.extend_from_slice(&[1u8; 10]);
    assert_eq!(fault.inner().contents(), want);
    // An awaited one, for comparison.
    block_on(AsyncStream::seek(&mut file, SeekFrom::Start(0))).expect("seek");
    block_on(AsyncStream::write(&mut file, &[2u8; 10])).expect("append");
    assert_eq!(file.tell(), 120);
}

/// A dropped append whose backend write then fails leaves the cursor where an awaited
/// failed append leaves it: where it was. The inner `FaultBackend` fails the write the
/// outer one delays.
#[test]
fn dropped_failed_append_puts_the_cursor_back() {
    let inner = Arc::new(FaultBackend::new(MemBackend::with_data(vec![7u8; 100])));
    let outer = Arc::new(FaultBackend::new(Arc::clone(&inner)));
    outer.always(Target::Write, Fault::Delay(Duration::from_millis(20)));
    let mut file = append_file(outer.clone());

    // Awaited: the error, and the cursor stays at 0.
    inner.inject(Target::Write, 1, Fault::io_error());
    assert!(block_on(AsyncStream::write(&mut file, &[1u8; 10])).is_err());
    assert_eq!(file.tell(), 0, "an awaited failed append moved the cursor");

    // Dropped after the first poll: the same once it has failed.
    inner.inject(Target::Write, 1, Fault::io_error());
    let done = poll_then_drop(AsyncStream::write(&mut file, &[1u8; 10]), 1);
    assert!(
        matches!(done, Outcome::Dropped),
        "the write was not pending"
    );
    // A sync waits for it, cursor and all.
    block_on(file.sync_data()).expect("sync");
    assert_eq!(inner.count(Target::Write), 2, "the sync did not wait");
    assert_eq!(file.tell(), 0, "a dropped failed append moved the cursor");
    assert_eq!(inner.inner().contents(), vec![7u8; 100]);

    // A seek made while it was in flight wins over the failure.
    inner.inject(Target::Write, 1, Fault::io_error());
    let done = poll_then_drop(AsyncStream::write(&mut file, &[1u8; 10]), 1);
    assert!(
        matches!(done, Outcome::Dropped),
        "the write was not pending"
    );
    block_on(AsyncStream::seek(&mut file, SeekFrom::Start(42))).expect("seek");
    // A sync waits for it, cursor and all.
    block_on(file.sync_data()).expect("sync");
    assert_eq!(inner.count(Target::Write), 3, "the sync did not wait");
    assert_eq!(file.tell(), 42, "the failed write undid a later seek");
}

/// The blocking `File` cannot drop a write midway; its equivalent is a write that fails
/// (wholly, or after a short write put part of it in the file): the cursor stays where it
/// was, and the next append, which lands after the part, leaves it at the end.
#[test]
fn blocking_failed_append_leaves_the_cursor() {
    use fileio_core::{File, Stream};
    let fault = Arc::new(FaultBackend::new(MemBackend::with_data(vec![7u8; 100])));
    let mut options = Options::new();
    options.mode("a+b").cache(tiny_cache());
    let mut file = File::from_backend(fault.clone(), "append.mem", &options).expect("open");
    assert_eq!(file.tell(), 100, "append modes open at the end");
    Stream::seek(&mut file, SeekFrom::Start(0)).expect("seek");

    fault.inject(Target::Write, 1, Fault::io_error());
    assert!(Stream::write(&mut file, &[1u8; 10]).is_err());
    assert_eq!(file.tell(), 0, "a failed append moved the cursor");
    assert_eq!(fault.inner().contents(), vec![7u8; 100]);

    // Three bytes land, then the rest fails.
    fault.inject(Target::Write, 1, Fault::ShortWrite(3));
    fault.inject(Target::Write, 2, Fault::io_error());
    assert!(Stream::write(&mut file, &[2u8; 10]).is_err());
    assert_eq!(file.tell(), 0, "a partial append moved the cursor");
    assert_eq!(fault.inner().contents().len(), 103);

    Stream::write(&mut file, &[3u8; 10]).expect("append");
    assert_eq!(file.tell(), 113, "an append leaves the cursor at the end");
    let mut want = vec![7u8; 100];
    want.extend_from_slice(&[2u8; 3]);
    want.extend_from_slice(&[3u8; 10]);
    assert_eq!(fault.inner().contents(), want);
}

/// One step of [`appends_match_the_model`].
#[derive(Clone, Debug)]
enum AppendOp {
    /// An append through handle `.0`, dropped after its first poll when `.2`.
    Append(usize, Vec<u8>, bool),
    /// A seek of handle `.0` to `.1`.
    Seek(usize, u64),
}

fn append_op() -> impl proptest::strategy::Strategy<Value = AppendOp> {
    use proptest::prelude::*;
    prop_oneof![
        3 => (0..2usize, prop::collection::vec(any::<u8>(), 1..300), any::<bool>())
            .prop_map(|(h, data, drop)| AppendOp::Append(h, data, drop)),
        1 => (0..2usize, 0..600u64).prop_map(|(h, to)| AppendOp::Seek(h, to)),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 24, ..proptest::prelude::ProptestConfig::default()
    })]

    /// Random appends through two handles on one `"a+b"` file (a clone has its own
    /// cursor), some dropped after their first poll and some awaited, with seeks in
    /// between: the file equals a `Vec<u8>` model and every handle's cursor is the
    /// model's (the end of the file as its last append left it, or its last seek).
    #[test]
    fn appends_match_the_model(ops in proptest::collection::vec(append_op(), 1..10)) {
        let fault = Arc::new(FaultBackend::new(MemBackend::with_data(vec![5u8; 100])));
        fault.always(Target::Write, Fault::Delay(Duration::from_millis(2)));
        let first = append_file(fault.clone());
        let mut files = [first.clone(), first];
        let mut model = vec![5u8; 100];
        let mut cursors = [0u64; 2];
        for op in ops {
            match op {
                AppendOp::Append(h, data, drop) => {
                    if drop {
                        let fut = AsyncStream::write(&mut files[h], &data);
                        let done = poll_then_drop(fut, 1);
                        proptest::prop_assert!(matches!(done, Outcome::Dropped));
                        // An append waits its turn behind the one before it (which
                        // may still be recording the file's version): dropped while
                        // waiting, it never started and changes nothing; dropped once
                        // handed over, it lands. A sync waits for the latter to
                        // finish, cursor and all.
                        block_on(files[h].sync_data()).expect("sync");
                        if fault.inner().contents().len() > model.len() {
                            model.extend_from_slice(&data);
                            cursors[h] = model.len() as u64;
                        }
                    } else {
                        block_on(AsyncStream::write(&mut files[h], &data)).expect("append");
                        model.extend_from_slice(&data);
                        cursors[h] = model.len() as u64;
                    }
                }
                AppendOp::Seek(h, to) => {
                    block_on(AsyncStream::seek(&mut files[h], SeekFrom::Start(to)))
                        .expect("seek");
                    cursors[h] = to;
                }
            }
            proptest::prop_assert_eq!(fault.inner().contents(), model.clone());
            for (file, cursor) in files.iter().zip(cursors) {
                proptest::prop_assert_eq!(file.tell(), cursor);
            }
        }
        // Reads through either handle see the model.
        let all = block_on(files[1].read_at(0, model.len() + 1)).expect("read");
        proptest::prop_assert_eq!(&all[..], &model[..]);
    }
}

// ---- write-behind and batches ----

/// A handle dropped with writes queued by `poll_write` (one in flight, delayed, and
/// more queued behind it) still writes all of them, in place and in append mode.
#[test]
fn a_dropped_handle_writes_its_queue() {
    for mode in ["r+b", "a+b"] {
        let fault = Arc::new(FaultBackend::new(MemBackend::with_data(vec![7u8; 100])));
        fault.always(Target::Write, Fault::Delay(Duration::from_millis(20)));
        let mut options = Options::new();
        options.mode(mode).cache(tiny_cache());
        let mut file = AsyncFile::from_backend(fault.clone(), "queued.mem", &options).unwrap();
        let mut want = vec![7u8; 100];
        let start = if mode == "a+b" { 100 } else { 40 };
        block_on(AsyncStream::seek(&mut file, SeekFrom::Start(start))).unwrap();
        want.truncate(start as usize);
        for piece in 1..=5u8 {
            let data = vec![piece; 300];
            // Queued at once: the backend's 20 ms delay is not waited for.
            match poll_then_drop(AsyncWriteExt::write_all(&mut file, &data), 1) {
                Outcome::Done(result) => result.unwrap(),
                Outcome::Dropped => panic!("{mode}: poll_write waited for the backend"),
            }
            want.extend_from_slice(&data);
        }
        assert!(
            fault.inner().contents().len() < want.len(),
            "{mode}: nothing was queued"
        );
        drop(file);
        // Nothing is left to sync through: the bytes are waited for.
        wait_until(|| fault.inner().contents() == want);
    }
}

/// Positional writes on the pool whose futures are dropped after one poll, while they
/// sit in the file's write queue, all land; reads afterwards see them.
#[test]
fn dropped_writes_in_a_batch_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.bin");
    let file = block_on(
        AsyncFile::options()
            .mode("w+b")
            .cache(tiny_cache())
            .open(&path),
    )
    .unwrap();
    let waker = Waker::from(Arc::new(Recorder::default()));
    let mut cx = Context::from_waker(&waker);
    let mut want = vec![0u8; 64 * 512];
    {
        let mut futures: Vec<_> = (0..64u8)
            .map(|i| {
                let data = vec![i + 1; 512];
                want[i as usize * 512..(i as usize + 1) * 512].copy_from_slice(&data);
                let file = &file;
                Box::pin(async move { file.write_at(u64::from(i) * 512, &data).await })
            })
            .collect();
        for fut in &mut futures {
            if let Poll::Ready(result) = fut.as_mut().poll(&mut cx) {
                result.unwrap();
            }
        }
    }
    block_on(file.sync_data()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), want, "the sync did not wait");
    assert_eq!(
        &block_on(file.read_at(0, want.len() + 1)).unwrap()[..],
        &want[..]
    );
}
