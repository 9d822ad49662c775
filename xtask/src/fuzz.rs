//! `cargo xtask fuzz <target> [--time N]`: runs one cargo-fuzz target of `fuzz/`.
//!
//! The fuzz project (`fuzz/`, its own workspace) needs a nightly toolchain and
//! `cargo-fuzz`. Each target starts from its checked-in seeds (`fuzz/corpus/<target>/`,
//! never written to) and grows a working corpus under the fuzz target directory
//! (`fuzz/target/corpus/<target>/`, or under `$FILEIO_FUZZ_TARGET_DIR`). A crash stops
//! the run with a non-zero status and leaves the input in `fuzz/artifacts/<target>/`;
//! reproduce it with `cargo +nightly fuzz run <target> <file>` in `fuzz/`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::util::{run_step, workspace_root};

/// The fuzz targets, in the order CI runs them.
pub(crate) const TARGETS: [&str; 3] = ["mode_parser", "text_decoder", "op_sequence"];

const USAGE: &str = "\
usage: cargo xtask fuzz <target> [--time N]

  <target>   one of: mode_parser, text_decoder, op_sequence
  --time N   seconds to fuzz (default 60)

Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
";

/// Runs `cargo xtask fuzz` with its arguments.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut target = None;
    let mut secs = 60u64;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--time" => {
                let value = it.next().ok_or("--time needs a value")?;
                secs = value
                    .parse()
                    .map_err(|_| format!("--time: not a number of seconds: `{value}`"))?;
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            name if target.is_none() && !name.starts_with('-') => target = Some(name.to_string()),
            other => return Err(format!("fuzz: unexpected argument `{other}`\n\n{USAGE}")),
        }
    }
    let target = target.ok_or_else(|| format!("fuzz: which target?\n\n{USAGE}"))?;
    if !TARGETS.contains(&target.as_str()) {
        return Err(format!("fuzz: unknown target `{target}`\n\n{USAGE}"));
    }
    match tools() {
        Tools::Ready => fuzz_target(&target, secs),
        Tools::NoNightly => Err(
            "fuzz: the nightly toolchain is missing (`rustup toolchain install nightly`)".into(),
        ),
        Tools::NoCargoFuzz => {
            Err("fuzz: cargo-fuzz is missing (`cargo install cargo-fuzz --locked`)".into())
        }
    }
}

/// What the machine has for fuzzing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tools {
    /// Nightly and cargo-fuzz are there.
    Ready,
    /// No nightly toolchain.
    NoNightly,
    /// Nightly, but no cargo-fuzz.
    NoCargoFuzz,
}

/// Checks for a nightly toolchain and cargo-fuzz.
pub(crate) fn tools() -> Tools {
    let works = |args: &[&str]| {
        nightly_cargo()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !works(&["--version"]) {
        Tools::NoNightly
    } else if !works(&["fuzz", "--version"]) {
        Tools::NoCargoFuzz
    } else {
        Tools::Ready
    }
}

/// `cargo +nightly`, through rustup's proxy, free of the calling cargo's toolchain.
fn nightly_cargo() -> Command {
    let mut cmd = Command::new("cargo");
    // `$CARGO` and `$RUSTUP_TOOLCHAIN` name the toolchain that runs xtask (stable);
    // cargo-fuzz must build with nightly.
    cmd.env_remove("CARGO")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .arg("+nightly");
    cmd
}

/// Where the fuzz project builds: `$FILEIO_FUZZ_TARGET_DIR` or `fuzz/target`.
fn target_dir() -> PathBuf {
    std::env::var_os("FILEIO_FUZZ_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("fuzz").join("target"))
}

/// Fuzzes `target` for `secs` seconds from its seeds; fails on a crash.
pub(crate) fn fuzz_target(target: &str, secs: u64) -> Result<(), String> {
    let fuzz_dir = workspace_root().join("fuzz");
    let seeds = fuzz_dir.join("corpus").join(target);
    let target_dir = target_dir();
    let work = target_dir.join("corpus").join(target);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let mut cmd = nightly_cargo();
    cmd.current_dir(&fuzz_dir)
        .args(["fuzz", "run", "--target-dir"])
        .arg(&target_dir)
        .arg(target)
        // New inputs go to the first directory; the checked-in seeds stay untouched.
        .arg(&work)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .args(["-print_final_stats=1", "-rss_limit_mb=2048"]);
    run_step(&format!("fuzz {target} ({secs} s)"), &mut cmd).map_err(|e| {
        format!(
            "{e}: the crashing input is in {}",
            fuzz_dir.join("artifacts").join(target).display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_seeds_and_a_source() {
        let fuzz = workspace_root().join("fuzz");
        for target in TARGETS {
            let seeds = std::fs::read_dir(fuzz.join("corpus").join(target))
                .map(|d| d.count())
                .unwrap_or(0);
            assert!(seeds > 0, "{target} has no seed corpus");
            let source = fuzz.join("fuzz_targets").join(format!("{target}.rs"));
            assert!(source.is_file(), "{} is missing", source.display());
        }
    }

    #[test]
    fn arguments_are_checked() {
        assert!(run(&[]).is_err());
        assert!(run(&["nope".to_string()]).is_err());
        assert!(run(&["mode_parser".to_string(), "--time".to_string()]).is_err());
        assert!(
            run(&[
                "mode_parser".to_string(),
                "--time".to_string(),
                "x".to_string()
            ])
            .is_err()
        );
        assert!(run(&["--help".to_string()]).is_ok());
    }
}
