//! [`ObjectBackend`]: a `fileio_core::Backend` over one object.

use std::io;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use fileio_cache::{FileKey, RangeCache, Stamp};
use fileio_core::{Backend, Clock, Coherence, MissCost, OpenMode};
use futures_util::FutureExt;
use object_store::path::Path;
use object_store::{
    ObjectStore, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload,
    UpdateVersion, WriteMultipart,
};

use crate::error;
use crate::fetch::{Coalescer, FetchError, Target, Version};
use crate::readahead::{self, ReadAhead};
use crate::runtime::{self, Place};
use crate::stage::Staging;

/// Reads the engine may send through the cache (its `MAX_CACHED_READ`): at most this
/// long, they are coalesced with their neighbours; longer ones are split.
const COALESCED_READ: usize = 256 * 1024;
/// Parts of a multipart upload in flight at once.
const PARTS_IN_FLIGHT: usize = 4;

/// The knobs of the read and write paths ([`ObjectOptions`](crate::ObjectOptions) sets
/// them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tuning {
    pub(crate) read_ahead: u64,
    pub(crate) split: u64,
    pub(crate) in_flight: usize,
    pub(crate) coalesce: u64,
    pub(crate) staging_memory: usize,
    pub(crate) part_size: usize,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            read_ahead: 16 << 20,
            split: 8 << 20,
            in_flight: 8,
            coalesce: 1 << 20,
            staging_memory: 8 << 20,
            part_size: 16 << 20,
        }
    }
}

/// What the backend knows of the object in the store.
#[derive(Debug)]
struct Remote {
    /// The version reads come from (`None`: the object does not exist).
    version: Option<Version>,
    /// When a response last told it (by the handle's clock).
    seen_at: SystemTime,
}

/// The writable side: staged content and what an upload is conditional on.
#[derive(Debug, Default)]
struct Writes {
    /// The content to upload; `None` until the first change of an `r+`/`a` handle, whose
    /// reads until then come from the object.
    staging: Option<Staging>,
    /// Changes not yet uploaded.
    dirty: bool,
    /// Counts changes, for the staged content's stamp.
    changes: u64,
}

/// The version an open reads (and uploads against) and the cache blocks that depend on
/// it. Cloned into an upload's task.
#[derive(Clone)]
struct Versions {
    /// Shared by every read-only open of the object in the process (so that they all
    /// read the version any of them learned last); a writable handle's own, since its
    /// uploads are conditional on the version it read.
    remote: Arc<Mutex<Remote>>,
    clock: Clock,
    cache: Option<RangeCache>,
    /// This open's cache key.
    key: FileKey,
}

impl Versions {
    fn known(&self) -> Option<Version> {
        lock(&self.remote).version.clone()
    }

    /// Records what a response said; a new version drops the object's cached blocks.
    fn learn(&self, version: Option<Version>) {
        let changed = {
            let mut remote = lock(&self.remote);
            let changed = remote.version != version;
            remote.version = version;
            remote.seen_at = self.clock.now();
            changed
        };
        if changed && let Some(cache) = &self.cache {
            // After the version is updated: a fill that starts now reads the new one.
            cache.invalidate(self.key);
        }
    }
}

/// A [`fileio_core::Backend`] over one object of an [`ObjectStore`].
///
/// Made by [`ObjectOptions`](crate::ObjectOptions) (`open`, `open_url`,
/// `open_blocking`) or [`open`](crate::open); the crate documentation describes what
/// each mode does, how reads are fetched and what the stamp is.
pub struct ObjectBackend {
    target: Target,
    /// The version this open reads and uploads against, and the cache it keeps.
    v: Versions,
    /// The key readers of the object share (a writable handle's own key is private).
    shared_key: FileKey,
    mode: OpenMode,
    place: Place,
    /// How long a version learned from a response answers `stamp` and `len` without a
    /// request (`None`: for ever).
    fresh_for: Option<Duration>,
    tuning: Tuning,
    writes: Arc<async_lock::Mutex<Writes>>,
    ahead: Mutex<ReadAhead>,
    coalescer: Arc<Coalescer>,
    /// Set by the open's HEAD until any other operation: a `len` right after the open
    /// is answered with it whatever the coherence (the engine asks for the length of an
    /// append-mode file while opening, in a blocking wait that must not depend on a
    /// request).
    just_opened: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for ObjectBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBackend")
            .field("object", &self.target.name)
            .field("mode", &self.mode)
            .field("key", &self.v.key)
            .finish_non_exhaustive()
    }
}

