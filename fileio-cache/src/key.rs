//! File identities ([`FileKey`]), content versions ([`Stamp`]) and the hashing helpers
//! shared by the cache.

use std::hash::{BuildHasherDefault, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// Identity of one file in the cache.
///
/// Two handles on the same file must produce the same key, and two different files must
/// produce different keys. The cache only compares keys; it never opens or inspects a
/// file. Local files on Unix use `(device << 64) | inode` ([`FileKey::from_metadata`], a
/// std-only convenience); custom backends pick any stable 128-bit id (a hash of an
/// object store URL, say).
///
/// # Examples
///
/// ```
/// use fileio_cache::FileKey;
///
/// let key = FileKey::new(42);
/// assert_eq!(key.get(), 42);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey(u128);

impl FileKey {
    /// Wraps a 128-bit file identity.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::FileKey;
    /// assert_eq!(FileKey::new(7), FileKey::new(7));
    /// ```
    pub const fn new(id: u128) -> FileKey {
        FileKey(id)
    }

    /// Returns the 128-bit identity.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::FileKey;
    /// assert_eq!(FileKey::new(7).get(), 7);
    /// ```
    pub const fn get(self) -> u128 {
        self.0
    }

    /// The key of a local file: `(device << 64) | inode`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::FileKey;
    /// let meta = std::fs::metadata(".").unwrap();
    /// let key = FileKey::from_metadata(&meta);
    /// assert_eq!(key, FileKey::from_metadata(&std::fs::metadata(".").unwrap()));
    /// ```
    #[cfg(unix)]
    pub fn from_metadata(meta: &std::fs::Metadata) -> FileKey {
        use std::os::unix::fs::MetadataExt;
        FileKey::from_dev_ino(meta.dev(), meta.ino())
    }

    /// The key of a local file from its device and inode numbers, as a `stat` gives
    /// them: what [`from_metadata`](Self::from_metadata) makes of the same file.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::FileKey;
    /// use std::os::unix::fs::MetadataExt;
    /// let meta = std::fs::metadata(".").unwrap();
    /// assert_eq!(
    ///     FileKey::from_dev_ino(meta.dev(), meta.ino()),
    ///     FileKey::from_metadata(&meta)
    /// );
    /// ```
    #[cfg(unix)]
    pub const fn from_dev_ino(dev: u64, ino: u64) -> FileKey {
        FileKey(((dev as u128) << 64) | ino as u128)
    }
}

/// Version of one file's content.
///
/// A cached block is served only to a lookup that presents the exact stamp the block was
/// filled or patched under (all three fields compare equal). For local files use
/// [`Stamp::from_metadata`]; custom backends build one with [`Stamp::new`] from whatever
/// identifies a version exactly (an object store's ETag and length, say).
///
/// `changed_at` is not used by the cache beyond equality: it is carried for the racy-stamp
/// rules of `fileio-core` (a stamp taken within the filesystem's timestamp granularity of
/// the last change cannot prove that nothing changed since).
///
/// # Examples
///
/// ```
/// use fileio_cache::Stamp;
///
/// let s = Stamp::new(4096, 0xe7a6);
/// assert_eq!(s.len(), 4096);
/// assert_eq!(s.tag(), 0xe7a6);
/// assert_eq!(s.changed_at(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stamp {
    len: u64,
    tag: u128,
    /// `changed_at` as seconds and nanoseconds since the Unix epoch ([`NO_TIME`]
    /// nanoseconds: unknown), kept as integers so that comparing and encoding a stamp on
    /// the hit path involves no time arithmetic.
    at_secs: i64,
    at_nanos: u32,
}

impl Stamp {
    /// An exact version: `len` bytes, identified by `tag` (an ETag hash, a generation
    /// number, ...). `changed_at` is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::Stamp;
    /// assert_ne!(Stamp::new(10, 1), Stamp::new(10, 2));
    /// assert_ne!(Stamp::new(10, 1), Stamp::new(11, 1));
    /// ```
    pub fn new(len: u64, tag: u128) -> Stamp {
        Stamp {
            len,
            tag,
            at_secs: 0,
            at_nanos: NO_TIME,
        }
    }

    /// The stamp of a local file from the fields of its `stat`: `len`, modification and
    /// change times as (seconds, nanoseconds) since the Unix epoch, inode and device.
    ///
    /// `tag` holds both times exactly (nanoseconds), each lane mixed with a hash of the
    /// inode or the device; `changed_at` is the later of the two times. Two stamps of
    /// the same file (same inode and device, which its [`FileKey`] already holds) are
    /// equal exactly when length and both times are.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::Stamp;
    /// let a = Stamp::from_stat_parts(10, (1_700_000_000, 5), (1_700_000_000, 7), 42, 1);
    /// let b = Stamp::from_stat_parts(10, (1_700_000_000, 6), (1_700_000_000, 7), 42, 1);
    /// assert_ne!(a, b);
    /// assert_eq!(a.changed_at_parts(), Some((1_700_000_000, 7)));
    /// ```
    pub fn from_stat_parts(
        len: u64,
        mtime: (i64, i64),
        ctime: (i64, i64),
        ino: u64,
        dev: u64,
    ) -> Stamp {
        let m = normalise(mtime);
        let c = normalise(ctime);
        let lane =
            |(secs, nanos): (i64, u32)| (secs as i128 * 1_000_000_000 + i128::from(nanos)) as u64;
        let tag = (u128::from(lane(m) ^ fmix64(ino)) << 64) | u128::from(lane(c) ^ fmix64(!dev));
        let (at_secs, at_nanos) = m.max(c);
        Stamp {
            len,
            tag,
            at_secs,
            at_nanos,
        }
    }

