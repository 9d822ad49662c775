//! Descriptors a local file's stamps are taken through, one per CPU (Linux).
//!
//! Every `fstat` looks the descriptor up and takes a reference on the open file
//! description behind it (the kernel's `fdget_raw`, then `fput`): an atomic add and
//! subtract on one line of kernel memory. When the threads of a process share one
//! handle, as fileio's clones do, that line moves between the cores on every stamp, and
//! under `Coherence::Strict` every cache hit takes one. On the 2-core VM of the README's
//! figures, 64 threads stamping one shared descriptor spent 17% of their time in those
//! two functions, and a hit (an `fstat` and handing out a cached block) cost 242 ns
//! against 194 ns when each CPU stamped a description of its own.
//!
//! So a [`StdBackend`](crate::StdBackend) whose stamps are asked for often gets one
//! extra description per CPU: the file reopened through `/proc/self/fd` with `O_PATH`
//! (no read or write access, no permission needed beyond reaching the file, and the
//! same inode whatever happened to its path since), checked to be the same file (device
//! and inode), and closed with the backend. A stamp reads the same inode's attributes
//! through whichever description it uses, so the answer is the one the shared
//! descriptor would give.
//!
//! Limits, so that short-lived handles and processes near their descriptor limit pay
//! nothing:
//! - A backend opens none before it has taken [`OPEN_AFTER`] stamps.
//! - The process holds at most [`budget`] of them (a sixteenth of its soft
//!   `RLIMIT_NOFILE`, at most 4,096); past it, and wherever reopening fails (no
//!   `/proc`, a seccomp filter, a sandbox), stamps use the shared descriptor as before.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use fileio_cache::FileKey;
use rustix::fs::{Mode, OFlags};

/// Stamps a backend takes through its shared descriptor before it opens one per CPU.
pub(crate) const OPEN_AFTER: u32 = 64;

/// Slots (CPUs told apart) of a backend: CPU `n` stamps through slot `n % SLOTS`, so
/// CPUs share a description only on machines with more of them (a slot is 8 bytes, and
/// a description is opened only for a CPU that stamps).
const SLOTS: usize = 128;

/// Descriptors open for stamps in the process, across backends.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// Most descriptors open for stamps in the process.
fn budget() -> usize {
    static BUDGET: OnceLock<usize> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(u64::MAX);
        usize::try_from(soft / 16).unwrap_or(usize::MAX).min(4096)
    })
}

/// A backend's per-CPU stamp descriptors (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct CpuStamps {
    /// Stamps taken through the shared descriptor, counted up to [`OPEN_AFTER`] (plain
    /// loads and stores: a count lost to a race only delays the switch).
    asked: AtomicU32,
    /// One per CPU once [`OPEN_AFTER`] stamps were taken: the CPU's description, or
    /// `None` where it could not be had (the shared descriptor serves that CPU).
    slots: OnceLock<Box<[OnceLock<Option<OwnedFd>>]>>,
}

impl CpuStamps {
    /// The descriptor to take a stamp of `file` (whose cache key is `key`) through on
    /// the calling thread's CPU.
    #[inline]
    pub(crate) fn descriptor<'a>(&'a self, file: &'a File, key: FileKey) -> BorrowedFd<'a> {
        let slots = match self.slots.get() {
            Some(slots) => slots,
            None => {
                let asked = self.asked.load(Ordering::Relaxed);
                if asked < OPEN_AFTER {
                    self.asked.store(asked + 1, Ordering::Relaxed);
                    return file.as_fd();
                }
                self.slots
                    .get_or_init(|| (0..SLOTS).map(|_| OnceLock::new()).collect())
            }
        };
        let slot = &slots[rustix::thread::sched_getcpu() % SLOTS];
        match slot.get_or_init(|| reopen(file, key)) {
            Some(fd) => fd.as_fd(),
            None => file.as_fd(),
        }
    }

    /// How many per-CPU descriptors are open.
    pub(crate) fn open(&self) -> usize {
        self.slots.get().map_or(0, |slots| {
            slots
                .iter()
                .filter(|s| matches!(s.get(), Some(Some(_))))
                .count()
        })
    }
}

impl Drop for CpuStamps {
    fn drop(&mut self) {
        let open = self.open();
        if open > 0 {
            OPEN.fetch_sub(open, Ordering::Relaxed);
        }
    }
}

/// A description of its own for `file`: `/proc/self/fd/N` opened with `O_PATH`, if the
/// [`budget`] allows and it is the same file (its device and inode give `key`).
fn reopen(file: &File, key: FileKey) -> Option<OwnedFd> {
    reopen_within(file, key, budget())
}

