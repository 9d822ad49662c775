#!/usr/bin/env python3
"""Generate cpython_modes.tsv: how CPython's open() treats every mode string.

Tries every string of length 0 to 4 over the alphabet ``rwax+btU`` (plus a few
hand-picked extras) against the real ``open()`` of the running interpreter
(CPython 3.11 or later, the ``_io`` C implementation) and records, for each
string, either the ValueError message or the behaviour observed on real files.

Usage (from the repository root):

    python3 fileio-core/tests/data/gen_modes.py > fileio-core/tests/data/cpython_modes.tsv

Columns (tab separated, one header line, lines starting with '#' are comments):

mode        the mode string, escaped with Python's 'unicode_escape' codec
result      'ok' or 'error'
readable    1/0: f.readable()
writable    1/0: f.writable()
appending   1/0: a write after seek(0) still lands at the end of the file
truncating  1/0: an existing file with content is emptied by open()
creating    1/0: a missing file is created by open() (instead of FileNotFoundError)
exclusive   1/0: open() of an existing file raises FileExistsError
binary      1/0: open() returned a binary (not a text) object
plus        1/0: readable and writable at once
canonical   the canonical spelling: r/w/a/x from the observed behaviour, 'b' if
            binary, '+' if plus; reopening with it reproduces every observation
raw_mode    the .mode of the underlying FileIO (f.mode for binary files,
            f.buffer.raw.mode for text files), e.g. 'rb+' for 'w+'
fd_flags    octal (O_ACCMODE | O_APPEND) bits of the open descriptor, read from
            /proc/self/fdinfo (Linux); O_CREAT/O_EXCL/O_TRUNC are not kept there
message     the ValueError message for rejected modes (escaped like mode), '-' otherwise

Columns that do not apply to a row hold '-'.
"""

import io
import itertools
import os
import sys
import tempfile

ALPHABET = "rwax+btU"
MAX_LEN = 4
EXTRAS = [
    "r\0",
    "\0",
    "rb\0",
    "r\u00e9",
    "\u00e9",
    "r\u20ac",
    "r'",
    "R",
    "RB",
    "r ",
    " r",
    "r\t",
    "rb+ ",
    "rbt+w",
    "xrwab",
    "rb+tb",
    "+rb",
    "br+",
    "t+w",
    "bUr",
]

O_ACCMODE = os.O_RDONLY | os.O_WRONLY | os.O_RDWR
CONTENT = b"hello"


def fd_flags(f):
    with open(f"/proc/self/fdinfo/{f.fileno()}") as info:
        for line in info:
            if line.startswith("flags:"):
                flags = int(line.split()[1], 8)
                return "%o" % (flags & (O_ACCMODE | os.O_APPEND))
    raise RuntimeError("no flags in fdinfo")


def raw_of(f):
    if isinstance(f, io.TextIOBase):
        return f.buffer.raw
    if isinstance(f, io.FileIO):
        return f
    return f.raw


def observe(mode):
    """Return a dict of observations for a valid mode; raises ValueError otherwise."""
    obs = {}
    with tempfile.TemporaryDirectory() as tmp:
        # 1. Missing file: created or FileNotFoundError.
        missing = os.path.join(tmp, "missing")
        try:
            f = open(missing, mode)
        except FileNotFoundError:
            obs["creating"] = 0
        else:
            f.close()
            obs["creating"] = int(os.path.exists(missing))
        # 2. Existing file with content.
        existing = os.path.join(tmp, "existing")
        with open(existing, "wb") as w:
            w.write(CONTENT)
        try:
            f = open(existing, mode)
        except FileExistsError:
            obs["exclusive"] = 1
            # Observe the rest on a fresh path, which exclusive modes create.
            existing = os.path.join(tmp, "fresh")
            f = open(existing, mode)
            obs["truncating"] = 0
        else:
            obs["exclusive"] = 0
            obs["truncating"] = int(os.path.getsize(existing) == 0)
        with f:
            obs["readable"] = int(f.readable())
            obs["writable"] = int(f.writable())
            obs["binary"] = int(not isinstance(f, io.TextIOBase))
            obs["raw_mode"] = raw_of(f).mode
            obs["fd_flags"] = fd_flags(f)
            if obs["writable"]:
                data = b"AB" if obs["binary"] else "AB"
                x = b"X" if obs["binary"] else "X"
                f.seek(0, 2)
                f.write(data)
                f.seek(0)
                f.write(x)
                f.flush()
        if obs["writable"]:
            with open(existing, "rb") as r:
                obs["appending"] = int(r.read().endswith(b"ABX"))
        else:
            obs["appending"] = 0
    obs["plus"] = int(obs["readable"] and obs["writable"])
    if obs["exclusive"]:
        letter = "x"
    elif obs["appending"]:
        letter = "a"
    elif obs["truncating"]:
        letter = "w"
    else:
        letter = "r"
    obs["canonical"] = letter + ("b" if obs["binary"] else "") + ("+" if obs["plus"] else "")
    return obs


FLAG_COLUMNS = [
    "readable",
    "writable",
    "appending",
    "truncating",
    "creating",
    "exclusive",
    "binary",
    "plus",
    "canonical",
    "raw_mode",
    "fd_flags",
]


def escape(mode):
    return mode.encode("unicode_escape").decode("ascii")


def row(mode):
    try:
        obs = observe(mode)
    except ValueError as e:
        return [escape(mode), "error"] + ["-"] * len(FLAG_COLUMNS) + [escape(str(e))]
    return [escape(mode), "ok"] + [str(obs[c]) for c in FLAG_COLUMNS] + ["-"]


def main():
    if sys.implementation.name != "cpython" or sys.version_info < (3, 11):
        sys.exit("needs CPython 3.11 or later")
    modes = []
    for n in range(MAX_LEN + 1):
        modes.extend("".join(p) for p in itertools.product(ALPHABET, repeat=n))
    modes.extend(EXTRAS)
    out = sys.stdout
    out.write("# Generated by fileio-core/tests/data/gen_modes.py from CPython %s; do not edit.\n"
              % sys.version.split()[0])
    out.write("# Regenerate: python3 fileio-core/tests/data/gen_modes.py > fileio-core/tests/data/cpython_modes.tsv\n")
    out.write("\t".join(["mode", "result"] + FLAG_COLUMNS + ["message"]) + "\n")
    canon = {}
    for mode in modes:
        r = row(mode)
        for field in r:
            assert "\t" not in field and "\n" not in field, r
        out.write("\t".join(r) + "\n")
        if r[1] == "ok":
            canon[mode] = r[2:-1]
    # The canonical spelling must itself be valid and behave identically.
    for mode, fields in canon.items():
        c = fields[FLAG_COLUMNS.index("canonical")]
        again = observe(c)
        assert [str(again[k]) for k in FLAG_COLUMNS] == fields, (mode, c)


if __name__ == "__main__":
    main()
