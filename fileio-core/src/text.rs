//! The text codec behind `read_text`, `read_line`, `lines` and `write_str`.
//!
//! The engine reads byte chunks from its cursor and hands them to a [`TextCodec`],
//! which decodes a prefix and reports exactly how many bytes that prefix took, so the
//! engine can advance its cursor by that count and resume later at a character
//! boundary. The codec itself is stateless (`Copy`).
//!
//! # Semantics
//!
//! - Strict, like Python's `errors="strict"`: an invalid byte sequence is a
//!   [`DecodeError`] carrying the absolute file offset of its first byte; an unmappable
//!   character is an [`EncodeError`]. Nothing is ever replaced or dropped.
//! - A character is never split. An incomplete sequence at the end of the bytes is left
//!   unconsumed unless `eof` is true, in which case it is an error at its offset.
//! - Errors are only reported once decoding reaches them: bytes after the requested
//!   characters (or after the line terminator) are not examined.
//! - Lines end at `"\n"`; a preceding `"\r"` belongs to the terminator (`"\r\n"` is kept
//!   whole), and a lone `"\r"` is *not* a terminator. Terminators are kept as written
//!   (like Python's `newline=""` mode; no translation). Terminators are recognised in
//!   the decoded text, never by scanning raw bytes (UTF-16 `0x0A` bytes are not lines).
//! - Byte order marks: `"utf-8"` keeps a BOM as U+FEFF, like Python's `"utf-8"`;
//!   `"utf-8-sig"` skips a BOM at file offset 0 when decoding (it is counted in the
//!   consumed bytes) and [`TextCodec::encode`] never writes one (see [`TextCodec::bom`]).
//!   UTF-16 never interprets a BOM: `"utf-16"` means little-endian, and a BOM decodes
//!   to U+FEFF.
//!
//! # Encodings
//!
//! UTF-8 (validated with `std`, no `encoding_rs` round trip), UTF-16LE/BE, Latin-1 and
//! ASCII are built in; every other WHATWG encoding goes through `encoding_rs`, except
//! ISO-2022-JP and the WHATWG "replacement" encoding, which are refused: ISO-2022-JP is
//! stateful (escape sequences switch modes), so a byte offset alone cannot say how to
//! resume decoding in the middle of a shifted run.
//!
//! Python spellings win where they differ from WHATWG: `"latin-1"`, `"iso-8859-1"` and
//! friends are true ISO-8859-1 (every byte maps to U+0000..U+00FF), and `"ascii"` is
//! strict 7-bit ASCII; WHATWG would map both to windows-1252. `"cp1252"` is WHATWG's
//! windows-1252, which (unlike Python's) decodes 0x81, 0x8D, 0x8F, 0x90 and 0x9D to C1
//! controls.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, EncoderResult, Encoding};

/// The byte order mark of UTF-8.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// An encoding label that [`TextCodec::for_label`] does not know or refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown or unsupported encoding: {label:?}")]
pub(crate) struct UnknownEncoding {
    /// The label as given.
    pub(crate) label: String,
}

/// Bytes that are not valid in the handle's encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid byte sequence at offset {offset}")]
pub(crate) struct DecodeError {
    /// Absolute file offset of the first byte of the invalid (or truncated) sequence.
    pub(crate) offset: u64,
}

/// A character the handle's encoding cannot represent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("character {char_index} cannot be encoded in {encoding}")]
pub(crate) struct EncodeError {
    /// Index, in Unicode scalar values, of the first unmappable character of the text.
    pub(crate) char_index: usize,
    /// Name of the encoding ([`TextCodec::name`]).
    pub(crate) encoding: &'static str,
}

/// The outcome of [`TextCodec::decode_line_from`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    /// The line with its terminator (`"\n"` or `"\r\n"`) as written; the last line of a
    /// file may have none. Empty when `complete` is false.
    pub(crate) text: String,
    /// Bytes the line takes (including a skipped `utf-8-sig` BOM at offset 0); 0 when
    /// `complete` is false. Advance the cursor by exactly this.
    pub(crate) consumed: usize,
    /// True when `text` is a whole line: it ends with `"\n"`, or `eof` was set and it is
    /// the rest of the file (possibly empty: then the cursor was at end of file). False
    /// when the bytes hold no terminator yet: read more, append, call again.
    pub(crate) complete: bool,
    /// When `complete` is false: the bytes before this index are known to be valid and
    /// free of terminators; pass it to [`TextCodec::decode_line_from`] with the longer
    /// buffer (same start) so that long lines cost linear time. 0 otherwise.
    pub(crate) resume: usize,
}

impl Line {
    fn incomplete(resume: usize) -> Line {
        Line {
            text: String::new(),
            consumed: 0,
            complete: false,
            resume,
        }
    }
}

/// How the bytes are decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// UTF-8; `sig` skips a BOM at offset 0 (Python's `utf-8-sig`).
    Utf8 { sig: bool },
    /// UTF-16 without BOM handling.
    Utf16 { big_endian: bool },
    /// ISO-8859-1: byte `b` is U+00bb.
    Latin1,
    /// 7-bit ASCII.
    Ascii,
    /// A stateless `encoding_rs` encoding (single-byte tables, Shift_JIS, EUC-JP,
    /// EUC-KR, GBK, gb18030, Big5, x-user-defined).
    Legacy(&'static Encoding),
}

/// A strict text encoding for a file handle (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TextCodec {
    kind: Kind,
}

impl Default for TextCodec {
    /// UTF-8.
    fn default() -> Self {
        TextCodec {
            kind: Kind::Utf8 { sig: false },
        }
    }
}

/// Python codec names (after [`normalize`]) that WHATWG lacks or means differently.
fn python_alias(norm: &str) -> Option<Kind> {
    Some(match norm {
        "utf-8" | "utf8" | "u8" | "utf" | "cp65001" => Kind::Utf8 { sig: false },
        "utf-8-sig" | "utf8-sig" => Kind::Utf8 { sig: true },
        "utf-16"
        | "utf16"
        | "u16"
        | "utf-16le"
        | "utf-16-le"
        | "utf16le"
        | "unicodelittleunmarked" => Kind::Utf16 { big_endian: false },
        "utf-16be" | "utf-16-be" | "utf16be" | "unicodebigunmarked" => {
            Kind::Utf16 { big_endian: true }
        }
        "latin-1" | "latin1" | "latin" | "l1" | "iso-8859-1" | "iso8859-1" | "iso88591"
        | "8859" | "cp819" | "ibm819" | "iso-ir-100" | "csisolatin1" => Kind::Latin1,
        "ascii" | "us-ascii" | "646" | "us" | "ansi-x3.4-1968" | "ansi-x3-4-1968" | "iso646-us"
        | "cp367" | "ibm367" | "csascii" | "iso-ir-6" => Kind::Ascii,
        _ => {
            let name = match norm {
                "cp932" | "ms932" | "mskanji" | "ms-kanji" | "sjis" | "s-jis" | "shiftjis" => {
                    "shift_jis"
                }
                "eucjp" | "ujis" | "u-jis" => "euc-jp",
                "euckr" | "cp949" | "uhc" | "ks-c-5601-1987" => "euc-kr",
                "cp936" | "ms936" | "936" => "gbk",
                "big5hkscs" | "cp950" | "ms950" | "big5-tw" => "big5",
                "mac-roman" | "macroman" => "macintosh",
                "mac-cyrillic" | "maccyrillic" => "x-mac-cyrillic",
                "tis-620" | "tis620" => "windows-874",
                _ => return None,
            };
            Kind::Legacy(Encoding::for_label(name.as_bytes())?)
        }
    })
}