/// What an open needs besides the store and path.
pub(crate) struct OpenArgs {
    pub(crate) mode: OpenMode,
    pub(crate) place: Place,
    pub(crate) cache: Option<RangeCache>,
    pub(crate) coherence: Coherence,
    pub(crate) clock: Clock,
    pub(crate) tuning: Tuning,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ObjectBackend {
    /// Opens `path` in `store` with `args.mode`'s rules, with at most one HEAD.
    pub(crate) async fn open(
        store: Arc<dyn ObjectStore>,
        path: &str,
        name: String,
        args: OpenArgs,
    ) -> io::Result<ObjectBackend> {
        let location = Path::parse(path).map_err(|e| {
            error::other(
                io::ErrorKind::InvalidInput,
                &name,
                format!("invalid object path: {e}"),
            )
        })?;
        let shared_key = crate::key::object_key(&store, location.as_ref());
        let target = Target {
            store,
            location,
            name: name.into(),
        };
        let mode = args.mode;
        // "w" replaces whatever is there: nothing to ask.
        let version = if mode.truncating() {
            None
        } else {
            head(&target, args.place).await?
        };
        if version.is_none() && !mode.creating() {
            return Err(error::other(
                io::ErrorKind::NotFound,
                &target.name,
                "no such object (HEAD)",
            ));
        }
        if version.is_some() && mode.exclusive() {
            return Err(error::other(
                io::ErrorKind::AlreadyExists,
                &target.name,
                "the object exists (HEAD)",
            ));
        }
        let mut writes = Writes::default();
        if mode.writable() && version.is_none() {
            writes.staging = Some(Staging::new(Bytes::new(), args.tuning.staging_memory).await?);
            writes.dirty = true;
        }
        let fresh_for = match args.coherence {
            Coherence::Exclusive => None,
            Coherence::Interval(period) => Some(period),
            _ => Some(Duration::ZERO),
        };
        let v = Versions {
            remote: if mode.writable() {
                Arc::new(Mutex::new(Remote {
                    version: version.clone(),
                    seen_at: args.clock.now(),
                }))
            } else {
                shared_remote(shared_key, version.clone(), &args.clock)
            },
            key: if mode.writable() {
                crate::key::private_key()
            } else {
                shared_key
            },
            clock: args.clock,
            cache: args.cache,
        };
        let backend = ObjectBackend {
            v,
            shared_key,
            mode,
            place: args.place,
            fresh_for,
            tuning: args.tuning,
            writes: Arc::new(async_lock::Mutex::new(writes)),
            ahead: Mutex::new(ReadAhead::new(args.tuning.read_ahead)),
            coalescer: Arc::default(),
            just_opened: std::sync::atomic::AtomicBool::new(true),
            target,
        };
        if !mode.writable() {
            // The HEAD may show a newer version than other opens of the object knew.
            backend.v.learn(version);
        }
        Ok(backend)
    }

    /// The object, as `store/path`.
    pub fn object(&self) -> &str {
        &self.target.name
    }

    /// The store the object is in.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.target.store
    }

    /// The object's path in its store.
    pub fn location(&self) -> &Path {
        &self.target.location
    }

