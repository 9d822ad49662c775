//! `cargo xtask ci`: the entire CI, in the order that reports cheap failures first.
//!
//! [`STEPS`] is the one list of what CI runs: `ci` runs it in order and `cargo xtask help`
//! prints it, so the two cannot drift. The test runner goes last so that its summary
//! closes the output.

use crate::fuzz::{self, Tools};
use crate::util::{cargo, run_step};

/// How long CI runs the stress test.
const STRESS_SECS: u64 = 3;
/// How long CI runs each fuzz target, starting from its checked-in seeds.
const FUZZ_SECS: u64 = 10;

/// One step of CI.
pub(crate) struct Step {
    /// What `cargo xtask ci <name>` calls it.
    pub(crate) name: &'static str,
    /// One line for the usage text.
    pub(crate) about: &'static str,
    run: fn() -> Result<(), String>,
}

/// Every step of CI, in the order `ci` runs them.
pub(crate) const STEPS: &[Step] = &[
    Step {
        name: "tidy",
        about: "markdown links, private notes, the codemap, rust-version, [lints]",
        run: crate::tidy::check,
    },
    Step {
        name: "rustfmt",
        about: "`cargo fmt --check`",
        run: rustfmt,
    },
    Step {
        name: "clippy",
        about: "every target, every feature, warnings denied",
        run: clippy,
    },
    Step {
        name: "features",
        about: "each crate's lib: no default features, then each feature alone (clippy)",
        run: feature_builds,
    },
    Step {
        name: "doc-tests",
        about: "the doc tests",
        run: doc_tests,
    },
    Step {
        name: "rustdoc",
        about: "rustdoc, warnings denied: with private items, then as published",
        run: rustdoc,
    },
    Step {
        name: "stress",
        about: "a short `cargo xtask stress` run (release build)",
        run: stress,
    },
    Step {
        name: "fuzz",
        about: "each fuzz target briefly (skipped without nightly/cargo-fuzz)",
        run: fuzz_briefly,
    },
    Step {
        name: "nextest",
        about: "every test (cargo nextest, all features; starts moto for the S3 tests)",
        run: nextest,
    },
];

/// Runs every step, or the steps named in `args` (in CI's order); stops at the first
/// failure.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(unknown) = args
        .iter()
        .find(|a| !STEPS.iter().any(|s| s.name == a.as_str()))
    {
        let names: Vec<_> = STEPS.iter().map(|s| s.name).collect();
        return Err(format!(
            "`ci`: no step `{unknown}` (the steps: {})",
            names.join(", ")
        ));
    }
    for step in STEPS {
        if args.is_empty() || args.iter().any(|a| a == step.name) {
            (step.run)()?;
        }
    }
    Ok(())
}

fn rustfmt() -> Result<(), String> {
    run_step("rustfmt", cargo().args(["fmt", "--all", "--check"]))
}

fn clippy() -> Result<(), String> {
    run_step(
        "clippy",
        cargo()
            .args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--locked",
            ])
            .args(["--", "-D", "warnings"]),
    )
}

/// For each workspace crate that has features: its library (or binaries) with default
/// features off, then with each feature alone. Clippy rather than `cargo check`: the
/// same check build, and it denies warnings (an import used only under one feature, say)
/// without changing `RUSTFLAGS`, which would rebuild every dependency.
fn feature_builds() -> Result<(), String> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .output()
        .map_err(|e| format!("features: could not run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "features: cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("features: cargo metadata printed no JSON: {e}"))?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let mut any = false;
    for package in &packages {
        let name = package["name"].as_str().unwrap_or_default();
        let features: Vec<&str> = package["features"]
            .as_object()
            .map(|f| {
                f.keys()
                    .map(String::as_str)
                    .filter(|f| *f != "default")
                    .collect()
            })
            .unwrap_or_default();
        if features.is_empty() {
            continue;
        }
        any = true;
        let has_lib = package["targets"].as_array().is_some_and(|targets| {
            targets.iter().any(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "lib"))
            })
        });
        let target = if has_lib { "--lib" } else { "--bins" };
        let mut combos = vec![None];
        combos.extend(features.iter().map(Some));
        for feature in combos {
            let mut cmd = cargo();
            cmd.args(["clippy", "--locked", "--no-deps", "-p", name, target])
                .arg("--no-default-features");
            if let Some(feature) = feature {
                cmd.args(["--features", feature]);
            }
            cmd.args(["--", "-D", "warnings"]);
            let label = match feature {
                Some(f) => format!("features: {name} with only `{f}`"),
                None => format!("features: {name} without default features"),
            };
            run_step(&label, &mut cmd)?;
        }
    }
    if !any {
        eprintln!("\n==> features: no workspace crate has features");
    }
    Ok(())
}

fn doc_tests() -> Result<(), String> {
    run_step(
        "doc tests",
        cargo().args(["test", "--workspace", "--all-features", "--locked", "--doc"]),
    )
}

/// Rustdoc twice. With private items, every doc comment is rendered, so a broken
/// intra-doc link anywhere fails (`rustdoc::private_intra_doc_links` cannot fire there:
/// private items have pages). Then the public docs, as published, where a public item
/// that links to a private one fails.
fn rustdoc() -> Result<(), String> {
    let doc = || {
        let mut cmd = cargo();
        cmd.args([
            "doc",
            "--workspace",
            "--all-features",
            "--no-deps",
            "--locked",
        ])
        .env("RUSTDOCFLAGS", "-D warnings");
        cmd
    };
    run_step(
        "rustdoc (private items)",
        doc().arg("--document-private-items"),
    )?;
    run_step("rustdoc", &mut doc())
}

/// A short stress run (release build): invariants and the memory bound under load.
fn stress() -> Result<(), String> {
    crate::stress::run(&["--secs".into(), STRESS_SECS.to_string()], false)
}

/// Runs each fuzz target for [`FUZZ_SECS`]; skips (saying why) without nightly or
/// cargo-fuzz, which `.ci/run` installs on CI machines.
fn fuzz_briefly() -> Result<(), String> {
    match fuzz::tools() {
        Tools::Ready => {}
        Tools::NoNightly => {
            eprintln!(
                "\n==> fuzz: SKIPPED: no nightly toolchain (`rustup toolchain install nightly`)"
            );
            return Ok(());
        }
        Tools::NoCargoFuzz => {
            eprintln!(
                "\n==> fuzz: SKIPPED: cargo-fuzz is not installed (`cargo install cargo-fuzz --locked`; .ci/run does it)"
            );
            return Ok(());
        }
    }
    for target in fuzz::TARGETS {
        fuzz::fuzz_target(target, FUZZ_SECS)?;
    }
    Ok(())
}

/// Every test, with an S3-compatible server running for the object storage tests
/// (stopped when the step ends, whatever its outcome).
fn nextest() -> Result<(), String> {
    let server = crate::s3::start()?;
    let mut cmd = cargo();
    cmd.args([
        "nextest",
        "run",
        "--workspace",
        "--all-features",
        "--locked",
    ])
    .args(["--no-fail-fast", "--profile", "ci"]);
    if let Some(server) = &server {
        cmd.env(crate::s3::ENDPOINT_VAR, &server.endpoint);
    }
    let result = run_step("tests (nextest)", &mut cmd);
    drop(server);
    result
}