/// Lowercases and spells `_` and spaces as `-`, the way Python's codec lookup folds them.
fn normalize(label: &str) -> String {
    label
        .trim()
        .chars()
        .map(|c| match c {
            '_' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// `base + i`, saturating instead of overflowing on absurd inputs.
fn at(base: u64, i: usize) -> u64 {
    base.saturating_add(u64::try_from(i).unwrap_or(u64::MAX))
}

/// Byte index just past the first `max_chars` characters of valid UTF-8 `s`
/// (or `s.len()`), and the number of characters before it.
fn utf8_char_boundary(s: &[u8], max_chars: usize) -> (usize, usize) {
    let mut chars = 0;
    for (i, &b) in s.iter().enumerate() {
        if b & 0xC0 != 0x80 {
            if chars == max_chars {
                return (i, chars);
            }
            chars += 1;
        }
    }
    (s.len(), chars)
}

/// What a decoding walk over non-UTF-8 bytes found.
#[derive(Debug)]
struct Walk {
    /// Byte index after the last whole character decoded.
    end: usize,
    /// Whether the walk stopped right after a `'\n'`.
    newline: bool,
}

impl TextCodec {
    /// Looks up an encoding by label: Python codec names (`"utf8"`, `"utf-8"`,
    /// `"utf_16_le"`, `"latin-1"`, `"cp1252"`, `"shift_jis"`, `"cp932"`, `"gbk"`, ...)
    /// and every WHATWG label `encoding_rs` knows. Case, surrounding whitespace, and
    /// `_` versus `-` do not matter.
    ///
    /// # Errors
    ///
    /// [`UnknownEncoding`] for unknown labels, and for ISO-2022-JP and WHATWG's
    /// "replacement" encoding (see the module docs).
    pub(crate) fn for_label(label: &str) -> Result<TextCodec, UnknownEncoding> {
        let unknown = || UnknownEncoding {
            label: label.to_owned(),
        };
        let norm = normalize(label);
        if let Some(kind) = python_alias(&norm) {
            return Ok(TextCodec { kind });
        }
        let encoding = Encoding::for_label(label.trim().as_bytes())
            .or_else(|| Encoding::for_label(norm.as_bytes()))
            .or_else(|| Encoding::for_label(norm.replace('-', "_").as_bytes()))
            .ok_or_else(unknown)?;
        let kind = if encoding == encoding_rs::UTF_8 {
            Kind::Utf8 { sig: false }
        } else if encoding == encoding_rs::UTF_16LE {
            Kind::Utf16 { big_endian: false }
        } else if encoding == encoding_rs::UTF_16BE {
            Kind::Utf16 { big_endian: true }
        } else if encoding == encoding_rs::ISO_2022_JP || encoding == encoding_rs::REPLACEMENT {
            return Err(unknown());
        } else {
            Kind::Legacy(encoding)
        };
        Ok(TextCodec { kind })
    }

    /// The encoding's name: `encoding_rs`'s canonical name (`"UTF-8"`, `"UTF-16LE"`,
    /// `"Shift_JIS"`, `"windows-1252"`, ...), or `"utf-8-sig"`, `"latin-1"`, `"ascii"`.
    pub(crate) fn name(&self) -> &'static str {
        match self.kind {
            Kind::Utf8 { sig: false } => "UTF-8",
            Kind::Utf8 { sig: true } => "utf-8-sig",
            Kind::Utf16 { big_endian: false } => "UTF-16LE",
            Kind::Utf16 { big_endian: true } => "UTF-16BE",
            Kind::Latin1 => "latin-1",
            Kind::Ascii => "ascii",
            Kind::Legacy(encoding) => encoding.name(),
        }
    }

    /// The byte order mark to write at offset 0 of a new file: the UTF-8 BOM for
    /// `utf-8-sig` (as Python writes it), empty otherwise.
    #[allow(dead_code)] // for the engine, once it writes BOMs for new utf-8-sig files
    pub(crate) fn bom(&self) -> &'static [u8] {
        match self.kind {
            Kind::Utf8 { sig: true } => UTF8_BOM,
            _ => b"",
        }
    }

    /// For `utf-8-sig` at offset 0: how many leading bytes to skip (0 or 3), or `None`
    /// when the bytes are a strict prefix of the BOM and more may follow.
    fn bom_skip(&self, bytes: &[u8], base: u64, eof: bool) -> Option<usize> {
        if self.kind != (Kind::Utf8 { sig: true }) || base != 0 {
            return Some(0);
        }
        if bytes.starts_with(UTF8_BOM) {
            Some(UTF8_BOM.len())
        } else if !eof && !bytes.is_empty() && UTF8_BOM.starts_with(bytes) {
            None
        } else {
            Some(0)
        }
    }

    /// Decodes a prefix of `bytes`, which begin at file offset `base`, into at most
    /// `max_chars` characters (Unicode scalar values).
    ///
    /// Returns `(text, consumed)`: `text` never splits a character and `consumed` is the
    /// exact byte length of what was decoded, so the caller advances its cursor by it.
    /// Fewer than `max_chars` characters come back only when the bytes run out (an
    /// incomplete sequence at the end is left unconsumed unless `eof`), or when the next
    /// byte sequence decodes to more scalar values than still fit. That happens only with
    /// the four Big5 sequences that decode to two scalars (e.g. `0x88 0x62` is U+00CA
    /// U+0304); such a sequence is never split, and when it comes first with
    /// `max_chars == 1` it is returned whole: the one case where `text` has more than
    /// `max_chars` (two) characters, so callers should subtract with `saturating_sub`.
    /// With `utf-8-sig` at `base == 0`, a BOM is skipped and counted in `consumed`, so
    /// `consumed` may be 3 with an empty `text`. `max_chars == 0` gives `("", 0)`.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] with the absolute offset of the first bad byte when decoding
    /// reaches an invalid sequence before `max_chars` characters, or (only when `eof`)
    /// a truncated sequence at the end of `bytes`.
    pub(crate) fn decode_prefix(
        &self,
        bytes: &[u8],
        base: u64,
        max_chars: usize,
        eof: bool,
    ) -> Result<(String, usize), DecodeError> {
        if max_chars == 0 {
            return Ok((String::new(), 0));
        }
        if let Kind::Utf8 { .. } = self.kind {
            let Some(skip) = self.bom_skip(bytes, base, eof) else {
                return Ok((String::new(), 0));
            };
            let (text, used) = utf8_prefix(&bytes[skip..], at(base, skip), max_chars, eof)?;
            return Ok((text, skip + used));
        }
        let mut text = String::new();
        let walk = self.walk(bytes, 0, base, eof, max_chars, false, Some(&mut text))?;
        Ok((text, walk.end))
    }

    /// Decodes one line from the start of `bytes` (file offset `base`): up to and
    /// including the first `"\n"` (so `"\r\n"` stays whole; a lone `"\r"` does not end
    /// a line). Same as [`decode_line_from`](Self::decode_line_from) with `resume == 0`.
    ///
    /// # Errors
    ///
    /// As [`decode_line_from`](Self::decode_line_from).
    #[cfg(test)]
    pub(crate) fn decode_line(
        &self,
        bytes: &[u8],
        base: u64,
        eof: bool,
    ) -> Result<Line, DecodeError> {
        self.decode_line_from(bytes, base, eof, 0)
    }

    /// Decodes one line from the start of `bytes` (file offset `base`): up to and
    /// including the first `"\n"` (so `"\r\n"` stays whole; a lone `"\r"` does not end
    /// a line), resuming a scan: `resume` is the
    /// [`Line::resume`] of a previous incomplete call on a shorter buffer with the same
    /// start and `base` (0 to scan from the start). Only the bytes from `resume` on are
    /// scanned again, and the line's text is decoded once, when it is complete, so a
    /// line costs linear time however many calls it takes. A bogus `resume` cannot
    /// cause a panic or a wrong text (the line is decoded again in full), only an
    /// unnoticed terminator before it.
    ///
    /// Returns [`Line`]: `complete == false` (with `consumed == 0`) means there is no
    /// terminator in `bytes` yet and `eof` is false; read more and call again. When `eof`
    /// is true the rest of the bytes form the last line, which may lack a terminator
    /// (an empty `text` then means end of file).
    ///
    /// # Errors
    ///
    /// [`DecodeError`] with the absolute offset of the first bad byte when an invalid
    /// sequence comes before the terminator, or (only when `eof`) when the bytes end in a
    /// truncated sequence.
    pub(crate) fn decode_line_from(
        &self,
        bytes: &[u8],
        base: u64,
        eof: bool,
        resume: usize,
    ) -> Result<Line, DecodeError> {
        let Some(skip) = self.bom_skip(bytes, base, eof) else {
            return Ok(Line::incomplete(0));
        };
        let from = if resume > bytes.len() {
            skip
        } else {
            resume.max(skip)
        };
        if let Kind::Utf8 { .. } = self.kind {
            return utf8_line(bytes, skip, from, base, eof);
        }
        let walk = self.walk(bytes, from, base, eof, usize::MAX, true, None)?;
        if !walk.newline && !eof {
            return Ok(Line::incomplete(walk.end));
        }
        // Decode the whole line once. At EOF without newline, walk.end == bytes.len()
        // (a truncated tail was an error above).
        let mut text = String::new();
        let end = walk.end;
        let again = self.walk(
            &bytes[..end],
            skip,
            base,
            true,
            usize::MAX,
            true,
            Some(&mut text),
        )?;
        Ok(Line {
            text,
            consumed: again.end,
            complete: true,
            resume: 0,
        })
    }

    /// Decodes characters of a non-UTF-8 encoding from `bytes[from..]`, stopping after
    /// `max_chars` characters, after a `'\n'` when `stop_at_newline`, or at the end.
    /// Appends to `out` when given.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        bytes: &[u8],
        from: usize,
        base: u64,
        eof: bool,
        max_chars: usize,
        stop_at_newline: bool,
        mut out: Option<&mut String>,
    ) -> Result<Walk, DecodeError> {
        let mut push = |c: char| {
            if let Some(out) = out.as_deref_mut() {
                out.push(c);
            }
        };
        let len = bytes.len();
        let mut i = from.min(len);
        let mut chars = 0usize;
        match self.kind {
            Kind::Utf8 { .. } => {
                // Not used for UTF-8 (it has its own fast paths); decode anyway.
                let rest = bytes.get(i..).unwrap_or_default();
                let (text, used) = utf8_prefix(rest, at(base, i), max_chars, eof)?;
                let text = match text.find('\n') {
                    Some(nl) if stop_at_newline => &text[..=nl],
                    _ => text.as_str(),
                };
                debug_assert!(text.len() <= used);
                text.chars().for_each(&mut push);
                let newline = stop_at_newline && text.ends_with('\n');
                Ok(Walk {
                    end: i + text.len(),
                    newline,
                })
            }
            Kind::Latin1 | Kind::Ascii => {
                let ascii = self.kind == Kind::Ascii;
                while i < len && chars < max_chars {
                    let b = bytes[i];
                    if ascii && b >= 0x80 {
                        return Err(DecodeError {
                            offset: at(base, i),
                        });
                    }
                    push(char::from(b));
                    i += 1;
                    chars += 1;
                    if stop_at_newline && b == b'\n' {
                        return Ok(Walk {
                            end: i,
                            newline: true,
                        });
                    }
                }
                Ok(Walk {
                    end: i,
                    newline: false,
                })
            }
            Kind::Utf16 { big_endian } => {
                let unit = |i: usize| {
                    let pair = [bytes[i], bytes[i + 1]];
                    if big_endian {
                        u16::from_be_bytes(pair)
                    } else {
                        u16::from_le_bytes(pair)
                    }
                };
                while chars < max_chars {
                    if len - i < 2 {
                        if len > i && eof {
                            return Err(DecodeError {
                                offset: at(base, i),
                            });
                        }
                        break;
                    }
                    let u = unit(i);
                    let (c, width) = match u {
                        0xD800..=0xDBFF => {
                            if len - i < 4 {
                                if eof {
                                    return Err(DecodeError {
                                        offset: at(base, i),
                                    });
                                }
                                break;
                            }
                            let low = unit(i + 2);
                            if !(0xDC00..=0xDFFF).contains(&low) {
                                return Err(DecodeError {
                                    offset: at(base, i),
                                });
                            }
                            let scalar = 0x10000
                                + ((u32::from(u) - 0xD800) << 10)
                                + (u32::from(low) - 0xDC00);
                            match char::from_u32(scalar) {
                                Some(c) => (c, 4),
                                None => {
                                    return Err(DecodeError {
                                        offset: at(base, i),
                                    });
                                }
                            }
                        }
                        0xDC00..=0xDFFF => {
                            return Err(DecodeError {
                                offset: at(base, i),
                            });
                        }
                        _ => match char::from_u32(u32::from(u)) {
                            Some(c) => (c, 2),
                            None => {
                                return Err(DecodeError {
                                    offset: at(base, i),
                                });
                            }
                        },
                    };
                    push(c);
                    i += width;
                    chars += 1;
                    if stop_at_newline && c == '\n' {
                        return Ok(Walk {
                            end: i,
                            newline: true,
                        });
                    }
                }
                Ok(Walk {
                    end: i,
                    newline: false,
                })
            }
            Kind::Legacy(encoding) => {
                let mut decoder = encoding.new_decoder_without_bom_handling();
                let mut scratch = String::with_capacity(16);
                // Start of the character being decoded; bytes before it are done.
                let mut boundary = i;
                while i < len && chars < max_chars {
                    let b = bytes[i];
                    if i == boundary && b < 0x80 {
                        // Every supported encoding maps ASCII bytes to themselves in its
                        // initial state, which it is in at a character boundary.
                        push(char::from(b));
                        i += 1;
                        boundary = i;
                        chars += 1;
                        if stop_at_newline && b == b'\n' {
                            return Ok(Walk {
                                end: i,
                                newline: true,
                            });
                        }
                        continue;
                    }
                    scratch.clear();
                    let (result, read) = decoder.decode_to_string_without_replacement(
                        &bytes[i..=i],
                        &mut scratch,
                        false,
                    );
                    match result {
                        DecoderResult::InputEmpty => {}
                        DecoderResult::Malformed(bad, after) => {
                            let bad_start = (i + read)
                                .saturating_sub(usize::from(after) + usize::from(bad))
                                .max(boundary);
                            return Err(DecodeError {
                                offset: at(base, bad_start),
                            });
                        }
                        DecoderResult::OutputFull => {
                            // Cannot happen with 16 bytes of room for one input byte;
                            // grow and retry the same byte if it ever does.
                            scratch.reserve(64);
                            continue;
                        }
                    }
                    i += read.max(1);
                    if scratch.is_empty() {
                        continue; // inside a multibyte sequence
                    }
                    let n = scratch.chars().count();
                    if chars + n > max_chars && chars > 0 {
                        // The sequence decodes to more characters than fit: stop before it
                        // (unless it comes first: it cannot be split, and returning nothing
                        // would stall the caller).
                        return Ok(Walk {
                            end: boundary,
                            newline: false,
                        });
                    }
                    scratch.chars().for_each(&mut push);
                    chars += n;
                    boundary = i;
                    if stop_at_newline && scratch.contains('\n') {
                        return Ok(Walk {
                            end: i,
                            newline: true,
                        });
                    }
                }
                if boundary < len && i == len && chars < max_chars && eof {
                    // Bytes end inside a multibyte sequence.
                    return Err(DecodeError {
                        offset: at(base, boundary),
                    });
                }
                Ok(Walk {
                    end: boundary,
                    newline: false,
                })
            }
        }
    }

    /// Encodes `text` for writing, strictly.
    ///
    /// Borrows when the bytes are the text's own UTF-8 (UTF-8, and ASCII text in any
    /// ASCII-compatible encoding). Never writes a BOM (see [`bom`](Self::bom)). Some
    /// WHATWG encoders map a few characters to bytes that decode to another character
    /// (Shift_JIS and EUC-JP encode U+00A5 YEN SIGN as 0x5C, as Python's codecs do).
    ///
    /// # Errors
    ///
    /// [`EncodeError`] with the index (in characters) of the first character the
    /// encoding cannot represent.
    pub(crate) fn encode<'a>(&self, text: &'a str) -> Result<Cow<'a, [u8]>, EncodeError> {
        let unmappable = |byte_index: usize| EncodeError {
            char_index: text
                .get(..byte_index)
                .map_or(0, |before| before.chars().count()),
            encoding: self.name(),
        };
        match self.kind {
            Kind::Utf8 { .. } => Ok(Cow::Borrowed(text.as_bytes())),
            Kind::Utf16 { big_endian } => {
                let mut out = Vec::with_capacity(text.len() * 2);
                for unit in text.encode_utf16() {
                    out.extend_from_slice(&if big_endian {
                        unit.to_be_bytes()
                    } else {
                        unit.to_le_bytes()
                    });
                }
                Ok(Cow::Owned(out))
            }
            Kind::Ascii => match text.char_indices().find(|(_, c)| !c.is_ascii()) {
                Some((i, _)) => Err(unmappable(i)),
                None => Ok(Cow::Borrowed(text.as_bytes())),
            },
            Kind::Latin1 => {
                if text.is_ascii() {
                    return Ok(Cow::Borrowed(text.as_bytes()));
                }
                let mut out = Vec::with_capacity(text.len());
                for (i, c) in text.char_indices() {
                    match u8::try_from(u32::from(c)) {
                        Ok(b) => out.push(b),
                        Err(_) => return Err(unmappable(i)),
                    }
                }
                Ok(Cow::Owned(out))
            }
            Kind::Legacy(encoding) => {
                if text.is_ascii() {
                    return Ok(Cow::Borrowed(text.as_bytes()));
                }
                let mut encoder = encoding.new_encoder();
                let mut out = Vec::with_capacity(text.len() + 16);
                let mut read = 0;
                loop {
                    let (result, n) = encoder.encode_from_utf8_to_vec_without_replacement(
                        &text[read..],
                        &mut out,
                        true,
                    );
                    read += n;
                    match result {
                        EncoderResult::InputEmpty => return Ok(Cow::Owned(out)),
                        EncoderResult::OutputFull => out.reserve(out.capacity().max(64)),
                        EncoderResult::Unmappable(c) => {
                            return Err(unmappable(read.saturating_sub(c.len_utf8())));
                        }
                    }
                }
            }
        }
    }
}

