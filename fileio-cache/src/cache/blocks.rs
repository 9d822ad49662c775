//! Pure block arithmetic: which blocks cover a byte range, how many bytes of a block a
//! request or a file holds, which blocks a fill's data yields, and [`assemble`] (the
//! requested bytes out of several blocks). No locks and no state: the lookup and fill
//! paths call these, and the tests below check them against a plain model, a `Vec<u8>`
//! file cut into blocks (and `u128` arithmetic near `u64::MAX`).

use std::ops::Range;

use bytes::{Bytes, BytesMut};

/// The block layout of a cache: block `i` of a file holds its bytes
/// `i << shift .. (i + 1) << shift` (the tail block ends at the file's length).
///
/// Offsets are `u64`, so the last block index, `u64::MAX >> shift`, ends past
/// `u64::MAX`: [`end`](Self::end) saturates there, and the builder's `shift >= 9` keeps
/// every `index + 1` in range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Blocks {
    shift: u32,
}

impl Blocks {
    /// Blocks of `1 << shift` bytes (`shift < 64`).
    pub(super) const fn new(shift: u32) -> Blocks {
        Blocks { shift }
    }

    /// The block size in bytes.
    #[inline]
    pub(super) const fn size(self) -> u64 {
        1 << self.shift
    }

    /// The index of the block holding byte `offset`.
    #[inline]
    pub(super) const fn index(self, offset: u64) -> u64 {
        offset >> self.shift
    }

    /// Start of block `index`.
    #[inline]
    pub(super) const fn start(self, index: u64) -> u64 {
        index << self.shift
    }

    /// End of block `index` (saturating at `u64::MAX`).
    #[inline]
    pub(super) const fn end(self, index: u64) -> u64 {
        self.start(index).saturating_add(self.size())
    }

    /// Bytes of block `index` in a file of `file_len` bytes: the block size for a full
    /// block, less for the tail block, 0 for a block at or past the end of the file.
    #[inline]
    pub(super) const fn len_in(self, index: u64, file_len: u64) -> u64 {
        let len = file_len.saturating_sub(self.start(index));
        if len < self.size() { len } else { self.size() }
    }

    /// The indices of the blocks covering the non-empty byte range `bytes`.
    #[inline]
    pub(super) const fn covering(self, bytes: &Range<u64>) -> Range<u64> {
        self.index(bytes.start)..self.index(bytes.end - 1) + 1
    }

    /// The block holding all of `offset..offset + len`, if that range is non-empty, lies
    /// in one block and does not run past `u64::MAX` (no clamping to a file's length).
    #[inline]
    pub(super) fn single_block(self, offset: u64, len: usize) -> Option<u64> {
        let last = offset.checked_add(len.checked_sub(1)? as u64)?;
        let first = self.index(offset);
        (self.index(last) == first).then_some(first)
    }

    /// Bytes of block `index`, from its start, that a request ending at `end` needs.
    /// `index` must start before `end`.
    #[inline]
    pub(super) fn need(self, index: u64, end: u64) -> usize {
        (end.min(self.end(index)) - self.start(index)) as usize
    }

    /// The byte span to read for the non-empty run of missing `blocks` of a file of
    /// `file_len` bytes: block-aligned at the start, clamped to the file at the end.
    #[inline]
    pub(super) fn span(self, blocks: &Range<u64>, file_len: u64) -> Range<u64> {
        self.start(blocks.start)..self.end(blocks.end - 1).min(file_len)
    }

    /// The blocks a fill inserts, with the slice of its data each one is: the fill read
    /// `span` (from [`span`](Self::span) of `blocks`) and got `data_len` bytes (fewer only
    /// at end of file; bytes past `span` are ignored). Yields, in order from
    /// `blocks.start`, every block the data holds wholly (the tail block counts when the
    /// data reaches `file_len`) and stops at the first one it does not.
    pub(super) fn filled(
        self,
        blocks: Range<u64>,
        span: &Range<u64>,
        data_len: usize,
        file_len: u64,
    ) -> impl Iterator<Item = (u64, Range<usize>)> {
        let start = span.start;
        let data_end = start.saturating_add(data_len as u64).min(span.end);
        blocks.map_while(move |i| {
            let b_start = self.start(i);
            let b_end = self.end(i).min(file_len);
            (b_start < b_end && data_end >= b_end)
                .then(|| (i, (b_start - start) as usize..(b_end - start) as usize))
        })
    }
}

/// The part of `offset..offset + len` inside a file of `file_len` bytes (saturating at
/// `u64::MAX`); `None` when that is empty (at or past the end of the file, or `len == 0`).
#[inline]
pub(super) fn clamp(offset: u64, len: usize, file_len: u64) -> Option<Range<u64>> {
    let end = offset.saturating_add(len as u64).min(file_len);
    (offset < end).then_some(offset..end)
}