    /// Ends the moment right after the open, in which `len` answers from the open's HEAD.
    fn opened_a_while_ago(&self) {
        if self.just_opened.load(std::sync::atomic::Ordering::Relaxed) {
            self.just_opened
                .store(false, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The known version if a response told it recently enough.
    fn fresh(&self) -> Option<Option<Version>> {
        self.opened_a_while_ago();
        let remote = lock(&self.v.remote);
        let fresh = match self.fresh_for {
            None => true,
            Some(period) => self
                .v
                .clock
                .now()
                .duration_since(remote.seen_at)
                .is_ok_and(|age| age < period),
        };
        fresh.then(|| remote.version.clone())
    }

    /// The object's current version: the known one while fresh, else one HEAD.
    async fn current(&self) -> io::Result<Option<Version>> {
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        let v = head(&self.target, self.place).await?;
        self.v.learn(v.clone());
        Ok(v)
    }

    fn stamp_of(v: &Option<Version>) -> Stamp {
        match v {
            Some(v) => Stamp::new(v.size, v.tag),
            None => Stamp::new(0, 0),
        }
    }

    /// Reads from the object (not the staging), all from one version. When the object
    /// changed, learns its new version (one HEAD, which drops its cached blocks) and
    /// fails with [`VersionChanged`](fileio_core::VersionChanged): the engine then reads
    /// again under the new version, so that no answer mixes the new content with the
    /// old length.
    async fn read_remote(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let Some(v) = self.v.known() else {
            return Err(error::other(
                io::ErrorKind::NotFound,
                &self.target.name,
                "the object is gone",
            ));
        };
        // The engine looks the cache up under the version the cache recorded: when that
        // is not the one this read would fetch, the answer could describe one version's
        // length with another's bytes. The engine then takes the current version's stamp
        // and reads again.
        let recorded = self
            .v
            .cache
            .as_ref()
            .and_then(|c| c.recorded_stamp(self.v.key));
        if recorded.is_some_and(|r| r != Self::stamp_of(&Some(v.clone()))) {
            return Err(io::Error::new(
                error::CONFLICT_KIND,
                fileio_core::VersionChanged,
            ));
        }
        if offset >= v.size || len == 0 {
            return Ok(Bytes::new());
        }
        let end = offset.saturating_add(len as u64).min(v.size);
        match self.fetch(&v, offset..end).await {
            Ok(data) => {
                self.read_ahead(&v, offset..end);
                Ok(data)
            }
            Err(FetchError::Changed) => {
                let now = head(&self.target, self.place).await?;
                let gone = now.is_none();
                self.v.learn(now);
                if gone {
                    return Err(error::other(
                        io::ErrorKind::NotFound,
                        &self.target.name,
                        "the object was deleted",
                    ));
                }
                Err(io::Error::new(
                    error::CONFLICT_KIND,
                    fileio_core::VersionChanged,
                ))
            }
            Err(e) => Err(e.into_io(&self.target.name)),
        }
    }

    /// `range` of `v`: from read-ahead if it holds it, else coalesced (small) or split
    /// (large) GETs.
    async fn fetch(&self, v: &Version, range: Range<u64>) -> Result<Bytes, FetchError> {
        let pieces = lock(&self.ahead).find(v.tag, &range);
        if let Some(pieces) = pieces {
            let wanted = pieces.len();
            let mut got = Vec::with_capacity(wanted);
            for (data, start) in pieces {
                match data.await {
                    Some(bytes) => got.push((bytes, start)),
                    None => {
                        // That fetch failed: forget it and read for ourselves.
                        lock(&self.ahead).drop_piece(v.tag, start);
                        break;
                    }
                }
            }
            if got.len() == wanted {
                return Ok(readahead::hand_over(&got, &range));
            }
        }
        let target = self.target.clone();
        let v2 = v.clone();
        let tuning = self.tuning;
        if range.end - range.start <= COALESCED_READ as u64 {
            return self
                .coalescer
                .get(&self.target, self.place, tuning.coalesce, v, range)
                .await;
        }
        let fut = async move {
            Ok(target
                .get_split(&v2, range, tuning.split, tuning.in_flight)
                .await)
        };
        runtime::run(self.place, fut)
            .await
            .unwrap_or_else(|e| Err(FetchError::Failed(Arc::new(e))))
    }

    /// Starts the read-ahead a read of `range` calls for.
    fn read_ahead(&self, v: &Version, range: Range<u64>) {
        let mut ahead = lock(&self.ahead);
        for r in ahead.observe(v.tag, range, v.size) {
            let (target, v2, tuning, r2) = (self.target.clone(), v.clone(), self.tuning, r.clone());
            let task = runtime::spawn(self.place, async move {
                target
                    .get_split(&v2, r2, tuning.split, tuning.in_flight)
                    .await
                    .ok()
            });
            let Ok(task) = task else { return };
            ahead.add(v.tag, r, task.map(|out| out.ok().flatten()).boxed());
        }
    }

    /// The staging, filled from the object first for `r+` and `a` handles: their upload
    /// replaces the whole object.
    async fn staging<'a>(&self, w: &'a mut Writes) -> io::Result<&'a mut Staging> {
        if w.staging.is_none() {
            let data = match self.v.known() {
                Some(v) if v.size > 0 => {
                    let (target, v2, tuning) = (self.target.clone(), v.clone(), self.tuning);
                    let got = runtime::run(self.place, async move {
                        Ok(target
                            .get_split(&v2, 0..v2.size, tuning.split, tuning.in_flight)
                            .await)
                    })
                    .await?;
                    got.map_err(|e| match e {
                        FetchError::Changed => error::conflict(
                            &self.target.name,
                            "the object changed since it was opened; its content cannot be staged for writing",
                        ),
                        e => e.into_io(&self.target.name),
                    })?
                }
                _ => Bytes::new(),
            };
            w.staging = Some(Staging::new(data, self.tuning.staging_memory).await?);
        }
        Ok(w.staging.as_mut().expect("just staged"))
    }

    /// Uploads the staged content if it changed, as a task of its own: a caller that
    /// stops waiting (a dropped `sync` or `close` future) does not stop it, so an upload
    /// that was sent lands, or fails, and records what became of it.
    async fn upload(&self) -> io::Result<()> {
        let upload = Upload {
            target: self.target.clone(),
            v: self.v.clone(),
            shared_key: self.shared_key,
            mode: self.mode,
            tuning: self.tuning,
            writes: Arc::clone(&self.writes),
        };
        let task = runtime::spawn(self.place, upload.run())?;
        task.await
            .unwrap_or_else(|e| Err(io::Error::other(format!("the upload task failed: {e}"))))
    }
}

/// What an upload needs, owned, so that it runs as a task of its own (on a tokio
/// runtime: its requests run in place).
struct Upload {
    target: Target,
    v: Versions,
    shared_key: FileKey,
    mode: OpenMode,
    tuning: Tuning,
    writes: Arc<async_lock::Mutex<Writes>>,
}

impl Upload {
    /// Requests of an upload run in its task, which is on a tokio runtime.
    const PLACE: Place = Place::Caller;

