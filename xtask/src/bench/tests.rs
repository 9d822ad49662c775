//! Tests of the harness itself: argument parsing, the statistics, the samplers, the
//! report files, and one tiny end-to-end run of every case.

use std::cell::Cell;

use super::cases::{Access, Shape, TARGETS, Temperature, URING_PAIRS};
use super::measure::{
    Budget, CacheCounts, Rep, Rng, RoundOut, Schedule, Zipf, drive, median, percentile, scatter,
    spread_pct,
};
use super::report::{self, CaseResult, Report, TargetRow, UringVsPool};
use super::sys::Machine;
use super::*;

fn args(list: &[&str]) -> Result<Args, String> {
    Args::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

#[test]
fn no_arguments_mean_the_default_preset() {
    let a = args(&[]).unwrap();
    assert_eq!(a, Args::default());
    let plan = Plan::new(&a).unwrap();
    assert_eq!(plan.file_size, 256 << 20);
    assert_eq!(plan.write_size, 64 << 20);
    assert_eq!(plan.reps, 5);
    assert_eq!(plan.command, "cargo xtask bench");
}

#[test]
fn presets_and_overrides() {
    let quick = Plan::new(&args(&["--quick"]).unwrap()).unwrap();
    assert_eq!((quick.file_size, quick.reps), (64 << 20, 3));
    let full = Plan::new(&args(&["--full"]).unwrap()).unwrap();
    assert_eq!(full.file_size, 1 << 30);
    assert!(
        full.workloads.len() > quick.workloads.len(),
        "--full adds sizes"
    );
    assert!(full.workloads.iter().any(|w| w.id == "write1m-sync"));

    let a = args(&[
        "--quick",
        "--dir",
        "/mnt/ssd",
        "--out=/tmp/r",
        "--size",
        "8M",
        "--reps",
        "2",
        "--rep-ms",
        "20",
        "--filter",
        "seq",
        "--filter=zipf",
        "--no-progress",
    ])
    .unwrap();
    assert_eq!(a.preset, Preset::Quick);
    assert_eq!(a.dir.as_deref(), Some(Path::new("/mnt/ssd")));
    assert_eq!(a.out.as_deref(), Some(Path::new("/tmp/r")));
    assert_eq!(a.size, Some(8 << 20));
    assert_eq!((a.reps, a.rep_ms), (Some(2), Some(20)));
    assert_eq!(a.filters, ["seq", "zipf"]);
    assert!(!a.progress);
    let plan = Plan::new(&a).unwrap();
    assert_eq!(plan.rep_time, Duration::from_millis(20));
    assert!(plan.selects("seq1m/std") && plan.selects("zipf4k-t64/std"));
    assert!(!plan.selects("rand4k-warm-t1/std"));
    // The release re-run gets the same arguments back.
    assert_eq!(Args::parse(&a.to_cli()).unwrap(), a);
    assert!(
        plan.command
            .starts_with("cargo xtask bench --quick --dir /mnt/ssd")
    );
}

#[test]
fn bad_arguments_are_explained() {
    let cases: &[(&[&str], &str)] = &[
        (&["--fast"], "unknown option `--fast`"),
        (&["--quick", "--full"], "exclude each other"),
        (&["--dir"], "`--dir` needs a value"),
        (&["--reps", "0"], "positive whole number"),
        (&["--reps", "many"], "positive whole number"),
        (&["--size", "lots"], "invalid size `lots`"),
        (&["--quick=yes"], "takes no value"),
    ];
    for (list, expected) in cases {
        let err = args(list).unwrap_err();
        assert!(err.contains(expected), "{list:?}: {err}");
    }
    let err = Plan::new(&args(&["--size", "1500K"]).unwrap()).unwrap_err();
    assert!(err.contains("whole number of MiB"), "{err}");
    assert!(args(&["--help"]).unwrap().help);
}

#[test]
fn sizes_parse_in_binary_units() {
    assert_eq!(parse_size("4096"), Ok(4096));
    assert_eq!(parse_size("64k"), Ok(64 << 10));
    assert_eq!(parse_size("64M"), Ok(64 << 20));
    assert_eq!(parse_size("64MiB"), Ok(64 << 20));
    assert_eq!(parse_size("1G"), Ok(1 << 30));
    assert_eq!(parse_size("2GB"), Ok(2 << 30));
    assert!(parse_size("").is_err());
    assert!(parse_size("1.5G").is_err());
    assert!(parse_size("99999999999999G").is_err());
}

#[test]
fn percentiles_by_nearest_rank() {
    // Model: the sorted values 1..=n; the nearest-rank p-th percentile is ceil(p/100 * n).
    for n in [1u32, 2, 3, 10, 99, 100, 101, 1000] {
        let v: Vec<u32> = (1..=n).collect();
        for p in [1.0, 25.0, 50.0, 90.0, 99.0, 100.0] {
            let want = ((p / 100.0 * f64::from(n)).ceil() as u32).max(1);
            assert_eq!(percentile(&v, p), want, "n={n} p={p}");
        }
    }
    assert_eq!(percentile(&[], 50.0), 0);
    assert_eq!(percentile(&[7, 7, 7, 9], 99.0), 9);
}

#[test]
fn median_and_spread() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    assert_eq!(median(&[]), 0.0);
    assert_eq!(spread_pct(&[90.0, 100.0, 110.0]), 20.0);
    assert_eq!(spread_pct(&[5.0]), 0.0);
}

#[test]
fn a_repetition_is_summarized_from_its_round() {
    let rep = Rep::from_round(RoundOut {
        ops: 100,
        bytes: 100 << 20,
        wall: Duration::from_millis(500),
        latencies: (1..=100).rev().collect(),
    });
    assert_eq!(rep.ops_per_sec, 200.0);
    assert_eq!(rep.mib_per_sec, 200.0);
    assert_eq!((rep.p50_ns, rep.p99_ns), (50, 99));
    let m = measure::Measured::from_reps(
        vec![
            Rep {
                ops_per_sec: 10.0,
                p50_ns: 5,
                ..rep.clone()
            },
            Rep {
                ops_per_sec: 30.0,
                p50_ns: 9,
                ..rep.clone()
            },
            Rep {
                ops_per_sec: 20.0,
                p50_ns: 7,
                ..rep
            },
        ],
        None,
    );
    assert_eq!((m.ops_per_sec, m.p50_ns, m.spread_pct), (20.0, 7, 100.0));
}

