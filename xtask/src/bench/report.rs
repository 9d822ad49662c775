//! The results: the terminal table, `report.md`, `report.json` and `ratios.svg`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::cases::{Base, CacheSetting, Family, Subject, TARGETS, Target, URING_PAIRS, Workload};
use super::measure::Measured;
use super::sys::Machine;
use super::{Plan, Preset};

/// The version of `report.json`'s layout (2: `uring_vs_pool`, `cache_counts`; 3:
/// `targets`; 4: `reference` on results, `reference_ratio` on targets).
pub(crate) const SCHEMA: u32 = 4;

/// One case's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct CaseResult {
    pub(crate) subject: String,
    pub(crate) runtime: String,
    /// `true` for fileio, `false` for a baseline or a reference.
    pub(crate) fileio: bool,
    /// `true` for a reference (what the machine allows at best; never the best
    /// baseline).
    #[serde(default)]
    pub(crate) reference: bool,
    /// `-` (baseline), `off` or `on`.
    pub(crate) cache: String,
    pub(crate) measured: Option<Measured>,
    pub(crate) error: Option<String>,
    /// ops/s over the best baseline's ops/s in the same workload.
    pub(crate) ratio: Option<f64>,
}

impl CaseResult {
    /// A result of `subject` on `workload`.
    pub(crate) fn new(
        subject: &Subject,
        cache: CacheSetting,
        _workload: &Workload,
        outcome: Result<Measured, String>,
    ) -> CaseResult {
        let (measured, error) = match outcome {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e)),
        };
        CaseResult {
            subject: subject.name.to_string(),
            runtime: subject.runtime.to_string(),
            fileio: subject.family == Family::Fileio,
            reference: subject.family == Family::Reference,
            cache: cache.name().to_string(),
            measured,
            error,
            ratio: None,
        }
    }

    /// `subject` or `subject, cache on`.
    pub(crate) fn label(&self) -> String {
        if self.fileio {
            format!("{}, cache {}", self.subject, self.cache)
        } else {
            self.subject.clone()
        }
    }

    fn ops(&self) -> Option<f64> {
        self.measured.as_ref().map(|m| m.ops_per_sec)
    }

    /// Whether this is `subject` with the cache off.
    fn is_uncached(&self, subject: &str) -> bool {
        self.fileio && self.subject == subject && self.cache == CacheSetting::Off.name()
    }
}

/// One workload and all its cases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct WorkloadReport {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) op_size: usize,
    pub(crate) tasks: usize,
    /// The fastest baseline (by median ops/s), if any baseline ran.
    pub(crate) best_baseline: Option<String>,
    /// Whether its cases ran in passes (see [`Workload::runs_in_passes`]): their
    /// repetitions then pair up by pass.
    #[serde(default)]
    pub(crate) interleaved: bool,
    pub(crate) results: Vec<CaseResult>,
}

impl WorkloadReport {
    /// Collects `results` and computes every ratio.
    pub(crate) fn new(workload: &Workload, mut results: Vec<CaseResult>) -> WorkloadReport {
        let best = results
            .iter()
            .filter(|r| !r.fileio && !r.reference)
            .filter_map(|r| r.ops().map(|o| (o, r.subject.clone())))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((best_ops, _)) = &best {
            for r in &mut results {
                r.ratio = r.ops().filter(|_| *best_ops > 0.0).map(|o| o / best_ops);
            }
        }
        WorkloadReport {
            id: workload.id.clone(),
            title: workload.title.clone(),
            op_size: workload.op_size,
            tasks: workload.tasks,
            best_baseline: best.map(|(_, name)| name),
            interleaved: workload.runs_in_passes(),
            results,
        }
    }

    /// What fileio's `subject` measured with the cache `cache`, when it ran.
    fn fileio_measured(&self, subject: &str, cache: CacheSetting) -> Option<&Measured> {
        self.results
            .iter()
            .find(|r| r.fileio && r.subject == subject && r.cache == cache.name())
            .and_then(|r| r.measured.as_ref())
    }