/// UTF-8 `decode_prefix` on bytes without a BOM to skip.
fn utf8_prefix(
    bytes: &[u8],
    base: u64,
    max_chars: usize,
    eof: bool,
) -> Result<(String, usize), DecodeError> {
    // max_chars characters take at most 4 * max_chars bytes: validate no further.
    let window = &bytes[..bytes.len().min(max_chars.saturating_mul(4))];
    let (valid, problem) = match std::str::from_utf8(window) {
        Ok(s) => (s, None),
        Err(e) => (
            // valid_up_to() is a char boundary of valid UTF-8.
            std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or_default(),
            Some((e.valid_up_to(), e.error_len())),
        ),
    };
    let (end, chars) = utf8_char_boundary(valid.as_bytes(), max_chars);
    if chars < max_chars {
        match problem {
            Some((at_byte, Some(_))) => {
                return Err(DecodeError {
                    offset: at(base, at_byte),
                });
            }
            // A truncated sequence at the very end (the window is then the whole input,
            // since a cut window would hold max_chars characters).
            Some((at_byte, None)) if eof => {
                return Err(DecodeError {
                    offset: at(base, at_byte),
                });
            }
            _ => {}
        }
    }
    Ok((valid.get(..end).unwrap_or_default().to_owned(), end))
}