#[test]
fn rng_is_seeded_and_uniform_enough() {
    let a: Vec<u64> = (0..5)
        .scan(Rng::new(1), |r, _| Some(r.next_u64()))
        .collect();
    let b: Vec<u64> = (0..5)
        .scan(Rng::new(1), |r, _| Some(r.next_u64()))
        .collect();
    assert_eq!(a, b);
    let mut rng = Rng::new(7);
    let mut counts = [0u32; 8];
    for _ in 0..80_000 {
        counts[rng.below(8) as usize] += 1;
    }
    assert!(
        counts.iter().all(|&c| (9_000..11_000).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn zipf_follows_its_probabilities() {
    let n = 1000;
    let zipf = Zipf::new(n, 0.99);
    // Model: p(k) = (k+1)^-s / H(n, s).
    let h: f64 = (1..=n).map(|k| (k as f64).powf(-0.99)).sum();
    for k in [0usize, 1, 9, 999] {
        let want = ((k + 1) as f64).powf(-0.99) / h;
        assert!((zipf.probability(k) - want).abs() < 1e-12);
    }
    let mut rng = Rng::new(3);
    let draws = 200_000;
    let mut top = 0;
    for _ in 0..draws {
        let k = zipf.sample(&mut rng);
        assert!(k < n);
        top += u32::from(k == 0);
    }
    let seen = f64::from(top) / f64::from(draws);
    assert!((seen - zipf.probability(0)).abs() < 0.01, "{seen}");
}

#[test]
fn scatter_is_a_permutation() {
    for n in [1u64, 2, 7, 64, 1000, 4096] {
        let mut seen: Vec<u64> = (0..n).map(|k| scatter(k, n)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n={n}");
    }
}

/// Counts `<rect` elements.
fn rects(svg: &str) -> usize {
    svg.matches("<rect").count()
}

fn fileio_bars(report: &Report) -> usize {
    report
        .workloads
        .iter()
        .flat_map(|w| &w.results)
        .filter(|r| r.fileio && r.ratio.is_some())
        .count()
}

/// The whole harness on a 1 MiB file, 2 repetitions of 5 ms per case: every case runs
/// and the three report files are written and parse.
#[test]
fn tiny_end_to_end_run_writes_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let dir_arg = dir.path().display().to_string();
    let out_arg = out.display().to_string();
    let a = args(&[
        "--quick",
        "--size",
        "1M",
        "--reps",
        "2",
        "--rep-ms",
        "5",
        "--no-progress",
        "--dir",
        &dir_arg,
        "--out",
        &out_arg,
    ])
    .unwrap();
    let plan = Plan::new(&a).unwrap();
    let report = execute(&plan).unwrap();
    let subjects = cases::subjects();
    assert_eq!(report.workloads.len(), plan.workloads.len());
    for (w, workload) in report.workloads.iter().zip(&plan.workloads) {
        assert_eq!(w.id, workload.id);
        let failed: Vec<_> = w.results.iter().filter_map(|r| r.error.as_ref()).collect();
        assert!(failed.is_empty(), "{}: {failed:?}", w.id);
        let runs: Vec<&str> = subjects
            .iter()
            .filter(|s| !s.cache_settings(workload).is_empty())
            .map(|s| s.name)
            .collect();
        assert!(runs.len() >= 3, "{}: {runs:?}", w.id);
        for name in &runs {
            assert!(
                w.results.iter().any(|r| r.subject == *name),
                "{}: {name} ran",
                w.id
            );
        }
        assert!(w.best_baseline.is_some());
        for r in &w.results {
            let m = r.measured.as_ref().unwrap();
            assert_eq!(m.reps.len(), 2);
            assert!(
                m.ops_per_sec > 0.0 && m.p99_ns >= m.p50_ns,
                "{}/{}",
                w.id,
                r.label()
            );
            let case = format!("{}/{}", w.id, r.label());
            if r.cache != "on" {
                assert_eq!(m.hit_ratio, None, "{case}");
            } else if w.id.starts_with("rand") {
                // Filled before the case: every read is a hit.
                assert!(
                    m.hit_ratio.is_some_and(|h| h > 0.99),
                    "{case}: {:?}",
                    m.hit_ratio
                );
            } else if w.id.starts_with("zipf") {
                assert!(m.hit_ratio.is_some(), "{case}");
            } else if w.id.starts_with("small") {
                // Small files read again and again: hits once past the racy window.
                assert!(
                    m.hit_ratio.is_some_and(|h| h > 0.0),
                    "{case}: {:?}",
                    m.hit_ratio
                );
            }
        }
    }
    let zipf = report
        .workloads
        .iter()
        .find(|w| w.id.starts_with("zipf"))
        .unwrap();
    let hits = zipf
        .results
        .iter()
        .filter_map(|r| r.measured.as_ref()?.hit_ratio)
        .collect::<Vec<_>>();
    assert!(
        hits.iter().all(|h| (0.0..1.0).contains(h)),
        "a cache smaller than the file misses: {hits:?}"
    );

    // Every workload on handles compares each io_uring subject that ran with its pool.
    let pairs = URING_PAIRS
        .iter()
        .filter(|p| subjects.iter().any(|s| s.name == p.uring))
        .count();
    let on_handles = plan
        .workloads
        .iter()
        .filter(|w| w.shape() == Shape::Handle)
        .count();
    assert_eq!(
        report.uring_vs_pool.len(),
        pairs * on_handles,
        "{:?}",
        report.uring_vs_pool
    );

    // Every target has a row per workload it names and cache setting its subject ran
    // with: fs::read in small4k-read-t1 and -t64 (cache on), open+read+drop in
    // small4k-open-read-drop-t1 (cache off and on); the write targets, each on tokio
    // and smol or against two baselines, cache off and on; Zipf cache on / off for the
    // blocking `File` and fileio-tokio, cache on only, beside the Strict ceiling.
    let rows: Vec<(&str, &str)> = report
        .targets
        .iter()
        .map(|r| (r.workload.as_str(), r.cache.as_str()))
        .collect();
    let twice = |w: &'static str| [(w, "off"), (w, "on"), (w, "off"), (w, "on")];
    let mut want = vec![
        ("small4k-read-t1", "on"),
        ("small4k-read-t64", "on"),
        ("small4k-open-read-drop-t1", "off"),
        ("small4k-open-read-drop-t1", "on"),
    ];
    for w in ["write4k-t64", "stream4k", "write4k-sync-t64"] {
        want.extend(twice(w));
    }
    want.extend([("zipf4k-t64", "on"), ("zipf4k-t64", "on")]);
    assert_eq!(rows, want);
    assert!(
        report
            .targets
            .iter()
            .filter(|r| r.workload.starts_with("zipf"))
            .all(|r| r.reference_ratio.is_some_and(|x| x > 0.0))
    );
    assert!(report.targets.iter().all(|r| r.ratio > 0.0));

    let paths = report::write_all(&report, &out).unwrap();
    assert_eq!(paths.len(), 3);
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back.machine, report.machine);
    assert_eq!(back.workloads.len(), report.workloads.len());
    for (b, w) in back.workloads.iter().zip(&report.workloads) {
        assert_eq!((&b.id, &b.best_baseline), (&w.id, &w.best_baseline));
        for (rb, rw) in b.results.iter().zip(&w.results) {
            assert_eq!(rb.label(), rw.label());
            let (ob, ow) = (rb.measured.as_ref().unwrap(), rw.measured.as_ref().unwrap());
            assert!((ob.ops_per_sec - ow.ops_per_sec).abs() <= ow.ops_per_sec * 1e-9);
            assert_eq!(ob.reps.len(), ow.reps.len());
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.starts_with("# fileio benchmark"));
    assert!(md.contains("| rand4k-warm-t1 |"));
    assert!(md.contains("## `zipf4k-t64`"));
    assert!(md.contains("## `small4k-read-t1`") && md.contains("## `small4k-open-read-drop-t1`"));
    assert!(md.contains("## Targets"));
    assert!(md.contains("| fileio_tokio::fs::read / tokio::fs::read | small4k-read-t1 | on |"));
    assert_eq!(back.targets.len(), report.targets.len());
    for (b, r) in back.targets.iter().zip(&report.targets) {
        assert_eq!(
            (&b.target, &b.workload, &b.cache, b.met),
            (&r.target, &r.workload, &r.cache, r.met)
        );
        assert!((b.ratio - r.ratio).abs() <= r.ratio * 1e-9);
    }
    let svg = std::fs::read_to_string(out.join("ratios.svg")).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(rects(&svg), fileio_bars(&report));
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
}

// ---- interleaving -------------------------------------------------------------------

#[test]
fn passes_rotate_the_subjects_and_run_every_other_pass_backwards() {
    let subjects = ["a", "b", "b", "c", "c"];
    assert_eq!(pass_order(&subjects, 0), [0, 1, 2, 3, 4]);
    assert_eq!(pass_order(&subjects, 1), [4, 3, 2, 1, 0]);
    assert_eq!(pass_order(&subjects, 2), [1, 2, 3, 4, 0]);
    assert_eq!(pass_order(&subjects, 3), [0, 4, 3, 2, 1]);
    assert_eq!(pass_order(&subjects, 4), [3, 4, 0, 1, 2]);
    assert_eq!(
        pass_order(&subjects, 7),
        pass_order(&subjects, 1),
        "more passes than twice the subjects wrap around"
    );
    assert_eq!(pass_order(&["a"], 7), [0]);
    assert!(pass_order::<&str>(&[], 2).is_empty());
}

/// Every table of up to five subjects, each with one to three adjacent cases: every
/// pass runs every case once, a subject's cases side by side; over twice as many passes
/// as subjects, every subject starts each position once forwards and once backwards, and
/// a subject's first case runs as often right before its second as right after it.
#[test]
fn passes_counterbalance_positions_and_neighbours() {
    let mut tables: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..5 {
        let longer: Vec<Vec<usize>> = tables
            .iter()
            .filter(|t| t.len() == tables.last().map_or(0, Vec::len))
            .flat_map(|t| {
                (1..=3).map(move |n| {
                    let mut t = t.clone();
                    t.push(n);
                    t
                })
            })
            .collect();
        tables.extend(longer);
    }
    assert_eq!(tables.len(), 1 + 3 + 9 + 27 + 81 + 243);
    for sizes in &tables {
        let subjects: Vec<usize> = sizes
            .iter()
            .enumerate()
            .flat_map(|(s, &n)| std::iter::repeat_n(s, n))
            .collect();
        let groups = sizes.len();
        let mut starts = vec![std::collections::BTreeMap::<(usize, bool), usize>::new(); groups];
        let mut first_before_second = vec![0i64; groups];
        for pass in 0..2 * groups {
            let order = pass_order(&subjects, pass);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..subjects.len()).collect::<Vec<_>>(), "{sizes:?}");
            // Runs of one subject, in the order the pass met them.
            let mut runs: Vec<(usize, Vec<usize>)> = Vec::new();
            for &i in &order {
                match runs.last_mut() {
                    Some((s, cases)) if *s == subjects[i] => cases.push(i),
                    _ => runs.push((subjects[i], vec![i])),
                }
            }
            assert_eq!(
                runs.len(),
                groups,
                "{sizes:?}: a subject's cases are adjacent"
            );
            for (position, (s, cases)) in runs.iter().enumerate() {
                *starts[*s].entry((position, pass % 2 == 1)).or_default() += 1;
                if cases.len() >= 2 {
                    first_before_second[*s] += if cases[0] < cases[1] { 1 } else { -1 };
                }
            }
        }
        for s in 0..groups {
            assert_eq!(starts[s].len(), 2 * groups, "{sizes:?} subject {s}");
            assert!(starts[s].values().all(|&n| n == 1), "{sizes:?} subject {s}");
            assert_eq!(first_before_second[s], 0, "{sizes:?} subject {s}");
        }
    }
}

#[test]
fn only_warm_random_reads_and_whole_file_reads_run_one_case_at_a_time() {
    for preset in [Preset::Quick, Preset::Default, Preset::Full] {
        for w in cases::workloads(preset) {
            let want =
                w.id.starts_with("write") || w.id.starts_with("stream") || w.id.contains("-cold-");
            assert_eq!(w.is_disk_bound(), want, "{}", w.id);
            // Reads whose cases fill no cache first run in passes too.
            let one_at_a_time =
                w.id.contains("-warm-") || (w.id.starts_with("small") && w.id.contains("-read-t"));
            assert_eq!(w.runs_in_passes(), !one_at_a_time, "{}", w.id);
        }
    }
}

/// A repetition with these ops/s and p50 (the rest fixed).
fn rep(ops_per_sec: f64, p50_ns: u64) -> Rep {
    Rep {
        ops: 1000,
        bytes: 4 << 20,
        wall_ns: 1_000_000,
        ops_per_sec,
        mib_per_sec: ops_per_sec / 256.0,
        p50_ns,
        p99_ns: p50_ns * 10,
    }
}

/// A case measured with one repetition.
fn single(ops_per_sec: f64, p50_ns: u64, counts: Option<(u64, u64)>) -> Measured {
    Measured::from_reps(
        vec![rep(ops_per_sec, p50_ns)],
        counts.map(CacheCounts::from),
    )
}

#[test]
fn passes_combine_into_one_case() {
    let parts = vec![
        single(100.0, 10, Some((9, 1))),
        single(300.0, 30, Some((0, 90))),
        single(200.0, 20, None),
    ];
    let m = Measured::combine(parts);
    // Every repetition, in pass order; medians over all of them.
    let ops: Vec<f64> = m.reps.iter().map(|r| r.ops_per_sec).collect();
    assert_eq!(ops, [100.0, 300.0, 200.0]);
    assert_eq!((m.ops_per_sec, m.p50_ns, m.p99_ns), (200.0, 20, 200));
    assert_eq!(m.spread_pct, 100.0);
    // 9 hits in 100 lookups, not the mean of 90% and 0%.
    assert_eq!(
        m.cache_counts,
        Some(CacheCounts {
            hits: 9,
            misses: 91
        })
    );
    assert_eq!(m.hit_ratio, Some(0.09));
    // The same as measuring the three repetitions in one go.
    let whole = Measured::from_reps(
        vec![rep(100.0, 10), rep(300.0, 30), rep(200.0, 20)],
        Some(CacheCounts {
            hits: 9,
            misses: 91,
        }),
    );
    assert_eq!(m, whole);

    let uncached = Measured::combine(vec![single(5.0, 1, None), single(7.0, 1, None)]);
    assert_eq!((uncached.cache_counts, uncached.hit_ratio), (None, None));
    let no_lookups = Measured::combine(vec![single(5.0, 1, Some((0, 0)))]);
    assert_eq!(no_lookups.cache_counts, Some(CacheCounts::default()));
    assert_eq!(no_lookups.hit_ratio, None, "no lookups: no ratio");
}

#[test]
fn drive_counts_the_cache_during_the_repetitions_only() {
    // Every round makes 3 hits and 1 miss; the warm-up's must not count.
    let counters = Cell::new((100u64, 50u64));
    let rounds = Cell::new(0);
    let round = |_: Budget| {
        let (h, m) = counters.get();
        counters.set((h + 3, m + 1));
        rounds.set(rounds.get() + 1);
        Ok(RoundOut {
            ops: 10,
            bytes: 10 << 12,
            wall: Duration::from_millis(1),
            latencies: vec![1_000; 10],
        })
    };
    let schedule = Schedule {
        reps: 2,
        rep_time: Duration::from_millis(1),
        warmup_time: Duration::from_millis(1),
        cold_round: None,
    };
    let bar = indicatif::ProgressBar::hidden();
    let m = drive(schedule, &bar, round, || Ok(()), || Some(counters.get())).unwrap();
    assert_eq!(rounds.get(), 3, "a warm-up round and two repetitions");
    assert_eq!(m.reps.len(), 2);
    assert_eq!(m.cache_counts, Some(CacheCounts { hits: 6, misses: 2 }));
    assert_eq!(m.hit_ratio, Some(0.75));

    let uncached = drive(schedule, &bar, round, || Ok(()), || None).unwrap();
    assert_eq!((uncached.cache_counts, uncached.hit_ratio), (None, None));
}

// ---- write workloads ---------------------------------------------------------------

#[test]
fn write_ids_name_the_tasks_only_when_there_are_several() {
    let write = |sync, size, tasks| {
        cases::Workload::new(Access::Write { sync }, Temperature::Warm, size, tasks)
    };
    let one = write(false, 4 << 10, 1);
    assert_eq!(
        (one.id.as_str(), one.title.as_str()),
        ("write4k", "4 KiB random writes")
    );
    let synced = write(true, 64 << 10, 1);
    assert_eq!(synced.id, "write64k-sync");
    assert_eq!(
        synced.title,
        "64 KiB random writes, each followed by sync_data"
    );
    let eight = write(false, 64 << 10, 8);
    assert_eq!(eight.id, "write64k-t8");
    assert_eq!(eight.title, "64 KiB random writes, 8 in flight");
    let both = write(true, 1 << 20, 4);
    assert_eq!(both.id, "write1m-sync-t4");
    assert_eq!(
        both.title,
        "1 MiB random writes, each followed by sync_data, 4 in flight"
    );
    // Reads keep their ids.
    let read = cases::Workload::new(Access::Random, Temperature::Cold, 4 << 10, 1);
    assert_eq!(read.id, "rand4k-cold-t1");
}

#[test]
fn eight_writes_in_flight_follow_the_64k_writes() {
    let ids =
        |preset| -> Vec<String> { cases::workloads(preset).into_iter().map(|w| w.id).collect() };
    for preset in [Preset::Quick, Preset::Default, Preset::Full] {
        let list = ids(preset);
        let mut unique = list.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), list.len(), "{preset:?}: ids are distinct");
        let at = |id: &str| list.iter().position(|w| w == id);
        match preset {
            Preset::Quick => assert_eq!(at("write64k-t8"), None, "--quick stays short"),
            _ => {
                let t8 = at("write64k-t8").expect("default and full have it");
                assert_eq!(at("write64k-sync"), Some(t8 - 1), "{preset:?}: {list:?}");
            }
        }
    }
    let t8 = cases::workloads(Preset::Default)
        .into_iter()
        .find(|w| w.id == "write64k-t8")
        .unwrap();
    assert_eq!(
        (t8.access, t8.temperature, t8.op_size, t8.tasks),
        (
            Access::Write { sync: false },
            Temperature::Warm,
            64 << 10,
            8
        )
    );
    let full = ids(Preset::Full);
    let t8 = full.iter().position(|w| w == "write64k-t8").unwrap();
    assert_eq!(full[t8 + 1], "write1m");
}

