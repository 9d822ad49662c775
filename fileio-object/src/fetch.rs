//! Ranged GETs of one version of an object: checked (`If-Match`, then the response's
//! size and ETag, then the body's length), split into parallel GETs when large, and
//! coalesced with concurrent neighbouring misses.

use std::io;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{GetOptions, ObjectMeta, ObjectStore};
use tokio::sync::oneshot;

use crate::error;
use crate::runtime::{self, Place};

/// One version of the object: what reads must all come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) size: u64,
    pub(crate) e_tag: Option<String>,
    pub(crate) version: Option<String>,
    /// 128 bits telling this version apart ([`Version::new`]).
    pub(crate) tag: u128,
}

impl Version {
    pub(crate) fn from_meta(meta: &ObjectMeta) -> Version {
        Version::new(
            meta.size,
            meta.e_tag.clone(),
            meta.version.clone(),
            meta.last_modified.timestamp_nanos_opt(),
        )
    }

    /// A version from its parts; the tag hashes the ETag, else the version id, else the
    /// modification time (what the store gives to tell versions apart).
    pub(crate) fn new(
        size: u64,
        e_tag: Option<String>,
        version: Option<String>,
        modified: Option<i64>,
    ) -> Version {
        let tag = match (&e_tag, &version) {
            (Some(e), _) => crate::key::tag_of(1, e.as_bytes()),
            (None, Some(v)) => crate::key::tag_of(2, v.as_bytes()),
            (None, None) => crate::key::tag_of(3, &modified.unwrap_or(0).to_le_bytes()),
        };
        Version {
            size,
            e_tag,
            version,
            tag,
        }
    }

    /// Whether a response's metadata describes this version.
    fn matches(&self, meta: &ObjectMeta) -> bool {
        meta.size == self.size
            && match (&self.e_tag, &self.version) {
                (Some(e), _) => meta.e_tag.as_ref() == Some(e),
                (None, Some(v)) => meta.version.as_ref() == Some(v),
                (None, None) => Version::from_meta(meta).tag == self.tag,
            }
    }
}

/// Why a fetch did not return bytes.
#[derive(Clone, Debug)]
pub(crate) enum FetchError {
    /// The object is no longer the version asked for (412, another ETag or size, or
    /// gone).
    Changed,
    /// Anything else.
    Failed(Arc<io::Error>),
}

impl FetchError {
    pub(crate) fn into_io(self, object: &str) -> io::Error {
        match self {
            FetchError::Changed => error::conflict(object, "the object changed during the read"),
            FetchError::Failed(e) => match Arc::try_unwrap(e) {
                Ok(e) => e,
                Err(e) => io::Error::new(e.kind(), e.to_string()),
            },
        }
    }
}

/// How many times a truncated body is fetched again before the read fails.
const BODY_ATTEMPTS: usize = 3;

/// Where the object is and how to name it.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) location: Path,
    /// `store/path`, for messages.
    pub(crate) name: Arc<str>,
}

impl Target {
    /// One ranged GET of `range` (non-empty, inside `v`), checked against `v`.
    pub(crate) async fn get(&self, v: &Version, range: Range<u64>) -> Result<Bytes, FetchError> {
        let want = range.end - range.start;
        let request = || format!("GET bytes {}-{}", range.start, range.end - 1);
        for _ in 0..BODY_ATTEMPTS {
            let opts = GetOptions::new()
                .with_range(Some(range.clone()))
                .with_if_match(v.e_tag.clone())
                .with_version(v.version.clone().filter(|_| v.e_tag.is_none()));
            let res = match self.store.get_opts(&self.location, opts).await {
                Ok(res) => res,
                Err(
                    object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. },
                ) => return Err(FetchError::Changed),
                Err(e) => return Err(failed(error::map(&self.name, &request(), e))),
            };
            if !v.matches(&res.meta) {
                return Err(FetchError::Changed);
            }
            if res.range != range {
                return Err(failed(error::other(
                    io::ErrorKind::InvalidData,
                    &self.name,
                    format!("{} answered with bytes {:?}", request(), res.range),
                )));
            }
            match res.bytes().await {
                Ok(body) if body.len() as u64 == want => return Ok(body),
                // A body cut short (or a broken stream): ask again.
                Ok(_) => {}
                Err(object_store::Error::Generic { .. }) => {}
                Err(e) => return Err(failed(error::map(&self.name, &request(), e))),
            }
        }
        Err(failed(error::other(
            io::ErrorKind::UnexpectedEof,
            &self.name,
            format!(
                "{}: the body was cut short {BODY_ATTEMPTS} times",
                request()
            ),
        )))
    }

    /// `range` of `v`, split into GETs of at most `piece` bytes with at most `in_flight`
    /// of them at once, assembled in order.
    pub(crate) async fn get_split(
        &self,
        v: &Version,
        range: Range<u64>,
        piece: u64,
        in_flight: usize,
    ) -> Result<Bytes, FetchError> {
        let piece = piece.max(1);
        if range.end - range.start <= piece {
            return self.get(v, range).await;
        }
        let pieces: Vec<Range<u64>> = (range.start..range.end)
            .step_by(usize::try_from(piece).unwrap_or(usize::MAX))
            .map(|s| s..(s + piece).min(range.end))
            .collect();
        let mut out = BytesMut::with_capacity((range.end - range.start) as usize);
        let mut parts = futures_util::stream::iter(pieces)
            .map(|r| self.get(v, r))
            .buffered(in_flight.max(1));
        while let Some(part) = parts.next().await {
            out.extend_from_slice(&part?);
        }
        Ok(out.freeze())
    }
}

