//! `cargo xtask ci`: the entire CI, in the order that reports cheap failures first.
//!
//! The test runner goes last so that its summary closes the output.

use crate::fuzz::{self, Tools};
use crate::util::{cargo, run_step};

/// How long CI runs the stress test.
const STRESS_SECS: u64 = 3;
/// How long CI runs each fuzz target, starting from its checked-in seeds.
const FUZZ_SECS: u64 = 10;

/// Runs every check; stops at the first failure.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`ci` takes no arguments (got `{arg}`)"));
    }
    run_step("rustfmt", cargo().args(["fmt", "--all", "--check"]))?;
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
    )?;
    run_step(
        "doc tests",
        cargo().args(["test", "--workspace", "--all-features", "--locked", "--doc"]),
    )?;
    run_step(
        "rustdoc",
        cargo()
            .args([
                "doc",
                "--workspace",
                "--all-features",
                "--no-deps",
                "--locked",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    // A short stress run (release build): invariants and the memory bound under load.
    crate::stress::run(&["--secs".into(), STRESS_SECS.to_string()], false)?;
    fuzz_briefly()?;
    run_step(
        "tests (nextest)",
        cargo()
            .args([
                "nextest",
                "run",
                "--workspace",
                "--all-features",
                "--locked",
            ])
            .args(["--no-fail-fast", "--profile", "ci"]),
    )?;
    Ok(())
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