// ---- io_uring against the pool backend --------------------------------------------

#[test]
fn uring_pairs_name_real_subjects() {
    let subjects = cases::subjects();
    let names: Vec<&str> = subjects.iter().map(|s| s.name).collect();
    for pair in &URING_PAIRS {
        assert!(names.contains(&pair.pool), "{}", pair.pool);
        assert_ne!(pair.uring, pair.pool);
    }
    // Every io_uring subject that runs has its pair.
    for name in names.iter().filter(|n| n.contains("io_uring")) {
        assert!(URING_PAIRS.iter().any(|p| p.uring == *name), "{name}");
    }
}

/// A fileio result of `subject` with cache `cache`, measured (`ops > 0`) or failed.
fn result(subject: &str, cache: CacheSetting, ops: f64, p50_ns: u64) -> CaseResult {
    let measured = (ops > 0.0).then(|| single(ops, p50_ns, None));
    CaseResult {
        subject: subject.to_string(),
        runtime: "test".into(),
        fileio: true,
        reference: false,
        cache: cache.name().into(),
        error: measured.is_none().then(|| "injected failure".to_string()),
        measured,
        ratio: None,
    }
}

fn baseline_result(ops: f64) -> CaseResult {
    CaseResult {
        fileio: false,
        ..result("std", CacheSetting::None, ops, 5)
    }
}

