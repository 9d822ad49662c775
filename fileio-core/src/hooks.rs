//! `on_read` / `on_write` hooks and the event they receive.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

/// What a hook is told about a completed read or write.
///
/// Cheap to clone: the path and the bytes are shared, not copied.
#[derive(Clone)]
pub struct IoEvent {
    path: Arc<Path>,
    offset: u64,
    data: Bytes,
    from_cache: bool,
}

impl IoEvent {
    pub(crate) fn new(path: Arc<Path>, offset: u64, data: Bytes, from_cache: bool) -> IoEvent {
        IoEvent {
            path,
            offset,
            data,
            from_cache,
        }
    }

    /// The path the file was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file offset of the first byte read or written.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The bytes read (as returned to the caller) or written.
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// `self.data().len()`.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether no bytes were transferred (a read at end of file).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Whether a read was served entirely from the cache (always `false` for writes).
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }
}

impl fmt::Debug for IoEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoEvent")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .field("len", &self.data.len())
            .field("from_cache", &self.from_cache)
            .finish()
    }
}

/// A boxed `Send` future, as async hooks return.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub(crate) type SyncHook = Arc<dyn Fn(&IoEvent) + Send + Sync>;
pub(crate) type AsyncHook = Arc<dyn Fn(IoEvent) -> BoxFuture + Send + Sync>;

/// The hooks of one handle, one list per kind.
#[derive(Clone, Default)]
pub(crate) struct HookSet {
    pub(crate) read: Vec<SyncHook>,
    pub(crate) write: Vec<SyncHook>,
    pub(crate) read_async: Vec<AsyncHook>,
    pub(crate) write_async: Vec<AsyncHook>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Write,
}

impl HookSet {
    fn has(&self, kind: Kind) -> bool {
        match kind {
            Kind::Read => !self.read.is_empty() || !self.read_async.is_empty(),
            Kind::Write => !self.write.is_empty() || !self.write_async.is_empty(),
        }
    }
}

/// A handle's hooks: a copy-on-write set behind a lock, with flags so that a handle
/// without hooks pays one relaxed atomic load per operation and nothing else.
pub(crate) struct Hooks {
    set: Mutex<Arc<HookSet>>,
    any_read: AtomicBool,
    any_write: AtomicBool,
}

impl Hooks {
    pub(crate) fn new(set: Arc<HookSet>) -> Hooks {
        Hooks {
            any_read: AtomicBool::new(set.has(Kind::Read)),
            any_write: AtomicBool::new(set.has(Kind::Write)),
            set: Mutex::new(set),
        }
    }

    /// The current set, for a clone of the handle to inherit.
    pub(crate) fn snapshot(&self) -> Arc<HookSet> {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn add(&self, edit: impl FnOnce(&mut HookSet)) {
        let mut guard = self.set.lock().unwrap_or_else(PoisonError::into_inner);
        let set = Arc::make_mut(&mut guard);
        edit(set);
        self.any_read.store(set.has(Kind::Read), Ordering::Release);
        self.any_write
            .store(set.has(Kind::Write), Ordering::Release);
    }

    /// The hooks to fire for `kind`, or `None` when there are none (the common case).
    pub(crate) fn active(&self, kind: Kind) -> Option<Arc<HookSet>> {
        self.any(kind).then(|| self.snapshot())
    }

    /// Whether there is a hook for `kind`.
    #[inline]
    pub(crate) fn any(&self, kind: Kind) -> bool {
        match kind {
            Kind::Read => &self.any_read,
            Kind::Write => &self.any_write,
        }
        .load(Ordering::Acquire)
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.snapshot();
        f.debug_struct("Hooks")
            .field("on_read", &set.read.len())
            .field("on_write", &set.write.len())
            .field("on_read_async", &set.read_async.len())
            .field("on_write_async", &set.write_async.len())
            .finish()
    }
}

/// Runs the sync hooks of `kind`, in registration order. A panicking hook unwinds to
/// the caller of the operation; the engine calls this only after the file's state (data,
/// cursor, cache) is final, so the unwind leaves nothing half-done.
pub(crate) fn fire_sync(set: &HookSet, kind: Kind, event: &IoEvent) {
    let hooks = match kind {
        Kind::Read => &set.read,
        Kind::Write => &set.write,
    };
    for hook in hooks {
        hook(event);
    }
}

/// Runs the sync hooks, then awaits the async hooks one after the other.
pub(crate) async fn fire_all(set: &HookSet, kind: Kind, event: IoEvent) {
    fire_sync(set, kind, &event);
    let hooks = match kind {
        Kind::Read => &set.read_async,
        Kind::Write => &set.write_async,
    };
    for hook in hooks {
        hook(event.clone()).await;
    }
}
