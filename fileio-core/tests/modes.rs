//! `OpenMode` against CPython 3.11's `open()`: every mode string of length 0 to 4 over
//! `rwax+btU` (and some extras), from `tests/data/cpython_modes.tsv`, which
//! `tests/data/gen_modes.py` generates by running the real interpreter.

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};

use fileio_core::{ModeError, OpenMode};
use proptest::prelude::*;

const TABLE: &str = include_str!("data/cpython_modes.tsv");

/// One row of the table.
#[derive(Debug)]
struct Row {
    mode: String,
    outcome: Result<Expected, String>,
}

/// What CPython observed for a valid mode.
#[derive(Debug)]
struct Expected {
    readable: bool,
    writable: bool,
    appending: bool,
    truncating: bool,
    creating: bool,
    exclusive: bool,
    binary: bool,
    plus: bool,
    canonical: String,
    raw_mode: String,
    fd_flags: i32,
}

/// Undoes Python's `unicode_escape` codec (the subset it produces).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| {
            let digits: String = chars.take(n).collect();
            char::from_u32(u32::from_str_radix(&digits, 16).expect("hex escape"))
                .expect("scalar value")
        };
        match chars.next().expect("escape") {
            '\\' => out.push('\\'),
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'x' => out.push(hex(&mut chars, 2)),
            'u' => out.push(hex(&mut chars, 4)),
            'U' => out.push(hex(&mut chars, 8)),
            other => panic!("unknown escape \\{other}"),
        }
    }
    out
}

fn rows() -> Vec<Row> {
    let mut lines = TABLE.lines().filter(|l| !l.starts_with('#'));
    let header = lines.next().expect("header");
    assert_eq!(
        header,
        "mode\tresult\treadable\twritable\tappending\ttruncating\tcreating\texclusive\t\
         binary\tplus\tcanonical\traw_mode\tfd_flags\tmessage"
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 14, "bad row {line:?}");
            let flag = |i: usize| match f[i] {
                "1" => true,
                "0" => false,
                other => panic!("bad flag {other:?} in {line:?}"),
            };
            let outcome = match f[1] {
                "ok" => Ok(Expected {
                    readable: flag(2),
                    writable: flag(3),
                    appending: flag(4),
                    truncating: flag(5),
                    creating: flag(6),
                    exclusive: flag(7),
                    binary: flag(8),
                    plus: flag(9),
                    canonical: f[10].to_owned(),
                    raw_mode: f[11].to_owned(),
                    fd_flags: i32::from_str_radix(f[12], 8).expect("octal flags"),
                }),
                "error" => Err(unescape(f[13])),
                other => panic!("bad result {other:?}"),
            };
            Row {
                mode: unescape(f[0]),
                outcome,
            }
        })
        .collect()
}

fn valid_rows() -> Vec<(OpenMode, Expected)> {
    rows()
        .into_iter()
        .filter_map(|row| {
            let mode = row.mode;
            row.outcome
                .ok()
                .map(|e| (OpenMode::parse(&mode).expect("valid mode"), e))
        })
        .collect()
}

/// The `.mode` CPython's `FileIO` reports (`mode_string()` in `Modules/_io/fileio.c`).
fn fileio_mode_string(m: &OpenMode) -> &'static str {
    match (m.exclusive(), m.appending(), m.readable(), m.writable()) {
        (true, _, true, _) => "xb+",
        (true, _, false, _) => "xb",
        (false, true, true, _) => "ab+",
        (false, true, false, _) => "ab",
        (false, false, true, true) => "rb+",
        (false, false, true, false) => "rb",
        (false, false, false, _) => "wb",
    }
}

#[test]
fn table_matches_cpython() {
    let rows = rows();
    // 1 + 8 + 64 + 512 + 4096 strings over the alphabet, plus the extras.
    assert!(rows.len() >= 4681, "only {} rows", rows.len());
    let (mut ok, mut err) = (0, 0);
    for row in &rows {
        let parsed = OpenMode::parse(&row.mode);
        assert_eq!(
            parsed,
            row.mode.parse::<OpenMode>(),
            "FromStr {:?}",
            row.mode
        );
        match (&row.outcome, parsed) {
            (Ok(e), Ok(m)) => {
                ok += 1;
                let ctx = format!("mode {:?}", row.mode);
                assert_eq!(m.readable(), e.readable, "readable, {ctx}");
                assert_eq!(m.writable(), e.writable, "writable, {ctx}");
                assert_eq!(m.appending(), e.appending, "appending, {ctx}");
                assert_eq!(m.truncating(), e.truncating, "truncating, {ctx}");
                assert_eq!(m.creating(), e.creating, "creating, {ctx}");
                assert_eq!(m.exclusive(), e.exclusive, "exclusive, {ctx}");
                assert_eq!(m.binary(), e.binary, "binary, {ctx}");
                assert_eq!(m.plus(), e.plus, "plus, {ctx}");
                assert_eq!(m.to_string(), e.canonical, "Display, {ctx}");
                assert_eq!(fileio_mode_string(&m), e.raw_mode, "raw mode, {ctx}");
                assert_eq!(OpenMode::parse(&e.canonical), Ok(m), "canonical, {ctx}");
            }
            (Err(msg), Err(e)) => {
                err += 1;
                assert_eq!(&e.to_string(), msg, "message for {:?}", row.mode);
            }
            (expected, got) => panic!("mode {:?}: CPython {expected:?}, we {got:?}", row.mode),
        }
    }
    assert!(ok > 0 && err > 0);
    // Every one of the 16 distinct modes shows up.
    let distinct: BTreeSet<String> = valid_rows().iter().map(|(m, _)| m.to_string()).collect();
    assert_eq!(distinct.len(), 16, "{distinct:?}");
}