fn section(id: &str, results: Vec<CaseResult>) -> WorkloadReport {
    let mut w = cases::Workload::new(Access::Random, Temperature::Cold, 4 << 10, 1);
    w.id = id.to_string();
    WorkloadReport::new(&w, results)
}

fn machine() -> Machine {
    Machine {
        cpu: "test cpu".into(),
        cores: 2,
        memory_bytes: 1 << 30,
        os: "Linux".into(),
        kernel: "6.0".into(),
        arch: "x86_64".into(),
        fs_type: "ext4".into(),
        rustc: "rustc".into(),
        profile: "release".into(),
        commit: "abc".into(),
    }
}

fn synthetic_report(workloads: Vec<WorkloadReport>) -> Report {
    let plan = Plan::new(&Args::default()).unwrap();
    Report::new(&plan, machine(), workloads, Duration::from_secs(1))
}

#[test]
fn uring_rows_compare_uncached_pairs_of_one_runtime() {
    use CacheSetting::{Off, On};
    let workloads = vec![
        // Both tokio subjects, cache off and on; smol's pool alone.
        section(
            "a",
            vec![
                baseline_result(50.0),
                result(cases::TOKIO_POOL, Off, 100.0, 40),
                result(cases::TOKIO_POOL, On, 1000.0, 4),
                result(cases::SMOL_POOL, Off, 90.0, 45),
                result(cases::TOKIO_URING, Off, 150.0, 30),
                result(cases::TOKIO_URING, On, 9000.0, 3),
            ],
        ),
        // smol's pair; tokio's io_uring failed.
        section(
            "b",
            vec![
                result(cases::TOKIO_POOL, Off, 100.0, 40),
                result(cases::SMOL_POOL, Off, 200.0, 20),
                result(cases::TOKIO_URING, Off, 0.0, 0),
                result(cases::SMOL_URING, Off, 50.0, 80),
            ],
        ),
        // io_uring with the cache on only: nothing to compare.
        section(
            "c",
            vec![
                result(cases::TOKIO_POOL, On, 100.0, 40),
                result(cases::TOKIO_URING, On, 150.0, 30),
            ],
        ),
    ];
    let rows = report::uring_vs_pool(&workloads);
    let keys: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.workload.as_str(), r.runtime.as_str()))
        .collect();
    assert_eq!(keys, [("a", "tokio"), ("b", "smol")]);
    assert_eq!(
        rows[0],
        UringVsPool {
            workload: "a".into(),
            runtime: "tokio".into(),
            uring_ops_per_sec: 150.0,
            pool_ops_per_sec: 100.0,
            ratio: 1.5,
            uring_p50_ns: 30,
            uring_p99_ns: 300,
            pool_p50_ns: 40,
            pool_p99_ns: 400,
        }
    );
    assert_eq!(rows[1].ratio, 0.25);

    let report = synthetic_report(workloads);
    assert_eq!(report.schema, 4);
    assert_eq!(report.uring_vs_pool, rows);

    // The terminal and Markdown tables show the formatted ratios.
    let table = report::uring_terminal_table(&report.uring_vs_pool);
    assert!(
        table.contains("io_uring against the pool backend"),
        "{table}"
    );
    let row_a = table
        .lines()
        .find(|l| l.trim_start().starts_with("a "))
        .unwrap();
    assert!(
        row_a.contains("tokio") && row_a.contains("1.50x"),
        "{row_a}"
    );
    assert!(row_a.contains("30 ns / 300 ns") && row_a.contains("40 ns / 400 ns"));
    let md = report::markdown(&report);
    let section_at = md.find("## io_uring against the pool backend").unwrap();
    assert!(md.find("## Summary").unwrap() < section_at);
    assert!(section_at < md.find("## `a`").unwrap());
    assert!(md.contains("| b | smol | 50 | 200 | 0.25x | 80 ns / 800 ns | 20 ns / 200 ns |"));
    assert!(md.contains("interleaved across implementations, in rotating order"));

    // report.json carries the rows.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["schema"], 4);
    assert_eq!(json["uring_vs_pool"][0]["ratio"], 1.5);
    assert_eq!(json["uring_vs_pool"][1]["runtime"], "smol");
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn no_uring_rows_means_no_uring_section() {
    let report = synthetic_report(vec![section(
        "a",
        vec![
            baseline_result(50.0),
            result(cases::TOKIO_POOL, CacheSetting::Off, 100.0, 40),
        ],
    )]);
    assert!(report.uring_vs_pool.is_empty());
    assert_eq!(report::uring_terminal_table(&report.uring_vs_pool), "");
    let md = report::markdown(&report);
    assert!(!md.contains("io_uring against"), "{md}");
}