/// One `Bytes` for `len` bytes starting `skip` bytes into the concatenation of `parts`.
/// A single part is sliced (no copy); several are copied once.
pub(super) fn assemble(parts: Vec<Bytes>, skip: u64, len: u64) -> Bytes {
    let (skip, len) = (skip as usize, len as usize);
    if parts.len() == 1 {
        return parts[0].slice(skip..skip + len);
    }
    let mut out = BytesMut::with_capacity(len);
    let mut skip = skip;
    for p in &parts {
        let from = skip.min(p.len());
        skip -= from;
        let take = (p.len() - from).min(len - out.len());
        out.extend_from_slice(&p[from..from + take]);
    }
    out.freeze()
}

#[cfg(test)]
pub(super) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The model: a file is a `Vec<u8>`; block `i` is its bytes in
    /// `i * size .. (i + 1) * size`, cut at the end of the file.
    pub(in crate::cache) fn model_block(file: &[u8], size: usize, i: u64) -> &[u8] {
        let start = (i as usize * size).min(file.len());
        &file[start..(start + size).min(file.len())]
    }

    /// A file of `len` distinct-ish bytes, so that misplaced bytes show.
    pub(in crate::cache) fn model_file(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn start_end_index_agree() {
        for shift in [0, 3, 9, 14, 24, 63] {
            let b = Blocks::new(shift);
            assert_eq!(b.size(), 1u64 << shift);
            let last = u64::MAX >> shift;
            for i in [0, 1, 2, 1000, last].into_iter().filter(|&i| i <= last) {
                assert_eq!(b.index(b.start(i)), i);
                let end = (u128::from(i) + 1) << shift;
                assert_eq!(u128::from(b.end(i)), end.min(u64::MAX.into()));
            }
        }
    }

    #[test]
    fn last_block_ends_at_u64_max() {
        let b = Blocks::new(9);
        let last = u64::MAX >> 9;
        assert_eq!(b.start(last), u64::MAX - 511);
        assert_eq!(b.end(last), u64::MAX);
        assert_eq!(b.covering(&(u64::MAX - 1..u64::MAX)), last..last + 1);
        assert_eq!(b.len_in(last, u64::MAX), 511);
        assert_eq!(b.single_block(u64::MAX, 1), Some(last));
        assert_eq!(b.single_block(u64::MAX, 2), None);
        assert_eq!(clamp(u64::MAX, usize::MAX, u64::MAX), None);
        assert_eq!(
            clamp(u64::MAX - 5, usize::MAX, u64::MAX),
            Some(u64::MAX - 5..u64::MAX)
        );
    }

    #[test]
    fn assemble_slices_and_joins() {
        let parts = vec![Bytes::from_static(b"abcd"), Bytes::from_static(b"efgh")];
        assert_eq!(assemble(parts.clone(), 2, 4), "cdef");
        assert_eq!(assemble(parts, 0, 8), "abcdefgh");
        assert_eq!(assemble(vec![Bytes::from_static(b"abcd")], 1, 2), "bc");
    }

    /// Every read of a small file, at every offset and length, against the model.
    #[test]
    fn covering_need_and_assemble_match_the_model_exhaustively() {
        for shift in [2, 3, 5] {
            let b = Blocks::new(shift);
            let size = b.size() as usize;
            for file_len in [0, 1, size - 1, size, size + 1, 3 * size, 3 * size + 2] {
                let file = model_file(file_len, shift as u8);
                for offset in 0..file_len as u64 + 2 {
                    for len in 0..file_len + 2 {
                        check_read(b, &file, offset, len);
                    }
                }
            }
        }
    }

    fn check_read(b: Blocks, file: &[u8], offset: u64, len: usize) {
        let size = b.size() as usize;
        let want_end = (offset as usize + len).min(file.len());
        let Some(bytes) = clamp(offset, len, file.len() as u64) else {
            assert!(
                offset as usize >= want_end,
                "{offset}+{len} of {}",
                file.len()
            );
            return;
        };
        assert_eq!(bytes, offset..want_end as u64);
        // The covering blocks: exactly those holding a byte of the range.
        let holding: Vec<u64> = (bytes.start..bytes.end).map(|o| o / size as u64).collect();
        let blocks = b.covering(&bytes);
        assert_eq!(blocks.start, holding[0]);
        assert_eq!(blocks.end - 1, *holding.last().unwrap());
        // `need` and `assemble` rebuild the range from the model's blocks.
        let parts: Vec<Bytes> = blocks
            .clone()
            .map(|i| {
                let need = b.need(i, bytes.end);
                assert!(need <= model_block(file, size, i).len());
                Bytes::copy_from_slice(&model_block(file, size, i)[..need])
            })
            .collect();
        let got = assemble(
            parts,
            bytes.start - b.start(blocks.start),
            bytes.end - bytes.start,
        );
        assert_eq!(&got[..], &file[bytes.start as usize..bytes.end as usize]);
        // The single-block fast path agrees with the covering (before clamping).
        let unclamped = offset..offset + len as u64;
        assert_eq!(
            b.single_block(offset, len),
            (len > 0 && b.covering(&unclamped).count() == 1).then_some(b.index(offset))
        );
        // A miss of all the covering blocks reads them, clamped to the file.
        let span = b.span(&blocks, file.len() as u64);
        let model_span: usize = blocks.map(|i| model_block(file, size, i).len()).sum();
        assert_eq!(span.start, b.start(b.covering(&bytes).start));
        assert_eq!((span.end - span.start) as usize, model_span);
    }

    #[test]
    fn len_in_matches_the_model() {
        let b = Blocks::new(3);
        for file_len in 0..40usize {
            let file = model_file(file_len, 0);
            for i in 0..7 {
                assert_eq!(
                    b.len_in(i, file_len as u64) as usize,
                    model_block(&file, 8, i).len()
                );
            }
        }
    }

    proptest! {
        /// Near `u64::MAX`, against the same arithmetic in `u128`.
        #[test]
        fn covering_near_u64_max(
            shift in 9u32..=24,
            back in 0u64..1 << 26,
            len in 0usize..1 << 26,
            file_back in 0u64..1 << 26,
        ) {
            let b = Blocks::new(shift);
            let offset = u64::MAX - back;
            let file_len = u64::MAX - file_back;
            let end = (u128::from(offset) + len as u128).min(file_len.into());
            match clamp(offset, len, file_len) {
                None => prop_assert!(u128::from(offset) >= end),
                Some(r) => {
                    prop_assert_eq!(u128::from(r.end), end);
                    let blocks = b.covering(&r);
                    prop_assert_eq!(u128::from(blocks.start), u128::from(offset) >> shift);
                    prop_assert_eq!(u128::from(blocks.end), ((end - 1) >> shift) + 1);
                    prop_assert!(b.start(blocks.end - 1) < r.end && r.end <= b.end(blocks.end - 1));
                    let span = b.span(&blocks, file_len);
                    prop_assert_eq!(u128::from(span.start), u128::from(blocks.start) << shift);
                    let block_end = u128::from(blocks.end) << shift;
                    prop_assert_eq!(u128::from(span.end), block_end.min(file_len.into()));
                }
            }
            let last = u128::from(offset) + len as u128;
            let single = (len > 0 && last <= u128::from(u64::MAX) + 1
                && u128::from(offset) >> shift == (last - 1) >> shift)
                .then(|| offset >> shift);
            prop_assert_eq!(b.single_block(offset, len), single);
        }

        /// A fill yields exactly the model's blocks its data holds, in order, and stops
        /// at the first block the data does not hold wholly.
        #[test]
        fn filled_blocks_match_the_model(
            shift in 2u32..6,
            file_len in 1usize..200,
            pick in 0u64..1000,
            count in 1u64..8,
            short in 0usize..80,
            extra in 0usize..3,
        ) {
            let b = Blocks::new(shift);
            let size = b.size() as usize;
            let file = model_file(file_len, 7);
            let first = pick % b.covering(&(0..file_len as u64)).end;
            let blocks = first..first + count;
            let span = b.span(&blocks, file_len as u64);
            let span_len = (span.end - span.start) as usize;
            // What the backend returned: the span, cut short or with bytes to spare.
            let data_len = span_len.saturating_sub(short) + extra;
            let mut data = file[span.start as usize..span.end as usize].to_vec();
            data.truncate(data_len);
            data.resize(data_len, 0xee);
            let got: Vec<(u64, Range<usize>)> =
                b.filled(blocks.clone(), &span, data_len, file_len as u64).collect();
            for (n, (i, r)) in got.iter().enumerate() {
                prop_assert_eq!(*i, first + n as u64);
                prop_assert_eq!(&data[r.clone()], model_block(&file, size, *i));
            }
            let next = first + got.len() as u64;
            if next < blocks.end {
                let want = model_block(&file, size, next);
                let at = (b.start(next) - span.start) as usize;
                prop_assert!(want.is_empty() || at + want.len() > data_len.min(span_len));
            }
        }
    }
}
