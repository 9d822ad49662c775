//! [`FaultStore`]: an [`ObjectStore`] wrapper that injects failures (errors, bodies cut
//! short, failed preconditions) and counts requests, for tests of code that reads and
//! writes objects (this crate's own included).

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

/// A failure to inject.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The request fails with a generic (transient-looking) error.
    Error,
    /// The request fails as if the credentials were refused.
    Denied,
    /// A GET's body ends after this many bytes.
    Truncate(usize),
    /// The request fails its precondition (HTTP 412), whatever it asked.
    Precondition,
}

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// A GET with a body (not a HEAD).
    Get,
    /// A HEAD.
    Head,
    /// A PUT (single or the completion of a multipart upload).
    Put,
}

/// An [`ObjectStore`] that forwards to another one, failing the requests it was told
/// to fail (each queued fault applies once, to the next request of its kind) and
/// counting GETs, HEADs and PUTs.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// use std::sync::Arc;
/// use fileio_object::fault::{Fault, FaultStore, Request};
/// use fileio_object::object_store::{memory::InMemory, path::Path, ObjectStoreExt};
///
/// let store = FaultStore::new(Arc::new(InMemory::new()));
/// store.put(&Path::from("a"), vec![1u8, 2, 3].into()).await.unwrap();
/// store.inject(Request::Get, Fault::Error);
/// assert!(store.get(&Path::from("a")).await.is_err());
/// assert!(store.get(&Path::from("a")).await.is_ok());
/// assert_eq!(store.count(Request::Get), 2);
/// # });
/// ```
pub struct FaultStore {
    inner: Arc<dyn ObjectStore>,
    faults: Mutex<VecDeque<(Request, Fault)>>,
    counts: [AtomicUsize; 3],
    live_bodies: Arc<AtomicUsize>,
    live_body_bytes: Arc<AtomicUsize>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl fmt::Debug for FaultStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultStore")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for FaultStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultStore({})", self.inner)
    }
}

fn index(r: Request) -> usize {
    match r {
        Request::Get => 0,
        Request::Head => 1,
        Request::Put => 2,
    }
}

/// Counts itself among the live GET bodies until the last `Bytes` over it is dropped.
struct Body {
    data: Vec<u8>,
    live: Arc<AtomicUsize>,
    live_bytes: Arc<AtomicUsize>,
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        self.live_bytes.fetch_sub(self.data.len(), Ordering::SeqCst);
    }
}

impl FaultStore {
    /// Wraps `inner`, with no fault queued.
    pub fn new(inner: Arc<dyn ObjectStore>) -> FaultStore {
        FaultStore {
            inner,
            faults: Mutex::default(),
            counts: Default::default(),
            live_bodies: Arc::default(),
            live_body_bytes: Arc::default(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }
    }

    /// Queues `fault` for the next request of kind `request` not yet given a fault.
    pub fn inject(&self, request: Request, fault: Fault) {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back((request, fault));
    }

    /// Requests of kind `request` made so far (failed ones included).
    pub fn count(&self, request: Request) -> usize {
        self.counts[index(request)].load(Ordering::SeqCst)
    }

    /// GET response bodies still referenced by some `Bytes` (each body is one
    /// allocation, released when its last slice is dropped).
    pub fn live_bodies(&self) -> usize {
        self.live_bodies.load(Ordering::SeqCst)
    }

    /// The bytes of the GET response bodies still referenced (see
    /// [`live_bodies`](Self::live_bodies)): with it, a test tells a body that is one
    /// cached block from a larger response a block keeps alive.
    pub fn live_body_bytes(&self) -> usize {
        self.live_body_bytes.load(Ordering::SeqCst)
    }

    /// The most GETs (with a body) that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    fn next_fault(&self, request: Request) -> Option<Fault> {
        self.counts[index(request)].fetch_add(1, Ordering::SeqCst);
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let at = faults.iter().position(|(r, _)| *r == request)?;
        faults.remove(at).map(|(_, f)| f)
    }

    fn error(fault: &Fault, path: &Path) -> Option<object_store::Error> {
        let source = || format!("injected {fault:?}").into();
        match fault {
            Fault::Error => Some(object_store::Error::Generic {
                store: "FaultStore",
                source: source(),
            }),
            Fault::Denied => Some(object_store::Error::PermissionDenied {
                path: path.to_string(),
                source: source(),
            }),
            Fault::Precondition => Some(object_store::Error::Precondition {
                path: path.to_string(),
                source: source(),
            }),
            Fault::Truncate(_) => None,
        }
    }
}

#[async_trait]
impl ObjectStore for FaultStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        if let Some(e) = self
            .next_fault(Request::Put)
            .and_then(|f| Self::error(&f, location))
        {
            return Err(e);
        }
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        if let Some(e) = self
            .next_fault(Request::Put)
            .and_then(|f| Self::error(&f, location))
        {
            return Err(e);
        }
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let request = if options.head {
            Request::Head
        } else {
            Request::Get
        };
        let fault = self.next_fault(request);
        if let Some(e) = fault.as_ref().and_then(|f| Self::error(f, location)) {
            return Err(e);
        }
        if request == Request::Head {
            return self.inner.get_opts(location, options).await;
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let res = self.inner.get_opts(location, options).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let res = res?;
        let GetResult {
            meta,
            range,
            attributes,
            extensions,
            payload,
        } = res;
        let body = GetResult {
            payload,
            meta: meta.clone(),
            range: range.clone(),
            attributes: attributes.clone(),
            extensions: Default::default(),
        }
        .bytes()
        .await?;
        let mut data = body.to_vec();
        if let Some(Fault::Truncate(keep)) = fault {
            data.truncate(keep);
        }
        self.live_bodies.fetch_add(1, Ordering::SeqCst);
        self.live_body_bytes.fetch_add(data.len(), Ordering::SeqCst);
        let body = Bytes::from_owner(Body {
            data,
            live: Arc::clone(&self.live_bodies),
            live_bytes: Arc::clone(&self.live_body_bytes),
        });
        let stream = futures_util::stream::once(async move { Ok(body) }).boxed();
        Ok(GetResult {
            payload: GetResultPayload::Stream(stream),
            meta,
            range,
            attributes,
            extensions,
        })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