    /// Cache on over cache off (ops/s) for `subject`, when both ran in this workload.
    fn on_off(&self, subject: &str) -> Option<f64> {
        let ops = |cache| self.fileio_measured(subject, cache).map(|m| m.ops_per_sec);
        let (on, off) = (ops(CacheSetting::On)?, ops(CacheSetting::Off)?);
        (off > 0.0).then(|| on / off)
    }

    /// The lowest and the highest of `subject`'s cache-on / cache-off ratios pass by
    /// pass (a pass runs the two cases side by side), when the workload ran in passes
    /// and both cases made a repetition in each of at least two passes: how far the
    /// machine moves the ratio between neighbouring runs of the same two cases.
    fn on_off_passes(&self, subject: &str) -> Option<(f64, f64)> {
        if !self.interleaved {
            return None;
        }
        let reps = |cache| self.fileio_measured(subject, cache).map(|m| &m.reps);
        let (on, off) = (reps(CacheSetting::On)?, reps(CacheSetting::Off)?);
        if on.len() != off.len() || on.len() < 2 {
            return None;
        }
        on.iter()
            .zip(off)
            .filter(|(_, off)| off.ops_per_sec > 0.0)
            .map(|(on, off)| on.ops_per_sec / off.ops_per_sec)
            .map(|r| (r, r))
            .reduce(|(lo, hi), (r, _)| (lo.min(r), hi.max(r)))
    }

    /// Every fileio subject that ran with the cache both on and off, with its
    /// cache-on / cache-off ratio, in table order.
    pub(crate) fn on_off_ratios(&self) -> Vec<(&str, f64)> {
        self.results
            .iter()
            .filter(|r| r.fileio && r.cache == CacheSetting::On.name())
            .filter_map(|r| Some((r.subject.as_str(), self.on_off(&r.subject)?)))
            .collect()
    }

    fn best_fileio(&self, cache: &str) -> Option<&CaseResult> {
        self.results
            .iter()
            .filter(|r| r.fileio && r.cache == cache && r.ratio.is_some())
            .max_by(|a, b| a.ratio.unwrap_or(0.0).total_cmp(&b.ratio.unwrap_or(0.0)))
    }
}

/// One io_uring subject against the pool backend of the same runtime, in one workload,
/// both with the cache off (the io_uring issue's acceptance figures are these ratios).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct UringVsPool {
    pub(crate) workload: String,
    /// `tokio` or `smol`.
    pub(crate) runtime: String,
    pub(crate) uring_ops_per_sec: f64,
    pub(crate) pool_ops_per_sec: f64,
    /// io_uring ops/s over the pool's ops/s (above 1x: io_uring is faster).
    pub(crate) ratio: f64,
    pub(crate) uring_p50_ns: u64,
    pub(crate) uring_p99_ns: u64,
    pub(crate) pool_p50_ns: u64,
    pub(crate) pool_p99_ns: u64,
}

/// For every workload, one row per runtime whose io_uring and pool subjects both
/// succeeded with the cache off (see [`URING_PAIRS`]); workloads in order, runtimes in
/// table order.
pub(crate) fn uring_vs_pool(workloads: &[WorkloadReport]) -> Vec<UringVsPool> {
    let mut rows = Vec::new();
    for w in workloads {
        let measured = |name: &str| {
            w.results
                .iter()
                .find(|r| r.is_uncached(name))
                .and_then(|r| r.measured.as_ref())
        };
        for pair in &URING_PAIRS {
            let (Some(uring), Some(pool)) = (measured(pair.uring), measured(pair.pool)) else {
                continue;
            };
            if pool.ops_per_sec <= 0.0 {
                continue;
            }
            rows.push(UringVsPool {
                workload: w.id.clone(),
                runtime: pair.runtime.to_string(),
                uring_ops_per_sec: uring.ops_per_sec,
                pool_ops_per_sec: pool.ops_per_sec,
                ratio: uring.ops_per_sec / pool.ops_per_sec,
                uring_p50_ns: uring.p50_ns,
                uring_p99_ns: uring.p99_ns,
                pool_p50_ns: pool.p50_ns,
                pool_p99_ns: pool.p99_ns,
            });
        }
    }
    rows
}

