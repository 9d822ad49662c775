//! [`RangeCache::probe`](super::RangeCache::probe): a look at one block before the
//! caller asks the file for its version, so that a caller which must confirm every hit
//! with a fresh stamp (`fileio-core`'s `Coherence::Strict`) pays for that stamp only when
//! there is a hit to confirm, and reads a first touch around the cache without it.

use std::fmt;

use bytes::Bytes;

use super::inner::read;
use super::{RangeCache, WriteEpoch};
use crate::key::{EncodedStamp, FileKey, Stamp};

/// What [`RangeCache::probe`] found.
///
/// # Examples
///
/// See [`RangeCache::probe`].
#[derive(Debug)]
pub enum Probe<'a> {
    /// The request lies in one resident block, current under the stamp the cache records
    /// for the file: [`ProbeHit::confirm`] it with the file's version.
    Hit(ProbeHit<'a>),
    /// The request's one block is not resident and a miss on it would not be hot: the
    /// caller may read it around the cache ([`ColdMiss::read_around`], which counts the
    /// touch, so that touching the block again soon makes it hot).
    Cold(ColdMiss<'a>),
    /// Anything else (several blocks, a hot miss, no recorded stamp, a write in flight,
    /// a block of another version): look up as usual. Nothing was counted.
    Unsure,
}

/// A block that may serve a request, pending the caller's check of the file's version.
/// Dropping it counts nothing.
pub struct ProbeHit<'a> {
    cache: &'a RangeCache,
    bytes: Bytes,
    stamp: EncodedStamp,
    epoch: WriteEpoch,
}

impl fmt::Debug for ProbeHit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeHit")
            .field("len", &self.bytes.len())
            .field("stamp", &self.stamp())
            .finish()
    }
}

impl<'a> ProbeHit<'a> {
    /// The stamp the block is current under (the one the cache recorded for the file).
    ///
    /// # Examples
    ///
    /// See [`RangeCache::probe`].
    pub fn stamp(&self) -> Stamp {
        self.stamp.decode()
    }

    /// The file's [`WriteEpoch`] at the probe: taken before the stamp the caller asks
    /// for next, it is the one to [`lookup_since`](RangeCache::lookup_since) with when
    /// [`confirm`](Self::confirm) finds the file changed.
    ///
    /// # Examples
    ///
    /// See [`RangeCache::probe`].
    pub fn epoch(&self) -> WriteEpoch {
        self.epoch
    }

    /// The bytes, if `stamp` is [`stamp`](Self::stamp): counts a hit. Otherwise `None`
    /// (counting nothing): the file has another version, look up with `stamp`.
    ///
    /// `stamp` must be the file's version taken *after* the probe (see
    /// [`RangeCache::probe`]).
    ///
    /// # Examples
    ///
    /// See [`RangeCache::probe`].
    pub fn confirm(self, stamp: &Stamp) -> Option<Bytes> {
        if stamp.encode() != self.stamp {
            return None;
        }
        self.cache.inner.tally.hit();
        Some(self.bytes)
    }
}

/// A cold block the caller reads around the cache. Dropping it counts nothing, not even
/// the touch.
pub struct ColdMiss<'a> {
    cache: &'a RangeCache,
    /// The block's hash, for the ghost filter.
    hash: u64,
}

impl fmt::Debug for ColdMiss<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ColdMiss").finish_non_exhaustive()
    }
}

impl ColdMiss<'_> {
    /// Says that the caller read the request around the cache: counts a miss and a
    /// touch of the block.
    ///
    /// # Examples
    ///
    /// See [`RangeCache::probe`].
    pub fn read_around(self) {
        let inner = &self.cache.inner;
        inner.ghost.touch(self.hash);
        inner.tally.miss();
    }
}

impl RangeCache {
    /// Looks at the block holding `offset..offset + len` of `key` under the stamp the
    /// cache records for the file, for a caller that must confirm a hit with the file's
    /// current version and would rather not ask for it when there is nothing to confirm.
    /// It takes no lock beyond the block's shard's read lock and builds no [`Miss`].
    ///
    /// - [`Probe::Hit`]: ask the file for its stamp, then
    ///   [`confirm`](ProbeHit::confirm). The bytes are what
    ///   [`lookup`](Self::lookup) with that stamp returns, clamped to its length. A stamp
    ///   taken after the probe that equals the recorded one proves that the file held
    ///   these bytes at the moment the stamp was taken (a stamp names one content), so
    ///   the caller returns bytes the file held during its read.
    /// - [`Probe::Cold`]: a block not touched often enough lately for a miss on it to
    ///   be hot; read the request around the cache (no stamp is needed for that) and
    ///   call [`read_around`](ColdMiss::read_around), or look up as usual if the read
    ///   cannot be made now (the lookup then counts the touch).
    /// - [`Probe::Unsure`]: look up as usual.
    ///
    /// # Examples
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use fileio_cache::{Fill, FileKey, Lookup, Probe, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let (key, v1) = (FileKey::new(1), Stamp::new(4096, 1));
    /// // A first touch: read around the cache.
    /// let Probe::Cold(cold) = cache.probe(key, 0, 100) else { panic!() };
    /// cold.read_around();
    /// // The second touch is hot: a probe cannot say, look up and fill.
    /// assert!(matches!(cache.probe(key, 0, 100), Probe::Unsure));
    /// let Lookup::Miss(m) = cache.lookup(key, &v1, 0, 100) else { panic!() };
    /// let Fill::Lead(g) = m.begin_fill(&cache) else { panic!() };
    /// g.complete(&Bytes::from(vec![7u8; 512]));
    /// // Now a probe finds the block; the file's stamp, asked after it, confirms it.
    /// let Probe::Hit(hit) = cache.probe(key, 10, 20) else { panic!() };
    /// assert_eq!(hit.stamp(), v1);
    /// assert_eq!(hit.confirm(&v1), Some(Bytes::from(vec![7u8; 20])));
    /// // A file that changed since: no bytes, look up with the new stamp.
    /// let Probe::Hit(hit) = cache.probe(key, 10, 20) else { panic!() };
    /// assert_eq!(hit.confirm(&Stamp::new(4096, 2)), None);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    ///
    /// [`Miss`]: crate::Miss
    pub fn probe(&self, key: FileKey, offset: u64, len: usize) -> Probe<'_> {
        let inner = &*self.inner;
        let Some(index) = inner.blocks.single_block(offset, len) else {
            return Probe::Unsure;
        };
        let k = inner.block_key(key, index);
        {
            let shard = read(&inner.cell(&k).shard);
            if let Some(e) = shard.get(&k) {
                let snap = e.file.snapshot();
                if !snap.serves_recorded(e.generation, index) {
                    return Probe::Unsure;
                }
                return match inner.serve(&k, e, &snap, offset, len) {
                    Some(bytes) => Probe::Hit(ProbeHit {
                        cache: self,
                        bytes,
                        stamp: snap.stamp,
                        epoch: WriteEpoch::of_snapshot(&snap),
                    }),
                    None => Probe::Unsure,
                };
            }
        }
        if inner.ghost.touches(k.hash) >= inner.hot_after(&k) {
            Probe::Unsure
        } else {
            Probe::Cold(ColdMiss {
                cache: self,
                hash: k.hash,
            })
        }
    }
}