/// `range` of `body`, in a buffer of its own unless it is all of `body`: the cache keeps
/// a fill of exactly one block as it is, and a slice of a larger response would keep
/// the whole response alive.
pub(crate) fn owned(body: &Bytes, range: Range<usize>) -> Bytes {
    if range.start == 0 && range.end == body.len() {
        body.clone()
    } else {
        Bytes::copy_from_slice(&body[range])
    }
}

fn failed(e: io::Error) -> FetchError {
    FetchError::Failed(Arc::new(e))
}

/// A read waiting for a coalesced GET.
struct Waiter {
    v: Version,
    range: Range<u64>,
    tx: oneshot::Sender<Result<Bytes, FetchError>>,
}

/// Concurrent small misses of one open object, gathered so that neighbours share one
/// GET. The first miss starts a dispatcher task; misses that arrive before it runs join
/// its batch. It groups the batch by version and merges ranges that touch or overlap
/// (up to `max_merge` bytes a GET), then sends each waiter its slice.
#[derive(Default)]
pub(crate) struct Coalescer {
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiter>,
    dispatching: bool,
}

impl std::fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer").finish_non_exhaustive()
    }
}

impl Coalescer {
    /// `range` of `v`, fetched together with the neighbouring misses pending now.
    pub(crate) async fn get(
        self: &Arc<Self>,
        target: &Target,
        place: Place,
        max_merge: u64,
        v: &Version,
        range: Range<u64>,
    ) -> Result<Bytes, FetchError> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.waiting.push(Waiter {
                v: v.clone(),
                range,
                tx,
            });
            !std::mem::replace(&mut q.dispatching, true)
        };
        if start {
            let this = Arc::clone(self);
            let target = target.clone();
            if let Err(e) = runtime::spawn(place, async move {
                this.dispatch(target, max_merge).await;
            }) {
                let waiting = self.take();
                for w in waiting {
                    let _ = w.tx.send(Err(FetchError::Failed(Arc::new(io::Error::new(
                        e.kind(),
                        e.to_string(),
                    )))));
                }
            }
        }
        // The dispatcher always answers or drops the sender: a dropped one (a panic in
        // a store) is an error, never a hang.
        rx.await.unwrap_or_else(|_| {
            Err(failed(io::Error::other(
                "the coalesced request was dropped",
            )))
        })
    }

    fn take(&self) -> Vec<Waiter> {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.dispatching = false;
        std::mem::take(&mut q.waiting)
    }

    async fn dispatch(&self, target: Target, max_merge: u64) {
        // Let the misses of tasks woken together join this batch.
        tokio::task::yield_now().await;
        let mut waiting = self.take();
        waiting.sort_by_key(|w| (w.v.tag, w.range.start));
        let groups = spans(waiting, |w| w.range.clone(), |a, b| a.v == b.v, max_merge);
        let gets = groups.into_iter().map(|(span, members)| {
            let target = &target;
            async move {
                let result = target.get(&members[0].v, span.clone()).await;
                for w in members {
                    let answer = result.clone().map(|body| {
                        owned(
                            &body,
                            (w.range.start - span.start) as usize
                                ..(w.range.end - span.start) as usize,
                        )
                    });
                    let _ = w.tx.send(answer);
                }
            }
        });
        futures_util::future::join_all(gets).await;
    }
}

/// The merge rule of [`Coalescer`]: `items` (sorted by start) grouped into GET spans,
/// in order. An item joins the span before it when `same` (one version) holds, its
/// range touches or overlaps the span, and the span stays within `max_merge` bytes.
pub(crate) fn spans<T>(
    items: Vec<T>,
    range: impl Fn(&T) -> Range<u64>,
    same: impl Fn(&T, &T) -> bool,
    max_merge: u64,
) -> Vec<(Range<u64>, Vec<T>)> {
    let mut groups: Vec<(Range<u64>, Vec<T>)> = Vec::new();
    for item in items {
        let r = range(&item);
        if let Some((span, members)) = groups.last_mut()
            && same(&members[0], &item)
            && r.start <= span.end
            && r.end.max(span.end) - span.start <= max_merge
        {
            span.end = span.end.max(r.end);
            members.push(item);
            continue;
        }
        groups.push((r, vec![item]));
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every range lies inside its span, spans are ordered and disjoint, none is
        /// larger than the bound (unless one range alone is), and merging loses no range.
        #[test]
        fn spans_cover_every_range(
            mut ranges in proptest::collection::vec((0u64..1000, 1u64..100), 0..40),
            max_merge in 1u64..400,
        ) {
            ranges.sort();
            let n = ranges.len();
            let groups = spans(ranges, |&(s, l)| s..s + l, |_, _| true, max_merge);
            prop_assert_eq!(groups.iter().map(|g| g.1.len()).sum::<usize>(), n);
            for (span, members) in &groups {
                for &(s, l) in members {
                    prop_assert!(span.start <= s && s + l <= span.end);
                }
                prop_assert!(span.end - span.start <= max_merge || members.len() == 1);
            }
        }

        /// Touching ranges of one version within the bound become one GET.
        #[test]
        fn neighbours_merge(start in 0u64..1000, lens in proptest::collection::vec(1u64..50, 1..10)) {
            let mut at = start;
            let mut ranges = Vec::new();
            for l in &lens {
                ranges.push(at..at + l);
                at += l;
            }
            let total = at - start;
            let groups = spans(ranges, Clone::clone, |_, _| true, total);
            prop_assert_eq!(groups.len(), 1);
            prop_assert_eq!(groups[0].0.clone(), start..at);
            let groups = spans(vec![0..10, 10..20], Clone::clone, |_, _| false, 100);
            prop_assert_eq!(groups.len(), 2, "two versions never share a GET");
        }
    }
}
