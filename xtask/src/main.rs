//! Project automation for fileio, in the cargo-xtask style.
//!
//! `cargo xtask <task>` is an alias (see `.cargo/config.toml`) for running this binary.
//! Each task lives in its own module; this file only dispatches.

#![forbid(unsafe_code)]

#[cfg(unix)]
mod bench;
mod ci;
mod fuzz;
mod s3;
mod stress;
mod tidy;
mod util;

use std::process::ExitCode;

/// The usage text; the `ci` entry lists [`ci::STEPS`], the steps `ci` runs, in order.
fn usage() -> String {
    let mut text = String::from(
        "\
usage: cargo xtask <task> [options]

tasks:
  ci [STEP...]  the whole CI, which runs these steps in this order and stops at the first
                failure (name steps to run only those):
",
    );
    for step in ci::STEPS {
        text.push_str(&format!(
            "                {:<10} {}\n",
            step.name, step.about
        ));
    }
    text.push_str(
        "  tidy          the repository checks alone (the first step of `ci`)
  bench         the side-by-side benchmark and its report (`cargo xtask bench --help`)
  fuzz          one cargo-fuzz target for a while (`cargo xtask fuzz --help`; nightly)
  stress        thousands of concurrent tasks checking invariants (`cargo xtask stress --secs N`)
  help          this text
",
    );
    text
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let result = match task.as_deref() {
        Some("ci") => ci::run(&rest),
        Some("bench") => bench(&rest, false),
        Some("bench-run") => bench(&rest, true),
        Some("fuzz") => fuzz::run(&rest),
        Some("tidy") => tidy::run(&rest),
        Some(t @ ("stress" | "stress-run")) => stress::run(&rest, t == "stress-run"),
        Some("help" | "-h" | "--help") | None => {
            print!("{}", usage());
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{}", usage())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `bench` (checks the arguments, then measures with a release build) or the hidden
/// `bench-run` (measures in this process).
#[cfg(unix)]
fn bench(args: &[String], in_process: bool) -> Result<(), String> {
    if in_process {
        bench::run_hidden(args)
    } else {
        bench::run(args)
    }
}

#[cfg(not(unix))]
fn bench(_args: &[String], _in_process: bool) -> Result<(), String> {
    Err("`cargo xtask bench` measures Unix system calls (pread, posix_fadvise) and runs on Unix only".into())
}