/// UTF-8 `decode_line_from`: the line starts at `skip`, scanning resumes at `from`.
fn utf8_line(
    bytes: &[u8],
    skip: usize,
    from: usize,
    base: u64,
    eof: bool,
) -> Result<Line, DecodeError> {
    // 0x0A never occurs inside a multibyte UTF-8 sequence, so a byte scan is exact.
    let rest = &bytes[from..];
    let newline = rest.iter().position(|&b| b == b'\n');
    let scanned = match newline {
        Some(nl) => &rest[..=nl],
        None => rest,
    };
    if let Err(e) = std::str::from_utf8(scanned) {
        if e.error_len().is_some() || eof {
            return Err(DecodeError {
                offset: at(base, from + e.valid_up_to()),
            });
        }
        // Truncated sequence at the end of the bytes: wait for more.
        return Ok(Line::incomplete(from + e.valid_up_to()));
    }
    if newline.is_none() && !eof {
        return Ok(Line::incomplete(bytes.len()));
    }
    let end = from + scanned.len();
    // Decode the whole line once (this also re-checks bytes a bogus `resume` skipped).
    match std::str::from_utf8(&bytes[skip..end]) {
        Ok(text) => Ok(Line {
            text: text.to_owned(),
            consumed: end,
            complete: true,
            resume: 0,
        }),
        Err(e) => Err(DecodeError {
            offset: at(base, skip + e.valid_up_to()),
        }),
    }
}