/// One ratio an issue asks for (see [`TARGETS`]), in one workload and cache setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TargetRow {
    /// What is compared, e.g. `fileio_tokio::fs::read / tokio::fs::read`.
    pub(crate) target: String,
    pub(crate) workload: String,
    /// The fileio subject's cache setting (`on` or `off`).
    pub(crate) cache: String,
    pub(crate) ops_per_sec: f64,
    pub(crate) baseline_ops_per_sec: f64,
    /// ops/s over the baseline's ops/s.
    pub(crate) ratio: f64,
    /// The least ratio asked for.
    pub(crate) goal: f64,
    pub(crate) met: bool,
    /// The target's reference subject's ops/s over the baseline's, when it names one and
    /// it ran: how far the ratio can go on this machine.
    #[serde(default)]
    pub(crate) reference_ratio: Option<f64>,
    pub(crate) p50_ns: u64,
    pub(crate) p99_ns: u64,
    pub(crate) baseline_p50_ns: u64,
    pub(crate) baseline_p99_ns: u64,
}

/// For every target and every workload it names, one row per measured cache setting of
/// its subject (only cache on against [`Base::CacheOff`]), when its baseline was
/// measured too; targets in order, then workloads.
pub(crate) fn targets(workloads: &[WorkloadReport], list: &[Target]) -> Vec<TargetRow> {
    /// `subject`'s result in `w` with the cache setting named `cache` (any, if `None`),
    /// when it ran.
    fn measured<'a>(
        w: &'a WorkloadReport,
        subject: &str,
        cache: Option<&str>,
    ) -> Option<&'a Measured> {
        w.results
            .iter()
            .filter(|r| r.subject == subject && cache.is_none_or(|c| r.cache == c))
            .find_map(|r| r.measured.as_ref())
            .filter(|m| m.ops_per_sec > 0.0)
    }
    let mut rows = Vec::new();
    for t in list {
        for w in workloads.iter().filter(|w| w.id.starts_with(t.workload)) {
            // Baselines and references run with no cache setting ("-"): a name there
            // is never a fileio result.
            let plain = Some(CacheSetting::None.name());
            let base = match t.baseline {
                Base::Subject(name) => match t.baseline_workload {
                    Some(id) => workloads.iter().find(|b| b.id == id),
                    None => Some(w),
                }
                .and_then(|b| measured(b, name, plain)),
                Base::CacheOff => measured(w, t.subject, Some(CacheSetting::Off.name())),
            };
            let Some(base) = base else { continue };
            let reference_ratio = t.reference.and_then(|r| {
                let reference = measured(w, r.subject, plain)?;
                let over = measured(w, r.over, plain)?;
                Some(reference.ops_per_sec / over.ops_per_sec)
            });
            for r in w.results.iter().filter(|r| {
                r.fileio
                    && r.subject == t.subject
                    && (t.baseline != Base::CacheOff || r.cache == CacheSetting::On.name())
            }) {
                let Some(m) = &r.measured else { continue };
                let ratio = m.ops_per_sec / base.ops_per_sec;
                rows.push(TargetRow {
                    target: t.name.to_string(),
                    workload: w.id.clone(),
                    cache: r.cache.clone(),
                    ops_per_sec: m.ops_per_sec,
                    baseline_ops_per_sec: base.ops_per_sec,
                    ratio,
                    goal: t.goal,
                    met: ratio >= t.goal,
                    reference_ratio,
                    p50_ns: m.p50_ns,
                    p99_ns: m.p99_ns,
                    baseline_p50_ns: base.p50_ns,
                    baseline_p99_ns: base.p99_ns,
                });
            }
        }
    }
    rows
}

/// Everything `report.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Report {
    pub(crate) schema: u32,
    /// The command that reproduces the run.
    pub(crate) command: String,
    pub(crate) preset: Preset,
    pub(crate) file_size: u64,
    pub(crate) write_size: u64,
    pub(crate) reps: usize,
    pub(crate) rep_ms: u64,
    /// Seconds since the Unix epoch when the report was made.
    pub(crate) unix_time: u64,
    /// Seconds the whole run took.
    pub(crate) duration_secs: f64,
    pub(crate) machine: Machine,
    pub(crate) workloads: Vec<WorkloadReport>,
    /// io_uring against the pool backend (see [`uring_vs_pool`]).
    #[serde(default)]
    pub(crate) uring_vs_pool: Vec<UringVsPool>,
    /// The ratios the issues ask for (see [`targets`]).
    #[serde(default)]
    pub(crate) targets: Vec<TargetRow>,
    /// The object storage section (see [`super::object`]).
    #[serde(default)]
    pub(crate) object: Vec<super::object::ObjectRow>,
}