    /// Uploads the staged content if it changed: conditional on the version read
    /// (`PutMode::Update`), or on absence (`PutMode::Create`), except for `"w"` handles,
    /// which replace the object (in parts when it is large). A failure keeps everything
    /// staged, so a later sync uploads it again.
    async fn run(self) -> io::Result<()> {
        let mut w = self.writes.lock().await;
        if !w.dirty {
            return Ok(());
        }
        let Some(staging) = &w.staging else {
            return Ok(());
        };
        let len = staging.len();
        let base = self.v.known();
        let name = &self.target.name;
        let keep = |e: io::Error| {
            io::Error::new(
                e.kind(),
                UploadFailed {
                    message: e.to_string(),
                    source: e,
                },
            )
        };
        let result = if self.mode.truncating() && len > self.tuning.part_size as u64 {
            self.parts(staging, len).await
        } else {
            let mode = match (&base, self.mode.truncating()) {
                (_, true) => PutMode::Overwrite,
                (None, false) => PutMode::Create,
                (Some(v), false) => PutMode::Update(UpdateVersion {
                    e_tag: v.e_tag.clone(),
                    version: v.version.clone(),
                }),
            };
            let data = staging
                .chunk(0, usize::try_from(len).unwrap_or(usize::MAX))
                .await
                .map_err(keep)?;
            let (store, location) = (Arc::clone(&self.target.store), self.target.location.clone());
            let create = mode == PutMode::Create;
            let put = runtime::run(Self::PLACE, async move {
                Ok(store
                    .put_opts(&location, PutPayload::from(data), PutOptions::from(mode))
                    .await)
            })
            .await
            .map_err(keep)?;
            match put {
                Ok(res) => Ok((res.e_tag, res.version)),
                Err(object_store::Error::AlreadyExists { .. })
                    if create && !self.mode.exclusive() =>
                {
                    Err(error::conflict(
                        name,
                        "PUT (create): another writer created the object first",
                    ))
                }
                Err(e) => Err(error::map(name, "PUT", e)),
            }
        };
        let (e_tag, version) = result.map_err(keep)?;
        w.dirty = false;
        if let Some(cache) = &self.v.cache {
            // Readers of the object in this process see the upload at once.
            cache.invalidate(self.shared_key);
        }
        if e_tag.is_some() || version.is_some() {
            // The PUT's answer names the new version: no request needed.
            self.v.learn(Some(Version::new(len, e_tag, version, None)));
            return Ok(());
        }
        match head(&self.target, Self::PLACE).await {
            Ok(v) => {
                self.v.learn(v);
                Ok(())
            }
            Err(e) => {
                // The upload landed; only its version is unknown, so the next upload
                // cannot be conditional on it (and fails rather than overwrite).
                lock(&self.v.remote).version = None;
                Err(e)
            }
        }
    }

