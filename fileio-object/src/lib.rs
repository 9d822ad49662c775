//! Objects in S3, Google Cloud Storage, Azure Blob Storage, on HTTP servers, in local
//! directories or in memory, as fileio files, with fileio's shared range cache in
//! front: a repeated read costs a memory copy instead of a GET of tens of
//! milliseconds.
//!
//! Built on [`object_store`] (re-exported: the version this crate uses). Open with
//! [`ObjectOptions`] over any `Arc<dyn ObjectStore>`, or by URL with [`open`]. The
//! result is a [`fileio_core::AsyncFile`]: wrap it in `fileio_tokio::File::from(..)` or
//! `fileio_smol::File::from(..)` for the runtimes' I/O traits; blocking code gets a
//! [`fileio_core::File`] from [`ObjectOptions::open_blocking`]. It works on tokio, on
//! smol or any other executor, and from blocking code: object_store's clients need a
//! tokio runtime, and where the caller is not on one the requests run on a small
//! runtime this crate starts on first use.
//!
//! # Reads
//!
//! - A read is one or more ranged GETs through `get_opts`, whose responses also carry
//!   the object's size and ETag. The file's version (its [`Stamp`](fileio_core::Stamp))
//!   is the size plus a hash of the ETag (else the version id, else the modification
//!   time), learned from those responses: it costs no extra request.
//! - Every GET carries `If-Match` with the ETag of the version the handle reads, and its
//!   response is checked against it (size, ETag, range, body length). A 412 (or another
//!   ETag) means the object changed: the backend learns the new version with one HEAD,
//!   drops the object's cached blocks and reads again, from the new version only. A read
//!   never mixes two versions.
//! - A cache miss is read under the version the cache was looked up with, not the one
//!   the object's opens share now ([`Backend::read_at_stamped`](fileio_core::Backend::read_at_stamped)):
//!   the backend keeps the ETags of the object's last eight versions by their stamps,
//!   and the miss's GETs (coalesced, split or read ahead, each of one version) are
//!   conditional on the stamp's ETag. So when another open learned a newer version
//!   between the lookup and the GET, the GET fails its precondition (or the stamp is
//!   no longer known) and the engine starts the read over under a fresh stamp
//!   ([`VersionChanged`](fileio_core::VersionChanged)): the blocks a read joins and the
//!   bytes a fill caches under a stamp are always of that stamp's version.
//! - Opening costs at most one HEAD (none in `"w"` modes). The default coherence is
//!   [`DEFAULT_COHERENCE`], `Interval(1 s)`: a HEAD per read would double its latency.
//!   `len()` and the version check cost at most one HEAD a period, and none while GETs
//!   keep the version fresh.
//! - Two opens of one object (one store, one path) share cached blocks; two stores never
//!   do.
//! - Concurrent misses on neighbouring blocks merge into one GET; reads over 8 MiB are
//!   split into parallel GETs (at most 8 in flight); sequential readers get read-ahead
//!   that ramps from 1 MiB to 16 MiB (all configurable on [`ObjectOptions`]), held in
//!   the open's own buffer until read and then cached on probation, even when the scan
//!   is repeated, so a scan cannot push out blocks that proved hot (the `readahead`
//!   module's design note says why they do not enter the cache as they arrive). The cache
//!   copies each block it keeps into its own buffer, so a cached 16 KiB block never
//!   keeps a 1 MiB response alive.
//!
//! # Writes
//!
//! An object cannot be changed in place: a writable handle stages its writes (in memory
//! up to 8 MiB, then in an unlinked temporary file) and uploads the whole object on
//! `sync_all`, `sync_data` and `close`. Its reads see its own staged writes; other
//! handles see the upload once it has landed.
//!
//! | mode | at open | upload |
//! |------|---------|--------|
//! | `"rb"` | one HEAD; `NotFound` if missing | none (writes are refused) |
//! | `"wb"` | nothing (the object is replaced) | `PutMode::Overwrite`; multipart over the part size |
//! | `"xb"` | one HEAD; `AlreadyExists` if present | `PutMode::Create`; then `Update` on its own version |
//! | `"ab"`, `"r+b"` | one HEAD (`"r+b"`: `NotFound` if missing) | `PutMode::Update` on the version read (`Create` if it was missing) |
//!
//! `"ab"` and `"r+b"` read the whole object into the staging at their first write. A
//! store without conditional updates (object_store's `LocalFileSystem`, behind
//! `file://`) refuses their uploads of an existing object with `Unsupported`.
//! Their uploads, and `"xb"`'s, are single conditional PUTs: object_store 0.14 has no
//! conditional multipart upload. A concurrent writer makes the upload fail with a
//! [`Conflict`] (kind [`CONFLICT_KIND`]), never a silent overwrite. A failed upload
//! keeps everything staged and says so ([`UploadFailed`]): `sync_*` or `close` can be
//! retried (a `close` whose upload failed leaves the handle open). An upload runs as a
//! task of its own, so a dropped `sync` or `close` future does not stop one that
//! started. A handle dropped without `close` uploads nothing. What is durable when is in `RELIABILITY.md`.
//!
//! # Errors
//!
//! [`fileio_core::Error::Io`] names the path or URL and the operation; its source names
//! the request (`GET bytes 0-4095`, `HEAD`, `PUT`). Kinds: `NotFound`, `AlreadyExists`,
//! `PermissionDenied` (refused or missing credentials), [`CONFLICT_KIND`] for failed
//! preconditions, `InvalidInput` for bad URLs and paths, `UnexpectedEof` for bodies
//! cut short three times. Transient failures are retried with backoff by object_store's
//! clients (their `RetryConfig`).
//!
//! # Features
//!
//! `file://` and `memory://` always work. The cloud schemes each need a feature, off by
//! default because each brings an HTTP and TLS stack (the `aws` feature adds about 80 s
//! to a clean debug build): `aws` (`s3://`, `s3a://`), `gcp` (`gs://`), `azure`
//! (`az://`, `abfs://`, `adl://`) and `http` (`http://`, `https://`). Stores built by
//! hand need none.

#![forbid(unsafe_code)]

mod backend;
mod error;
pub mod fault;
mod fetch;
mod key;
mod options;
mod readahead;
mod runtime;
mod stage;
mod url;

pub use backend::{ObjectBackend, UploadFailed};
pub use error::{CONFLICT_KIND, Conflict, is_conflict};
pub use object_store;
pub use options::{DEFAULT_COHERENCE, ObjectOptions, open};