impl Report {
    /// The report of a finished run.
    pub(crate) fn new(
        plan: &Plan,
        machine: Machine,
        workloads: Vec<WorkloadReport>,
        took: Duration,
    ) -> Report {
        Report {
            schema: SCHEMA,
            command: plan.command.clone(),
            preset: plan.preset,
            file_size: plan.file_size,
            write_size: plan.write_size,
            reps: plan.reps,
            rep_ms: u64::try_from(plan.rep_time.as_millis()).unwrap_or(u64::MAX),
            unix_time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            duration_secs: took.as_secs_f64(),
            machine,
            uring_vs_pool: uring_vs_pool(&workloads),
            targets: targets(&workloads, &TARGETS),
            workloads,
            object: Vec::new(),
        }
    }
}

/// `quick`, `default` or `full`.
pub(crate) fn preset_name(p: Preset) -> &'static str {
    match p {
        Preset::Quick => "quick",
        Preset::Default => "default",
        Preset::Full => "full",
    }
}

// ---- number formatting -------------------------------------------------------------

/// `1.23 M`, `45.6 k`, `789`.
pub(crate) fn fmt_ops(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// `780 ns`, `12.3 µs`, `4.56 ms`, `1.20 s`.
pub(crate) fn fmt_ns(ns: u64) -> String {
    let v = ns as f64;
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", v / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", v / 1e6)
    } else {
        format!("{:.2} s", v / 1e9)
    }
}

/// `256 MiB`, `1 GiB`, `4 KiB`, `100 B`.
pub(crate) fn fmt_bytes(b: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if b >= 1 << shift && b.is_multiple_of(1 << shift) {
            return format!("{} {unit}", b >> shift);
        }
    }
    format!("{b} B")
}

/// `3.21x`, `0.45x`, `120x`.
pub(crate) fn fmt_ratio(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}x")
    } else if r >= 10.0 {
        format!("{r:.1}x")
    } else {
        format!("{r:.2}x")
    }
}

