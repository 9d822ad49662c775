//! Pure patch arithmetic: which blocks a successful write or `set_len` touches and what
//! each becomes (replaced by the written bytes, patched at an offset within the block,
//! grown with zeros, trimmed or dropped), and applying such a plan through two callbacks
//! (take a block's current bytes, insert its new ones). No locks and no state: `write.rs`
//! passes callbacks on the shards; the tests below pass callbacks on a plain model (a
//! `Vec<u8>` file cut into blocks) and compare with the file after the write.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use super::blocks::Blocks;

/// What a successful write does to one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum BlockPatch {
    /// The write covers the block wholly (the tail block counting as whole when the write
    /// reaches the new end of file): its new content is `data[src]`.
    Replace { index: u64, src: Range<usize> },
    /// The block keeps its old bytes, which must be `old_len` long (`None`: it lies
    /// wholly past the old end of file, so its old bytes are the hole's zeros), cut or
    /// zero-filled to `len`, and `data[src]` lands at `dst` within it. `dst` and `src`
    /// are empty when the write misses the block (the old tail block growing with the
    /// file up to a write beyond it).
    Patch {
        index: u64,
        old_len: Option<u64>,
        len: usize,
        dst: Range<usize>,
        src: Range<usize>,
    },
}

impl BlockPatch {
    /// The block this changes.
    pub(super) fn index(&self) -> u64 {
        match self {
            BlockPatch::Replace { index, .. } | BlockPatch::Patch { index, .. } => *index,
        }
    }

    /// The bytes of `data` this copies into the block.
    pub(super) fn copied(&self) -> u64 {
        match self {
            BlockPatch::Replace { src, .. } | BlockPatch::Patch { src, .. } => src.len() as u64,
        }
    }

    /// The block's new bytes, from its `old` ones (exactly `old_len` bytes for a patched
    /// block; for a replaced block, its resident bytes or none) and the written `data`.
    /// The block is written in place when nothing else holds a slice of `old` and it
    /// keeps its length (a replaced block) or fits in `old`'s memory, on a copy
    /// otherwise.
    fn apply(self, old: Bytes, data: &[u8]) -> Bytes {
        let (len, dst, src) = match self {
            BlockPatch::Replace { src, .. } if old.len() != src.len() => {
                return Bytes::copy_from_slice(&data[src]);
            }
            BlockPatch::Replace { src, .. } => (src.len(), 0..src.len(), src),
            BlockPatch::Patch { len, dst, src, .. } => (len, dst, src),
        };
        let mut buf = match old.try_into_mut() {
            Ok(mut own) => {
                own.truncate(len);
                own
            }
            Err(old) => {
                let mut buf = BytesMut::with_capacity(len);
                buf.extend_from_slice(&old[..old.len().min(len)]);
                buf
            }
        };
        buf.resize(len, 0);
        buf[dst].copy_from_slice(&data[src]);
        buf.freeze()
    }
}

/// How [`apply_write`] reaches the blocks: `update(index, len, new_len, f)` must, if
/// block `index` is resident (in the current generation) with exactly `len` bytes,
/// replace its bytes with `f(bytes)` (which returns `new_len` bytes) and return true; a
/// resident block of another length is removed. If it is not resident, `update` returns
/// false and changes nothing. `insert(index, bytes)` stores a block.
pub(super) trait BlockStore {
    fn update(
        &mut self,
        index: u64,
        len: u64,
        new_len: u64,
        f: &mut dyn FnMut(Bytes) -> Bytes,
    ) -> bool;
    fn insert(&mut self, index: u64, block: Bytes);
}

