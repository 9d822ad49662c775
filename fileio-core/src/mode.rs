//! Python-style open modes: [`OpenMode`] and [`ModeError`].
//!
//! [`OpenMode::parse`] accepts and rejects exactly the strings that CPython 3.11's
//! `open(path, mode)` (the C implementation in `Modules/_io/_iomodule.c` and
//! `Modules/_io/fileio.c`) accepts and rejects, with the same `ValueError` messages.
//! `tests/modes.rs` checks this against a table generated from a real interpreter
//! (`tests/data/gen_modes.py`).

use std::fmt;
use std::str::FromStr;

/// The one primary letter of a mode: `r`, `w`, `a` or `x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Primary {
    /// `r`: open an existing file for reading.
    Read,
    /// `w`: create or truncate, then write.
    Write,
    /// `a`: create if missing, every write goes to the end.
    Append,
    /// `x`: create, fail if the file exists.
    Create,
}

impl Primary {
    fn letter(self) -> char {
        match self {
            Primary::Read => 'r',
            Primary::Write => 'w',
            Primary::Append => 'a',
            Primary::Create => 'x',
        }
    }
}

/// A parsed Python-style file mode such as `"r"`, `"wb"`, `"a+"` or `"x+b"`.
///
/// A mode consists of exactly one of `r` (read), `w` (write, truncating), `a` (append)
/// or `x` (exclusive create), optionally `+` (read and write), and optionally `b`
/// (binary) or `t` (text, the default), each at most once and in any order — exactly
/// the rules of CPython 3.11's `open()`. `U` is rejected, as in Python 3.11 and later.
///
/// `"rt"` and `"r"` parse to the same value: text is the absence of `b`. The
/// [`Display`](fmt::Display) form is canonical — the letter, then `b` if binary, then
/// `+` — and parses back to an equal value.
///
/// A mode also comes from std's builder flags (`File::options().write(true)
/// .create(true)...`, see [`Options`](crate::Options#two-ways-to-say-how-to-open)):
/// flags a Python mode means give that mode (binary), the others a mode that opens as
/// std does, whose `Display` lists the flags (`"write|create"`).
///
/// | mode | readable | writable | creates | truncates | appends | exclusive |
/// |------|----------|----------|---------|-----------|---------|-----------|
/// | `r`  | yes      |          |         |           |         |           |
/// | `r+` | yes      | yes      |         |           |         |           |
/// | `w`  |          | yes      | yes     | yes       |         |           |
/// | `w+` | yes      | yes      | yes     | yes       |         |           |
/// | `a`  |          | yes      | yes     |           | yes     |           |
/// | `a+` | yes      | yes      | yes     |           | yes     |           |
/// | `x`  |          | yes      | yes     |           |         | yes       |
/// | `x+` | yes      | yes      | yes     |           |         | yes       |
///
/// # Examples
///
/// ```
/// use fileio_core::OpenMode;
///
/// let mode: OpenMode = "+rb".parse()?;
/// assert!(mode.readable() && mode.writable() && mode.binary());
/// assert_eq!(mode.to_string(), "rb+");
///
/// let err = OpenMode::parse("rr").unwrap_err();
/// assert_eq!(err.to_string(), "invalid mode: 'rr'");
/// # Ok::<(), fileio_core::ModeError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenMode {
    primary: Primary,
    plus: bool,
    binary: bool,
    /// Set only for std-style flags that no Python mode spells (see
    /// [`OpenMode::from_std_flags`]); they then decide every property.
    std: Option<StdFlags>,
}

/// What opening does, as flags: the form every [`OpenMode`] reduces to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct StdFlags {
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) append: bool,
    pub(crate) truncate: bool,
    pub(crate) create: bool,
    pub(crate) create_new: bool,
}

