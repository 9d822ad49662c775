//! [`ObjectBackend`]: a `fileio_core::Backend` over one object.

use std::collections::VecDeque;
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
/// Versions of the object a miss can still be read under (by its stamp): a read looked
/// up under an older one starts over under the current version.
const RECENT_VERSIONS: usize = 8;

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
    /// The versions learned last, newest last (at most [`RECENT_VERSIONS`]): what maps
    /// the stamp a cache lookup was made under back to the ETag its miss must match.
    recent: VecDeque<Version>,
}

impl Remote {
    fn new(version: Option<Version>, seen_at: SystemTime) -> Remote {
        let mut remote = Remote {
            version: None,
            seen_at,
            recent: VecDeque::new(),
        };
        remote.set(version, seen_at);
        remote
    }

    /// Records `version` as the current one; whether it changed.
    fn set(&mut self, version: Option<Version>, at: SystemTime) -> bool {
        let changed = self.version != version;
        if let Some(v) = &version
            && !self.recent.contains(v)
        {
            if self.recent.len() == RECENT_VERSIONS {
                self.recent.pop_front();
            }
            self.recent.push_back(v.clone());
        }
        self.version = version;
        self.seen_at = at;
        changed
    }

    /// The version `stamp` was given for, if it is one of the recent ones.
    fn of_stamp(&self, stamp: &Stamp) -> Option<Version> {
        self.recent
            .iter()
            .rev()
            .find(|v| Stamp::new(v.size, v.tag) == *stamp)
            .cloned()
    }
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
        let changed = lock(&self.remote).set(version, self.clock.now());
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
                Arc::new(Mutex::new(Remote::new(version.clone(), args.clock.now())))
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
        self.read_version(&v, offset, len).await
    }

    /// A cache miss's read ([`Backend::read_at_stamped`]): of the version the engine's
    /// lookup was made under, never another. `If-Match` carries that version's ETag;
    /// when the object is no longer that version (a 412), or the stamp names no version
    /// this open learned lately, fails with [`VersionChanged`](fileio_core::VersionChanged)
    /// and the engine starts the read over under a fresh stamp. So the bytes a fill
    /// caches under a stamp, and the cached blocks a read joins them with, are all of
    /// one version, whatever other opens of the object learned meanwhile.
    async fn read_stamped(&self, offset: u64, len: usize, stamp: &Stamp) -> io::Result<Bytes> {
        let v = lock(&self.v.remote).of_stamp(stamp);
        let Some(v) = v else {
            if self.v.known().is_none() {
                return Err(error::other(
                    io::ErrorKind::NotFound,
                    &self.target.name,
                    "the object is gone",
                ));
            }
            return Err(io::Error::new(
                error::CONFLICT_KIND,
                fileio_core::VersionChanged,
            ));
        };
        self.read_version(&v, offset, len).await
    }

    /// Reads from version `v` of the object, with `If-Match` on its ETag; see
    /// [`read_remote`](Self::read_remote) for what a changed object does.
    async fn read_version(&self, v: &Version, offset: u64, len: usize) -> io::Result<Bytes> {
        if offset >= v.size || len == 0 {
            return Ok(Bytes::new());
        }
        let end = offset.saturating_add(len as u64).min(v.size);
        match self.fetch(v, offset..end).await {
            Ok(data) => {
                self.read_ahead(v, offset..end);
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
                lock(&self.ahead).handed(v.tag, range.clone());
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
    let state = Arc::new(Mutex::new(Remote::new(version, clock.now())));
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

    /// A cache miss: of the version the engine's lookup was made under (the crate docs,
    /// "Reads"), or the handle's staged content.
    async fn read_at_stamped(&self, offset: u64, len: usize, stamp: &Stamp) -> io::Result<Bytes> {
        self.opened_a_while_ago();
        if self.mode.writable() {
            let w = self.writes.lock().await;
            if let Some(staging) = &w.staging {
                return staging.read_at(offset, len).await;
            }
        }
        self.read_stamped(offset, len, stamp).await
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

    /// Whether read-ahead answered that miss (then it is cached on probation: see the
    /// `readahead` module's design note).
    fn read_ahead_served(&self, offset: u64, len: usize, stamp: &Stamp) -> bool {
        let range = offset..offset.saturating_add(len as u64);
        lock(&self.ahead).take_handed(stamp.tag(), &range)
    }

    /// Every miss is a request to the store: tens of milliseconds on S3, against well
    /// under a microsecond for a hit, so what a miss brings is cached at once.
    fn miss_cost(&self) -> MissCost {
        MissCost::Remote
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fileio_core::{AsyncFile, AsyncStream, Options};
    use futures_util::future::BoxFuture;
    use futures_util::stream::BoxStream;
    use object_store::memory::InMemory;
    use object_store::{
        CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, PutResult,
    };

    /// A store that logs the `If-Match` of every GET (not HEAD) it forwards.
    #[derive(Debug)]
    struct LogIfMatch {
        inner: InMemory,
        log: Mutex<Vec<Option<String>>>,
    }

    impl std::fmt::Display for LogIfMatch {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("LogIfMatch")
        }
    }

    #[async_trait]
    impl ObjectStore for LogIfMatch {
        async fn put_opts(
            &self,
            location: &Path,
            payload: PutPayload,
            opts: PutOptions,
        ) -> object_store::Result<PutResult> {
            self.inner.put_opts(location, payload, opts).await
        }
        async fn put_multipart_opts(
            &self,
            location: &Path,
            opts: PutMultipartOptions,
        ) -> object_store::Result<Box<dyn MultipartUpload>> {
            self.inner.put_multipart_opts(location, opts).await
        }
        async fn get_opts(
            &self,
            location: &Path,
            options: GetOptions,
        ) -> object_store::Result<GetResult> {
            if !options.head {
                lock(&self.log).push(options.if_match.clone());
            }
            self.inner.get_opts(location, options).await
        }
        fn delete_stream(
            &self,
            locations: BoxStream<'static, object_store::Result<Path>>,
        ) -> BoxStream<'static, object_store::Result<Path>> {
            self.inner.delete_stream(locations)
        }
        fn list(
            &self,
            prefix: Option<&Path>,
        ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.inner.list(prefix)
        }
        async fn list_with_delimiter(
            &self,
            prefix: Option<&Path>,
        ) -> object_store::Result<ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }
        async fn copy_opts(
            &self,
            from: &Path,
            to: &Path,
            options: CopyOptions,
        ) -> object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    /// An `ObjectBackend` whose next backend read first runs `interleave`: what happens
    /// between the engine's cache lookup and the read of its miss.
    struct Interleaved {
        inner: ObjectBackend,
        interleave: Mutex<Option<BoxFuture<'static, ()>>>,
    }

    impl std::fmt::Debug for Interleaved {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.inner.fmt(f)
        }
    }

    impl Interleaved {
        async fn interleave(&self) {
            let next = lock(&self.interleave).take();
            if let Some(next) = next {
                next.await;
            }
        }
    }

    #[async_trait]
    impl Backend for Interleaved {
        async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
            self.interleave().await;
            self.inner.read_at(offset, len).await
        }
        async fn read_at_stamped(
            &self,
            offset: u64,
            len: usize,
            stamp: &Stamp,
        ) -> io::Result<Bytes> {
            self.interleave().await;
            self.inner.read_at_stamped(offset, len, stamp).await
        }
        async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
            self.inner.write_at(offset, data).await
        }
        async fn len(&self) -> io::Result<u64> {
            self.inner.len().await
        }
        async fn set_len(&self, len: u64) -> io::Result<()> {
            self.inner.set_len(len).await
        }
        async fn sync_all(&self) -> io::Result<()> {
            self.inner.sync_all().await
        }
        async fn sync_data(&self) -> io::Result<()> {
            self.inner.sync_data().await
        }
        async fn stamp(&self) -> io::Result<Stamp> {
            self.inner.stamp().await
        }
        fn key(&self) -> FileKey {
            self.inner.key()
        }
        fn stamp_inline(&self) -> Option<io::Result<Stamp>> {
            self.inner.stamp_inline()
        }
        fn miss_cost(&self) -> MissCost {
            self.inner.miss_cost()
        }
    }

    /// Content of `len` bytes, per version `seed`.
    fn version(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i / 7) as u8 ^ seed).collect()
    }

    async fn open(
        store: &Arc<LogIfMatch>,
        cache: &RangeCache,
        coherence: Coherence,
        clock: &Clock,
    ) -> ObjectBackend {
        let args = OpenArgs {
            mode: OpenMode::parse("rb").unwrap(),
            place: Place::Caller,
            cache: Some(cache.clone()),
            coherence,
            clock: clock.clone(),
            tuning: Tuning::default(),
        };
        let store: Arc<dyn ObjectStore> = store.clone();
        ObjectBackend::open(store, "o", "mem/o".into(), args)
            .await
            .unwrap()
    }

    fn file(
        backend: Arc<dyn Backend>,
        cache: &RangeCache,
        coherence: Coherence,
        clock: &Clock,
    ) -> AsyncFile {
        let mut o = Options::new();
        o.mode("rb")
            .cache(cache.clone())
            .coherence(coherence)
            .clock(clock.clone());
        AsyncFile::from_backend(backend, "o", &o).unwrap()
    }

    /// The race of two opens and an outside writer: open A looks the cache up under
    /// version 1 (a hit and a miss); before A's miss is read, the object is replaced
    /// and open B learns version 2 and reads it. A's miss must still be read under
    /// version 1 (its GET conditional on version 1's ETag, which fails), and A's answer
    /// must come whole from one version.
    #[test]
    fn a_miss_is_read_under_the_version_of_its_lookup() {
        futures_lite::future::block_on(async {
            let store = Arc::new(LogIfMatch {
                inner: InMemory::new(),
                log: Mutex::default(),
            });
            let (v1, v2) = (version(3 * 4096, 1), version(3 * 4096, 2));
            let put = |data: Vec<u8>| {
                let store = Arc::clone(&store);
                async move {
                    store
                        .put(&Path::from("o"), data.into())
                        .await
                        .unwrap()
                        .e_tag
                        .unwrap()
                }
            };
            let tag1 = put(v1.clone()).await;
            let cache = RangeCache::builder()
                .capacity(1 << 20)
                .block_size(4096)
                .build()
                .unwrap();
            let clock = Clock::manual();
            let interval = Coherence::Interval(Duration::from_secs(1));
            let a = Arc::new(Interleaved {
                inner: open(&store, &cache, interval, &clock).await,
                interleave: Mutex::default(),
            });
            let file_a = file(a.clone(), &cache, interval, &clock);
            assert_eq!(&file_a.read_at(0, 4096).await.unwrap()[..], &v1[..4096]);

            let (store2, cache2, clock2, v2c) =
                (Arc::clone(&store), cache.clone(), clock.clone(), v2.clone());
            *lock(&a.interleave) = Some(Box::pin(async move {
                let tag2 = store2
                    .put(&Path::from("o"), v2c.clone().into())
                    .await
                    .unwrap()
                    .e_tag;
                let b = open(&store2, &cache2, Coherence::Strict, &clock2).await;
                let file_b = file(Arc::new(b), &cache2, Coherence::Strict, &clock2);
                assert_eq!(&file_b.read_at(8192, 4096).await.unwrap()[..], &v2c[8192..]);
                assert_eq!(lock(&store2.log).last().cloned(), Some(tag2));
            }));
            let before = lock(&store.log).len();
            // Block 0 is a hit under version 1, block 1 a miss.
            let got = file_a.read_at(0, 8192).await.unwrap();
            let log = lock(&store.log).clone();
            // B's GET, then A's miss: conditional on the version A looked up under.
            assert_eq!(log.get(before + 1), Some(&Some(tag1)), "GETs: {log:?}");
            assert!(
                got[..] == v1[..8192] || got[..] == v2[..8192],
                "the answer mixes versions"
            );
            // A starts over under version 2, and the cache holds version 2 only.
            assert_eq!(&got[..], &v2[..8192]);
            clock.advance(Duration::from_secs(2));
            assert_eq!(&file_a.read_at(0, 3 * 4096).await.unwrap()[..], &v2[..]);
        });
    }
}