    /// The stamp of a local file as `fstat`/`stat` reports it.
    ///
    /// A std-only convenience for local files: the cache itself only compares stamps.
    /// `len` is the file length; on Unix, `tag` holds mtime and ctime in nanoseconds, each
    /// mixed with a hash of the inode or the device ([`from_stat_parts`](Self::from_stat_parts)),
    /// and elsewhere it is a 128-bit mix of mtime and length; `changed_at` is the later of
    /// mtime and ctime (mtime elsewhere).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::Stamp;
    /// let meta = std::fs::metadata(".").unwrap();
    /// let stamp = Stamp::from_metadata(&meta);
    /// assert_eq!(stamp.len(), meta.len());
    /// assert!(stamp.changed_at().is_some());
    /// ```
    pub fn from_metadata(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Stamp::from_stat_parts(
                meta.len(),
                (meta.mtime(), meta.mtime_nsec()),
                (meta.ctime(), meta.ctime_nsec()),
                meta.ino(),
                meta.dev(),
            )
        }
        #[cfg(not(unix))]
        {
            let mtime = meta.modified().ok();
            let m = mtime.map_or((i64::MIN, 0), time_parts);
            let tag = mix128(&[m.0 as u64, u64::from(m.1), meta.len()]);
            let stamp = Stamp::new(meta.len(), tag);
            match mtime {
                Some(t) => stamp.with_changed_at(t),
                None => stamp,
            }
        }
    }

    /// Returns the stamp with `changed_at` set to `at`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::Stamp;
    /// let at = std::time::SystemTime::now();
    /// assert_eq!(Stamp::new(1, 2).with_changed_at(at).changed_at(), Some(at));
    /// ```
    pub fn with_changed_at(self, at: SystemTime) -> Stamp {
        let (at_secs, at_nanos) = time_parts(at);
        Stamp {
            at_secs,
            at_nanos,
            ..self
        }
    }

    /// The file length this stamp describes. Lookups are clamped to it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::Stamp;
    /// assert_eq!(Stamp::new(5, 0).len(), 5);
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The version tag.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::Stamp;
    /// assert_eq!(Stamp::new(5, 9).tag(), 9);
    /// ```
    pub fn tag(&self) -> u128 {
        self.tag
    }

    /// When the content last changed, if known (used by `fileio-core`'s racy-stamp rules).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::Stamp;
    /// assert_eq!(Stamp::new(5, 9).changed_at(), None);
    /// ```
    pub fn changed_at(&self) -> Option<SystemTime> {
        self.changed_at_parts()
            .map(|(secs, nanos)| time_from_parts(secs, i64::from(nanos)))
    }

    /// [`changed_at`](Self::changed_at) as (seconds, nanoseconds) since the Unix epoch,
    /// nanoseconds in `0..1_000_000_000`: the same instant without `SystemTime`
    /// arithmetic.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::Stamp;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let at = UNIX_EPOCH + Duration::new(3, 4);
    /// assert_eq!(Stamp::new(1, 2).with_changed_at(at).changed_at_parts(), Some((3, 4)));
    /// assert_eq!(Stamp::new(1, 2).changed_at_parts(), None);
    /// ```
    pub fn changed_at_parts(&self) -> Option<(i64, u32)> {
        (self.at_nanos != NO_TIME).then_some((self.at_secs, self.at_nanos))
    }

    /// The stamp as plain integers, the form stored in the lock-free per-file mirror.
    pub(crate) fn encode(&self) -> EncodedStamp {
        EncodedStamp {
            len: self.len,
            tag_lo: self.tag as u64,
            tag_hi: (self.tag >> 64) as u64,
            at_secs: self.at_secs,
            at_nanos: self.at_nanos,
        }
    }
}

impl EncodedStamp {
    /// The stamp this encodes.
    pub(crate) fn decode(&self) -> Stamp {
        Stamp {
            len: self.len,
            tag: (u128::from(self.tag_hi) << 64) | u128::from(self.tag_lo),
            at_secs: self.at_secs,
            at_nanos: self.at_nanos,
        }
    }
}

/// `at_nanos` value meaning "changed_at is None" (real nanoseconds are < 1e9).
pub(crate) const NO_TIME: u32 = u32::MAX;