impl OpenMode {
    /// Parses a Python mode string with CPython 3.11's `open()` rules.
    ///
    /// Letters may come in any order (`"+rb"` and `"br+"` are valid). The checks run in
    /// CPython's order, so the error message is the one Python would raise.
    ///
    /// # Errors
    ///
    /// Returns a [`ModeError`] whose message is CPython's `ValueError` message:
    ///
    /// - `"invalid mode: '<mode>'"` when a character is not one of `rwax+tb` (including
    ///   `U`, removed in Python 3.11) or any character appears twice;
    /// - `"can't have text and binary mode at once"` when both `t` and `b` appear;
    /// - `"must have exactly one of create/read/write/append mode"` when more than one of
    ///   `r`, `w`, `a`, `x` appears;
    /// - `"Must have exactly one of create/read/write/append mode and at most one plus"`
    ///   when none of them appears (e.g. `""`, `"b"`, `"+"`);
    /// - `"embedded null character"` when the string contains `'\0'`.
    ///
    /// # Examples
    ///
    /// ```
    /// use fileio_core::OpenMode;
    ///
    /// let mode = OpenMode::parse("a+")?;
    /// assert!(mode.appending() && mode.readable());
    /// assert!(OpenMode::parse("rw").is_err());
    /// # Ok::<(), fileio_core::ModeError>(())
    /// ```
    pub fn parse(mode: &str) -> Result<OpenMode, ModeError> {
        // CPython's argument parsing ("s" converter) rejects NUL before looking at the mode.
        if mode.contains('\0') {
            return Err(ModeError::new(ModeErrorKind::EmbeddedNull));
        }
        let (mut create, mut read, mut write, mut append) = (false, false, false, false);
        let (mut plus, mut text, mut binary) = (false, false, false);
        let bytes = mode.as_bytes();
        for (i, &c) in bytes.iter().enumerate() {
            let flag = match c {
                b'x' => &mut create,
                b'r' => &mut read,
                b'w' => &mut write,
                b'a' => &mut append,
                b'+' => &mut plus,
                b't' => &mut text,
                b'b' => &mut binary,
                _ => return Err(ModeError::invalid(mode)),
            };
            *flag = true;
            // CPython: `if (strchr(mode+i+1, c)) goto invalid_mode;`
            if bytes[i + 1..].contains(&c) {
                return Err(ModeError::invalid(mode));
            }
        }
        if text && binary {
            return Err(ModeError::new(ModeErrorKind::TextAndBinary));
        }
        let primary = match (create, read, write, append) {
            (true, false, false, false) => Primary::Create,
            (false, true, false, false) => Primary::Read,
            (false, false, true, false) => Primary::Write,
            (false, false, false, true) => Primary::Append,
            // _io.open() itself only rejects more than one; FileIO rejects none.
            (false, false, false, false) => {
                return Err(ModeError::new(ModeErrorKind::NoPrimary));
            }
            _ => return Err(ModeError::new(ModeErrorKind::ManyPrimaries)),
        };
        Ok(OpenMode {
            primary,
            plus,
            binary,
            std: None,
        })
    }