/// [`reopen`], with at most `budget` descriptors open for stamps in the process.
fn reopen_within(file: &File, key: FileKey, budget: usize) -> Option<OwnedFd> {
    if OPEN.fetch_add(1, Ordering::Relaxed) >= budget {
        OPEN.fetch_sub(1, Ordering::Relaxed);
        return None;
    }
    let path = format!("/proc/self/fd/{}", file.as_raw_fd());
    let fd = rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
        .ok()
        .filter(|fd| crate::backend::fd_key(fd).is_ok_and(|k| k == key));
    if fd.is_none() {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
    fd
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Descriptors open for stamps in the process.
    fn open_in_process() -> usize {
        OPEN.load(Ordering::Relaxed)
    }

    fn key_of(file: &File) -> FileKey {
        crate::backend::fd_key(file).unwrap()
    }

    /// What a stamp reads: length, change times, inode.
    fn attributes(fd: BorrowedFd<'_>) -> (i64, i64, i64, i64, i64, u64) {
        let st = rustix::fs::fstat(fd).unwrap();
        (
            st.st_size as i64,
            st.st_mtime as i64,
            st.st_mtime_nsec as i64,
            st.st_ctime as i64,
            st.st_ctime_nsec as i64,
            st.st_ino as u64,
        )
    }

    /// A backend stamps through its shared descriptor until it has taken
    /// `OPEN_AFTER` stamps, then through a description of its own on this CPU, which
    /// reads what the shared one does, follows the file's changes and survives the
    /// file's unlinking.
    #[test]
    fn stamps_move_to_a_description_per_cpu_that_sees_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"abc").unwrap();
        let key = key_of(&file);
        let stamps = CpuStamps::default();
        let shared = file.as_raw_fd();
        for _ in 0..OPEN_AFTER {
            assert_eq!(stamps.descriptor(&file, key).as_raw_fd(), shared);
        }
        assert_eq!(stamps.open(), 0);
        let own = stamps.descriptor(&file, key);
        assert_ne!(own.as_raw_fd(), shared);
        assert_eq!(stamps.open(), 1);
        assert_eq!(attributes(own), attributes(file.as_fd()));
        file.write_all(b"defg").unwrap();
        std::fs::remove_file(&path).unwrap();
        let own = stamps.descriptor(&file, key);
        assert_eq!(attributes(own), attributes(file.as_fd()));
        assert_eq!(attributes(own).0, 7);
    }

    /// A description that turns out to be another file is refused (the shared
    /// descriptor keeps serving); the same file's is taken.
    #[test]
    fn a_reopened_description_of_another_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("f")).unwrap();
        let other = File::create(dir.path().join("g")).unwrap();
        assert!(reopen(&file, key_of(&other)).is_none());
        let fd = reopen(&file, key_of(&file)).expect("/proc/self/fd is there on Linux");
        OPEN.fetch_sub(1, Ordering::Relaxed);
        assert!(key_of(&File::from(fd)) == key_of(&file));
        // Past the budget, none is opened.
        assert!(reopen_within(&file, key_of(&file), 0).is_none());
    }

    /// `Strict` hits on a handle that stamps through its own descriptions still see a
    /// change made outside the process's handles, and the next read returns it.
    #[test]
    fn strict_hits_through_descriptions_per_cpu_see_outside_changes() {
        use crate::{Clock, Coherence, File as FileioFile, RangeCache, Stream};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![1u8; 8192]).unwrap();
        let clock = Clock::manual();
        clock.pass_racy_window();
        let cache = RangeCache::builder().block_size(4096).build().unwrap();
        let file = FileioFile::options()
            .mode("rb")
            .coherence(Coherence::Strict)
            .cache(cache.clone())
            .clock(clock.clone())
            .open(&path)
            .unwrap();
        for _ in 0..2 * OPEN_AFTER {
            assert_eq!(&file.read_at(0, 4096).unwrap()[..], &[1u8; 4096][..]);
        }
        assert!(cache.stats().hits > u64::from(OPEN_AFTER));
        assert!(
            open_in_process() > 0,
            "the stamps moved to a description of their own"
        );
        // The same length, other bytes, and a modification time of its own.
        let outside = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&outside, &[2u8; 4096], 0).unwrap();
        outside.set_modified(clock.now()).unwrap();
        clock.pass_racy_window();
        assert_eq!(&file.read_at(0, 4096).unwrap()[..], &[2u8; 4096][..]);
    }
}