/// A [`Stamp`] flattened to integers so it can live in atomics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EncodedStamp {
    pub(crate) len: u64,
    pub(crate) tag_lo: u64,
    pub(crate) tag_hi: u64,
    pub(crate) at_secs: i64,
    pub(crate) at_nanos: u32,
}

/// Splits a time into (seconds, nanoseconds) relative to the Unix epoch, with the
/// nanoseconds always in `0..1e9` (so times before 1970 have negative seconds).
fn time_parts(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() == 0 {
                (secs.saturating_neg(), 0)
            } else {
                (
                    secs.saturating_neg().saturating_sub(1),
                    1_000_000_000 - d.subsec_nanos(),
                )
            }
        }
    }
}

/// (seconds, nanoseconds) as `stat` reports them, nanoseconds brought into
/// `0..1_000_000_000` (borrowing from the seconds for negative values).
fn normalise((secs, nanos): (i64, i64)) -> (i64, u32) {
    let secs = secs.saturating_add(nanos.div_euclid(1_000_000_000));
    (secs, nanos.rem_euclid(1_000_000_000) as u32)
}

/// The inverse of [`time_parts`], saturating at what `SystemTime` can represent.
fn time_from_parts(secs: i64, nanos: i64) -> SystemTime {
    use std::time::Duration;
    let nanos = u32::try_from(nanos.clamp(0, 999_999_999)).unwrap_or(0);
    if secs >= 0 {
        let d = Duration::new(secs.unsigned_abs(), nanos);
        UNIX_EPOCH.checked_add(d).unwrap_or(UNIX_EPOCH)
    } else {
        let back = Duration::from_secs(secs.unsigned_abs());
        UNIX_EPOCH
            .checked_sub(back)
            .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(nanos))))
            .unwrap_or(UNIX_EPOCH)
    }
}

/// A 64-bit finalizer with full avalanche (the `splitmix64` / `murmur3` fmix family).
#[inline]
pub(crate) const fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A strong (not cryptographic) 128-bit mix of `words`: two independent 64-bit lanes,
/// each a chain of full-avalanche finalizers over every word and the word count.
#[cfg(any(not(unix), test))]
fn mix128(words: &[u64]) -> u128 {
    let mut a: u64 = 0x243f_6a88_85a3_08d3;
    let mut b: u64 = 0x1319_8a2e_0370_7344;
    for (i, &w) in words.iter().enumerate() {
        a = fmix64(a ^ w.wrapping_add(i as u64));
        b = fmix64(b.rotate_left(23) ^ w ^ 0xa409_3822_299f_31d0).wrapping_add(a);
    }
    a = fmix64(a ^ words.len() as u64);
    b = fmix64(b ^ a.rotate_left(17));
    (u128::from(b) << 64) | u128::from(a)
}

/// The hasher behind every block map: a multiply-xorshift mix of the key's integers.
///
/// Keys are (file id, block index) pairs, not attacker-chosen strings; the per-cache seed
/// (mixed into [`block_hash`]) keeps distinct caches' layouts independent anyway.
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct BlockHasher(u64);

impl Hasher for BlockHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = fmix64(self.0 ^ u64::from(b));
        }
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        // Block keys hash as one pre-mixed u64 (see `BlockKey`'s `Hash`).
        self.0 = i;
    }
}

/// `BuildHasher` for the block maps.
pub(crate) type BuildBlockHasher = BuildHasherDefault<BlockHasher>;

/// The hash of one block key, used both to pick its shard and inside the shard's map.
#[inline]
pub(crate) fn block_hash(seed: u64, file: FileKey, index: u64) -> u64 {
    let f = file.get();
    let x = (f as u64) ^ fmix64((f >> 64) as u64 ^ seed);
    fmix64(x ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn time_parts_round_trip() {
        let cases = [
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::new(1_700_000_000, 123),
            UNIX_EPOCH - Duration::new(5, 1),
            UNIX_EPOCH - Duration::new(5, 0),
        ];
        for t in cases {
            let (s, n) = time_parts(t);
            assert!(n < 1_000_000_000);
            #[cfg(unix)]
            assert_eq!(time_from_parts(s, i64::from(n)), t);
            let _ = s;
        }
    }

    #[test]
    fn encode_distinguishes_changed_at() {
        let a = Stamp::new(1, 2);
        let b = a.with_changed_at(UNIX_EPOCH);
        assert_ne!(a.encode(), b.encode());
        assert_eq!(a.encode(), Stamp::new(1, 2).encode());
    }

    #[test]
    fn mix_is_sensitive_to_every_word() {
        let base = mix128(&[1, 2, 3, 4]);
        assert_ne!(base, mix128(&[1, 2, 3, 5]));
        assert_ne!(base, mix128(&[0, 2, 3, 4]));
        assert_ne!(base, mix128(&[1, 2, 3, 4, 0]));
    }
}
