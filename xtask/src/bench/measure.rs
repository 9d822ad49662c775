//! Timing: rounds of operations, repetitions, percentiles, median and spread; and the
//! seeded random numbers the workloads draw their offsets from.

use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

/// How long the tasks of one round run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Budget {
    /// All tasks run operations for this long from the round's start (each at least
    /// one operation). The start is taken once all tasks exist (threads meet at a
    /// barrier first), so that slow thread creation does not eat into the round.
    For(Duration),
    /// Each task runs exactly this many operations.
    Count(u64),
}

impl Budget {
    /// When tasks stop, for a round starting at `start`.
    pub(crate) fn stop(self, start: Instant) -> Stop {
        match self {
            Budget::For(d) => Stop::At(start + d),
            Budget::Count(n) => Stop::After(n),
        }
    }
}

/// When one task stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// After the first operation that ends at or after this instant.
    At(Instant),
    /// After this many operations.
    After(u64),
}

impl Stop {
    /// Whether a task that has done `done` operations, the last one ending at `now`,
    /// stops.
    pub(crate) fn done(self, done: u64, now: Instant) -> bool {
        match self {
            Stop::At(deadline) => done > 0 && now >= deadline,
            Stop::After(n) => done >= n,
        }
    }
}

/// What the tasks of one round did.
#[derive(Debug, Default)]
pub(crate) struct RoundOut {
    pub(crate) ops: u64,
    pub(crate) bytes: u64,
    /// From the first task's first operation to the last task's last.
    pub(crate) wall: Duration,
    /// One latency per operation, in nanoseconds (saturating at `u32::MAX`).
    pub(crate) latencies: Vec<u32>,
}

impl RoundOut {
    /// Adds another round of the same repetition.
    pub(crate) fn absorb(&mut self, other: RoundOut) {
        self.ops += other.ops;
        self.bytes += other.bytes;
        self.wall += other.wall;
        self.latencies.extend_from_slice(&other.latencies);
    }
}

/// Nanoseconds as `u32`, saturating (4.29 s is far beyond any single operation here).
pub(crate) fn nanos(d: Duration) -> u32 {
    u32::try_from(d.as_nanos()).unwrap_or(u32::MAX)
}

/// One repetition of a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rep {
    pub(crate) ops: u64,
    pub(crate) bytes: u64,
    pub(crate) wall_ns: u64,
    pub(crate) ops_per_sec: f64,
    pub(crate) mib_per_sec: f64,
    pub(crate) p50_ns: u64,
    pub(crate) p99_ns: u64,
}

impl Rep {
    /// Summarizes a repetition (sorts its latencies).
    pub(crate) fn from_round(mut round: RoundOut) -> Rep {
        round.latencies.sort_unstable();
        let secs = round.wall.as_secs_f64().max(1e-9);
        Rep {
            ops: round.ops,
            bytes: round.bytes,
            wall_ns: u64::try_from(round.wall.as_nanos()).unwrap_or(u64::MAX),
            ops_per_sec: round.ops as f64 / secs,
            mib_per_sec: round.bytes as f64 / secs / (1u64 << 20) as f64,
            p50_ns: u64::from(percentile(&round.latencies, 50.0)),
            p99_ns: u64::from(percentile(&round.latencies, 99.0)),
        }
    }
}

/// The `p`-th percentile of `sorted` by the nearest-rank method: the smallest value such
/// that at least `p`% of the values are less than or equal to it. 0 for no values.
pub(crate) fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median (mean of the two middle values for an even count); 0 for no values.
pub(crate) fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// `(max - min) / median` in percent: how far apart the repetitions were.
pub(crate) fn spread_pct(values: &[f64]) -> f64 {
    let m = median(values);
    if m <= 0.0 {
        return 0.0;
    }
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    (max - min) / m * 100.0
}

/// A cache's hit and miss counts over some repetitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CacheCounts {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
}

impl CacheCounts {
    /// `hits / (hits + misses)`; `None` when there were no lookups.
    pub(crate) fn ratio(self) -> Option<f64> {
        let total = self.hits + self.misses;
        (total > 0).then(|| self.hits as f64 / total as f64)
    }

    /// The counts between `before` and `self` (two readings of the same counters).
    pub(crate) fn since(self, before: CacheCounts) -> CacheCounts {
        CacheCounts {
            hits: self.hits.saturating_sub(before.hits),
            misses: self.misses.saturating_sub(before.misses),
        }
    }
}

impl From<(u64, u64)> for CacheCounts {
    /// From `(hits, misses)`.
    fn from((hits, misses): (u64, u64)) -> CacheCounts {
        CacheCounts { hits, misses }
    }
}

impl std::ops::Add for CacheCounts {
    type Output = CacheCounts;

    fn add(self, other: CacheCounts) -> CacheCounts {
        CacheCounts {
            hits: self.hits + other.hits,
            misses: self.misses + other.misses,
        }
    }
}

/// The result of one case: every repetition and their medians.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Measured {
    /// Median over the repetitions.
    pub(crate) ops_per_sec: f64,
    pub(crate) mib_per_sec: f64,
    /// Median of the repetitions' percentiles.
    pub(crate) p50_ns: u64,
    pub(crate) p99_ns: u64,
    /// See [`spread_pct`], over the repetitions' ops/s.
    pub(crate) spread_pct: f64,
    /// Cache hits / (hits + misses) during the repetitions, for cache-on cases.
    pub(crate) hit_ratio: Option<f64>,
    /// The counts `hit_ratio` comes from (`None` without a cache), kept so that cases
    /// measured in several parts combine them (see [`Measured::combine`]).
    #[serde(default)]
    pub(crate) cache_counts: Option<CacheCounts>,
    pub(crate) reps: Vec<Rep>,
}