    /// The mode that [`std::fs::OpenOptions`] with these flags opens with, or std's
    /// `InvalidInput` error for the combinations std rejects (on Unix):
    ///
    /// - none of read, write, append;
    /// - truncate, create or create_new without write or append;
    /// - truncate with append, unless create_new.
    ///
    /// Flags that a Python mode means give that mode, binary (`b`), so that equality and
    /// [`Display`](fmt::Display) stay canonical: read ⇒ `rb`; read+write ⇒ `rb+`;
    /// write+create+truncate ⇒ `wb` (`wb+` with read); append+create (with or without
    /// write) ⇒ `ab` (`ab+` with read); write or append with create_new ⇒ `xb` (`xb+`
    /// with read; create and truncate do not matter then) — except append with
    /// create_new, which `x` does not append. The other combinations std accepts (e.g.
    /// write+create without truncate: create if missing, keep the content) have no
    /// Python spelling: they open exactly as std does, and display as their flags
    /// joined by `|` (e.g. `write|create`), which [`OpenMode::parse`] rejects.
    pub(crate) fn from_std_flags(f: StdFlags) -> std::io::Result<OpenMode> {
        use std::io::{Error, ErrorKind};
        if !(f.read || f.write || f.append) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "opening a file requires read, write or append access",
            ));
        }
        if !(f.write || f.append) && (f.truncate || f.create || f.create_new) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "creating or truncating a file requires write or append access",
            ));
        }
        if f.append && f.truncate && !f.create_new {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "creating or truncating a file requires write or append access",
            ));
        }
        let writes = f.write || f.append;
        let python = |primary, plus| OpenMode {
            primary,
            plus,
            binary: true,
            std: None,
        };
        let mode = if f.create_new {
            (!f.append).then(|| python(Primary::Create, f.read))
        } else if f.append {
            (f.create && !f.truncate).then(|| python(Primary::Append, f.read))
        } else if f.write && f.create && f.truncate {
            Some(python(Primary::Write, f.read))
        } else if !f.create && !f.truncate {
            match (f.read, writes) {
                (true, false) => Some(python(Primary::Read, false)),
                (true, true) => Some(python(Primary::Read, true)),
                _ => None,
            }
        } else {
            None
        };
        Ok(mode.unwrap_or(OpenMode {
            primary: Primary::Read,
            plus: false,
            binary: true,
            std: Some(StdFlags {
                // create_new makes create and truncate moot, as in std.
                create: f.create && !f.create_new,
                truncate: f.truncate && !f.create_new,
                ..f
            }),
        }))
    }

    /// The flags this mode opens with.
    pub(crate) fn std_flags(&self) -> StdFlags {
        if let Some(flags) = self.std {
            return flags;
        }
        let read = self.primary == Primary::Read || self.plus;
        let mut f = StdFlags {
            read,
            ..StdFlags::default()
        };
        match self.primary {
            Primary::Read => f.write = self.plus,
            Primary::Write => (f.write, f.create, f.truncate) = (true, true, true),
            Primary::Append => (f.append, f.create) = (true, true),
            Primary::Create => (f.write, f.create_new) = (true, true),
        }
        f
    }

    /// Whether the file can be read: `r`, or any mode with `+`.
    pub fn readable(&self) -> bool {
        self.std_flags().read
    }

    /// Whether the file can be written: `w`, `a`, `x`, or any mode with `+`.
    pub fn writable(&self) -> bool {
        let f = self.std_flags();
        f.write || f.append
    }

    /// Whether every write goes to the end of the file (`a`, `O_APPEND`).
    pub fn appending(&self) -> bool {
        self.std_flags().append
    }

    /// Whether opening empties an existing file (`w`, `O_TRUNC`).
    pub fn truncating(&self) -> bool {
        self.std_flags().truncate
    }

    /// Whether opening creates the file when it is missing (`w`, `a`, `x`, `O_CREAT`).
    pub fn creating(&self) -> bool {
        let f = self.std_flags();
        f.create || f.create_new
    }

    /// Whether opening fails when the file already exists (`x`, `O_CREAT | O_EXCL`).
    pub fn exclusive(&self) -> bool {
        self.std_flags().create_new
    }

    /// Whether the mode has `+` (the file is both readable and writable).
    pub fn plus(&self) -> bool {
        match self.std {
            Some(_) => self.readable() && self.writable(),
            None => self.plus,
        }
    }

    /// Whether the mode has `b` (binary); otherwise it is a text mode.
    pub fn binary(&self) -> bool {
        self.binary
    }

    /// [`std::fs::OpenOptions`] that open the file the way CPython does for this mode.
    ///
    /// | mode | options |
    /// |------|---------|
    /// | `r`  | read |
    /// | `r+` | read, write |
    /// | `w`  | write, create, truncate |
    /// | `w+` | read, write, create, truncate |
    /// | `a`  | append, create |
    /// | `a+` | read, append, create |
    /// | `x`  | write, create_new |
    /// | `x+` | read, write, create_new |
    ///
    /// Like CPython, new files get permissions `0o666` before the umask, and the
    /// descriptor is close-on-exec (std's defaults). `b` does not affect the options.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use fileio_core::OpenMode;
    ///
    /// let _file = OpenMode::parse("ab")?.to_open_options().open("log.bin")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_open_options(&self) -> std::fs::OpenOptions {
        let f = self.std_flags();
        let mut options = std::fs::OpenOptions::new();
        options
            .read(f.read)
            .write(f.write)
            .append(f.append)
            .truncate(f.truncate)
            .create(f.create)
            .create_new(f.create_new);
        options
    }

    /// The `open(2)` flags CPython passes for this mode on this platform:
    /// `O_RDONLY`, `O_WRONLY` or `O_RDWR`, plus `O_CREAT`, `O_TRUNC`, `O_APPEND` and
    /// `O_EXCL` as the mode requires.
    ///
    /// `O_CLOEXEC` (which CPython and std always add) is not included. The constants are
    /// built in for Linux and Android (every architecture), the BSDs and Apple platforms,
    /// Solaris/illumos, AIX, Haiku, QNX, Cygwin, Redox and GNU/Hurd; other Unix targets use
    /// the Linux generic values.
    ///
    /// # Examples
    ///
    /// ```
    /// use fileio_core::OpenMode;
    ///
    /// let r = OpenMode::parse("r")?;
    /// let w = OpenMode::parse("w+")?;
    /// assert_ne!(r.flags(), w.flags());
    /// # Ok::<(), fileio_core::ModeError>(())
    /// ```
    #[cfg(unix)]
    pub fn flags(&self) -> i32 {
        use oflags::{O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
        let access = match (self.readable(), self.writable()) {
            (true, true) => O_RDWR,
            (false, true) => O_WRONLY,
            _ => O_RDONLY,
        };
        let f = self.std_flags();
        let mut flags = access;
        for (on, flag) in [
            (f.create || f.create_new, O_CREAT),
            (f.truncate, O_TRUNC),
            (f.append, O_APPEND),
            (f.create_new, O_EXCL),
        ] {
            if on {
                flags |= flag;
            }
        }
        flags
    }
}

