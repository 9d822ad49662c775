//! `cargo xtask bench`: fileio side by side with what a user would write instead, on the
//! user's own machine.
//!
//! `bench` checks its arguments, then re-runs this binary as `cargo run --release -p xtask
//! -- bench-run <args>` so that every number comes from an optimized build. `bench-run`
//! generates the data files (a read file, a write file, 256 small files) in a temporary
//! directory, measures every case (a workload times an implementation that can run it,
//! see [`cases`]), prints one table per workload as soon as it is done, then the
//! io_uring comparison and the ratios the issues ask for (targets), and writes
//! `report.md`, `report.json` and `ratios.svg` (see [`report`]).
//!
//! Every case has one warm-up round, then `reps` repetitions; the table shows their
//! medians. Warm random reads and whole-file reads run one case at a time: they are
//! CPU-bound, and preparing one of the former's cases (filling a cache with the whole
//! file) costs more than a repetition. Disk-bound workloads (cold reads, writes) and
//! the reads whose cases fill no cache first (Zipf, sequential, small-file open + read;
//! see [`cases::Workload::runs_in_passes`]) run in passes instead, because the disk's
//! speed drifts over tens of seconds (on shared virtual disks most of all), as does a
//! shared machine's CPU, and measuring one implementation after the other would let
//! that drift decide their ratios (the report sets cache on against cache off). Pass
//! `k` runs every implementation once (its warm-up round and one repetition): the
//! subjects in table order rotated by `k / 2`, a subject's cache-off and cache-on cases
//! side by side, and every odd pass backwards (see [`pass_order`]). So each
//! implementation runs first, second, ..., its repetitions are spread over the whole
//! workload, and what a case leaves behind weighs as often on the case before it in
//! table order as on the case after it. (Run always forwards, fileio's pool-backed
//! single writers of `write64k` made 0.81x-0.89x cache on / off in two runs, and
//! 0.95x-1.00x run always backwards.) A case's result combines its passes: the medians
//! of all its repetitions, the hit ratio of all its cache's hits and misses. A failed
//! pass is the case's outcome, and the case's later passes are skipped.
//!
//! Modules: [`cases`] (workloads and the implementation table), [`subjects`] (one adapter
//! per implementation), [`measure`] (rounds, repetitions, percentiles), [`report`]
//! (terminal table, Markdown, JSON, SVG), [`sys`] (machine facts, page-cache eviction),
//! [`object`] (the object storage section: fileio-object against object_store).

pub(crate) mod cases;
pub(crate) mod measure;
pub(crate) mod object;
pub(crate) mod report;
pub(crate) mod subjects;
pub(crate) mod sys;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::util::{cargo, workspace_root};
use cases::{CacheSetting, Subject, Work, Workload};
use measure::Measured;
use report::{CaseResult, Report, WorkloadReport};

/// Help for `cargo xtask bench`.
pub(crate) const USAGE: &str = "\
usage: cargo xtask bench [options]

Measures fileio (every backend, cache off and on) against std, tokio::fs, async-fs and
tokio::task::spawn_blocking(pread) on this machine, and, on 256 small files, the
whole-file helpers (fs::read) and open + read + drop against std::fs::read,
tokio::fs::read and async_fs::read, and fileio-object against object_store on an
S3-like throttled store (filter `object`); prints a table per workload and the ratios
the issues ask for, and writes report.md, report.json and ratios.svg to
<target dir>/fileio-bench/.

options:
  --quick            under a minute: 64 MiB file, 3 repetitions of 40 ms
  --full             more sizes (64 KiB random reads, 1 MiB writes), 1 GiB file,
                     7 repetitions of 300 ms
                     (default: 256 MiB file, 5 repetitions of 150 ms; a few minutes)
  --dir DIR          create the data files in a temporary directory under DIR
                     (default: the system temporary directory): tests another disk
  --out DIR          write the report files to DIR (default: <target dir>/fileio-bench)
  --size SIZE        size of the read file, e.g. 64M, 1G (at least 1M, a multiple of 1M)
  --reps N           repetitions per case (the median is reported)
  --rep-ms MS        length of one repetition in milliseconds
  --filter TEXT      run only cases whose `workload/implementation` contains TEXT
                     (may repeat; a case runs when any filter matches)
  --no-progress      no progress bars
  --s3               the object storage section also against a local S3-compatible
                     server (moto: started like `cargo xtask ci` does, or the one
                     FILEIO_S3_ENDPOINT names); builds the harness with S3 support
  -h, --help         this text