/// Strips one line terminator (`"\n"` or `"\r\n"`), as `lines()` yields them.
pub(crate) fn strip_terminator(mut line: String) -> String {
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codec(label: &str) -> TextCodec {
        TextCodec::for_label(label).expect("known label")
    }

    /// Simulates the engine's `read_text` loop: the reader has `chunk` more bytes each
    /// time it reads, and it reads more when fewer than `max_chars` came back before EOF.
    fn read_chunked(
        c: TextCodec,
        bytes: &[u8],
        chunk: usize,
        max_chars: usize,
    ) -> Result<String, DecodeError> {
        read_chunked_with(c, bytes, chunk, max_chars, true)
    }

    /// [`read_chunked`]; `exact` also checks that re-encoding each piece gives the bytes
    /// it consumed (not true for arbitrary bytes in encodings with duplicate mappings).
    fn read_chunked_with(
        c: TextCodec,
        bytes: &[u8],
        chunk: usize,
        max_chars: usize,
        exact: bool,
    ) -> Result<String, DecodeError> {
        let (len, mut pos, mut avail) = (bytes.len(), 0usize, 0usize);
        let mut out = String::new();
        loop {
            if avail == pos && avail < len {
                avail = (avail + chunk).min(len);
            }
            let eof = avail == len;
            let (text, used) = c.decode_prefix(&bytes[pos..avail], pos as u64, max_chars, eof)?;
            let n = text.chars().count();
            assert!(n <= max_chars.max(2), "{n} chars for max {max_chars}");
            assert!(used <= avail - pos);
            if exact && c.kind != (Kind::Utf8 { sig: true }) {
                // Exactly the bytes of the text were consumed.
                assert_eq!(
                    c.encode(&text).expect("re-encode").as_ref(),
                    &bytes[pos..pos + used]
                );
            }
            out.push_str(&text);
            pos += used;
            if eof && used == 0 {
                assert_eq!(pos, len, "no progress at EOF");
                return Ok(out);
            }
            if n < max_chars && !eof {
                avail = (avail + chunk).min(len);
            }
        }
    }

    /// Simulates `read_line` / `lines`: reads `chunk` more bytes while a line is incomplete.
    fn lines_chunked(c: TextCodec, bytes: &[u8], chunk: usize) -> Result<Vec<String>, DecodeError> {
        lines_chunked_with(c, bytes, chunk, true)
    }

    /// [`lines_chunked`], with `exact` as in [`read_chunked_with`].
    fn lines_chunked_with(
        c: TextCodec,
        bytes: &[u8],
        chunk: usize,
        exact: bool,
    ) -> Result<Vec<String>, DecodeError> {
        let (len, mut pos, mut avail, mut resume) = (bytes.len(), 0usize, 0usize, 0usize);
        let mut lines = Vec::new();
        loop {
            let eof = avail == len;
            let line = c.decode_line_from(&bytes[pos..avail], pos as u64, eof, resume)?;
            if !line.complete {
                assert!(!eof);
                assert_eq!((line.consumed, line.text.as_str()), (0, ""));
                assert!(line.resume <= avail - pos);
                resume = line.resume;
                avail = (avail + chunk).min(len);
                continue;
            }
            resume = 0;
            let text = &line.text;
            // Never past the terminator.
            if let Some(i) = text.find('\n') {
                assert_eq!(i, text.len() - 1, "line {text:?} runs past its terminator");
            } else {
                assert!(eof, "unterminated line before EOF");
            }
            if exact && c.kind != (Kind::Utf8 { sig: true }) {
                assert_eq!(
                    c.encode(text).expect("re-encode").as_ref(),
                    &bytes[pos..pos + line.consumed]
                );
            }
            pos += line.consumed;
            if text.is_empty() {
                if pos == len {
                    return Ok(lines);
                }
                continue; // a skipped BOM
            }
            lines.push(line.text);
            if avail == pos && avail < len {
                avail = (avail + chunk).min(len);
            }
        }
    }

    const SAMPLE: &str = "h\u{e9}llo w\u{f6}rld\n\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{30c6}\u{30ad}\u{30b9}\u{30c8}\r\n\
        \u{1f600}\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466} e\u{301}\u{308}a\u{20dd}\n\
        \u{1f3f3}\u{fe0f}\u{200d}\u{1f308}\rnot a terminator\n\n\r\n\u{10ffff}\u{feff}\u{800}\u{7ff}\u{ffff}\u{10000}end";
    const SJIS_SAMPLE: &str = "\u{65e5}\u{672c}\u{8a9e}\u{30c6}\u{30ad}\u{30b9}\u{30c8}\n\u{30bd}\u{8868}\u{80fd}\u{ff76}\u{ff80}\u{ff76}\u{ff85} abc~\r\n\
        \u{6f22}\u{5b57}\u{3001}\u{3072}\u{3089}\u{304c}\u{306a}\u{3002}\n\nend\u{30bd}";
    const GBK_SAMPLE: &str = "\u{4e2d}\u{6587}\u{6587}\u{672c}\n\u{6c49}\u{5b57}\u{ff0c}\u{6807}\u{70b9}\u{3002}\r\n\u{20ac} euro\n\u{a4}\nend\u{4e2d}";

    fn cases() -> Vec<(&'static str, &'static str)> {
        vec![
            ("utf-8", SAMPLE),
            ("utf_16_le", SAMPLE),
            ("UTF-16BE", SAMPLE),
            ("gb18030", SAMPLE),
            ("shift_jis", SJIS_SAMPLE),
            ("euc-jp", SJIS_SAMPLE),
            ("gbk", GBK_SAMPLE),
            ("latin-1", "h\u{e9}llo\r\n\u{ff}\u{80}\n\u{a0}x"),
            ("cp1252", "h\u{e9}llo\r\n\u{20ac}\u{2019}\nx"),
            ("ascii", "plain\r\nascii\n"),
        ]
    }

    #[test]
    fn every_chunk_size_and_limit_reconstructs_the_text() {
        for (label, text) in cases() {
            let c = codec(label);
            let bytes = c.encode(text).expect("encodable sample").into_owned();
            for chunk in 1..=17 {
                for max_chars in [1, 2, 3, 5, 7, 64, usize::MAX] {
                    let got = read_chunked(c, &bytes, chunk, max_chars).expect("valid text");
                    assert_eq!(got, text, "{label}, chunk {chunk}, max {max_chars}");
                }
                let lines = lines_chunked(c, &bytes, chunk).expect("valid text");
                let expected: Vec<&str> = text.split_inclusive('\n').collect();
                assert_eq!(lines, expected, "{label}, chunk {chunk}");
            }
        }
    }

    #[test]
    fn limits_are_exact() {
        for (label, text) in cases() {
            let c = codec(label);
            let bytes = c.encode(text).expect("encodable");
            for max_chars in 1..text.chars().count() {
                let (got, used) = c.decode_prefix(&bytes, 0, max_chars, true).expect("valid");
                let expected: String = text.chars().take(max_chars).collect();
                assert_eq!(got, expected, "{label} {max_chars}");
                assert_eq!(used, c.encode(&expected).expect("encodable").len());
            }
            assert_eq!(c.decode_prefix(&bytes, 0, 0, true), Ok((String::new(), 0)));
            assert_eq!(c.decode_prefix(b"", 7, 5, true), Ok((String::new(), 0)));
            assert_eq!(c.decode_prefix(b"", 7, 5, false), Ok((String::new(), 0)));
        }
    }

    /// Decodes `bytes` in every chunking and checks the error is at `offset`.
    fn assert_error_at(label: &str, bytes: &[u8], offset: usize) {
        let c = codec(label);
        for chunk in 1..=17 {
            for max_chars in [1, 3, usize::MAX] {
                assert_eq!(
                    read_chunked(c, bytes, chunk, max_chars),
                    Err(DecodeError {
                        offset: offset as u64
                    }),
                    "{label} {bytes:x?} chunk {chunk} max {max_chars}"
                );
            }
            if !bytes[..offset].contains(&b'\n') || label.starts_with("utf-16") {
                let lines = lines_chunked(c, bytes, chunk);
                if !c
                    .decode_prefix(&bytes[..offset], 0, usize::MAX, false)
                    .map(|(t, _)| t.contains('\n'))
                    .unwrap_or(false)
                {
                    assert_eq!(
                        lines,
                        Err(DecodeError {
                            offset: offset as u64
                        }),
                        "{label} lines chunk {chunk}"
                    );
                }
            }
        }
    }

    #[test]
    fn invalid_bytes_yield_their_exact_offset() {
        let bad_utf8: [&[u8]; 6] = [
            b"\xff",
            b"\xc0\x80",
            b"\xed\xa0\x80",
            b"\xe6\x97",
            b"\x80",
            b"\xf4\x90\x80\x80",
        ];
        for (label, text) in cases() {
            let c = codec(label);
            let bytes = c.encode(text).expect("encodable").into_owned();
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| c.encode(&text[..i]).expect("encodable").len())
                .collect();
            for &p in &boundaries {
                let splice = |bad: &[u8]| [&bytes[..p], bad, b"\xe6\x97\xa5 more"].concat();
                match label {
                    "utf-8" => {
                        for bad in bad_utf8 {
                            assert_error_at(label, &splice(bad), p);
                        }
                    }
                    "utf_16_le" => {
                        assert_error_at(label, &splice(b"\x00\xdc"), p); // lone low surrogate
                        assert_error_at(label, &splice(b"\x00\xd8a\x00"), p); // high + 'a'
                    }
                    "UTF-16BE" => assert_error_at(label, &splice(b"\xdc\x00"), p),
                    "shift_jis" => {
                        assert_error_at(label, &splice(b"\xff"), p);
                        assert_error_at(label, &splice(b"\x81\x20"), p); // lead + bad trail
                    }
                    "gbk" | "gb18030" | "euc-jp" => assert_error_at(label, &splice(b"\xff"), p),
                    "ascii" => assert_error_at(label, &splice(b"\x80"), p),
                    _ => {}
                }
            }
            // A truncated sequence at EOF.
            let truncated: &[u8] = match label {
                "utf-8" => b"\xe6\x97",
                "utf_16_le" => b"\x3d\xd8",
                "UTF-16BE" => b"\x00",
                "shift_jis" => b"\x93",
                "gbk" | "euc-jp" => b"\xc8",
                "gb18030" => b"\x81\x30",
                _ => continue,
            };
            let all = [&bytes[..], truncated].concat();
            assert_error_at(label, &all, bytes.len());
            // Before EOF it is just left unconsumed.
            let (t, used) = c
                .decode_prefix(&all, 0, usize::MAX, false)
                .expect("not yet an error");
            assert_eq!((t.as_str(), used), (text, bytes.len()));
        }
    }

    #[test]
    fn errors_past_the_limit_or_the_line_are_not_reported() {
        let c = codec("utf-8");
        assert_eq!(
            c.decode_prefix(b"ab\xff", 10, 2, true),
            Ok(("ab".into(), 2))
        );
        assert_eq!(
            c.decode_prefix(b"ab\xff", 10, 3, true),
            Err(DecodeError { offset: 12 })
        );
        let line = c.decode_line(b"ab\n\xff", 0, true).expect("line");
        assert_eq!(
            (line.text.as_str(), line.consumed, line.complete),
            ("ab\n", 3, true)
        );
        let c = codec("utf-16le");
        assert_eq!(
            c.decode_prefix(b"a\x00\x00\xdc", 0, 1, true),
            Ok(("a".into(), 2))
        );
        assert_eq!(
            c.decode_prefix(b"a\x00\x00\xdc", 4, 2, true),
            Err(DecodeError { offset: 6 })
        );
    }

    #[test]
    fn carriage_returns() {
        for label in ["utf-8", "utf-16le", "shift_jis", "latin-1"] {
            let c = codec(label);
            let enc = |s: &str| c.encode(s).expect("encodable").into_owned();
            let line = c.decode_line(&enc("abc\r"), 0, false).expect("ok");
            assert!(!line.complete, "{label}");
            let line = c.decode_line(&enc("abc\r"), 0, true).expect("ok");
            assert_eq!((line.text.as_str(), line.complete), ("abc\r", true));
            let line = c.decode_line(&enc("a\rb\r\nc"), 0, false).expect("ok");
            assert_eq!(line.text, "a\rb\r\n");
            let line = c.decode_line(&enc(""), 0, true).expect("ok");
            assert_eq!(
                (line.text.as_str(), line.consumed, line.complete),
                ("", 0, true)
            );
        }
        // UTF-16: 0x0A bytes that are not newlines.
        let c = codec("utf-16le");
        let bytes = c.encode("\u{a0a}\u{10a}x\n").expect("encodable");
        let line = c.decode_line(&bytes, 0, false).expect("ok");
        assert_eq!(
            (line.text.as_str(), line.consumed),
            ("\u{a0a}\u{10a}x\n", 8)
        );
    }

    #[test]
    fn byte_order_marks() {
        let sig = codec("utf-8-sig");
        assert_eq!(sig.name(), "utf-8-sig");
        assert_eq!(sig.bom(), b"\xef\xbb\xbf");
        let bytes = b"\xef\xbb\xbfab\ncd";
        assert_eq!(sig.decode_prefix(bytes, 0, 1, false), Ok(("a".into(), 4)));
        assert_eq!(
            sig.decode_prefix(&bytes[..2], 0, 1, false),
            Ok((String::new(), 0))
        );
        assert_eq!(
            sig.decode_prefix(&bytes[..3], 0, 1, false),
            Ok((String::new(), 3))
        );
        assert_eq!(
            sig.decode_prefix(&bytes[..2], 0, 1, true),
            Err(DecodeError { offset: 0 })
        );
        // Only at offset 0.
        assert_eq!(
            sig.decode_prefix(bytes, 5, 1, false),
            Ok(("\u{feff}".into(), 3))
        );
        let line = sig.decode_line(bytes, 0, false).expect("ok");
        assert_eq!((line.text.as_str(), line.consumed), ("ab\n", 6));
        for chunk in 1..=5 {
            assert_eq!(read_chunked(sig, bytes, chunk, 2).expect("ok"), "ab\ncd");
            assert_eq!(
                lines_chunked(sig, bytes, chunk).expect("ok"),
                ["ab\n", "cd"]
            );
            assert_eq!(
                lines_chunked(sig, b"\xef\xbb\xbf", chunk).expect("ok"),
                Vec::<String>::new()
            );
        }
        // Plain UTF-8 keeps it, like Python's "utf-8".
        let utf8 = codec("utf8");
        assert_eq!(
            utf8.decode_prefix(bytes, 0, 1, false),
            Ok(("\u{feff}".into(), 3))
        );
        assert!(utf8.bom().is_empty());
        assert_eq!(
            utf8.encode("\u{feff}x").expect("ok").as_ref(),
            b"\xef\xbb\xbfx"
        );
    }

    #[test]
    fn big5_sequences_with_two_scalars() {
        let c = codec("big5");
        let bytes = b"a\x88\x62b";
        assert_eq!(c.decode_prefix(bytes, 0, 2, true), Ok(("a".into(), 1)));
        assert_eq!(
            c.decode_prefix(bytes, 0, 3, true),
            Ok(("a\u{ca}\u{304}".into(), 3))
        );
        // The sequence cannot be split: with room for one it comes whole.
        assert_eq!(
            c.decode_prefix(&bytes[1..], 1, 1, true),
            Ok(("\u{ca}\u{304}".into(), 2))
        );
        for chunk in 1..=5 {
            for max in [1, 2, 3] {
                assert_eq!(
                    read_chunked_with(c, bytes, chunk, max, false).expect("ok"),
                    "a\u{ca}\u{304}b"
                );
            }
        }
    }

    #[test]
    fn labels() {
        for (label, name) in [
            ("utf-8", "UTF-8"),
            ("UTF8", "UTF-8"),
            (" utf_8 ", "UTF-8"),
            ("unicode-1-1-utf-8", "UTF-8"),
            ("utf_16_le", "UTF-16LE"),
            ("utf-16", "UTF-16LE"),
            ("UTF-16BE", "UTF-16BE"),
            ("latin-1", "latin-1"),
            ("Latin1", "latin-1"),
            ("iso-8859-1", "latin-1"),
            ("iso8859_1", "latin-1"),
            ("ascii", "ascii"),
            ("us-ascii", "ascii"),
            ("cp1252", "windows-1252"),
            ("windows-1252", "windows-1252"),
            ("shift_jis", "Shift_JIS"),
            ("Shift-JIS", "Shift_JIS"),
            ("cp932", "Shift_JIS"),
            ("sjis", "Shift_JIS"),
            ("euc_jp", "EUC-JP"),
            ("euc_kr", "EUC-KR"),
            ("cp949", "EUC-KR"),
            ("gbk", "GBK"),
            ("cp936", "GBK"),
            ("gb2312", "GBK"),
            ("GB18030", "gb18030"),
            ("big5hkscs", "Big5"),
            ("koi8_r", "KOI8-R"),
            ("iso8859_15", "ISO-8859-15"),
            ("mac_roman", "macintosh"),
            ("cp866", "IBM866"),
            ("x-user-defined", "x-user-defined"),
        ] {
            assert_eq!(codec(label).name(), name, "{label}");
        }
        for label in [
            "",
            "nope",
            "utf-7",
            "iso-2022-jp",
            "csISO2022JP",
            "replacement",
            "iso-2022-kr",
            "hz-gb-2312",
            "utf-8\0",
        ] {
            assert_eq!(
                TextCodec::for_label(label),
                Err(UnknownEncoding {
                    label: label.to_owned()
                }),
                "{label}"
            );
        }
        assert_eq!(TextCodec::default(), codec("utf-8"));
    }

    #[test]
    fn latin1_is_not_windows_1252() {
        let c = codec("latin-1");
        let all: Vec<u8> = (0..=255).collect();
        let (text, used) = c
            .decode_prefix(&all, 0, usize::MAX, true)
            .expect("every byte");
        assert_eq!(used, 256);
        assert!(
            text.chars()
                .enumerate()
                .all(|(i, ch)| u32::from(ch) == i as u32)
        );
        assert_eq!(c.encode(&text).expect("round trip").as_ref(), &all[..]);
    }

    #[test]
    fn encode_errors() {
        let err = |label: &str, text: &str| codec(label).encode(text).map(|b| b.into_owned());
        let e = |char_index, encoding| {
            Err(EncodeError {
                char_index,
                encoding,
            })
        };
        assert_eq!(err("ascii", "ab\u{e9}c"), e(2, "ascii"));
        assert_eq!(err("latin-1", "\u{e9}\u{ff}\u{100}"), e(2, "latin-1"));
        assert_eq!(err("shift_jis", "\u{65e5}a\u{1f600}"), e(2, "Shift_JIS"));
        assert_eq!(err("gbk", "\u{4e2d}\u{1f600}"), e(1, "GBK"));
        assert_eq!(err("windows-1252", "\u{20ac}\u{3b1}"), e(1, "windows-1252"));
        assert_eq!(err("gb18030", "\u{1f600}").map(|b| b.len()), Ok(4));
        assert!(matches!(
            codec("shift_jis").encode("plain"),
            Ok(Cow::Borrowed(b"plain"))
        ));
        assert!(matches!(
            codec("utf-8").encode("\u{e9}"),
            Ok(Cow::Borrowed(_))
        ));
        assert_eq!(
            err("utf-16be", "a\u{1f600}"),
            Ok(b"\x00a\xd8\x3d\xde\x00".to_vec())
        );
        let msg = EncodeError {
            char_index: 3,
            encoding: "ascii",
        }
        .to_string();
        assert_eq!(msg, "character 3 cannot be encoded in ascii");
        assert_eq!(
            DecodeError { offset: 9 }.to_string(),
            "invalid byte sequence at offset 9"
        );
    }

    #[test]
    fn bogus_resume_hints_do_not_panic() {
        for label in ["utf-8", "utf-16le", "shift_jis", "utf-8-sig"] {
            let c = codec(label);
            let bytes = c.encode("\u{65e5}\u{672c}\nx").expect("encodable");
            for resume in 0..bytes.len() + 3 {
                for eof in [false, true] {
                    let _ = c.decode_line_from(&bytes, 0, eof, resume);
                }
            }
        }
        assert_eq!(
            codec("utf-8").decode_prefix(b"a", u64::MAX, 1, true),
            Ok(("a".into(), 1))
        );
        assert_eq!(
            codec("utf-8").decode_prefix(b"\xff", u64::MAX, 1, true),
            Err(DecodeError { offset: u64::MAX })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn unicode_round_trips(
            text in any::<String>(),
            label in prop::sample::select(vec!["utf-8", "utf-16le", "utf-16be", "gb18030"]),
            chunk in 1usize..=17,
            max_chars in 1usize..=9,
        ) {
            let c = codec(label);
            let bytes = c.encode(&text).expect("encodable").into_owned();
            prop_assert_eq!(read_chunked(c, &bytes, chunk, max_chars).expect("valid"), text.clone());
            let lines = lines_chunked(c, &bytes, chunk).expect("valid");
            prop_assert_eq!(lines, text.split_inclusive('\n').collect::<Vec<_>>());
        }

        #[test]
        fn cjk_round_trips(
            text in "[\u{3041}-\u{3093}\u{30a1}-\u{30f3}\u{4e00}-\u{4fff}a-z\u{ff61}-\u{ff9f}\r\n ~]{0,40}",
            label in prop::sample::select(vec!["shift_jis", "euc-jp", "gbk", "euc-kr", "big5", "utf-8"]),
            chunk in 1usize..=17,
            max_chars in 1usize..=9,
        ) {
            let c = codec(label);
            // Keep the characters this encoding can represent.
            let text: String = text.chars().filter(|ch| c.encode(&ch.to_string()).is_ok()).collect();
            let bytes = c.encode(&text).expect("encodable").into_owned();
            prop_assert_eq!(read_chunked(c, &bytes, chunk, max_chars).expect("valid"), text.clone());
            let lines = lines_chunked(c, &bytes, chunk).expect("valid");
            prop_assert_eq!(lines, text.split_inclusive('\n').collect::<Vec<_>>());
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_match_oracles(
            bytes in prop::collection::vec(any::<u8>(), 0..48),
            label in prop::sample::select(vec![
                "utf-8", "utf-8-sig", "utf-16le", "utf-16be", "shift_jis", "euc-jp", "gbk",
                "gb18030", "big5", "euc-kr", "windows-1252", "latin-1", "ascii", "koi8-r",
            ]),
            chunk in 1usize..=17,
            max_chars in 1usize..=9,
        ) {
            let c = codec(label);
            let whole = c.decode_prefix(&bytes, 0, usize::MAX, true).map(|(t, _)| t);
            prop_assert_eq!(read_chunked_with(c, &bytes, chunk, max_chars, false), whole.clone());
            for eof in [false, true] {
                let _ = c.decode_line(&bytes, 3, eof);
                let _ = c.decode_prefix(&bytes, 3, max_chars, eof);
            }
            let lines = lines_chunked_with(c, &bytes, chunk, false);
            match &whole {
                Ok(text) => prop_assert_eq!(lines.expect("valid").concat(), text.clone()),
                Err(e) => prop_assert!(lines.is_err() || e.offset > 0),
            }
            let oracle: Option<String> = match label {
                "utf-8" => std::str::from_utf8(&bytes).ok().map(str::to_owned),
                "utf-16le" | "utf-16be" if bytes.len() % 2 == 0 => {
                    let units: Vec<u16> = bytes.chunks(2).map(|p| {
                        let pair = [p[0], p[1]];
                        if label == "utf-16le" { u16::from_le_bytes(pair) } else { u16::from_be_bytes(pair) }
                    }).collect();
                    String::from_utf16(&units).ok()
                }
                "utf-16le" | "utf-16be" => None,
                "utf-8-sig" => {
                    let rest = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
                    std::str::from_utf8(rest).ok().map(str::to_owned)
                }
                "latin-1" => Some(bytes.iter().map(|&b| char::from(b)).collect()),
                "ascii" => bytes.is_ascii().then(|| bytes.iter().map(|&b| char::from(b)).collect()),
                other => Encoding::for_label(other.as_bytes())
                    .and_then(|e| e.decode_without_bom_handling_and_without_replacement(&bytes))
                    .map(Cow::into_owned),
            };
            prop_assert_eq!(whole.as_ref().ok(), oracle.as_ref());
            if let (Err(e), "utf-8") = (&whole, label) {
                let valid_up_to = std::str::from_utf8(&bytes).err().map(|e| e.valid_up_to() as u64);
                prop_assert_eq!(Some(e.offset), valid_up_to);
            }
        }

        #[test]
        fn labels_never_panic(label in any::<String>()) {
            let _ = TextCodec::for_label(&label);
        }
    }
}
