//! The std-style builder flags against `std::fs::OpenOptions` itself: for every
//! combination of the six flags, on an existing and on a missing file, fileio's open
//! succeeds exactly when std's does, fails with the same `ErrorKind`, leaves the same
//! content, and reads and writes (at the cursor, or appending) as std's file does.

use std::io::{ErrorKind, Read as _, Write as _};
use std::path::Path;

use fileio_core::{AsyncFile, AsyncStream, File, Stream};

const BEFORE: &[u8] = b"existing content";

#[derive(Clone, Copy, Debug)]
struct Flags([bool; 6]);

impl Flags {
    fn all() -> impl Iterator<Item = Flags> {
        (0..64u8).map(|bits| Flags(std::array::from_fn(|i| bits & (1 << i) != 0)))
    }
    fn std(self) -> std::fs::OpenOptions {
        let [read, write, append, truncate, create, create_new] = self.0;
        let mut o = std::fs::OpenOptions::new();
        o.read(read)
            .write(write)
            .append(append)
            .truncate(truncate)
            .create(create)
            .create_new(create_new);
        o
    }
}

/// What an open did: the error kind, or (read worked, write worked, content after).
type Outcome = Result<(bool, bool, Vec<u8>), ErrorKind>;

fn setup(dir: &Path, name: &str, exists: bool) -> std::path::PathBuf {
    let path = dir.join(name);
    if exists {
        std::fs::write(&path, BEFORE).unwrap();
    }
    path
}

fn content(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|_| b"<missing>".to_vec())
}

fn with_std(path: &Path, flags: Flags) -> Outcome {
    let mut file = flags.std().open(path).map_err(|e| e.kind())?;
    let read = file.read(&mut [0u8; 1]).is_ok();
    // Back to 0, as fileio's cursor is: the read moved std's position.
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).unwrap();
    let wrote = file.write_all(b"XY").is_ok();
    drop(file);
    Ok((read, wrote, content(path)))
}

fn with_file(path: &Path, flags: Flags) -> Outcome {
    let mut options = File::options();
    fileio_core::__set_std_flags!(options, Some(flags.0));
    let mut file = options.open(path).map_err(|e| e.kind())?;
    let read = file.read_at(0, 1).is_ok();
    let wrote = Stream::write(&mut file, b"XY").is_ok();
    file.close().unwrap();
    Ok((read, wrote, content(path)))
}

fn with_async_file(path: &Path, flags: Flags) -> Outcome {
    futures::executor::block_on(async {
        let mut options = AsyncFile::options();
        fileio_core::__set_std_flags!(options, Some(flags.0));
        let mut file = options.open(path).await.map_err(|e| e.kind())?;
        let read = file.read_at(0, 1).await.is_ok();
        let wrote = AsyncStream::write(&mut file, b"XY").await.is_ok();
        file.close().await.unwrap();
        Ok((read, wrote, content(path)))
    })
}

#[test]
fn flags_match_std_open_options() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for flags in Flags::all() {
        for exists in [true, false] {
            let tag = format!("{:?}-{exists}", flags.0).replace([' ', '[', ']', ','], "");
            let expected = with_std(&setup(dir.path(), &format!("std{tag}"), exists), flags);
            for (name, open) in [
                ("File", with_file as fn(&Path, Flags) -> Outcome),
                ("AsyncFile", with_async_file),
            ] {
                let got = open(&setup(dir.path(), &format!("{name}{tag}"), exists), flags);
                assert_eq!(
                    got, expected,
                    "{name}: flags {flags:?} (read, write, append, truncate, create, create_new), file exists: {exists}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 128);
}

#[test]
fn flags_give_the_python_mode_that_means_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let (t, f) = (true, false);
    // [read, write, append, truncate, create, create_new] on a missing file.
    for (flags, mode) in [
        ([f, t, f, t, t, f], "wb"),
        ([t, t, f, t, t, f], "wb+"),
        ([f, f, t, f, t, f], "ab"),
        ([f, t, t, f, t, f], "ab"),
        ([t, f, t, f, t, f], "ab+"),
        ([f, t, f, f, f, t], "xb"),
        ([t, t, f, t, t, t], "xb+"),
        ([f, t, f, f, t, f], "write|create"),
    ] {
        let _ = std::fs::remove_file(&path);
        let mut options = File::options();
        fileio_core::__set_std_flags!(options, Some(flags));
        let file = options.open(&path).unwrap();
        assert_eq!(file.mode().to_string(), mode, "{flags:?}");
    }
    std::fs::write(&path, b"x").unwrap();
    let mut options = File::options();
    assert_eq!(
        options.read(true).open(&path).unwrap().mode().to_string(),
        "rb"
    );
    assert_eq!(
        options.write(true).open(&path).unwrap().mode().to_string(),
        "rb+"
    );
    // mode() replaces the flags, and a flag replaces the mode.
    assert_eq!(
        options.mode("a").open(&path).unwrap().mode().to_string(),
        "a"
    );
    let err = File::options().truncate(true).open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}
