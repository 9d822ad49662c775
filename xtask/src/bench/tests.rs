//! Tests of the harness itself: argument parsing, the statistics, the samplers, the
//! report files, and one tiny end-to-end run of every case.

use super::measure::{Rep, Rng, RoundOut, Zipf, median, percentile, scatter, spread_pct};
use super::report::{self, Report};
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
    for w in &report.workloads {
        let failed: Vec<_> = w.results.iter().filter_map(|r| r.error.as_ref()).collect();
        assert!(failed.is_empty(), "{}: {failed:?}", w.id);
        assert!(
            w.results.len() >= subjects.len(),
            "{}: every subject ran",
            w.id
        );
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
    let svg = std::fs::read_to_string(out.join("ratios.svg")).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(rects(&svg), fileio_bars(&report));
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
}
