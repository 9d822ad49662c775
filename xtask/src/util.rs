//! Small helpers shared by the tasks.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root (the parent of this crate's manifest directory).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// A `cargo` command run from the workspace root, honouring `$CARGO`.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root());
    cmd
}

/// Runs `cmd`, echoing it first; an error names the step that failed.
pub(crate) fn run_step(name: &str, cmd: &mut Command) -> Result<(), String> {
    eprintln!("\n==> {name}: {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("{name}: could not start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}