fn fmt_mib(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The cells of one result row: implementation, cache, ops/s, MiB/s, p50, p99, spread,
/// ratio, hit ratio.
fn cells(r: &CaseResult) -> [String; 9] {
    let name = r.subject.clone();
    let cache = r.cache.clone();
    match &r.measured {
        None => [
            name,
            cache,
            "failed".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ],
        Some(m) => [
            name,
            cache,
            fmt_ops(m.ops_per_sec),
            fmt_mib(m.mib_per_sec),
            fmt_ns(m.p50_ns),
            fmt_ns(m.p99_ns),
            format!("±{:.0}%", m.spread_pct / 2.0),
            r.ratio.map(fmt_ratio).unwrap_or_else(|| "-".into()),
            m.hit_ratio
                .map(|h| format!("{:.1}%", h * 100.0))
                .unwrap_or_else(|| "-".into()),
        ],
    }
}

const HEADS: [&str; 9] = [
    "implementation",
    "cache",
    "ops/s",
    "MiB/s",
    "p50",
    "p99",
    "spread",
    "vs best baseline",
    "cache hits",
];

// ---- terminal ------------------------------------------------------------------------

/// The legend printed once before the first workload.
pub(crate) fn print_header() {
    println!(
        "\nmedian of the repetitions; spread = ±half the range of ops/s over the repetitions;\n\
         vs best baseline = ops/s over the fastest of std / tokio::fs / async-fs / spawn_blocking\n\
         (small files: of std::fs::read / tokio::fs::read / async_fs::read);\n\
         {INTERLEAVED_NOTE}"
    );
}

/// Which workloads run in passes, and how (terminal legend and `report.md`).
const INTERLEAVED_NOTE: &str = "every workload but warm random reads and fs::read runs its \
     repetitions interleaved across implementations, in rotating order, every other pass \
     backwards; the others run one case at a time";

/// What the io_uring comparison's ratio is (terminal and `report.md`).
const URING_NOTE: &str =
    "ratio = io_uring ops/s over the pool backend's ops/s, same runtime, cache off";

/// Prints one workload's table to stdout.
pub(crate) fn print_workload(w: &WorkloadReport) {
    print!("{}", terminal_table(w));
}

/// One workload's table, aligned for a terminal.
pub(crate) fn terminal_table(w: &WorkloadReport) -> String {
    let rows: Vec<[String; 9]> = w.results.iter().map(cells).collect();
    let mut s = format!("\n{} — {}\n{}", w.id, w.title, aligned(&HEADS, &rows, 2));
    if let Some(line) = on_off_line(w) {
        let _ = writeln!(s, "  cache on / off: {line}");
    }
    s
}

/// Every fileio subject's cache-on / cache-off ratio in `w`, with the range of its
/// ratios pass by pass where the workload ran in passes; `None` when no subject ran
/// both ways.
fn on_off_line(w: &WorkloadReport) -> Option<String> {
    let on_off: Vec<String> = w
        .on_off_ratios()
        .iter()
        .map(|(subject, r)| match w.on_off_passes(subject) {
            Some((lo, hi)) => format!(
                "{} {subject} (passes {}-{})",
                fmt_ratio(*r),
                fmt_ratio(lo),
                fmt_ratio(hi)
            ),
            None => format!("{} {subject}", fmt_ratio(*r)),
        })
        .collect();
    (!on_off.is_empty()).then(|| on_off.join(", "))
}

/// `heads` and `rows` in aligned columns, indented by two spaces: the first `left`
/// columns aligned left, the others right.
fn aligned<const N: usize>(heads: &[&str; N], rows: &[[String; N]], left: usize) -> String {
    let mut widths = heads.map(|h| h.chars().count());
    for row in rows {
        for (width, c) in widths.iter_mut().zip(row) {
            *width = (*width).max(c.chars().count());
        }
    }
    let line = |cols: &[String; N]| -> String {
        let mut s = String::from("  ");
        for (i, c) in cols.iter().enumerate() {
            let pad = " ".repeat(widths[i] - c.chars().count());
            if i < left {
                s.push_str(c);
                s.push_str(&pad);
            } else {
                s.push_str(&pad);
                s.push_str(c);
            }
            s.push_str("  ");
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&heads.map(String::from));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

const URING_HEADS: [&str; 7] = [
    "workload",
    "runtime",
    "io_uring ops/s",
    "pool ops/s",
    "io_uring / pool",
    "io_uring p50 / p99",
    "pool p50 / p99",
];

/// The cells of one row of the io_uring comparison, as [`URING_HEADS`] names them.
fn uring_cells(r: &UringVsPool) -> [String; 7] {
    [
        r.workload.clone(),
        r.runtime.clone(),
        fmt_ops(r.uring_ops_per_sec),
        fmt_ops(r.pool_ops_per_sec),
        fmt_ratio(r.ratio),
        format!("{} / {}", fmt_ns(r.uring_p50_ns), fmt_ns(r.uring_p99_ns)),
        format!("{} / {}", fmt_ns(r.pool_p50_ns), fmt_ns(r.pool_p99_ns)),
    ]
}

/// The io_uring comparison, aligned for a terminal; empty without rows (io_uring or
/// its pool counterpart did not run).
pub(crate) fn uring_terminal_table(rows: &[UringVsPool]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let cells: Vec<[String; 7]> = rows.iter().map(uring_cells).collect();
    format!(
        "\nio_uring against the pool backend ({URING_NOTE})\n{}",
        aligned(&URING_HEADS, &cells, 2)
    )
}

/// Prints the io_uring comparison to stdout, if there is one.
pub(crate) fn print_uring_vs_pool(rows: &[UringVsPool]) {
    print!("{}", uring_terminal_table(rows));
}

const TARGET_HEADS: [&str; 8] = [
    "target",
    "workload",
    "cache",
    "ops/s",
    "baseline ops/s",
    "ratio",
    "p50 / p99",
    "baseline p50 / p99",
];

/// The cells of one target row, as [`TARGET_HEADS`] names them (the ratio with its goal
/// and whether it is met).
fn target_cells(r: &TargetRow) -> [String; 8] {
    [
        r.target.clone(),
        r.workload.clone(),
        r.cache.clone(),
        fmt_ops(r.ops_per_sec),
        fmt_ops(r.baseline_ops_per_sec),
        format!(
            "{} (goal {}: {}{})",
            fmt_ratio(r.ratio),
            fmt_ratio(r.goal),
            if r.met { "met" } else { "NOT met" },
            match r.reference_ratio {
                Some(x) => format!("; this machine's reference: {}", fmt_ratio(x)),
                None => String::new(),
            }
        ),
        format!("{} / {}", fmt_ns(r.p50_ns), fmt_ns(r.p99_ns)),
        format!(
            "{} / {}",
            fmt_ns(r.baseline_p50_ns),
            fmt_ns(r.baseline_p99_ns)
        ),
    ]
}

/// What a target's ratio is (terminal and `report.md`).
const TARGET_NOTE: &str =
    "ratio = the fileio subject's ops/s over the named baseline's ops/s, same workload";

/// The targets, aligned for a terminal; empty without rows.
pub(crate) fn targets_terminal_table(rows: &[TargetRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let cells: Vec<[String; 8]> = rows.iter().map(target_cells).collect();
    format!(
        "\ntargets ({TARGET_NOTE})\n{}",
        aligned(&TARGET_HEADS, &cells, 3)
    )
}

/// Prints the targets to stdout, if there are any.
pub(crate) fn print_targets(rows: &[TargetRow]) {
    print!("{}", targets_terminal_table(rows));
}

/// The targets as a `report.md` section; empty without rows.
pub(crate) fn targets_markdown(rows: &[TargetRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\n## Targets\n\n{}.\n\n| {} |\n|---|---|---|--:|--:|--:|--:|--:|\n",
        upper_first(TARGET_NOTE),
        TARGET_HEADS.join(" | ")
    );
    for r in rows {
        let _ = writeln!(s, "| {} |", target_cells(r).join(" | "));
    }
    s
}

/// The io_uring comparison as a `report.md` section; empty without rows.
pub(crate) fn uring_markdown(rows: &[UringVsPool]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\n## io_uring against the pool backend\n\n{}.\n\n| {} |\n|---|---|--:|--:|--:|--:|--:|\n",
        upper_first(URING_NOTE),
        URING_HEADS.join(" | ")
    );
    for r in rows {
        let _ = writeln!(s, "| {} |", uring_cells(r).join(" | "));
    }
    s
}

/// `text` with its first letter in upper case.
fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---- files -----------------------------------------------------------------------------

/// Writes `report.md`, `report.json` and `ratios.svg` into `dir` (created if needed).
pub(crate) fn write_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(report).map_err(|e| format!("report.json: {e}"))?;
    let files = [
        ("report.md", markdown(report)),
        ("report.json", json + "\n"),
        ("ratios.svg", svg(report)),
    ];
    let mut paths = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

/// The one-row-per-workload summary, as Markdown (what the README quotes).
pub(crate) fn summary_markdown(report: &Report) -> String {
    let mut s = String::from(
        "| workload | best baseline | its ops/s | best fileio, cache off | best fileio, cache on | cache on / off |\n\
         |---|---|--:|---|---|---|\n",
    );
    for w in &report.workloads {
        let best = w
            .best_baseline
            .as_deref()
            .and_then(|b| w.results.iter().find(|r| !r.fileio && r.subject == b));
        let cell = |r: Option<&CaseResult>| match r {
            Some(r) => {
                let mut c = format!("{} {}", fmt_ratio(r.ratio.unwrap_or(0.0)), r.subject);
                if let Some(h) = r.measured.as_ref().and_then(|m| m.hit_ratio) {
                    let _ = write!(c, " ({:.0}% hits)", h * 100.0);
                }
                c
            }
            None => "-".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            w.id,
            best.map_or("-".into(), |b| format!("`{}`", b.subject)),
            best.and_then(CaseResult::ops).map_or("-".into(), fmt_ops),
            cell(w.best_fileio("off")),
            cell(w.best_fileio("on")),
            on_off_cell(w),
        );
    }
    s
}

/// The summary's cache-on / cache-off cell of one workload: the lowest ratio over the
/// fileio subjects that ran both ways, and the highest (`-` when none did).
fn on_off_cell(w: &WorkloadReport) -> String {
    let ratios = w.on_off_ratios();
    let lowest = ratios.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    let highest = ratios.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    match (lowest, highest) {
        (Some(lo), Some(hi)) if ratios.len() > 1 => format!(
            "{} {} .. {} {}",
            fmt_ratio(lo.1),
            lo.0,
            fmt_ratio(hi.1),
            hi.0
        ),
        (Some(lo), _) => format!("{} {}", fmt_ratio(lo.1), lo.0),
        _ => "-".into(),
    }
}

/// `report.md`.
pub(crate) fn markdown(report: &Report) -> String {
    let m = &report.machine;
    let mut s = String::from("# fileio benchmark\n\n");
    let _ = writeln!(
        s,
        "Measured with `{}` ({} build, {} preset) in {:.0} s.\n",
        report.command,
        m.profile,
        preset_name(report.preset),
        report.duration_secs
    );
    let _ = writeln!(
        s,
        "- machine: {} ({} cores), {:.1} GiB memory, {} {} {}\n- data: a {} read file and a {} write file on {}\n- {}, workspace at {}\n- every case: one warm-up round, then {} repetitions of {} ms; the table shows the median, `spread` is ± half the range of ops/s over the repetitions\n- {}: pass k runs every implementation once (a warm-up round, then one repetition), starting k / 2 subjects down the table, a subject's cache-off and cache-on cases side by side and odd passes backwards, so that the disk's drift spreads over all of them and neither of two neighbours always runs first; `passes` after a cache on / off ratio is the range of that ratio pass by pass\n- `vs best baseline`: ops/s divided by the fastest of `std`, `tokio::fs`, `async-fs` and `spawn_blocking(pread)` in the same workload (small files: of `std::fs::read` or open + `read_to_end`, `tokio::fs::read` and `async_fs::read`; above 1x: fileio is faster)\n",
        m.cpu,
        m.cores,
        m.memory_bytes as f64 / f64::from(1u32 << 30),
        m.os,
        m.kernel,
        m.arch,
        fmt_bytes(report.file_size),
        fmt_bytes(report.write_size),
        m.fs_type,
        m.rustc,
        m.commit,
        report.reps,
        report.rep_ms,
        INTERLEAVED_NOTE,
    );
    s.push_str("## Summary\n\n");
    s.push_str(&summary_markdown(report));
    s.push_str("\n![ratios](ratios.svg)\n");
    s.push_str(&uring_markdown(&report.uring_vs_pool));
    s.push_str(&targets_markdown(&report.targets));
    s.push_str(&super::object::markdown(&report.object));
    for w in &report.workloads {
        let _ = writeln!(s, "\n## `{}`: {}\n", w.id, w.title);
        let _ = writeln!(s, "| {} |", HEADS.join(" | "));
        s.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|\n");
        for r in &w.results {
            let c = cells(r);
            let name = if r.fileio {
                format!("**{}**", c[0])
            } else {
                format!("`{}`", c[0])
            };
            let _ = writeln!(s, "| {name} | {} |", c[1..].join(" | "));
        }
        if let Some(line) = on_off_line(w) {
            let _ = writeln!(s, "\nCache on / off: {line}.");
        }
        for r in w.results.iter().filter(|r| r.error.is_some()) {
            let _ = writeln!(
                s,
                "\n{} failed: {}",
                r.label(),
                r.error.as_deref().unwrap_or_default()
            );
        }
    }
    s
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `ratios.svg`: one horizontal bar per fileio case, on a log scale centred on 1x (the
/// best baseline): bars to the right are faster than the best baseline.
pub(crate) fn svg(report: &Report) -> String {
    const LABEL_W: f64 = 300.0;
    const PLOT_W: f64 = 520.0;
    const ROW_H: f64 = 18.0;
    const TOP: f64 = 64.0;
    const OFF_COLOUR: &str = "#4c78a8";
    const ON_COLOUR: &str = "#f58518";

    let ratios: Vec<f64> = report
        .workloads
        .iter()
        .flat_map(|w| w.results.iter())
        .filter(|r| r.fileio)
        .filter_map(|r| r.ratio)
        .filter(|r| *r > 0.0)
        .collect();
    let lo = ratios.iter().copied().fold(0.5, f64::min).log10().floor();
    let hi = ratios.iter().copied().fold(2.0, f64::max).log10().ceil();
    let x = |r: f64| LABEL_W + (r.log10() - lo) / (hi - lo) * PLOT_W;

    let mut rows = String::new();
    let mut y = TOP;
    for w in &report.workloads {
        let _ = writeln!(
            rows,
            r#"<text x="8" y="{:.1}" font-weight="bold">{}</text>"#,
            y + 13.0,
            xml_escape(&format!("{}: {}", w.id, w.title))
        );
        y += ROW_H;
        for r in w.results.iter().filter(|r| r.fileio) {
            let _ = writeln!(
                rows,
                r#"<text x="20" y="{:.1}">{}</text>"#,
                y + 13.0,
                xml_escape(&r.label())
            );
            match r.ratio.filter(|r| *r > 0.0) {
                Some(ratio) => {
                    let (a, b) = (x(1.0), x(ratio));
                    let colour = if r.cache == "on" {
                        ON_COLOUR
                    } else {
                        OFF_COLOUR
                    };
                    let _ = writeln!(
                        rows,
                        r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}</title></rect>"#,
                        a.min(b),
                        y + 3.0,
                        (b - a).abs().max(1.0),
                        ROW_H - 6.0,
                        xml_escape(&format!("{} {}: {}", w.id, r.label(), fmt_ratio(ratio)))
                    );
                    let (tx, anchor) = if ratio >= 1.0 {
                        (b + 4.0, "start")
                    } else {
                        (b - 4.0, "end")
                    };
                    // A cache-on bar also says what the cache did: on / off.
                    let text = match w.on_off(&r.subject).filter(|_| r.cache == "on") {
                        Some(on_off) => {
                            format!("{} (on/off {})", fmt_ratio(ratio), fmt_ratio(on_off))
                        }
                        None => fmt_ratio(ratio),
                    };
                    let _ = writeln!(
                        rows,
                        r#"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
                        y + 13.0,
                        text
                    );
                }
                None => {
                    let _ = writeln!(
                        rows,
                        r##"<text x="{:.1}" y="{:.1}" fill="#999">{}</text>"##,
                        x(1.0) + 4.0,
                        y + 13.0,
                        if r.error.is_some() {
                            "failed"
                        } else {
                            "no baseline"
                        }
                    );
                }
            }
            y += ROW_H;
        }
    }
    let height = y + 12.0;
    let width = LABEL_W + PLOT_W + 150.0;

    let mut grid = String::new();
    for d in lo as i32..=hi as i32 {
        let r = 10f64.powi(d);
        let gx = x(r);
        let stroke = if d == 0 { "#333" } else { "#ccc" };
        let _ = writeln!(
            grid,
            r##"<line x1="{gx:.1}" y1="{:.1}" x2="{gx:.1}" y2="{:.1}" stroke="{stroke}"/><text x="{gx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            TOP - 4.0,
            height - 8.0,
            TOP - 8.0,
            fmt_ratio(r)
        );
    }
    let m = &report.machine;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">
<text x="8" y="18" font-size="15" font-weight="bold">fileio vs the best baseline (ops/s ratio, log scale; right of 1x is faster)</text>
<text x="8" y="36" fill="#555">{}</text>
<circle cx="{:.1}" cy="31" r="5" fill="{OFF_COLOUR}"/><text x="{:.1}" y="36">cache off</text>
<circle cx="{:.1}" cy="31" r="5" fill="{ON_COLOUR}"/><text x="{:.1}" y="36">cache on</text>
{grid}{rows}</svg>
"##,
        xml_escape(&format!(
            "{} ({} cores), {} {}, {} file on {}, {} build",
            m.cpu,
            m.cores,
            m.os,
            m.kernel,
            fmt_bytes(report.file_size),
            m.fs_type,
            m.profile
        )),
        width - 170.0,
        width - 162.0,
        width - 90.0,
        width - 82.0,
    )
}