";

/// How much to measure: the presets of `--quick`, the default and `--full`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Preset {
    /// `--quick`: under a minute.
    Quick,
    /// No flag: a few minutes.
    Default,
    /// `--full`: more sizes, larger file, more repetitions.
    Full,
}

/// The parsed command line of `bench` / `bench-run`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Args {
    pub(crate) preset: Preset,
    pub(crate) dir: Option<PathBuf>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) size: Option<u64>,
    pub(crate) reps: Option<usize>,
    pub(crate) rep_ms: Option<u64>,
    pub(crate) filters: Vec<String>,
    pub(crate) progress: bool,
    /// `--s3`: the object storage section also runs against moto.
    pub(crate) s3: bool,
    pub(crate) help: bool,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            preset: Preset::Default,
            dir: None,
            out: None,
            size: None,
            reps: None,
            rep_ms: None,
            filters: Vec::new(),
            progress: true,
            s3: false,
            help: false,
        }
    }
}

const MIB: u64 = 1 << 20;

impl Args {
    /// Parses the arguments that follow `bench`.
    pub(crate) fn parse(args: &[String]) -> Result<Args, String> {
        let mut parsed = Args::default();
        let mut quick = false;
        let mut full = false;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            let mut value = |name: &str| -> Result<String, String> {
                match inline.clone().or_else(|| it.next().cloned()) {
                    Some(v) if !v.is_empty() => Ok(v),
                    _ => Err(format!("`{name}` needs a value")),
                }
            };
            match flag {
                "--quick" => quick = true,
                "--full" => full = true,
                "--dir" => parsed.dir = Some(PathBuf::from(value(flag)?)),
                "--out" => parsed.out = Some(PathBuf::from(value(flag)?)),
                "--size" => parsed.size = Some(parse_size(&value(flag)?)?),
                "--reps" => parsed.reps = Some(parse_count(flag, &value(flag)?)?),
                "--rep-ms" => parsed.rep_ms = Some(parse_count(flag, &value(flag)?)? as u64),
                "--filter" => parsed.filters.push(value(flag)?),
                "--no-progress" => parsed.progress = false,
                "--s3" => parsed.s3 = true,
                "-h" | "--help" => parsed.help = true,
                other => return Err(format!("unknown option `{other}` for `bench`\n\n{USAGE}")),
            }
            if inline.is_some() && matches!(flag, "--quick" | "--full" | "--no-progress" | "--s3") {
                return Err(format!("`{flag}` takes no value"));
            }
        }
        parsed.preset = match (quick, full) {
            (true, true) => return Err("`--quick` and `--full` exclude each other".into()),
            (true, false) => Preset::Quick,
            (false, true) => Preset::Full,
            (false, false) => Preset::Default,
        };
        Ok(parsed)
    }

    /// The arguments as they were given, for the release re-run.
    fn to_cli(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self.preset {
            Preset::Quick => out.push("--quick".to_string()),
            Preset::Full => out.push("--full".to_string()),
            Preset::Default => {}
        }
        let mut path = |flag: &str, p: &Option<PathBuf>| {
            if let Some(p) = p {
                out.push(flag.to_string());
                out.push(p.display().to_string());
            }
        };
        path("--dir", &self.dir);
        path("--out", &self.out);
        if let Some(size) = self.size {
            out.push("--size".into());
            out.push(size.to_string());
        }
        if let Some(reps) = self.reps {
            out.push("--reps".into());
            out.push(reps.to_string());
        }
        if let Some(ms) = self.rep_ms {
            out.push("--rep-ms".into());
            out.push(ms.to_string());
        }
        for f in &self.filters {
            out.push("--filter".into());
            out.push(f.clone());
        }
        if !self.progress {
            out.push("--no-progress".into());
        }
        if self.s3 {
            out.push("--s3".into());
        }
        out
    }
}

/// Parses `4096`, `64K`, `64M`, `1G` (binary units; a trailing `iB`/`B` is allowed).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 10),
        Some((i, 'm' | 'M')) => (&t[..i], 20),
        Some((i, 'g' | 'G')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid size `{text}` (examples: 64M, 1G, 1048576)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("size `{text}` is too large"))
}