#[test]
fn mode_error_is_an_error() {
    fn assert_error<E: std::error::Error + Send + Sync + Clone + Eq + 'static>(_: &E) {}
    let e: ModeError = OpenMode::parse("").unwrap_err();
    assert_error(&e);
    assert_eq!(
        e.to_string(),
        "Must have exactly one of create/read/write/append mode and at most one plus"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.source().is_none());
}

/// Opens real files with `to_open_options()` for every valid row and checks the
/// semantics CPython showed: creation, exclusivity, truncation, append, access.
#[test]
fn open_options_behave_like_cpython() {
    for (mode, e) in valid_rows() {
        let ctx = format!("mode {mode}");
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = mode.to_open_options();

        // Missing file.
        let missing = dir.path().join("missing");
        match opts.open(&missing) {
            Ok(_) => assert!(e.creating && missing.exists(), "created, {ctx}"),
            Err(err) => {
                assert!(!e.creating, "{ctx}: {err}");
                assert_eq!(err.kind(), ErrorKind::NotFound, "{ctx}");
            }
        }

        // Existing file with content.
        let mut path = dir.path().join("existing");
        std::fs::write(&path, b"hello").expect("write");
        let mut file = match opts.open(&path) {
            Ok(file) => {
                assert!(!e.exclusive, "{ctx}: opened an existing file");
                let len = std::fs::metadata(&path).expect("stat").len();
                assert_eq!(len == 0, e.truncating, "truncation, {ctx}");
                file
            }
            Err(err) => {
                assert!(e.exclusive, "{ctx}: {err}");
                assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{ctx}");
                assert_eq!(std::fs::read(&path).expect("read"), b"hello");
                path = dir.path().join("fresh");
                opts.open(&path).expect("exclusive create of a fresh path")
            }
        };

        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let a = OpenMode::parse("a").expect("a").flags();
            let w = OpenMode::parse("w").expect("w").flags();
            let mask = 3 | (a & !w); // O_ACCMODE | O_APPEND
            assert_eq!(mode.flags() & mask, e.fd_flags, "flags(), {ctx}");
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", file.as_raw_fd()))
                .expect("fdinfo");
            let flags = info
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .map(|v| i32::from_str_radix(v.trim(), 8).expect("octal"))
                .expect("flags line");
            assert_eq!(flags & mask, e.fd_flags, "descriptor flags, {ctx}");
        }

        // Access.
        let mut buf = Vec::new();
        assert_eq!(
            file.read_to_end(&mut buf).is_ok(),
            e.readable,
            "read, {ctx}"
        );
        if e.writable {
            file.seek(SeekFrom::End(0)).expect("seek");
            file.write_all(b"AB").expect("write");
            file.seek(SeekFrom::Start(0)).expect("seek");
            file.write_all(b"X").expect("write");
            drop(file);
            let content = std::fs::read(&path).expect("read back");
            assert_eq!(content.ends_with(b"ABX"), e.appending, "append, {ctx}");
        } else {
            assert!(file.write_all(b"X").is_err(), "write, {ctx}");
        }
    }
}

#[cfg(unix)]
#[test]
fn flags_are_consistent() {
    for (mode, _) in valid_rows() {
        let f = mode.flags();
        let access = f & 3;
        let expected_access = match (mode.readable(), mode.writable()) {
            (true, true) => 2,
            (false, true) => 1,
            _ => 0,
        };
        // Holds where O_RDONLY/O_WRONLY/O_RDWR are 0/1/2 (all but Redox and Hurd).
        if cfg!(not(any(target_os = "redox", target_os = "hurd"))) {
            assert_eq!(access, expected_access, "{mode}");
        }
        let flag = |m: &str| OpenMode::parse(m).expect("mode").flags();
        let (o_creat, o_trunc) = (flag("w") & flag("a") & !3, flag("w") & !flag("a"));
        let (o_append, o_excl) = (flag("a") & !flag("w"), flag("x") & !flag("w"));
        for (bit, on) in [
            (o_creat, mode.creating()),
            (o_trunc, mode.truncating()),
            (o_append, mode.appending()),
            (o_excl, mode.exclusive()),
        ] {
            assert_ne!(bit, 0);
            assert_eq!(f & bit != 0, on, "{mode}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        if let Ok(m) = OpenMode::parse(&s) {
            prop_assert_eq!(OpenMode::parse(&m.to_string()), Ok(m));
        }
    }

    #[test]
    fn mode_like_strings_round_trip(s in "[rwax+btU ]{0,8}") {
        match OpenMode::parse(&s) {
            Ok(m) => {
                prop_assert_eq!(OpenMode::parse(&m.to_string()), Ok(m));
                prop_assert_eq!(m.to_string().parse::<OpenMode>(), Ok(m));
                prop_assert!(m.readable() || m.writable());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
