//! Sequential read-ahead, per open object.
//!
//! # Design note
//!
//! The backend sees the reads that reach it: every read around the cache (over 256 KiB)
//! and every cache miss. A read that starts where an earlier one ended continues a
//! *stream* (up to [`STREAMS`] are followed at once, like a kernel's per-descriptor
//! read-ahead state). A stream's window starts at [`FIRST_WINDOW`] (1 MiB) and doubles
//! with every sequential read up to the configured maximum (16 MiB by default); the
//! backend keeps the bytes from the stream's end to one window past it fetched or in
//! flight, in pieces of at most a quarter window, so the reader finds them ready and the
//! next GETs overlap its reading.
//!
//! Read-ahead bytes are held here, in the open object's own bounded buffer (at most
//! [`MAX_PIECES`] pieces of at most a quarter window, or 1 MiB: 64 MiB with the default
//! 16 MiB window; a stream keeps at most one window ahead, and pieces behind every
//! stream are dropped), not in the cache: they reach the cache only when a read asks
//! for them, as the engine's own fill of that miss ([`hand_over`] is that single step),
//! always on probation: the backend tells the engine that read-ahead answered the miss
//! (`Backend::read_ahead_served`), so even a block the cache saw recently (a scan
//! repeated) does not enter the main queue. A scan's block is read once, by the fill
//! itself, never as a hit while on probation, so it leaves probation without taking
//! room from blocks that proved hot; read-ahead bytes nobody reads never enter the
//! cache at all. Pieces are of one version ([`find`](ReadAhead::find)
//! matches the version tag), the one the miss's stamp names.
//!
//! Inserting pieces into the cache as they arrive (with
//! `FillGuard::complete_on_probation`, so that other opens find them) was measured and
//! rejected (figures in the README's "Object storage" section): the reader would then
//! hit them on probation, and a block hit on probation has proved hot, so a sequential
//! scan promotes what it read and pushes hot blocks out; its hits also never reach the
//! backend, which stops seeing the stream and restarts read-ahead from its first window
//! (1.55x the GETs for one reader, 2.9x for two in lockstep). Other opens share what the
//! reader consumed: a second reader in lockstep costs no GET of its own.

use std::collections::VecDeque;
use std::ops::Range;

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

/// The first window of a stream.
pub(crate) const FIRST_WINDOW: u64 = 1 << 20;
/// Streams followed at once per open object.
pub(crate) const STREAMS: usize = 4;
/// Read-ahead pieces held at once per open object (fetched or in flight).
pub(crate) const MAX_PIECES: usize = 16;
/// Hand-overs remembered until the engine asks about them.
const HANDED: usize = 8;

/// Bytes of one version being fetched ahead (`None` when the fetch failed: the reader
/// then fetches itself).
pub(crate) type PieceFuture = Shared<BoxFuture<'static, Option<Bytes>>>;

#[derive(Debug, Clone, Copy)]
struct Stream {
    /// Where the stream's next read is expected.
    next: u64,
    /// The current window (0: not yet sequential).
    window: u64,
    /// How far ahead of `next` is fetched or in flight.
    ahead_to: u64,
    /// For replacing the least recently used stream.
    used: u64,
}

struct Piece {
    tag: u128,
    range: Range<u64>,
    data: PieceFuture,
}

/// The read-ahead state of one open object.
pub(crate) struct ReadAhead {
    max: u64,
    streams: Vec<Stream>,
    pieces: VecDeque<Piece>,
    clock: u64,
    /// The last ranges (with their version tag) read-ahead answered, newest last.
    handed: VecDeque<(u128, Range<u64>)>,
}

impl std::fmt::Debug for ReadAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadAhead")
            .field("max", &self.max)
            .field("streams", &self.streams)
            .field("pieces", &self.pieces.len())
            .finish()
    }
}

impl ReadAhead {
    /// Read-ahead up to `max` bytes a window (0: off).
    pub(crate) fn new(max: u64) -> ReadAhead {
        ReadAhead {
            max,
            streams: Vec::new(),
            pieces: VecDeque::new(),
            clock: 0,
            handed: VecDeque::new(),
        }
    }