fn parse_count(flag: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "`{flag}` needs a positive whole number, got `{text}`"
        )),
    }
}

/// Everything a run needs, resolved from [`Args`].
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) preset: Preset,
    /// Size of the file the read workloads use.
    pub(crate) file_size: u64,
    /// Size of the file the write workloads use.
    pub(crate) write_size: u64,
    pub(crate) reps: usize,
    pub(crate) rep_time: Duration,
    /// One untimed round before the repetitions (fills caches, spins up pools).
    pub(crate) warmup_time: Duration,
    pub(crate) workloads: Vec<Workload>,
    pub(crate) filters: Vec<String>,
    pub(crate) dir: PathBuf,
    pub(crate) out: PathBuf,
    pub(crate) progress: bool,
    /// Whether the object storage section also runs against moto (`--s3`).
    pub(crate) s3: bool,
    /// The command line that reproduces this run.
    pub(crate) command: String,
}

impl Plan {
    /// Resolves presets and checks the combination.
    pub(crate) fn new(args: &Args) -> Result<Plan, String> {
        let (size, reps, rep_ms) = match args.preset {
            Preset::Quick => (64 * MIB, 3, 40),
            Preset::Default => (256 * MIB, 5, 150),
            Preset::Full => (1024 * MIB, 7, 300),
        };
        let file_size = args.size.unwrap_or(size);
        if file_size < MIB || !file_size.is_multiple_of(MIB) {
            return Err(format!(
                "`--size` must be a whole number of MiB, at least 1M (got {file_size} bytes)"
            ));
        }
        let workloads = cases::workloads(args.preset);
        let largest_write = workloads
            .iter()
            .filter(|w| w.is_write())
            .map(|w| w.op_size as u64)
            .max()
            .unwrap_or(0);
        let write_size = (file_size / 4).clamp(MIB, 64 * MIB).max(largest_write);
        let rep_time = Duration::from_millis(args.rep_ms.unwrap_or(rep_ms));
        let mut command = "cargo xtask bench".to_string();
        for a in args.to_cli() {
            command.push(' ');
            command.push_str(&a);
        }
        Ok(Plan {
            preset: args.preset,
            file_size,
            write_size,
            reps: args.reps.unwrap_or(reps),
            rep_time,
            warmup_time: rep_time / 2,
            workloads,
            filters: args.filters.clone(),
            dir: args.dir.clone().unwrap_or_else(std::env::temp_dir),
            out: args.out.clone().unwrap_or_else(default_out_dir),
            progress: args.progress,
            s3: args.s3,
            command,
        })
    }

    /// Whether the case `workload/implementation` passes the `--filter`s.
    pub(crate) fn selects(&self, case_id: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| case_id.contains(f.as_str()))
    }
}

/// `<target dir>/fileio-bench`, honouring `CARGO_TARGET_DIR`.
fn default_out_dir() -> PathBuf {
    let root = workspace_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    target.join("fileio-bench")
}

/// `cargo xtask bench`: checks the arguments, then measures with a release build.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let parsed = Args::parse(args)?;
    if parsed.help {
        print!("{USAGE}");
        return Ok(());
    }
    Plan::new(&parsed)?;
    if cfg!(debug_assertions) {
        eprintln!(
            "xtask bench: building the harness with --release (the first build takes a while),\n\
             so that every number comes from optimized code"
        );
        let mut cmd = cargo();
        cmd.args(["run", "--release", "--package", "xtask"]);
        if parsed.s3 {
            cmd.args(["--features", "s3"]);
        }
        cmd.args(["--", "bench-run"]).args(parsed.to_cli());
        let status = cmd
            .status()
            .map_err(|e| format!("could not start {cmd:?}: {e}"))?;
        return if status.success() {
            Ok(())
        } else {
            Err(format!("the release benchmark run failed ({status})"))
        };
    }
    run_measured(&parsed)
}

/// `bench-run` (hidden): the measuring process, normally started by [`run`].
pub(crate) fn run_hidden(args: &[String]) -> Result<(), String> {
    let parsed = Args::parse(args)?;
    if parsed.help {
        print!("{USAGE}");
        return Ok(());
    }
    run_measured(&parsed)
}