/// `open(2)` flag values per platform (taken from the `libc` crate), so that
/// [`OpenMode::flags`] needs no dependency.
#[cfg(unix)]
#[allow(dead_code)] // not every constant is used on every target
mod oflags {
    #[cfg(not(any(target_os = "redox", target_os = "hurd")))]
    pub(super) const O_RDONLY: i32 = 0;
    #[cfg(not(any(target_os = "redox", target_os = "hurd")))]
    pub(super) const O_WRONLY: i32 = 1;
    #[cfg(not(any(target_os = "redox", target_os = "hurd")))]
    pub(super) const O_RDWR: i32 = 2;

    macro_rules! table {
        ($(#[$cfg:meta] => ($append:expr, $creat:expr, $trunc:expr, $excl:expr);)*) => {$(
            #[$cfg] pub(super) const O_APPEND: i32 = $append;
            #[$cfg] pub(super) const O_CREAT: i32 = $creat;
            #[$cfg] pub(super) const O_TRUNC: i32 = $trunc;
            #[$cfg] pub(super) const O_EXCL: i32 = $excl;
        )*};
    }

    table! {
        #[cfg(all(
            any(target_os = "linux", target_os = "android"),
            any(target_arch = "mips", target_arch = "mips64",
                target_arch = "mips32r6", target_arch = "mips64r6")
        ))] => (0x8, 0x100, 0x200, 0x400);
        #[cfg(all(
            any(target_os = "linux", target_os = "android"),
            any(target_arch = "sparc", target_arch = "sparc64")
        ))] => (0x8, 0x200, 0x400, 0x800);
        #[cfg(any(
            target_vendor = "apple", target_os = "freebsd", target_os = "netbsd",
            target_os = "openbsd", target_os = "dragonfly", target_os = "cygwin"
        ))] => (0x8, 0x200, 0x400, 0x800);
        #[cfg(any(target_os = "solaris", target_os = "illumos", target_os = "aix"))]
            => (0x8, 0x100, 0x200, 0x400);
        #[cfg(target_os = "haiku")] => (0x800, 0x200, 0x400, 0x100);
        #[cfg(target_os = "nto")] => (0o10, 0o400, 0o1000, 0o2000);
        #[cfg(target_os = "redox")] => (0x8_0000, 0x200_0000, 0x400_0000, 0x800_0000);
        #[cfg(target_os = "hurd")] => (256, 16, 65536, 32);
        // Linux generic (x86, x86_64, arm, aarch64, riscv, powerpc, s390x, loongarch, ...)
        // and every other Unix target.
        #[cfg(not(any(
            all(
                any(target_os = "linux", target_os = "android"),
                any(target_arch = "mips", target_arch = "mips64",
                    target_arch = "mips32r6", target_arch = "mips64r6",
                    target_arch = "sparc", target_arch = "sparc64")
            ),
            target_vendor = "apple", target_os = "freebsd", target_os = "netbsd",
            target_os = "openbsd", target_os = "dragonfly", target_os = "cygwin",
            target_os = "solaris", target_os = "illumos", target_os = "aix",
            target_os = "haiku", target_os = "nto", target_os = "redox", target_os = "hurd"
        )))] => (0o2000, 0o100, 0o1000, 0o200);
    }

    #[cfg(target_os = "redox")]
    pub(super) const O_RDONLY: i32 = 0x1_0000;
    #[cfg(target_os = "redox")]
    pub(super) const O_WRONLY: i32 = 0x2_0000;
    #[cfg(target_os = "redox")]
    pub(super) const O_RDWR: i32 = 0x3_0000;
    #[cfg(target_os = "hurd")]
    pub(super) const O_RDONLY: i32 = 1;
    #[cfg(target_os = "hurd")]
    pub(super) const O_WRONLY: i32 = 2;
    #[cfg(target_os = "hurd")]
    pub(super) const O_RDWR: i32 = 3;
}