/// Writes with several tasks run with every subject, interleaved like every write.
#[test]
fn writes_in_flight_run_with_every_subject() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().display().to_string();
    let a = args(&[
        "--size",
        "1M",
        "--reps",
        "2",
        "--rep-ms",
        "5",
        "--no-progress",
        "--filter",
        "write64k-t8/",
        "--dir",
        &dir_arg,
    ])
    .unwrap();
    let plan = Plan::new(&a).unwrap();
    let report = execute(&plan).unwrap();
    assert_eq!(report.workloads.len(), 1);
    let w = &report.workloads[0];
    assert_eq!(w.id, "write64k-t8");
    let subjects = cases::subjects();
    for s in subjects
        .iter()
        .filter(|s| s.shape == Shape::Handle && s.family != cases::Family::Reference)
    {
        assert!(
            w.results.iter().any(|r| r.subject == s.name),
            "{} ran",
            s.name
        );
    }
    for r in &w.results {
        let m = r
            .measured
            .as_ref()
            .unwrap_or_else(|| panic!("{}: {:?}", r.label(), r.error));
        assert_eq!(m.reps.len(), 2, "{}: one repetition per pass", r.label());
        assert!(
            m.reps.iter().all(|rep| rep.ops >= 8),
            "{}: every task wrote",
            r.label()
        );
    }
}

// ---- small files -------------------------------------------------------------------