fn run_measured(args: &Args) -> Result<(), String> {
    let plan = Plan::new(args)?;
    let report = execute(&plan)?;
    let paths = report::write_all(&report, &plan.out)?;
    println!();
    for p in &paths {
        println!("wrote {}", p.display());
    }
    let failed: Vec<String> = report
        .workloads
        .iter()
        .flat_map(|w| {
            w.results.iter().filter_map(move |r| {
                r.error
                    .as_ref()
                    .map(|e| format!("{}/{}: {e}", w.id, r.label()))
            })
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} case(s) failed:\n  {}",
            failed.len(),
            failed.join("\n  ")
        ))
    }
}

/// Runs the plan and returns the report (written by the caller).
pub(crate) fn execute(plan: &Plan) -> Result<Report, String> {
    let machine = sys::Machine::detect(&plan.dir);
    println!(
        "fileio bench: {} profile, {} preset, {} read file, {} x {} ms per case, on {} ({})",
        machine.profile,
        report::preset_name(plan.preset),
        report::fmt_bytes(plan.file_size),
        plan.reps,
        plan.rep_time.as_millis(),
        plan.dir.display(),
        machine.fs_type,
    );
    if machine.fs_type == "tmpfs" {
        println!(
            "note: {} is tmpfs: pages cannot be evicted, so the cold cases are served from memory",
            plan.dir.display()
        );
    }
    let started = Instant::now();
    let tmp = tempfile::Builder::new()
        .prefix("fileio-bench-")
        .tempdir_in(&plan.dir)
        .map_err(|e| {
            format!(
                "cannot create a temporary directory in {}: {e}",
                plan.dir.display()
            )
        })?;
    let data = tmp.path().join("read.dat");
    let write = tmp.path().join("write.dat");
    let bar = new_bar(
        plan,
        plan.file_size + plan.write_size,
        "generating data files",
    );
    bar.set_style(
        ProgressStyle::with_template("{prefix:<52} [{bar:24}] {bytes}/{total_bytes}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    sys::generate(&data, plan.file_size, &bar).map_err(|e| io_err(&data, e))?;
    sys::generate(&write, plan.write_size, &bar).map_err(|e| io_err(&write, e))?;
    bar.finish_and_clear();

    let small = generate_small_files(&tmp.path().join("small"), plan)?;
    let env = subjects::Env::new(data, plan.file_size, write, plan.write_size, small)?;
    let subjects = cases::subjects();
    let mut workloads = Vec::new();
    report::print_header();
    for workload in &plan.workloads {
        let variants: Vec<(&Subject, CacheSetting)> = subjects
            .iter()
            .flat_map(|s| s.cache_settings(workload).into_iter().map(move |c| (s, c)))
            .filter(|(s, c)| plan.selects(&cases::case_id(workload, s, *c)))
            .collect();
        if variants.is_empty() {
            continue;
        }
        let work = Work::new(workload, &env);
        let cases = WorkloadCases {
            plan,
            env: &env,
            workload,
            work: &work,
            variants: &variants,
        };
        let outcomes = if workload.runs_in_passes() {
            cases.run_interleaved()
        } else {
            cases.run_one_at_a_time()
        };
        let results = variants
            .iter()
            .zip(outcomes)
            .map(|(&(subject, cache), outcome)| CaseResult::new(subject, cache, workload, outcome))
            .collect();
        let section = WorkloadReport::new(workload, results);
        report::print_workload(&section);
        workloads.push(section);
    }
    drop(env);
    let object = object::run(plan)?;
    let mut report = Report::new(plan, machine, workloads, started.elapsed());
    report.object = object;
    report::print_uring_vs_pool(&report.uring_vs_pool);
    report::print_targets(&report.targets);
    tmp.close()
        .map_err(|e| format!("cannot remove the data files: {e}"))?;
    Ok(report)
}

/// Writes the small files of the small-file workloads into `dir` (none when no such
/// workload runs): [`cases::SMALL_FILES`] files of the workloads' operation size, each
/// with its own seeded bytes.
fn generate_small_files(dir: &Path, plan: &Plan) -> Result<Vec<PathBuf>, String> {
    let Some(size) = plan
        .workloads
        .iter()
        .find(|w| w.is_small())
        .map(|w| w.op_size)
    else {
        return Ok(Vec::new());
    };
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let mut rng = measure::Rng::new(0x5a11);
    let mut bytes = vec![0u8; size];
    (0..cases::SMALL_FILES)
        .map(|i| {
            let path = dir.join(format!("{i:03}.dat"));
            rng.fill(&mut bytes);
            std::fs::write(&path, &bytes).map_err(|e| io_err(&path, e))?;
            Ok(path)
        })
        .collect()
}

/// The selected cases of one workload: its implementations and cache settings
/// (`variants`, in table order) and what they share.
struct WorkloadCases<'a> {
    plan: &'a Plan,
    env: &'a subjects::Env,
    workload: &'a Workload,
    work: &'a Work,
    variants: &'a [(&'a Subject, CacheSetting)],
}