    /// Pieces of version `tag` that together hold all of `range`, in order, each with
    /// its start; `None` unless they cover it without a gap.
    pub(crate) fn find(&self, tag: u128, range: &Range<u64>) -> Option<Vec<(PieceFuture, u64)>> {
        let mut at = range.start;
        let mut out = Vec::new();
        while at < range.end {
            let p = self
                .pieces
                .iter()
                .find(|p| p.tag == tag && p.range.start <= at && at < p.range.end)?;
            out.push((p.data.clone(), p.range.start));
            at = p.range.end;
        }
        Some(out)
    }

    /// Records that read-ahead answered `range` of version `tag` ([`hand_over`]).
    pub(crate) fn handed(&mut self, tag: u128, range: Range<u64>) {
        if self.handed.len() == HANDED {
            self.handed.pop_front();
        }
        self.handed.push_back((tag, range));
    }

    /// Whether read-ahead answered `range` of version `tag` lately; forgets it.
    pub(crate) fn take_handed(&mut self, tag: u128, range: &Range<u64>) -> bool {
        let at = self
            .handed
            .iter()
            .rposition(|(t, r)| *t == tag && r == range);
        at.and_then(|at| self.handed.remove(at)).is_some()
    }

    /// Forgets the pieces of `range` (their fetch failed).
    pub(crate) fn drop_piece(&mut self, tag: u128, start: u64) {
        self.pieces
            .retain(|p| !(p.tag == tag && p.range.start == start));
    }

    /// Records a read of `range` of version `tag` (an object of `size` bytes) and returns
    /// the ranges to fetch ahead now; the caller starts them and [`add`](Self::add)s them.
    pub(crate) fn observe(&mut self, tag: u128, range: Range<u64>, size: u64) -> Vec<Range<u64>> {
        if self.max == 0 {
            return Vec::new();
        }
        self.clock += 1;
        // Pieces of other versions, and pieces wholly behind every stream, are done.
        let behind = self.streams.iter().map(|s| s.next).min();
        self.pieces
            .retain(|p| p.tag == tag && behind.is_none_or(|b| p.range.end > b.min(range.start)));
        let now = self.clock;
        let Some(s) = self.streams.iter_mut().find(|s| s.next == range.start) else {
            let fresh = Stream {
                next: range.end,
                window: 0,
                ahead_to: range.end,
                used: now,
            };
            if self.streams.len() < STREAMS {
                self.streams.push(fresh);
            } else if let Some(old) = self.streams.iter_mut().min_by_key(|s| s.used) {
                *old = fresh;
            }
            return Vec::new();
        };
        s.used = now;
        s.next = range.end;
        s.window = if s.window == 0 {
            FIRST_WINDOW.min(self.max)
        } else {
            (s.window * 2).min(self.max)
        };
        s.ahead_to = s.ahead_to.max(s.next);
        let target = s.next.saturating_add(s.window).min(size);
        let piece = (s.window / 4).max(FIRST_WINDOW.min(self.max));
        let mut out = Vec::new();
        while s.ahead_to < target && self.pieces.len() + out.len() < MAX_PIECES {
            let end = (s.ahead_to + piece).min(target);
            out.push(s.ahead_to..end);
            s.ahead_to = end;
        }
        out
    }

    /// Holds a piece being fetched.
    pub(crate) fn add(
        &mut self,
        tag: u128,
        range: Range<u64>,
        data: BoxFuture<'static, Option<Bytes>>,
    ) {
        self.pieces.push_back(Piece {
            tag,
            range,
            data: data.shared(),
        });
    }
}

