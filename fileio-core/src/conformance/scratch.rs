//! Scratch spaces for harnesses: [`ScratchDir`], a temporary directory for disk
//! backends, and [`MemFiles`], named in-memory files with a file system's open rules.

use std::collections::HashMap;
use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::backend::MemBackend;
use crate::clock::Clock;
use crate::error::{Error, Op, Result};
use crate::mode::OpenMode;

/// A fresh directory under [`std::env::temp_dir`], removed (with its content) on drop:
/// the scratch space of a disk harness, with the harness's manual [`Clock`].
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
    clock: Clock,
}

impl ScratchDir {
    /// Creates a new, empty directory with a unique name.
    ///
    /// # Errors
    ///
    /// When the directory cannot be created.
    pub fn new() -> io::Result<ScratchDir> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "fileio-conformance-{}-{nanos}-{n}",
                std::process::id()
            ));
            match fs::create_dir(&path) {
                Ok(()) => {
                    return Ok(ScratchDir {
                        path,
                        clock: Clock::manual(),
                    });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory's manual clock, for the harness to open files with
    /// ([`Harness::clock`](super::Harness::clock)) and to stamp outside writes.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The path of the file `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Replaces the content of `name` with `std::fs::write` (same inode if it exists),
    /// then sets its modification time to the [`clock`](ScratchDir::clock)'s
    /// [`now`](Clock::now): once the clock has been advanced, a change in the same
    /// kernel timestamp tick as fileio's last one would otherwise look unchanged.
    ///
    /// # Panics
    ///
    /// When the write fails.
    pub fn outside_write(&self, name: &str, data: &[u8]) {
        let path = self.join(name);
        let written = fs::write(&path, data).and_then(|()| {
            fs::File::options()
                .write(true)
                .open(&path)?
                .set_modified(self.clock.now())
        });
        if let Err(e) = written {
            panic!("outside write of {}: {e}", path.display());
        }
    }

    /// The content of `name`, read with `std::fs::read`.
    ///
    /// # Panics
    ///
    /// When the read fails (a missing file, say).
    pub fn outside_read(&self, name: &str) -> Vec<u8> {
        let path = self.join(name);
        fs::read(&path).unwrap_or_else(|e| panic!("outside read of {}: {e}", path.display()))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Named in-memory files with the open rules of a file system: the scratch space of
/// an in-memory harness.
///
/// Its [`clock`](MemFiles::clock) is the harness's manual clock; outside writes need
/// no timestamps, as a [`MemBackend`]'s stamp is a version counter that
/// [`MemBackend::replace`] bumps.
#[derive(Debug)]
pub struct MemFiles {
    files: Mutex<HashMap<String, MemBackend>>,
    clock: Clock,
}

impl Default for MemFiles {
    fn default() -> MemFiles {
        MemFiles {
            files: Mutex::default(),
            clock: Clock::manual(),
        }
    }
}

impl MemFiles {
    /// No files.
    pub fn new() -> MemFiles {
        MemFiles::default()
    }

    /// The manual clock, for the harness to open files with
    /// ([`Harness::clock`](super::Harness::clock)).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn files(&self) -> std::sync::MutexGuard<'_, HashMap<String, MemBackend>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The backend of `name` opened with `mode`'s rules: creates it for `"w"`, `"a"`,
    /// `"x"`; truncates it for `"w"`. Two opens of one name share the content.
    ///
    /// # Errors
    ///
    /// - [`Error::Mode`] for an invalid mode.
    /// - [`Error::Io`] with kind `NotFound` when the file is missing and the mode does
    ///   not create it, `AlreadyExists` for `"x"` on an existing file.
    pub fn open(&self, name: &str, mode: &str) -> Result<MemBackend> {
        self.open_mode(name, OpenMode::parse(mode)?)
    }

    /// [`MemFiles::open`] with a parsed mode (say, from [`OpenSpec::open_mode`](super::OpenSpec::open_mode)).
    ///
    /// # Errors
    ///
    /// As [`MemFiles::open`], but for the mode string.
    pub fn open_mode(&self, name: &str, mode: OpenMode) -> Result<MemBackend> {
        let mut files = self.files();
        let fail = |kind: ErrorKind, what: &str| {
            Err(Error::io(
                Op::Open,
                name,
                io::Error::new(kind, what.to_owned()),
            ))
        };
        match files.get(name) {
            Some(_) if mode.exclusive() => fail(ErrorKind::AlreadyExists, "file exists"),
            Some(backend) => {
                if mode.truncating() {
                    backend.replace(Vec::new());
                }
                Ok(backend.clone())
            }
            None if mode.creating() => {
                let backend = MemBackend::new();
                files.insert(name.to_owned(), backend.clone());
                Ok(backend)
            }
            None => fail(ErrorKind::NotFound, "no such file"),
        }
    }

    /// Replaces the content of `name` (creating it) with [`MemBackend::replace`].
    pub fn outside_write(&self, name: &str, data: &[u8]) {
        self.files()
            .entry(name.to_owned())
            .or_default()
            .replace(data.to_vec());
    }

    /// The content of `name`.
    ///
    /// # Panics
    ///
    /// When there is no file `name`.
    pub fn outside_read(&self, name: &str) -> Vec<u8> {
        match self.files().get(name) {
            Some(backend) => backend.contents(),
            None => panic!("outside read of {name:?}: no such file"),
        }
    }
}