/// Applies `plan` (from [`write_plan`]) for the written `data` to the blocks of `store`:
/// a block to patch that is not resident is left alone; a replaced block is rewritten
/// where it is resident with its new length, inserted otherwise. Returns the bytes of
/// `data` copied into blocks.
pub(super) fn apply_write(
    plan: impl IntoIterator<Item = BlockPatch>,
    data: &[u8],
    store: &mut impl BlockStore,
) -> u64 {
    let mut copied = 0;
    for p in plan {
        let index = p.index();
        match &p {
            BlockPatch::Patch {
                old_len: Some(expect),
                len,
                ..
            } => {
                let new_len = *len as u64;
                if !store.update(index, *expect, new_len, &mut |old| {
                    p.clone().apply(old, data)
                }) {
                    continue;
                }
            }
            BlockPatch::Replace { src, .. } => {
                let len = src.len() as u64;
                if !store.update(index, len, len, &mut |old| p.clone().apply(old, data)) {
                    store.insert(index, p.clone().apply(Bytes::new(), data));
                }
            }
            // A block wholly past the old end of file is known without the cache: zeros
            // (the hole) overlaid with the write.
            BlockPatch::Patch { old_len: None, .. } => {
                store.insert(index, p.clone().apply(Bytes::new(), data));
            }
        }
        copied += p.copied();
    }
    copied
}

/// The blocks a successful write of `len` bytes at `offset` touches, in the order they
/// are patched, for a file whose length goes from `old_len` to `new_len`: the old tail
/// block when the file grows from a length that is not block-aligned, then every block
/// the write covers (nothing else can change). Blocks at or past `new_len` are left out.
/// `offset + len` must not overflow (the caller checks it).
///
/// When the write starts in an earlier block and reaches past the old tail block, that
/// block is listed twice (first as the tail, then among the written blocks) and both
/// entries replace it with the same bytes. Kept as the patch always did it: the result
/// is the same, only `patched_bytes` counts those bytes twice.
pub(super) fn write_plan(
    blocks: Blocks,
    old_len: u64,
    new_len: u64,
    offset: u64,
    len: usize,
) -> impl Iterator<Item = BlockPatch> {
    let w_end = offset + len as u64;
    let tail = (!old_len.is_multiple_of(blocks.size()) && new_len > old_len)
        .then(|| blocks.index(old_len));
    let written = if len > 0 {
        blocks.covering(&(offset..w_end))
    } else {
        0..0
    };
    // The tail first, then the written blocks, without the tail again right after it.
    let first = written.start;
    let indices = tail
        .into_iter()
        .chain(written.filter(move |&i| !(i == first && tail == Some(i))));
    indices.filter_map(move |index| {
        let b_start = blocks.start(index);
        if b_start >= new_len {
            return None;
        }
        let b_end = b_start + blocks.len_in(index, new_len);
        // The written bytes within the block, as file offsets.
        let (is, ie) = (offset.max(b_start), w_end.min(b_end));
        if len > 0 && is == b_start && ie == b_end {
            let src = (b_start - offset) as usize..(b_end - offset) as usize;
            return Some(BlockPatch::Replace { index, src });
        }
        let (dst, src) = if is < ie {
            (
                (is - b_start) as usize..(ie - b_start) as usize,
                (is - offset) as usize..(ie - offset) as usize,
            )
        } else {
            (0..0, 0..0)
        };
        Some(BlockPatch::Patch {
            index,
            old_len: (b_start < old_len).then(|| blocks.len_in(index, old_len)),
            len: (b_end - b_start) as usize,
            dst,
            src,
        })
    })
}

/// What a successful `set_len` does to the blocks of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TruncatePlan {
    /// Blocks wholly past the new length (empty when the file does not shrink).
    pub(super) drop: Range<u64>,
    /// The block holding the new end of file when it shrinks into it, or the old tail
    /// block when the file grows from an unaligned length.
    pub(super) resize: Option<Resize>,
}

/// One block changing length: it must be `old_len` bytes now and becomes its first
/// `len` bytes, zero-filled past `old_len`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Resize {
    pub(super) index: u64,
    pub(super) old_len: u64,
    pub(super) len: usize,
}