impl FromStr for OpenMode {
    type Err = ModeError;

    /// Same as [`OpenMode::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpenMode::parse(s)
    }
}

impl fmt::Display for OpenMode {
    /// The canonical spelling: `r`, `w`, `a` or `x`, then `b` if binary, then `+`
    /// (e.g. `"rb+"`, `"w"`, `"ab+"`, `"x+"`). It parses back to an equal mode.
    ///
    /// A mode made from std-style flags that no Python mode spells (see
    /// `File::options().write(true)`...) shows its flags joined by `|`, in the order
    /// read, write, append, truncate, create, create_new (e.g. `"write|create"`); that
    /// form does not parse.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(flags) = self.std {
            let names = [
                (flags.read, "read"),
                (flags.write, "write"),
                (flags.append, "append"),
                (flags.truncate, "truncate"),
                (flags.create, "create"),
                (flags.create_new, "create_new"),
            ];
            let shown: Vec<&str> = names
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| *n)
                .collect();
            return f.pad(&shown.join("|"));
        }
        let mut buf = [0u8; 3];
        let mut len = 0;
        for (on, c) in [
            (true, self.primary.letter()),
            (self.binary, 'b'),
            (self.plus, '+'),
        ] {
            if on {
                buf[len] = c as u8;
                len += 1;
            }
        }
        // Only ASCII letters were written.
        f.pad(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)
    }
}

/// Why [`ModeError`] was raised.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ModeErrorKind {
    /// A character outside `rwax+tb`, or a repeated character; holds the whole mode.
    Invalid(String),
    /// Both `t` and `b`.
    TextAndBinary,
    /// More than one of `r`, `w`, `a`, `x`.
    ManyPrimaries,
    /// None of `r`, `w`, `a`, `x`.
    NoPrimary,
    /// The mode contains `'\0'`.
    EmbeddedNull,
}

/// A mode string that CPython's `open()` would reject.
///
/// Its [`Display`](fmt::Display) is CPython's exact `ValueError` message, e.g.
/// `invalid mode: 'rr'` (see [`OpenMode::parse`] for the full list).
///
/// # Examples
///
/// ```
/// use fileio_core::OpenMode;
///
/// let err = OpenMode::parse("rtb").unwrap_err();
/// assert_eq!(err.to_string(), "can't have text and binary mode at once");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModeError {
    kind: ModeErrorKind,
}

impl ModeError {
    fn new(kind: ModeErrorKind) -> Self {
        ModeError { kind }
    }