#[test]
fn small_file_workloads_follow_the_warm_reads_in_every_preset() {
    for preset in [Preset::Quick, Preset::Default, Preset::Full] {
        let list = cases::workloads(preset);
        let at = |id: &str| {
            list.iter()
                .position(|w| w.id == id)
                .unwrap_or_else(|| panic!("{preset:?}: {id}"))
        };
        let zipf = at("zipf4k-t64");
        assert_eq!(at("small4k-read-t1"), zipf + 1);
        assert_eq!(at("small4k-read-t64"), zipf + 2);
        assert_eq!(at("small4k-open-read-drop-t1"), zipf + 3);
        assert!(list[zipf + 4].is_write(), "{preset:?}: writes follow");
        for w in &list[zipf + 1..zipf + 4] {
            assert!(w.is_small() && !w.is_disk_bound(), "{}", w.id);
            assert_eq!((w.temperature, w.op_size), (Temperature::Warm, 4 << 10));
        }
    }
    let read = cases::Workload::new(Access::SmallRead, Temperature::Warm, 4 << 10, 64);
    assert_eq!(read.id, "small4k-read-t64");
    assert_eq!(read.shape(), Shape::WholeFile);
    assert!(
        read.title.contains("256 warm 4 KiB files, 64 tasks"),
        "{}",
        read.title
    );
    let open = cases::Workload::new(Access::SmallOpen, Temperature::Warm, 4 << 10, 1);
    assert_eq!(open.id, "small4k-open-read-drop-t1");
    assert_eq!(open.shape(), Shape::OpenReadDrop);
    assert!(
        open.title.ends_with("4 KiB files, 1 task"),
        "{}",
        open.title
    );
    // A dedicated cache for open+read+drop, room for every file, filled by the warm-up;
    // the fs helpers use the process-wide cache.
    let plan = cases::cache_plan(&open, 1 << 20, 1 << 20).unwrap();
    assert!(plan.capacity >= 256 * 4096 && !plan.prefill);
    assert_eq!(cases::cache_plan(&read, 1 << 20, 1 << 20), None);
}

#[test]
fn small_file_subjects_run_only_their_workloads() {
    let subjects = cases::subjects();
    let names = |shape: Shape, family: Family| -> Vec<&str> {
        subjects
            .iter()
            .filter(|s| s.shape == shape && s.family == family)
            .map(|s| s.name)
            .collect()
    };
    use cases::Family;
    assert_eq!(
        names(Shape::WholeFile, Family::Baseline),
        ["std::fs::read", "tokio::fs::read", "async_fs::read"]
    );
    assert_eq!(
        names(Shape::WholeFile, Family::Fileio),
        [
            "fileio_core::fs::read",
            "fileio_tokio::fs::read",
            "fileio_smol::fs::read"
        ]
    );
    assert_eq!(
        names(Shape::OpenReadDrop, Family::Baseline),
        ["std open+read_to_end", "tokio::fs::read"]
    );
    assert_eq!(
        names(Shape::OpenReadDrop, Family::Fileio),
        [
            "fileio_core::File",
            "fileio_tokio::File",
            "fileio_smol::File"
        ]
    );
    let read = cases::Workload::new(Access::SmallRead, Temperature::Warm, 4 << 10, 1);
    let open = cases::Workload::new(Access::SmallOpen, Temperature::Warm, 4 << 10, 1);
    let rand = cases::Workload::new(Access::Random, Temperature::Warm, 4 << 10, 1);
    let stream = cases::Workload::new(Access::StreamWrite, Temperature::Warm, 4 << 10, 1);
    let sync = Access::Write { sync: true };
    let sync1 = cases::Workload::new(sync, Temperature::Warm, 4 << 10, 1);
    let sync64 = cases::Workload::new(sync, Temperature::Warm, 4 << 10, 64);
    let zipf = cases::Workload::new(Access::Zipf, Temperature::Warm, 4 << 10, 64);
    for s in &subjects {
        let settings = |w: &cases::Workload| s.cache_settings(w);
        match s.shape {
            Shape::Handle if s.family == Family::Reference => {
                // Only where it is a reference: synced writes with several tasks, or
                // Zipf reads.
                assert!(settings(&rand).is_empty() && settings(&read).is_empty());
                assert!(settings(&sync1).is_empty(), "{}", s.name);
                let (runs, skips) = match s.name {
                    cases::SYNC_BATCH => (&sync64, &zipf),
                    cases::STD_SHARED | cases::STRICT_CEILING => (&zipf, &sync64),
                    other => panic!("a reference with no workload: {other}"),
                };
                assert_eq!(settings(runs), [CacheSetting::None], "{}", s.name);
                assert!(settings(skips).is_empty(), "{}", s.name);
            }
            Shape::Handle => {
                assert!(settings(&read).is_empty() && settings(&open).is_empty());
                assert!(!settings(&rand).is_empty());
            }
            Shape::WholeFile => {
                assert!(settings(&rand).is_empty() && settings(&open).is_empty());
                // fs::read has no cache switch: fileio's helpers run with it on.
                let want = if s.family == Family::Fileio {
                    vec![CacheSetting::On]
                } else {
                    vec![CacheSetting::None]
                };
                assert_eq!(settings(&read), want, "{}", s.name);
            }
            Shape::OpenReadDrop => {
                assert!(settings(&rand).is_empty() && settings(&read).is_empty());
                assert!(!settings(&open).is_empty());
            }
            Shape::Stream => {
                assert!(settings(&rand).is_empty() && settings(&read).is_empty());
                assert!(!settings(&stream).is_empty());
            }
        }
    }
    // Every target names a subject and a baseline of its workloads' shape.
    for t in &TARGETS {
        let w = cases::workloads(Preset::Quick)
            .into_iter()
            .find(|w| w.id.starts_with(t.workload))
            .unwrap();
        let baseline = match t.baseline {
            cases::Base::Subject(name) => name,
            // Against itself with the cache off: a subject that has one.
            cases::Base::CacheOff => {
                assert!(
                    subjects.iter().any(|s| s.name == t.subject
                        && s.cache_settings(&w).contains(&CacheSetting::Off)),
                    "{}",
                    t.name
                );
                t.subject
            }
        };
        for name in [t.subject, baseline] {
            assert!(
                subjects
                    .iter()
                    .any(|s| s.name == name && s.shape == w.shape()),
                "{}: {name}",
                t.name
            );
        }
        // A reference is a reference subject that runs on the target's workload, over
        // a subject of it that is no fileio.
        if let Some(r) = t.reference {
            assert!(
                subjects.iter().any(|s| s.name == r.subject
                    && s.family == Family::Reference
                    && !s.cache_settings(&w).is_empty()),
                "{}: {}",
                t.name,
                r.subject
            );
            assert!(
                subjects.iter().any(|s| s.name == r.over
                    && s.family != Family::Fileio
                    && !s.cache_settings(&w).is_empty()),
                "{}: {}",
                t.name,
                r.over
            );
        }
        // A baseline taken from another workload names one of the preset's.
        if let Some(id) = t.baseline_workload {
            assert!(
                cases::workloads(Preset::Quick).iter().any(|w| w.id == id),
                "{}: {id}",
                t.name
            );
        }
    }
}

