//! `cargo xtask ci`: the entire CI, in the order that reports cheap failures first.
//!
//! The test runner goes last so that its summary closes the output.

use crate::util::{cargo, run_step};

/// Runs every check; stops at the first failure.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`ci` takes no arguments (got `{arg}`)"));
    }
    run_step("rustfmt", cargo().args(["fmt", "--all", "--check"]))?;
    run_step(
        "clippy",
        cargo()
            .args(["clippy", "--workspace", "--all-targets", "--all-features", "--locked"])
            .args(["--", "-D", "warnings"]),
    )?;
    run_step(
        "doc tests",
        cargo().args(["test", "--workspace", "--all-features", "--locked", "--doc"]),
    )?;
    run_step(
        "rustdoc",
        cargo()
            .args(["doc", "--workspace", "--all-features", "--no-deps", "--locked"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    run_step(
        "tests (nextest)",
        cargo()
            .args(["nextest", "run", "--workspace", "--all-features", "--locked"])
            .args(["--no-fail-fast", "--profile", "ci"]),
    )?;
    Ok(())
}