/// The one step by which read-ahead bytes leave the buffer: `pieces` (each with its
/// start, covering `range` in order) answer `range`, which the engine then caches as its
/// own fill, on probation (see the module's design note). The answer has a buffer of
/// its own (unless it is a whole piece), so a cached block never keeps a piece alive.
pub(crate) fn hand_over(pieces: &[(Bytes, u64)], range: &Range<u64>) -> Bytes {
    // The part of a piece inside `range`, in the piece's own offsets.
    let part = |(bytes, start): &(Bytes, u64)| {
        let from = range.start.max(*start) - start;
        let to = (range.end.min(start + bytes.len() as u64) - start).max(from);
        from as usize..to as usize
    };
    match pieces {
        [one] => crate::fetch::owned(&one.0, part(one)),
        many => {
            let mut out = bytes::BytesMut::with_capacity((range.end - range.start) as usize);
            for piece in many {
                out.extend_from_slice(&piece.0[part(piece)]);
            }
            out.freeze()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// Sequential reads ramp the window 1, 2, 4... MiB up to the maximum, and what is
    /// fetched ahead never goes past the object or one window past the reader.
    #[test]
    fn the_window_ramps_to_the_maximum() {
        let mut ra = ReadAhead::new(16 * MIB);
        let size = 1 << 40;
        let mut at = 0;
        let mut fetched_to = MIB;
        for i in 0..12 {
            let ahead = ra.observe(1, at..at + MIB, size);
            at += MIB;
            for r in &ahead {
                assert_eq!(r.start, fetched_to.max(at), "read {i}");
                fetched_to = r.end;
                ra.add(1, r.clone(), futures_util::future::ready(None).boxed());
            }
            let window = if i == 0 {
                0
            } else {
                (MIB << (i - 1)).min(16 * MIB)
            };
            assert_eq!(ra.streams[0].window, window, "read {i}");
            assert!(ra.streams[0].ahead_to <= at + window);
        }
        assert_eq!(ra.streams[0].window, 16 * MIB);
    }

    /// `hand_over` of pieces that cover a range is that range of the object.
    #[test]
    fn hand_over_joins_pieces() {
        let object: Vec<u8> = (0..100u8).collect();
        let piece = |r: std::ops::Range<usize>| {
            (Bytes::copy_from_slice(&object[r.clone()]), r.start as u64)
        };
        for (from, to) in [(0, 10), (5, 35), (29, 30), (30, 31), (12, 100)] {
            let pieces: Vec<_> = [0..30, 30..60, 60..100]
                .into_iter()
                .filter(|r| r.start < to && from < r.end)
                .map(piece)
                .collect();
            assert_eq!(
                &hand_over(&pieces, &(from as u64..to as u64))[..],
                &object[from..to]
            );
        }
    }

    /// A hand-over is told once, for its version and range only; the oldest of more
    /// than [`HANDED`] is forgotten.
    #[test]
    fn hand_overs_are_told_once() {
        let mut ra = ReadAhead::new(16 * MIB);
        ra.handed(1, 0..10);
        assert!(!ra.take_handed(2, &(0..10)), "another version");
        assert!(!ra.take_handed(1, &(0..11)), "another range");
        assert!(ra.take_handed(1, &(0..10)));
        assert!(!ra.take_handed(1, &(0..10)), "told once");
        for i in 0..=HANDED as u64 {
            ra.handed(1, i..i + 1);
        }
        assert!(!ra.take_handed(1, &(0..1)), "the oldest is forgotten");
        assert!(ra.take_handed(1, &(1..2)));
    }

    #[test]
    fn random_reads_fetch_nothing_ahead() {
        let mut ra = ReadAhead::new(16 * MIB);
        for i in 0..50u64 {
            let start = (i * 7919 % 97) * 3 * MIB;
            assert!(ra.observe(1, start..start + 4096, 1 << 40).is_empty());
        }
    }

    #[test]
    fn off_means_off() {
        let mut ra = ReadAhead::new(0);
        for i in 0..10 {
            assert!(ra.observe(1, i * MIB..(i + 1) * MIB, 1 << 40).is_empty());
        }
    }

    #[test]
    fn nothing_past_the_end() {
        let mut ra = ReadAhead::new(16 * MIB);
        ra.observe(1, 0..MIB, 3 * MIB / 2);
        let ahead = ra.observe(1, MIB..MIB + 100, 3 * MIB / 2);
        assert!(ahead.iter().all(|r| r.end <= 3 * MIB / 2), "{ahead:?}");
    }

    #[test]
    fn another_version_drops_the_pieces() {
        let mut ra = ReadAhead::new(16 * MIB);
        ra.observe(1, 0..MIB, 1 << 40);
        for r in ra.observe(1, MIB..2 * MIB, 1 << 40) {
            ra.add(1, r, futures_util::future::ready(None).boxed());
        }
        assert!(ra.find(1, &(2 * MIB..2 * MIB + 10)).is_some());
        assert!(
            ra.find(1, &(2 * MIB - 1..2 * MIB + 10)).is_none(),
            "not fetched ahead"
        );
        ra.observe(2, 5..6, 1 << 40);
        assert!(ra.find(1, &(2 * MIB..2 * MIB + 10)).is_none());
    }
}