#[test]
fn targets_compare_their_subject_with_their_baseline() {
    use CacheSetting::{Off, On};
    let base = |name: &str, ops: f64| CaseResult {
        subject: name.to_string(),
        ..baseline_result(ops)
    };
    let workloads = vec![
        section(
            "small4k-read-t1",
            vec![
                base("std::fs::read", 500.0),
                base(cases::TOKIO_FS_READ, 20.0),
                result(cases::FILEIO_TOKIO_FS_READ, On, 120.0, 3),
            ],
        ),
        // No baseline measured: no row.
        section(
            "small4k-read-t64",
            vec![result(cases::FILEIO_TOKIO_FS_READ, On, 120.0, 3)],
        ),
        section(
            "small4k-open-read-drop-t1",
            vec![
                base(cases::TOKIO_FS_READ, 10.0),
                result(cases::FILEIO_TOKIO_OPEN, Off, 20.0, 4),
                result(cases::FILEIO_TOKIO_OPEN, On, 40.0, 2),
                // Failed: no row.
                result(cases::FILEIO_TOKIO_OPEN, On, 0.0, 0),
            ],
        ),
        // Not a workload a target names.
        section(
            "rand4k-warm-t1",
            vec![
                base(cases::TOKIO_FS_READ, 10.0),
                result(cases::FILEIO_TOKIO_FS_READ, On, 100.0, 1),
            ],
        ),
    ];
    let rows = report::targets(&workloads, &TARGETS);
    let got: Vec<(&str, &str, f64, bool)> = rows
        .iter()
        .map(|r| (r.workload.as_str(), r.cache.as_str(), r.ratio, r.met))
        .collect();
    assert_eq!(
        got,
        [
            ("small4k-read-t1", "on", 6.0, true),
            ("small4k-open-read-drop-t1", "off", 2.0, false),
            ("small4k-open-read-drop-t1", "on", 4.0, true),
        ]
    );
    assert_eq!(
        rows[0],
        TargetRow {
            target: "fileio_tokio::fs::read / tokio::fs::read".into(),
            workload: "small4k-read-t1".into(),
            cache: "on".into(),
            ops_per_sec: 120.0,
            baseline_ops_per_sec: 20.0,
            ratio: 6.0,
            goal: 5.0,
            met: true,
            reference_ratio: None,
            p50_ns: 3,
            p99_ns: 30,
            baseline_p50_ns: 5,
            baseline_p99_ns: 50,
        }
    );
    let report = synthetic_report(workloads);
    assert_eq!(report.targets, rows);
    let table = report::targets_terminal_table(&report.targets);
    assert!(table.contains("6.00x (goal 5.00x: met)"), "{table}");
    assert!(table.contains("2.00x (goal 3.00x: NOT met)"), "{table}");
    let md = report::markdown(&report);
    assert!(md.contains("## Targets"));
    assert!(md.contains(
        "| fileio-tokio open+read+drop / tokio::fs::read | small4k-open-read-drop-t1 | on | 40 | 10 | 4.00x (goal 3.00x: met) |"
    ), "{md}");
    let back: Report = serde_json::from_value(serde_json::to_value(&report).unwrap()).unwrap();
    assert_eq!(back, report);
    // No rows, no section.
    assert_eq!(report::targets_terminal_table(&[]), "");
    assert!(!report::markdown(&synthetic_report(Vec::new())).contains("## Targets"));
}

#[test]
fn a_reference_stands_beside_the_goal_and_is_never_the_best_baseline() {
    use CacheSetting::{Off, On};
    let named = |name: &str, ops: f64, reference: bool| CaseResult {
        subject: name.to_string(),
        reference,
        ..baseline_result(ops)
    };
    let w = section(
        "write4k-sync-t64",
        vec![
            named(cases::SPAWN_BLOCKING, 10.0, false),
            named(cases::STD, 8.0, false),
            // Faster than every baseline, yet not one.
            named(cases::SYNC_BATCH, 25.0, true),
            result(cases::TOKIO_POOL, Off, 20.0, 4),
            result(cases::TOKIO_POOL, On, 15.0, 4),
        ],
    );
    assert_eq!(w.best_baseline.as_deref(), Some(cases::SPAWN_BLOCKING));
    let rows = report::targets(std::slice::from_ref(&w), &TARGETS);
    let got: Vec<(&str, f64, Option<f64>)> = rows
        .iter()
        .map(|r| (r.cache.as_str(), r.ratio, r.reference_ratio))
        .collect();
    assert_eq!(got, [("off", 2.0, Some(2.5)), ("on", 1.5, Some(2.5))]);
    let table = report::targets_terminal_table(&rows);
    assert!(
        table.contains("2.00x (goal 3.00x: NOT met; this machine's reference: 2.50x)"),
        "{table}"
    );
    // Without the reference measured (filtered out), the goal stands alone.
    let w = section(
        "write4k-sync-t64",
        vec![
            named(cases::SPAWN_BLOCKING, 10.0, false),
            result(cases::TOKIO_POOL, Off, 20.0, 4),
        ],
    );
    let rows = report::targets(&[w], &TARGETS);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].reference_ratio, None);
}

#[test]
fn a_cache_target_sets_cache_on_against_off_beside_the_strict_ceiling() {
    use CacheSetting::{Off, On};
    let reference = |name: &str, ops: f64| CaseResult {
        subject: name.to_string(),
        reference: true,
        ..baseline_result(ops)
    };
    let w = section(
        "zipf4k-t64",
        vec![
            baseline_result(16.0),
            reference(cases::STD_SHARED, 10.0),
            reference(cases::STRICT_CEILING, 11.5),
            result(cases::FILEIO_FILE, Off, 20.0, 4),
            result(cases::FILEIO_FILE, On, 22.0, 4),
            result(cases::TOKIO_POOL, Off, 40.0, 4),
            result(cases::TOKIO_POOL, On, 50.0, 4),
        ],
    );
    // The references are no baselines.
    assert_eq!(w.best_baseline.as_deref(), Some(cases::STD));
    let rows = report::targets(std::slice::from_ref(&w), &TARGETS);
    let got: Vec<(&str, &str, f64, bool, Option<f64>)> = rows
        .iter()
        .map(|r| {
            let reference = r.reference_ratio.map(|x| (x * 100.0).round() / 100.0);
            (
                r.target.as_str(),
                r.cache.as_str(),
                r.ratio,
                r.met,
                reference,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "fileio_core::File, Zipf reads: cache on / off",
                "on",
                1.1,
                false,
                Some(1.15)
            ),
            (
                "fileio-tokio pool, Zipf reads: cache on / off",
                "on",
                1.25,
                true,
                Some(1.15)
            ),
        ]
    );
    let table = report::targets_terminal_table(&rows);
    assert!(
        table.contains("1.10x (goal 1.20x: NOT met; this machine's reference: 1.15x)"),
        "{table}"
    );
    // No cache-off result, no row; no reference measured, no reference ratio.
    let w = section(
        "zipf4k-t64",
        vec![
            baseline_result(10.0),
            result(cases::FILEIO_FILE, On, 22.0, 4),
            result(cases::TOKIO_POOL, Off, 40.0, 4),
            result(cases::TOKIO_POOL, On, 50.0, 4),
        ],
    );
    let rows = report::targets(&[w], &TARGETS);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].ratio, rows[0].reference_ratio), (1.25, None));
}