impl Resize {
    /// Applies the resize through `take` and `insert` (as in [`apply_write`]). A trimmed
    /// block is copied into an allocation of its new size, so the memory freed matches
    /// the bytes no longer counted.
    pub(super) fn apply(
        &self,
        take: impl FnOnce(u64, u64) -> Option<Bytes>,
        insert: impl FnOnce(u64, Bytes),
    ) {
        let Some(old) = take(self.index, self.old_len) else {
            return;
        };
        let block = if self.len <= old.len() {
            Bytes::copy_from_slice(&old[..self.len])
        } else {
            let mut buf = BytesMut::with_capacity(self.len);
            buf.extend_from_slice(&old);
            buf.resize(self.len, 0);
            buf.freeze()
        };
        insert(self.index, block);
    }
}

/// The blocks a file going from `old_len` to `len` bytes (by `set_len`) drops and
/// resizes.
pub(super) fn truncate_plan(blocks: Blocks, old_len: u64, len: u64) -> TruncatePlan {
    let resize = |index: u64| {
        Some(Resize {
            index,
            old_len: blocks.len_in(index, old_len),
            len: blocks.len_in(index, len) as usize,
        })
    };
    if len < old_len {
        let first_drop = len.div_ceil(blocks.size());
        let last = blocks.index(old_len - 1);
        TruncatePlan {
            drop: first_drop..last + 1,
            resize: if len.is_multiple_of(blocks.size()) {
                None
            } else {
                resize(blocks.index(len))
            },
        }
    } else {
        TruncatePlan {
            drop: 0..0,
            resize: if len > old_len && !old_len.is_multiple_of(blocks.size()) {
                resize(blocks.index(old_len))
            } else {
                None
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::cache::blocks::tests::{model_block, model_file};

    /// The cached blocks of a file, by index.
    type Cached = RefCell<BTreeMap<u64, Bytes>>;

    /// Some of `file`'s blocks (those whose bit is set in `mask`), as the cache holds them.
    fn cached(file: &[u8], size: usize, mask: u64) -> Cached {
        let blocks = (0..file.len().div_ceil(size) as u64)
            .filter(|i| mask >> (i % 64) & 1 == 1)
            .map(|i| (i, Bytes::copy_from_slice(model_block(file, size, i))));
        RefCell::new(blocks.collect())
    }

    /// `take_current` on the model: the block, removed, if it has `expect` bytes (a
    /// block of another length is removed too).
    fn take(cache: &Cached) -> impl FnMut(u64, u64) -> Option<Bytes> + '_ {
        |index, expect| {
            let old = cache.borrow_mut().remove(&index);
            old.filter(|b| b.len() as u64 == expect)
        }
    }

    fn insert(cache: &Cached) -> impl FnMut(u64, Bytes) + '_ {
        |index, bytes| {
            cache.borrow_mut().insert(index, bytes);
        }
    }

    /// The model as a [`BlockStore`]: `update` takes the block out as `take` does and
    /// puts `f`'s result back.
    impl BlockStore for &Cached {
        fn update(
            &mut self,
            index: u64,
            len: u64,
            new_len: u64,
            f: &mut dyn FnMut(Bytes) -> Bytes,
        ) -> bool {
            let Some(old) = take(self)(index, len) else {
                return false;
            };
            let new = f(old);
            assert_eq!(new.len() as u64, new_len, "block {index}: new length");
            self.borrow_mut().insert(index, new);
            true
        }
        fn insert(&mut self, index: u64, block: Bytes) {
            self.borrow_mut().insert(index, block);
        }
    }

    /// Applies a write plan to the model as `patch_blocks` does to the shards.
    fn apply_plan(cache: &Cached, plan: impl IntoIterator<Item = BlockPatch>, data: &[u8]) {
        apply_write(plan, data, &mut { cache });
    }

    /// Applies a truncate plan to the model as `truncate_blocks` does to the shards.
    fn apply_truncate(cache: &Cached, plan: &TruncatePlan) {
        for i in plan.drop.clone() {
            cache.borrow_mut().remove(&i);
        }
        if let Some(r) = &plan.resize {
            r.apply(take(cache), insert(cache));
        }
    }

    /// Every cached block is the model's block of `file`, non-empty.
    fn agrees(cache: &Cached, file: &[u8], size: usize) -> Result<(), TestCaseError> {
        for (i, b) in cache.borrow().iter() {
            prop_assert!(!b.is_empty(), "block {} empty", i);
            prop_assert_eq!(&b[..], model_block(file, size, *i), "block {}", i);
        }
        Ok(())
    }

    /// The model file after writing `data` at `offset` (zeros fill any hole).
    fn written(file: &[u8], offset: usize, data: &[u8]) -> Vec<u8> {
        let mut new = file.to_vec();
        new.resize(new.len().max(offset + data.len()), 0);
        new[offset..offset + data.len()].copy_from_slice(data);
        new
    }

    fn patch(index: u64, old_len: Option<u64>, len: usize, dst: Range<usize>) -> BlockPatch {
        BlockPatch::Patch {
            index,
            old_len,
            len,
            dst,
            src: 0..0,
        }
    }

    fn copying(p: BlockPatch, from: Range<usize>) -> BlockPatch {
        match p {
            BlockPatch::Patch {
                index,
                old_len,
                len,
                dst,
                ..
            } => BlockPatch::Patch {
                index,
                old_len,
                len,
                dst,
                src: from,
            },
            BlockPatch::Replace { index, .. } => BlockPatch::Replace { index, src: from },
        }
    }

    fn replace(index: u64) -> BlockPatch {
        BlockPatch::Replace { index, src: 0..0 }
    }

    #[test]
    fn partial_write_lands_at_its_offset_within_the_block() {
        let b = Blocks::new(3);
        // File of 20 bytes (blocks 0, 1 and a 4-byte tail 2); write 6 bytes at 5.
        let want = [
            copying(patch(0, Some(8), 8, 5..8), 0..3),
            copying(patch(1, Some(8), 8, 0..3), 3..6),
        ];
        assert_eq!(write_plan(b, 20, 20, 5, 6).collect::<Vec<_>>(), want);
        // Appending 2 bytes at 30 grows the tail block 2 with zeros and makes block 3:
        // zeros (the hole) with the 2 bytes at its end.
        let want = [
            patch(2, Some(4), 8, 0..0),
            copying(patch(3, None, 8, 6..8), 0..2),
        ];
        assert_eq!(write_plan(b, 20, 32, 30, 2).collect::<Vec<_>>(), want);
        // 12 bytes at 4 of a 6-byte file: block 0 is patched from its 6 bytes, block 1
        // (the new tail, wholly written) replaced.
        let want = [
            copying(patch(0, Some(6), 8, 4..8), 0..4),
            copying(replace(1), 4..12),
        ];
        assert_eq!(write_plan(b, 6, 16, 4, 12).collect::<Vec<_>>(), want);
        // 20 bytes at 2 of a 12-byte file: the old tail block 1 is listed twice.
        let want = [
            copying(replace(1), 6..14),
            copying(patch(0, Some(8), 8, 2..8), 0..6),
        ];
        assert_eq!(&write_plan(b, 12, 22, 2, 20).collect::<Vec<_>>()[..2], want);
        // An empty write changes no block.
        assert_eq!(write_plan(b, 16, 16, 3, 0).count(), 0);
    }

    #[test]
    fn truncate_plans() {
        let b = Blocks::new(3);
        let plan = |drop: Range<u64>, resize: Option<(u64, u64, usize)>| TruncatePlan {
            drop,
            resize: resize.map(|(index, old_len, len)| Resize {
                index,
                old_len,
                len,
            }),
        };
        // Shrink 20 -> 10: drop block 2, trim block 1 from 8 to 2 bytes.
        assert_eq!(truncate_plan(b, 20, 10), plan(2..3, Some((1, 8, 2))));
        // Shrink to a block boundary: only drops.
        assert_eq!(truncate_plan(b, 20, 8), plan(1..3, None));
        // Shrink within the tail block.
        assert_eq!(truncate_plan(b, 20, 18), plan(3..3, Some((2, 4, 2))));
        // Grow from an unaligned length: the tail block grows; from an aligned one: nothing.
        assert_eq!(truncate_plan(b, 20, 100), plan(0..0, Some((2, 4, 8))));
        assert_eq!(truncate_plan(b, 16, 100), plan(0..0, None));
        assert_eq!(truncate_plan(b, 0, 0), plan(0..0, None));
        assert_eq!(truncate_plan(b, u64::MAX, 0).drop, 0..(u64::MAX >> 3) + 1);
    }

    /// A model file of `len` bytes over blocks of `1 << shift` bytes, with the blocks
    /// whose bit is set in `mask` cached.
    fn setup(shift: u32, len: usize, mask: u64) -> (Blocks, usize, Vec<u8>, Cached) {
        let b = Blocks::new(shift);
        let size = b.size() as usize;
        let file = model_file(len, 1);
        let cache = cached(&file, size, mask);
        (b, size, file, cache)
    }

    proptest! {
        /// A write patched into any subset of a file's cached blocks leaves every cached
        /// block equal to the model file after the write, and caches every block the
        /// write covers wholly or reaches past the old end of file.
        #[test]
        fn write_plan_matches_the_model(
            (shift, old_len, mask) in (2u32..5, 0usize..120, any::<u64>()),
            (offset, len) in (0usize..150, 0usize..70),
        ) {
            let (b, size, file, cache) = setup(shift, old_len, mask);
            let data = model_file(len, 100);
            let new = written(&file, offset, &data);
            let plan = write_plan(b, old_len as u64, new.len() as u64, offset as u64, len);
            apply_plan(&cache, plan, &data);
            agrees(&cache, &new, size)?;
            for i in 0..new.len().div_ceil(size) as u64 {
                let (start, block_len) = (b.start(i) as usize, model_block(&new, size, i).len());
                let covered = len > 0 && start >= offset && start + block_len <= offset + len;
                let written = len > 0 && start < offset + len && start + block_len > offset;
                if covered || (written && start >= old_len) {
                    prop_assert!(cache.borrow().contains_key(&i), "block {} not cached", i);
                }
            }
        }

        /// A write on a file the cache did not know (old and new length both the length
        /// after the write): only blocks the data covers wholly are cached.
        #[test]
        fn write_plan_on_an_unknown_file(
            (shift, tail) in (2u32..5, 0usize..20),
            (offset, len) in (0usize..150, 0usize..70),
        ) {
            let data = model_file(len, 100);
            let (b, size, file, cache) = setup(shift, offset + len + tail, 0);
            let new = written(&file, offset, &data);
            let new_len = new.len() as u64;
            apply_plan(&cache, write_plan(b, new_len, new_len, offset as u64, len), &data);
            agrees(&cache, &new, size)?;
            for i in cache.borrow().keys() {
                let start = b.start(*i) as usize;
                prop_assert!(start >= offset);
                prop_assert!(start + model_block(&new, size, *i).len() <= offset + len);
            }
        }

        /// `set_len` applied to any subset of the cached blocks leaves every cached block
        /// equal to the model file cut or zero-extended to the new length, and grows the
        /// old tail block with the file when it is cached.
        #[test]
        fn truncate_plan_matches_the_model(
            (shift, old_len, mask) in (2u32..5, 0usize..120, any::<u64>()),
            len in 0usize..150,
        ) {
            let (b, size, file, cache) = setup(shift, old_len, mask);
            let mut new = file.clone();
            new.resize(len, 0);
            let tail = b.index(old_len as u64);
            let had_tail = old_len % size != 0 && cache.borrow().contains_key(&tail);
            let plan = truncate_plan(b, old_len as u64, len as u64);
            apply_truncate(&cache, &plan);
            agrees(&cache, &new, size)?;
            if len > old_len && had_tail {
                prop_assert!(cache.borrow().contains_key(&tail));
            }
            for i in plan.drop {
                prop_assert!(b.start(i) >= len as u64);
            }
        }
    }
}