impl Measured {
    /// The medians of `reps`; `cache_counts` are the cache's counts during them.
    pub(crate) fn from_reps(reps: Vec<Rep>, cache_counts: Option<CacheCounts>) -> Measured {
        let ops: Vec<f64> = reps.iter().map(|r| r.ops_per_sec).collect();
        let mib: Vec<f64> = reps.iter().map(|r| r.mib_per_sec).collect();
        let p50: Vec<f64> = reps.iter().map(|r| r.p50_ns as f64).collect();
        let p99: Vec<f64> = reps.iter().map(|r| r.p99_ns as f64).collect();
        Measured {
            ops_per_sec: median(&ops),
            mib_per_sec: median(&mib),
            p50_ns: median(&p50).round() as u64,
            p99_ns: median(&p99).round() as u64,
            spread_pct: spread_pct(&ops),
            hit_ratio: cache_counts.and_then(CacheCounts::ratio),
            cache_counts,
            reps,
        }
    }

    /// One case measured in parts (the passes of an interleaved workload): every
    /// part's repetitions, in order, and their medians. The hit ratio is that of the
    /// summed counts, not an average of the parts' ratios.
    pub(crate) fn combine(parts: impl IntoIterator<Item = Measured>) -> Measured {
        let mut reps = Vec::new();
        let mut counts: Option<CacheCounts> = None;
        for part in parts {
            reps.extend(part.reps);
            if let Some(c) = part.cache_counts {
                counts = Some(counts.unwrap_or_default() + c);
            }
        }
        Measured::from_reps(reps, counts)
    }
}

/// How a case's repetitions are made.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    pub(crate) reps: usize,
    pub(crate) rep_time: Duration,
    pub(crate) warmup_time: Duration,
    /// `Some(ops per task)`: cold, rounds of that many operations each, with the page
    /// cache dropped before each round (not timed); `None`: one timed round per
    /// repetition.
    pub(crate) cold_round: Option<u64>,
}

/// Runs the warm-up and the repetitions of one case.
///
/// `round` runs every task once under a budget; `evict` drops the read file from the
/// page cache; `hits` reads the (hits, misses) counters of the case's cache, if any.
pub(crate) fn drive(
    schedule: Schedule,
    bar: &ProgressBar,
    mut round: impl FnMut(Budget) -> Result<RoundOut, String>,
    mut evict: impl FnMut() -> Result<(), String>,
    hits: impl Fn() -> Option<(u64, u64)>,
) -> Result<Measured, String> {
    bar.set_message("warm-up");
    match schedule.cold_round {
        Some(n) => {
            evict()?;
            round(Budget::Count(n))?;
        }
        None => {
            round(Budget::For(schedule.warmup_time))?;
        }
    }
    bar.inc(1);
    let before = hits();
    let mut reps = Vec::with_capacity(schedule.reps);
    for i in 0..schedule.reps {
        bar.set_message(format!("repetition {}", i + 1));
        let out = match schedule.cold_round {
            None => round(Budget::For(schedule.rep_time))?,
            Some(n) => {
                // Rounds until the timed part reaches the repetition's length; the wall
                // clock bound keeps a very slow disk from stretching a case forever.
                let started = Instant::now();
                let mut total = RoundOut::default();
                loop {
                    evict()?;
                    total.absorb(round(Budget::Count(n))?);
                    if total.wall >= schedule.rep_time || started.elapsed() >= schedule.rep_time * 4
                    {
                        break;
                    }
                }
                total
            }
        };
        reps.push(Rep::from_round(out));
        bar.inc(1);
    }
    let counts = match (before, hits()) {
        (Some(before), Some(after)) => Some(CacheCounts::from(after).since(before.into())),
        _ => None,
    };
    Ok(Measured::from_reps(reps, counts))
}

/// A seeded xorshift64* generator: tiny, fast, reproducible; not for cryptography.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; zero is replaced).
    pub(crate) fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so that close seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_f491_4f6c_dd1d } else { z })
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift (bias below 2^-32 for the sizes here).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Fills `buf` with random bytes.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Zipf(s) over ranks `0..n`: rank `k` has probability proportional to `1 / (k + 1)^s`.
/// Sampled by binary search in the cumulative table (built once, `8 * n` bytes).
#[derive(Clone, Debug)]
pub(crate) struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n >= 1` ranks with exponent `s`.
    pub(crate) fn new(n: u64, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n as usize);
        let mut sum = 0.0;
        for k in 0..n {
            sum += 1.0 / ((k + 1) as f64).powf(s);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Zipf { cdf }
    }

    /// The probability of rank `k`.
    #[cfg(test)]
    pub(crate) fn probability(&self, k: usize) -> f64 {
        match k {
            0 => self.cdf[0],
            _ => self.cdf[k] - self.cdf[k - 1],
        }
    }

    /// One rank.
    pub(crate) fn sample(&self, rng: &mut Rng) -> u64 {
        let u = rng.unit();
        let k = self.cdf.partition_point(|&c| c <= u);
        k.min(self.cdf.len() - 1) as u64
    }
}

/// Maps rank `k` of `0..n` to a slot of `0..n`, one to one, so that popular ranks are
/// scattered over the file instead of packed at its start. Multiplying by a prime larger
/// than `n` is a bijection modulo `n`.
pub(crate) fn scatter(k: u64, n: u64) -> u64 {
    const PRIME: u128 = 2_654_435_761;
    debug_assert!(u128::from(n) < PRIME, "n must stay below the multiplier");
    ((u128::from(k) * PRIME) % u128::from(n)) as u64
}