#[test]
fn cache_on_over_off_is_shown_for_every_workload() {
    use CacheSetting::{Off, On};
    let workloads = vec![
        section(
            "zipf4k-t64",
            vec![
                baseline_result(10.0),
                result("fileio_core::File", Off, 20.0, 4),
                result("fileio_core::File", On, 30.0, 2),
                result(cases::TOKIO_POOL, Off, 40.0, 4),
                result(cases::TOKIO_POOL, On, 36.0, 2),
                // Only one setting measured: no ratio.
                result(cases::SMOL_POOL, Off, 40.0, 4),
                result(cases::SMOL_POOL, On, 0.0, 0),
            ],
        ),
        section(
            "rand4k-cold-t1",
            vec![
                baseline_result(10.0),
                result("fileio_core::File", Off, 9.0, 4),
            ],
        ),
    ];
    assert_eq!(
        workloads[0].on_off_ratios(),
        [("fileio_core::File", 1.5), (cases::TOKIO_POOL, 0.9)]
    );
    assert!(workloads[1].on_off_ratios().is_empty());
    let table = report::terminal_table(&workloads[0]);
    assert!(
        table.contains("cache on / off: 1.50x fileio_core::File, 0.90x fileio-tokio pool"),
        "{table}"
    );
    assert!(!report::terminal_table(&workloads[1]).contains("cache on / off"));
    let report = synthetic_report(workloads);
    let summary = report::summary_markdown(&report);
    assert!(summary.contains("| cache on / off |"), "{summary}");
    assert!(
        summary.contains("| 0.90x fileio-tokio pool .. 1.50x fileio_core::File |"),
        "{summary}"
    );
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("| rand4k-cold-t1 |") && l.ends_with("| - |")),
        "{summary}"
    );
    let svg = report::svg(&report);
    assert!(svg.contains("(on/off 1.50x)"), "{svg}");
    assert!(svg.contains("(on/off 0.90x)"), "{svg}");
}

#[test]
fn only_reads_that_hit_fill_the_cache_first() {
    let plan = |access: Access, temperature: Temperature, size: usize| {
        cases::cache_plan(
            &cases::Workload::new(access, temperature, size, 1),
            256 << 20,
            64 << 20,
        )
    };
    // Random reads measure hits: the whole file is cached first.
    assert!(
        plan(Access::Random, Temperature::Warm, 4 << 10)
            .unwrap()
            .prefill
    );
    // 1 MiB reads bypass the cache: nothing to fill, and nothing resident beside them.
    let seq = plan(Access::Sequential, Temperature::Warm, 1 << 20).unwrap();
    assert!(!seq.prefill && seq.capacity >= 256 << 20);
    // Cold reads have no cache at all.
    assert_eq!(plan(Access::Random, Temperature::Cold, 4 << 10), None);
}

#[test]
fn a_zipf_cache_that_only_the_warm_up_fills_warms_up_longer() {
    let plan = Plan::new(&Args::parse(&[]).unwrap()).unwrap();
    let zipf = cases::Workload::new(Access::Zipf, Temperature::Warm, 4 << 10, 64);
    let rand = cases::Workload::new(Access::Random, Temperature::Warm, 4 << 10, 64);
    let at = |w: &cases::Workload, cache: CacheSetting| {
        let c = (cache == CacheSetting::On)
            .then(|| cases::cache_plan(w, plan.file_size, plan.write_size))
            .flatten();
        subjects::warmup_time(&plan, w, c)
    };
    assert_eq!(at(&zipf, CacheSetting::On), plan.rep_time * 4);
    assert!(plan.rep_time * 4 > plan.warmup_time);
    // Cache off, or a cache filled before the case: the plan's warm-up.
    assert_eq!(at(&zipf, CacheSetting::Off), plan.warmup_time);
    assert_eq!(at(&rand, CacheSetting::On), plan.warmup_time);
}

/// A case measured in passes with these ops/s, one repetition each, in pass order.
fn passes(subject: &str, cache: CacheSetting, ops: &[f64]) -> CaseResult {
    let parts = ops.iter().map(|&o| single(o, 4, None));
    CaseResult {
        measured: Some(Measured::combine(parts)),
        ..result(subject, cache, 1.0, 4)
    }
}

/// Where cases ran in passes, the cache on / off line gives the range of the ratio
/// pass by pass, pairing each pass's repetitions (not the sorted ones); a workload run
/// one case at a time has no passes to pair.
#[test]
fn cache_on_over_off_shows_its_range_pass_by_pass() {
    use CacheSetting::{Off, On};
    let results = || {
        vec![
            baseline_result(10.0),
            passes("fileio_core::File", Off, &[10.0, 20.0, 40.0]),
            passes("fileio_core::File", On, &[12.0, 18.0, 20.0]),
            // One pass only: no range.
            passes(cases::TOKIO_POOL, Off, &[10.0]),
            passes(cases::TOKIO_POOL, On, &[11.0]),
        ]
    };
    let interleaved = section("write4k", results());
    assert!(interleaved.interleaved);
    // Medians 18 / 20; pass by pass 1.2, 0.9 and 0.5.
    let line =
        "cache on / off: 0.90x fileio_core::File (passes 0.50x-1.20x), 1.10x fileio-tokio pool";
    let table = report::terminal_table(&interleaved);
    assert!(table.contains(line), "{table}");
    let mut w = cases::Workload::new(Access::Random, Temperature::Warm, 4 << 10, 1);
    w.id = "rand4k-t1".into();
    assert!(!w.runs_in_passes());
    let one_at_a_time = WorkloadReport::new(&w, results());
    let table = report::terminal_table(&one_at_a_time);
    assert!(
        table.contains("cache on / off: 0.90x fileio_core::File, 1.10x fileio-tokio pool"),
        "{table}"
    );
    let md = report::markdown(&synthetic_report(vec![interleaved, one_at_a_time]));
    assert!(
        md.contains("Cache on / off: 0.90x fileio_core::File (passes 0.50x-1.20x)"),
        "{md}"
    );
}