    async fn parts(
        &self,
        staging: &Staging,
        len: u64,
    ) -> io::Result<(Option<String>, Option<String>)> {
        let name = &self.target.name;
        let (store, location) = (Arc::clone(&self.target.store), self.target.location.clone());
        let upload = runtime::run(Self::PLACE, async move {
            Ok(store
                .put_multipart_opts(&location, PutMultipartOptions::default())
                .await)
        })
        .await?
        .map_err(|e| error::map(name, "multipart upload (start)", e))?;
        let part = self.tuning.part_size;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, part);
        let mut at = 0;
        while at < len {
            let chunk = staging.chunk(at, part).await;
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ =
                        runtime::run(Self::PLACE, async move { Ok(writer.abort().await) }).await;
                    return Err(e);
                }
            };
            at += chunk.len() as u64;
            // `put` starts the part's upload as a task: on a runtime, like the rest.
            let (w, res) = runtime::run(Self::PLACE, async move {
                writer.put(chunk);
                let res = writer.wait_for_capacity(PARTS_IN_FLIGHT).await;
                Ok((writer, res))
            })
            .await?;
            writer = w;
            if let Err(e) = res {
                let _ = runtime::run(Self::PLACE, async move { Ok(writer.abort().await) }).await;
                return Err(error::map(name, "multipart upload (part)", e));
            }
        }
        runtime::run(Self::PLACE, async move { Ok(writer.finish().await) })
            .await?
            .map(|res| (res.e_tag, res.version))
            .map_err(|e| error::map(name, "multipart upload (complete)", e))
    }
}

/// The error of an upload that failed: nothing staged was lost, and syncing again
/// uploads it again. The source of the `io::Error` a failed sync or close returns.
#[derive(Debug)]
pub struct UploadFailed {
    message: String,
    source: io::Error,
}

impl std::fmt::Display for UploadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "upload failed, the written data is still staged (sync or close again to retry): {}",
            self.message
        )
    }
}

impl std::error::Error for UploadFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl UploadFailed {
    /// Whether the upload failed because another writer changed the object.
    pub fn is_conflict(&self) -> bool {
        self.source
            .get_ref()
            .is_some_and(|e| e.is::<crate::error::Conflict>())
    }
}