impl WorkloadCases<'_> {
    /// Runs every case in turn, all its repetitions at once; one outcome per variant.
    fn run_one_at_a_time(&self) -> Vec<Result<Measured, String>> {
        self.variants
            .iter()
            .map(|&(subject, cache)| {
                let name = cases::case_id(self.workload, subject, cache);
                self.run_case(self.plan, subject, cache, &name)
            })
            .collect()
    }

    /// Runs the cases in passes of one repetition each, in rotating order (see
    /// [`pass_order`]); one outcome per variant, combining its passes.
    fn run_interleaved(&self) -> Vec<Result<Measured, String>> {
        let passes = self.plan.reps;
        let single = Plan {
            reps: 1,
            ..self.plan.clone()
        };
        let mut parts: Vec<Result<Vec<Measured>, String>> = self
            .variants
            .iter()
            .map(|_| Ok(Vec::with_capacity(passes)))
            .collect();
        let subjects: Vec<&str> = self.variants.iter().map(|(s, _)| s.name).collect();
        for pass in 0..passes {
            for i in pass_order(&subjects, pass) {
                let Ok(done) = &mut parts[i] else {
                    // An earlier pass failed: that error is the case's outcome.
                    continue;
                };
                let (subject, cache) = self.variants[i];
                let name = format!(
                    "{} (pass {}/{passes})",
                    cases::case_id(self.workload, subject, cache),
                    pass + 1
                );
                match self.run_case(&single, subject, cache, &name) {
                    Ok(measured) => done.push(measured),
                    Err(e) => parts[i] = Err(e),
                }
            }
        }
        parts
            .into_iter()
            .map(|part| part.map(Measured::combine))
            .collect()
    }

    /// Runs one case under `plan` (the run's plan, or a copy with fewer repetitions),
    /// behind a progress bar named `name`.
    fn run_case(
        &self,
        plan: &Plan,
        subject: &Subject,
        cache: CacheSetting,
        name: &str,
    ) -> Result<Measured, String> {
        let bar = new_bar(plan, plan.reps as u64 + 1, name);
        let case = cases::Case {
            workload: self.workload,
            cache,
            work: self.work,
            plan,
        };
        let outcome = (subject.run)(self.env, &case, &bar);
        bar.finish_and_clear();
        outcome
    }
}

/// The order in which pass `pass` of an interleaved workload runs its cases, given each
/// case's subject in table order (`subjects[i]`; a subject's cases are adjacent there):
/// the subjects rotated by `pass / 2` (passes 0 and 1 start from the first subject,
/// passes 2 and 3 from the second, ...), each subject's cases together, and odd passes
/// run their order backwards. Over twice as many passes as subjects, every subject runs
/// in every position both ways, and a subject's cache-on case runs as often right after
/// its cache-off case as right before it, so that neither inherits the other's leftovers
/// (a warm pool, the memory a cache freed) in every pass.
pub(crate) fn pass_order<T: PartialEq>(subjects: &[T], pass: usize) -> Vec<usize> {
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, subject) in subjects.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if subjects[g.start] == *subject => g.end = i + 1,
            _ => groups.push(i..i + 1),
        }
    }
    let n = groups.len();
    let mut order: Vec<usize> = (0..n)
        .flat_map(|g| groups[(g + pass / 2) % n].clone())
        .collect();
    if pass % 2 == 1 {
        order.reverse();
    }
    order
}

fn io_err(path: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", path.display())
}

fn new_bar(plan: &Plan, len: u64, name: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(len),
        if plan.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{prefix:<52} [{bar:24}] {pos}/{len} {msg}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    bar
}

#[cfg(test)]
mod tests;