    fn invalid(mode: &str) -> Self {
        ModeError::new(ModeErrorKind::Invalid(mode.to_owned()))
    }
}

impl fmt::Display for ModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ModeErrorKind::Invalid(mode) => write!(f, "invalid mode: '{mode}'"),
            ModeErrorKind::TextAndBinary => f.write_str("can't have text and binary mode at once"),
            ModeErrorKind::ManyPrimaries => {
                f.write_str("must have exactly one of create/read/write/append mode")
            }
            ModeErrorKind::NoPrimary => f.write_str(
                "Must have exactly one of create/read/write/append mode and at most one plus",
            ),
            ModeErrorKind::EmbeddedNull => f.write_str("embedded null character"),
        }
    }
}

impl std::error::Error for ModeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        let m = OpenMode::parse("br+").unwrap();
        assert_eq!(m.to_string(), "rb+");
        assert_eq!(format!("{m:>5}"), "  rb+");
        assert_eq!(OpenMode::parse("rt"), OpenMode::parse("r"));
        assert_eq!(
            OpenMode::parse("U").unwrap_err().to_string(),
            "invalid mode: 'U'"
        );
    }

    fn flags(bits: [bool; 6]) -> std::io::Result<OpenMode> {
        let [read, write, append, truncate, create, create_new] = bits;
        OpenMode::from_std_flags(StdFlags {
            read,
            write,
            append,
            truncate,
            create,
            create_new,
        })
    }

    #[test]
    fn std_flags_modes() {
        let t = true;
        let f = false;
        let shown = |bits| flags(bits).unwrap().to_string();
        assert_eq!(shown([t, f, f, f, f, f]), "rb");
        assert_eq!(shown([t, t, f, f, f, f]), "rb+");
        assert_eq!(shown([f, t, f, t, t, f]), "wb");
        assert_eq!(shown([f, t, t, f, t, f]), "ab");
        assert_eq!(shown([t, f, t, f, t, f]), "ab+");
        assert_eq!(shown([f, t, f, t, t, t]), "xb");
        assert_eq!(shown([f, t, f, f, t, f]), "write|create");
        assert_eq!(shown([f, f, t, f, f, t]), "append|create_new");
        // Python modes from flags equal the parsed ones; every mode round-trips.
        assert_eq!(
            flags([t, t, f, f, f, f]).unwrap(),
            OpenMode::parse("rb+").unwrap()
        );
        for m in ["r", "rb+", "w", "w+", "a", "ab+", "x", "x+"] {
            let mode = OpenMode::parse(m).unwrap();
            let f = mode.std_flags();
            let back = flags([
                f.read,
                f.write,
                f.append,
                f.truncate,
                f.create,
                f.create_new,
            ]);
            let binary = OpenMode::parse(&(m.replace('b', "") + "b")).unwrap();
            assert_eq!(back.unwrap(), binary, "{m}");
        }
        let custom = flags([f, t, f, f, t, f]).unwrap();
        assert!(custom.writable() && !custom.readable() && custom.creating());
        assert!(!custom.truncating() && !custom.appending() && !custom.exclusive());
        for bad in [
            [f; 6],
            [f, f, f, t, f, f],
            [t, f, f, f, t, f],
            [f, f, t, t, t, f],
        ] {
            let err = flags(bad).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    #[test]
    fn std_flags_linux_flags() {
        let f = |bits| flags(bits).unwrap().flags();
        assert_eq!(f([false, true, false, false, true, false]), 0o1 | 0o100);
        assert_eq!(f([true, false, true, false, false, false]), 0o2 | 0o2000);
        assert_eq!(f([false, true, false, true, false, false]), 0o1 | 0o1000);
    }

    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    #[test]
    fn linux_flags() {
        let f = |m: &str| OpenMode::parse(m).unwrap().flags();
        assert_eq!(f("r"), 0);
        assert_eq!(f("w"), 0o1 | 0o100 | 0o1000);
        assert_eq!(f("a+"), 0o2 | 0o100 | 0o2000);
        assert_eq!(f("xb"), 0o1 | 0o100 | 0o200);
    }
}