/// The version state of the object `key` that the read-only opens share (starting as
/// `version` when no open of the object has one).
fn shared_remote(key: FileKey, version: Option<Version>, clock: &Clock) -> Arc<Mutex<Remote>> {
    type States = Mutex<std::collections::HashMap<FileKey, std::sync::Weak<Mutex<Remote>>>>;
    static STATES: std::sync::OnceLock<States> = std::sync::OnceLock::new();
    let mut states = lock(STATES.get_or_init(States::default));
    if let Some(state) = states.get(&key).and_then(std::sync::Weak::upgrade) {
        return state;
    }
    if states.len() >= 64 && states.len().is_power_of_two() {
        states.retain(|_, s| s.strong_count() > 0);
    }
    let state = Arc::new(Mutex::new(Remote {
        version,
        seen_at: clock.now(),
    }));
    states.insert(key, Arc::downgrade(&state));
    state
}

/// The object's version by one HEAD (`None`: no such object).
async fn head(target: &Target, place: Place) -> io::Result<Option<Version>> {
    let (store, location) = (Arc::clone(&target.store), target.location.clone());
    let meta = runtime::run(place, async move { Ok(store.head(&location).await) }).await?;
    match meta {
        Ok(meta) => Ok(Some(Version::from_meta(&meta))),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(error::map(&target.name, "HEAD", e)),
    }
}

#[async_trait]
impl Backend for ObjectBackend {
    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        self.opened_a_while_ago();
        if self.mode.writable() {
            let w = self.writes.lock().await;
            if let Some(staging) = &w.staging {
                return staging.read_at(offset, len).await;
            }
        }
        self.read_remote(offset, len).await
    }

    async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
        self.opened_a_while_ago();
        let mut w = self.writes.lock().await;
        self.staging(&mut w).await?.write_at(offset, &data).await?;
        w.dirty = true;
        w.changes += 1;
        Ok(data.len())
    }

    async fn len(&self) -> io::Result<u64> {
        if self.mode.writable() {
            let w = self.writes.lock().await;
            if let Some(staging) = &w.staging {
                return Ok(staging.len());
            }
        }
        if self
            .just_opened
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            return Ok(self.v.known().map_or(0, |v| v.size));
        }
        if let Some(v) = self.fresh() {
            return Ok(v.map_or(0, |v| v.size));
        }
        // A changed version is not recorded here: the next read finds it (a 412) and
        // makes the engine take the new version's stamp, so that no read is cut at a
        // length its content does not have.
        let now = head(&self.target, self.place).await?;
        if now == self.v.known() {
            self.v.learn(now.clone());
        }
        Ok(now.map_or(0, |v| v.size))
    }

    async fn set_len(&self, len: u64) -> io::Result<()> {
        let mut w = self.writes.lock().await;
        self.staging(&mut w).await?.set_len(len).await?;
        w.dirty = true;
        w.changes += 1;
        Ok(())
    }

    async fn sync_all(&self) -> io::Result<()> {
        self.upload().await
    }

    async fn sync_data(&self) -> io::Result<()> {
        self.upload().await
    }

    async fn stamp(&self) -> io::Result<Stamp> {
        if self.mode.writable() {
            let w = self.writes.lock().await;
            if let Some(staging) = &w.staging {
                let base = self.v.known().map_or(0, |v| v.tag);
                return Ok(Stamp::new(staging.len(), base ^ u128::from(w.changes)));
            }
        }
        if let Some(v) = self.fresh() {
            return Ok(Self::stamp_of(&v));
        }
        Ok(Self::stamp_of(&self.current().await?))
    }

    fn key(&self) -> FileKey {
        self.v.key
    }

    /// The answer a recent response gave, without a request.
    fn stamp_inline(&self) -> Option<io::Result<Stamp>> {
        if self.mode.writable() {
            return None;
        }
        self.fresh().map(|v| Ok(Self::stamp_of(&v)))
    }

    /// An upload that failed keeps the staged data.
    fn sync_retryable(&self) -> bool {
        true
    }

    /// Every miss is a request to the store: tens of milliseconds on S3, against well
    /// under a microsecond for a hit, so what a miss brings is cached at once.
    fn miss_cost(&self) -> MissCost {
        MissCost::Remote
    }
}
