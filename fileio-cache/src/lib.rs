//! The sharded, byte-bounded block cache behind fileio: lookups by byte range, single
//! flight for misses, and patch-on-write.
//!
//! This crate knows nothing of open modes, runtimes or how bytes are read: it identifies
//! content by a [`FileKey`] and its version by a [`Stamp`], both opaque to it. The engine
//! in `fileio-core` asks it for `(file, version, offset, len)` and reads from its backend
//! only what the cache reports missing. [`Stamp::from_metadata`] (and, on Unix,
//! [`FileKey::from_metadata`]) are std-only conveniences that build these from a local
//! file's metadata; nothing else here touches a file.
//!
//! ```
//! use bytes::Bytes;
//! use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
//!
//! let cache = RangeCache::builder().capacity(64 << 20).block_size(16 << 10).build()?;
//! let (key, stamp) = (FileKey::new(1), Stamp::new(100_000, 42));
//! let file = vec![1u8; 100_000];
//!
//! let read = |offset: u64, len: usize| -> Bytes {
//!     loop {
//!         match cache.lookup(key, &stamp, offset, len) {
//!             Lookup::Hit(bytes) => return bytes,
//!             Lookup::Miss(miss) => match miss.begin_fill(&cache) {
//!                 Fill::Lead(fill) => {
//!                     let r = fill.range();
//!                     // One backend read of the missing, block-aligned span.
//!                     fill.complete(&Bytes::copy_from_slice(&file[r.start as usize..r.end as usize]));
//!                 }
//!                 Fill::Wait(wait) => wait.wait(), // or `wait.await` in async code
//!             },
//!         }
//!     }
//! };
//! assert_eq!(read(5, 10_000).len(), 10_000);
//! assert_eq!(cache.stats().misses, 1);
//! assert_eq!(read(4_000, 100).len(), 100); // served from the blocks filled above
//! # Ok::<(), fileio_cache::Error>(())
//! ```
//!
//! # Design
//!
//! **Blocks.** Data lives in fixed-size, aligned blocks keyed by ([`FileKey`], block
//! index). Block size is a power of two in 512 B ..= 16 MiB, default 16 KiB. A block is
//! either full or the file's *tail* block, which ends at the file's length. Any read whose
//! range is covered by resident blocks is a hit, whatever offsets and lengths filled them;
//! a read covered by one block is served as a `Bytes::slice` of it (no copy), one spanning
//! several blocks with a single copy. A partly covered read returns a [`Miss`] whose
//! [`range`](Miss::range) runs from the first missing block to the last missing block of
//! the request, so the caller reads only that. A fill of one block keeps the caller's
//! buffer as the block (the caller answers its reader with a slice of the same buffer:
//! one read, no copy); a fill of several copies each block into its own allocation, so
//! freeing a block frees its memory and the byte accounting stays exact.
//!
//! *Why 16 KiB:* a hit costs the same at any block size (one probe and a slice), so the
//! choice trades miss amplification against per-block work. The `block_size` group of
//! `benches/cache.rs` measured, on this kind of machine (2 cores, warm page cache): a
//! `pread` of one block (what a random small miss costs) takes 1.1 / 2.7 / 8.9 µs for
//! 4 / 16 / 64 KiB blocks, and serving a 256 KiB read from cached blocks takes 26 / 17.5 /
//! 16 µs. 16 KiB keeps a random 4 KiB miss within ~2.5× of the unavoidable syscall (64 KiB:
//! 8×), while large reads run within 10% of 64 KiB blocks (4 KiB blocks: 60% slower) and
//! the 224-byte per-entry overhead stays at 1.4% of payload (5.5% at 4 KiB).
//!
//! **Stamps and generations.** Every file has a recorded [`Stamp`] (its version: length
//! plus a tag such as a hash of mtime/ctime/inode, or an ETag) and a *generation*
//! number; every block carries the generation it was filled in. A block is served only
//! when its generation is the file's current one *and* the lookup's stamp equals the
//! recorded one. A lookup with a different stamp drops all the file's data in O(1) by
//! bumping the generation (no scan), records the new stamp and counts an invalidation
//! (unless a write on the file is in flight: then it only misses).
//! Blocks of old generations are unservable from that instant; they keep counting in
//! `resident_bytes` until the eviction hand reaches them, and it evicts them then whatever
//! their visited bit says (a replaced block is freed at once).
//!
//! **Patch-on-write.** [`RangeCache::begin_write`] returns a [`WriteGuard`]; when the
//! backend write succeeded, [`WriteGuard::patch`] replaces blocks the write covers
//! wholly, patches blocks it covers partly (in place when no reader holds a slice of the
//! block, on a copy otherwise), grows the tail block with the file,
//! inserts new blocks the data covers, and then re-stamps the whole file to the new
//! stamp in O(1) (the other blocks keep their generation; only the file's recorded stamp
//! changes). [`WriteGuard::truncate`] drops blocks past the new length and trims or grows
//! the tail block.
//!
//! **Capacity.** The capacity counts payload bytes plus [`ENTRY_OVERHEAD_BYTES`] (224) per
//! block: the slab slot (96 B), the hash-map bucket (~47 B at 7/8 load), the `Bytes`
//! shared header and the allocator's bookkeeping for both allocations.
//! `resident_bytes <= capacity_bytes` holds whenever no operation is running and after
//! every operation returns, with no slack:
//! each shard owns a fixed share of the capacity and evicts before it inserts.
//! [`RangeCache::set_capacity`] shrinks at once. A block larger than a shard's share is
//! not cached.
//!
//! **Admission and eviction: probation, SIEVE, ghost.** Each shard keeps two queues
//! (S3-FIFO's layout, Yang et al., SOSP '23, with SIEVE as the main queue). A filled
//! block enters *probation*, a small FIFO (10% of the shard), unless its miss was
//! [hot](Miss::is_hot); then it enters *main*. While probation holds more than its share,
//! eviction takes its oldest block: one that was hit meanwhile moves to main, the others
//! leave and a *ghost* filter remembers them. Main runs SIEVE (Zhang et al., NSDI '24): a
//! FIFO queue plus one *visited* bit per block and a hand that sweeps from the oldest
//! block toward the newest, clearing visited bits and evicting the first unvisited (or
//! stale) block. A hit only sets the bit with an atomic store, under the shard's *read*
//! lock, so hits never take a write lock and never move anything.
//!
//! The ghost is a cache-wide, four-way set-associative table of block-hash tags with a
//! three-bit touch count each, about twice as many as the cache holds blocks, written with
//! atomic stores. Every cacheable miss counts a touch of its blocks there: a miss whose
//! block it remembers is hot on its second touch while the block's shard has room, and
//! on its sixth once the shard evicts to admit, so that under pressure a block touched
//! a few times does not push out one touched more often. A block main evicts without
//! having served a hit has spent the touches that admitted it: the ghost forgets them,
//! and it must be touched as often again to come back (one that served hits keeps
//! them). That is what lets a caller *admit by cost*: a miss that is cheap to repeat
//! (the OS served it from memory) need not be filled until it is hot, so one-touch reads
//! cost nothing but the read; a miss that is slow is filled at once, on probation.
//! Either way a scan (or read-ahead, through [`FillGuard::complete_on_probation`])
//! passes through probation and never pushes out the hot blocks in main. Measured by
//! the benchmark at equal byte capacity (10% of a Zipf(0.99) working set of 50 000
//! blocks, one million reads; the second column adds a 150 000-block scan); "hot only"
//! fills only hot misses:
//!
//! | cache | Zipf 0.99 | Zipf 0.99 + scan |
//! |---|---|---|
//! | exact LRU | 70.7% | 61.4% |
//! | moka 0.12 (TinyLFU) | 73.4% | 63.4% |
//! | quick_cache 0.7 (CLOCK-Pro-like) | 76.6% | 66.6% |
//! | fileio-cache, every miss filled | 76.0% | 66.2% |
//! | fileio-cache, hot only | 76.4% | 66.5% |
//!
//! (SIEVE alone, before probation and the ghost: 75.7% and 66.0%; hot on the second
//! touch whatever the pressure: 76.3% and 66.5%; on the third once full, with evicted
//! blocks' touches kept: 76.1% / 66.3% and 76.6% / 66.7%; on the fourth once full,
//! with forgetting: 76.0% / 66.2% and 76.6% / 66.7%.)
//!
//! *Why more touches once full, and forgetting:* under pressure every fill evicts a
//! block. On a Zipf(0.99) load over a warm local file 4x the cache (64 MiB, 4 KiB
//! blocks), blocks admitted on their third touch, and readmitted on their next touch
//! after main evicted them, were mostly evicted again before they served a single hit:
//! 7.5% of reads were fills, at an 84% hit ratio. With a fourth touch and forgotten
//! touches, 1.6-2.4% are, at the same hit ratio, and with 64 threads on 2 cores the
//! cached reads take about 20% less time (the fills took the shard's write lock).
//! Forgetting every block main evicts, hits or not, did as well there, but `cargo xtask
//! stress`, whose small cache serves blocks that tasks read in bursts, lost a third of
//! its hits (45% against 74% on its read-only file): those blocks served hits, and now
//! keep their touches (70%).
//!
//! *Why the sixth touch:* a fill of a block the page cache holds costs about 2.6 µs of
//! CPU (a stamp, the lookup, the single-flight claim, the block's read, the insert and
//! an eviction under the shard's write lock), where a hit saves about 0.3 µs against
//! the read it replaces: a block must serve several hits to pay for its fill. Asking a
//! sixth touch instead of a fourth took the Zipf load's fills from 2.3% to 1.3% of
//! reads at the same 84.2% hit ratio, and its reads with 64 threads from 368 ns to
//! 335 ns (medians of 11 alternating runs; the same with one thread), for 0.2 points
//! of the hot-only hit ratios above and about one point of `cargo xtask stress`'s (its
//! read-only file 68.6-68.9% against 69.6-69.7%).
//!
//! *Why a ghost and probation, not a frequency sketch:* caching every miss made a
//! Zipf(0.99) load over a warm local file 4x the cache run at 0.58-0.68x of no cache
//! (each miss copied a block into the cache, costing more than the page-cache read it
//! replaced). The admission signal needed is "touched again soon", which a ghost of 8
//! bytes per block answers with a few atomic loads, lock-free, and which also makes
//! S3-FIFO's probation work; a count-min sketch with aging (TinyLFU, as in moka: 73.4%
//! above) costs several cache lines per miss and periodic resets, for a lower hit ratio
//! on these traces.
//!
//! **Sharding.** The block map is split into a power-of-two number of shards (default
//! `4 × parallelism`, reduced for small capacities), each an `RwLock` around a plain shard
//! (a `HashMap` plus the slab-linked probation and SIEVE queues, with `&mut self`
//! methods and no locking of its own). A block's shard is chosen in one place, `shard_index`, from bits 32.. of
//! the block's hash, so consecutive blocks of one file spread over all shards. The
//! eviction queue must sit under the same lock as the map, which `dashmap`'s internal
//! shards cannot offer; and measured on a 4 KiB hit fully covered by one 16 KiB block
//! (single thread, same machine), the plain `RwLock<HashMap>` shard with its lock-free
//! per-file check takes about 61 ns, a bare `DashMap<_, Bytes>` get-and-slice with no
//! eviction at all about 100 ns, quick_cache about 100 ns and moka about 360 ns.
//! Two threads hitting the same file scale: the bench's `scaling` table measured about
//! 70 ns of CPU time per hit on one thread and 75 ns on each of two (quick_cache: 77 / 86).
//! `dashmap` holds the per-file table instead, which only misses and writes touch.
//!
//! **Per-file state on the hit path.** Each block holds an `Arc` to its file's state, so
//! a hit reaches the stamp and generation without a second map probe. That state is
//! published through a seqlock made of atomics (no `unsafe`): writers (under the file's
//! mutex) bump a sequence number around their stores; readers load and retry if it moved.
//! Readers write nothing shared, so hits on different blocks of one file run in parallel
//! on different shards. (`arc-swap` would cost an extra pointer chase and a debt-slot
//! write per read; a `RwLock` would make all readers of a file bounce one cache line.)
//!
//! **Single flight.** [`Miss::begin_fill`] registers the missing block span in the file's
//! fill table; a second miss overlapping a registered span gets [`Fill::Wait`], an
//! [`event_listener`]-based [`FillWait`] that is both a `Future` (any executor) and has a
//! blocking [`wait`](FillWait::wait). The leader's [`FillGuard`] inserts its blocks and
//! then wakes everyone; if it is dropped instead (read failed, future cancelled) the
//! waiters wake too, look up again, miss, and one of them leads. Nobody waits forever
//! unless a leader is leaked with `mem::forget`.
//!
//! **Write coordination.** While a write on a file is in flight, lookups of the blocks
//! it may change miss (every block of the file for [`RangeCache::begin_write`]; for
//! [`RangeCache::begin_write_at`], the blocks it covers and, when it may reach past the
//! recorded end of the file, every block from the old tail block on), and no fill of
//! those blocks begun before or during it is inserted: each [`Miss`] remembers the
//! file's generation and write sequence, and completion inserts only if the generation
//! is unchanged, no write in flight may change its blocks, and no write begun since the
//! lookup may have (each file remembers the blocks of its last 32 writes begun; a fill
//! that more writes began during is not inserted). The file's other blocks keep
//! serving, so readers of one part of a file are not emptied out by writers of another.
//! Every write that succeeded patches its own blocks, alone
//! or with others in flight on the file, whether their byte ranges overlap or not: when
//! two writes that overlapped in time wrote some of the same bytes, the order those bytes
//! reached the file is unknown, so the one that finishes later drops the blocks holding
//! them instead of patching them (each file logs the writes that finished while another
//! was in flight, for as long as one is). A write that overlapped in time with a
//! `set_len` or an abandoned write, or whose stamps do not follow from what the cache
//! knows (see [`WriteGuard::patch`]), invalidates the file. A multi-block hit re-checks the file's sequence number after
//! collecting its blocks, so a write that starts mid-read makes it retry rather than
//! return blocks from both sides of the write. Together these keep the cache coherent for
//! reads and writes made through one cache in one process: a hit returns bytes the file
//! held at one instant between the moment the caller took its stamp and the hit, never
//! some from before a write and some from after it.
//!
//! **Stale stamps.** Stamps are not ordered, so a stamp taken before a write and
//! presented after the write finished looks like an outside change. Adopting it would
//! record a version older than the file's, drop the write's patched blocks, and let its
//! fill cache the file as it is (after the write) under the older stamp, where a later
//! reader holding the same older stamp hits it. The cache cannot order stamps, but it
//! knows which stamps its writes started from: each file remembers the `before` stamps of
//! its last four finished writes, and a lookup with one of them misses without being
//! recorded (its fill inserts nothing). A stamp older than that is still adopted; hits
//! under it are the file after the writes, which still satisfies the guarantee above.
//! [`RangeCache::lookup`] spells out the caller's contract.
//!
//! # Cancellation
//!
//! Every guard is safe to drop at any point, so async callers may be cancelled freely:
//! a dropped [`FillGuard`] inserts nothing and hands the fill to a waiter; a dropped
//! [`FillWait`] just stops waiting; a dropped [`WriteGuard`] invalidates the file (the
//! write's outcome is unknown). Patches are applied under the file's lock while lookups
//! miss, and become visible all at once with the new stamp, so the cache never serves a
//! half-applied patch.
//!
//! # Invariants
//!
//! Invariants 1, 3 and 4 are checked by [`RangeCache::validate`], which recomputes every
//! counter; 2 holds by construction and is what the model and concurrency tests check
//! from the outside:
//!
//! 1. `resident_bytes` (sum of payload + overhead over resident blocks) `<= capacity`,
//!    and each shard is within its share; the shares sum to the capacity.
//! 2. A block is served only under the stamp and generation it was filled or patched
//!    under, and never while a write on its file is in flight. (Its bytes are those of
//!    the file at its fill or patch, which are the content its stamp names unless the
//!    stamp predates more finished writes than the cache remembers: see
//!    [`RangeCache::lookup`].)
//! 3. Every block of a file's current generation lies within the recorded length and is
//!    full or the tail block.
//! 4. Map, queue, slab and per-file block counts agree; blocks sit in the shard
//!    `shard_index` selects and point at the file state the table holds.
//!
//! Nothing in this crate panics on any input: offsets and lengths use saturating or
//! checked arithmetic, and the builder returns [`Error`] for bad settings.
#![forbid(unsafe_code)]

mod cache;
mod error;
mod file;
mod key;
mod shard;

pub use cache::{
    CacheStats, ColdMiss, DEFAULT_BLOCK_SIZE, DEFAULT_CAPACITY, DroppingWrite,
    ENTRY_OVERHEAD_BYTES, Fill, FillGuard, FillWait, Lookup, MAX_BLOCK_SIZE, MAX_CAPACITY,
    MAX_SHARDS, MIN_BLOCK_SIZE, Miss, Probe, ProbeHit, RangeCache, RangeCacheBuilder, WriteEpoch,
    WriteGuard,
};
pub use error::Error;
pub use key::{FileKey, Stamp};

#[cfg(test)]
mod send_sync {
    use super::*;

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}

    #[test]
    fn public_types_are_thread_safe() {
        send_sync::<RangeCache>();
        send_sync::<RangeCacheBuilder>();
        send_sync::<Miss>();
        send_sync::<Lookup>();
        send_sync::<Fill>();
        send_sync::<FillGuard>();
        send::<FillWait>();
        send_sync::<WriteGuard>();
        send_sync::<DroppingWrite>();
        send_sync::<Error>();
        send_sync::<Stamp>();
    }
}
