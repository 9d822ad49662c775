//! The machine: what it is (recorded in the report), and the few system calls the
//! harness needs (page-cache eviction, data file generation).

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::path::Path;
use std::process::Command;

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use super::measure::Rng;

/// Facts about the machine and the build, recorded with every report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    /// Threads the process may run in parallel.
    pub(crate) cores: usize,
    pub(crate) memory_bytes: u64,
    /// `uname -s`.
    pub(crate) os: String,
    /// `uname -r`.
    pub(crate) kernel: String,
    /// `uname -m`.
    pub(crate) arch: String,
    /// File system of the data directory (`ext4`, `xfs`, `tmpfs`...).
    pub(crate) fs_type: String,
    pub(crate) rustc: String,
    /// `release` when measured by an optimized build (always, through `cargo xtask bench`).
    pub(crate) profile: String,
    /// `git describe --always --dirty` of the workspace, when available.
    pub(crate) commit: String,
}

impl Machine {
    /// Looks at this machine; `dir` is where the data files go. Never fails: what cannot
    /// be found is `unknown`.
    pub(crate) fn detect(dir: &Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let uname = rustix::system::uname();
        let text = |s: &std::ffi::CStr| s.to_string_lossy().into_owned();
        Machine {
            cpu: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
            cores: cores(),
            memory_bytes: mem_total(&meminfo).unwrap_or(0),
            os: text(uname.sysname()),
            kernel: text(uname.release()),
            arch: text(uname.machine()),
            fs_type: fs_type(dir),
            rustc: command_line("rustc", &["--version"]),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
            commit: command_line("git", &["describe", "--always", "--dirty"]),
        }
    }
}

/// Threads the process may run in parallel (at least 1).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The first `model name` (x86) or `Hardware`/`CPU part` line of `/proc/cpuinfo`.
pub(crate) fn cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Hardware", "cpu model", "CPU part"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        })
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
pub(crate) fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(crate::util::workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn fs_type(dir: &Path) -> String {
    let Ok(st) = rustix::fs::statfs(dir) else {
        return "unknown".into();
    };
    // Magic numbers from linux/magic.h.
    #[allow(clippy::unnecessary_cast)]
    let magic = st.f_type as i64 as u32;
    match magic {
        0xEF53 => "ext4".into(),
        0x5846_5342 => "xfs".into(),
        0x9123_683E => "btrfs".into(),
        0x0102_1994 => "tmpfs".into(),
        0x794C_7630 => "overlayfs".into(),
        0x2FC1_2FC1 => "zfs".into(),
        0xF2F5_2010 => "f2fs".into(),
        0x6969 => "nfs".into(),
        0x6573_5546 => "fuse".into(),
        0x0102_1997 => "9p".into(),
        other => format!("unknown (0x{other:x})"),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn fs_type(_dir: &Path) -> String {
    "unknown".into()
}

/// Drops `path`'s pages from the page cache: `posix_fadvise(POSIX_FADV_DONTNEED)` over
/// the whole file. Dirty pages are not dropped, so data files are synced when written.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) fn evict(path: &Path) -> io::Result<()> {
    let f = File::open(path)?;
    rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::DontNeed)?;
    Ok(())
}

/// Without `posix_fadvise` there is no portable way to drop a file's pages.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) fn evict(_path: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "cold cases need posix_fadvise (Linux, FreeBSD)",
    ))
}

/// `fsync`s `path`.
pub(crate) fn sync(path: &Path) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .sync_all()
}

/// Reads `path` from start to end, so that its pages are in the page cache.
pub(crate) fn read_through(path: &Path) -> io::Result<()> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    while f.read(&mut buf)? > 0 {}
    Ok(())
}

/// Writes a file of `len` bytes of random data in large writes (8 MiB), then syncs it,
/// advancing `bar` by the bytes written.
pub(crate) fn generate(path: &Path, len: u64, bar: &ProgressBar) -> io::Result<()> {
    const CHUNK: usize = 8 << 20;
    let mut rng = Rng::new(len);
    let mut block = vec![0u8; CHUNK];
    rng.fill(&mut block);
    let mut f = File::create(path)?;
    let mut written = 0u64;
    let mut index = 0u64;
    while written < len {
        // A different first word per chunk, so that no two chunks are equal.
        block[..8].copy_from_slice(&index.to_le_bytes());
        let n = CHUNK.min((len - written) as usize);
        f.write_all(&block[..n])?;
        written += n as u64;
        index += 1;
        bar.inc(n as u64);
    }
    f.sync_all()
}
