//! `cargo xtask tidy`: cheap repository checks, in rust-analyzer's style. The first CI step.
//!
//! Plain Rust over the files of the checkout: no build, no network, nothing but std (and
//! `git ls-files` when git is there). Every check runs and every problem is listed before
//! the task fails. The checks:
//!
//! - [`private_notes`]: no tracked file mentions the design notes kept outside the
//!   repository (their names are in [`PRIVATE_NOTES`]); the docs must stand alone.
//! - [`markdown_links`]: every relative link in a tracked `*.md` file names a file that
//!   exists, and its `#anchor`, if any, a heading of the target (GitHub's slugs, see
//!   [`slug`]). `http(s)` and `mailto` links are not fetched.
//! - [`codemap`]: ARCHITECTURE.md's Codemap section names every module of every
//!   workspace crate; see [`codemap`] for the rule.
//! - [`manifests`]: the workspace's `rust-version` is not newer than the `rustc` running
//!   the checks (a note says so when they differ), it is declared once, and every member
//!   takes the workspace's `[lints]`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::workspace_root;

/// Names of private notes that the repository must not mention (built with `concat!` so
/// that this file does not mention them either).
const PRIVATE_NOTES: [&str; 2] = [concat!("DESIGN", ".md"), concat!("API", ".md")];

/// The file whose Codemap section [`codemap`] checks.
const ARCHITECTURE: &str = "ARCHITECTURE.md";

/// Runs every check; lists every problem found, then fails if there was one.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`tidy` takes no arguments (got `{arg}`)"));
    }
    check()
}

/// The CI step: every check, against the workspace this xtask belongs to.
pub(crate) fn check() -> Result<(), String> {
    eprintln!("\n==> tidy");
    let root = workspace_root();
    let files = tracked_files(&root)?;
    let mut problems = Vec::new();
    problems.extend(private_notes(&root, &files));
    problems.extend(markdown_links(&root, &files));
    problems.extend(codemap(&root)?);
    problems.extend(manifests(&root)?);
    if problems.is_empty() {
        eprintln!("tidy: ok ({} files)", files.len());
        return Ok(());
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    Err(format!("tidy: {} problem(s), listed above", problems.len()))
}

/// The checkout's files, relative to `root` with `/` separators: `git ls-files` where git
/// works, otherwise every file outside `.git` and `target` directories.
fn tracked_files(root: &Path) -> Result<Vec<String>, String> {
    let git = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output();
    if let Ok(out) = git
        && out.status.success()
    {
        let list = String::from_utf8_lossy(&out.stdout);
        return Ok(list
            .split('\0')
            .filter(|f| !f.is_empty() && root.join(f).is_file())
            .map(String::from)
            .collect());
    }
    let mut files = Vec::new();
    walk(root, root, &mut files).map_err(|e| format!("tidy: listing {}: {e}", root.display()))?;
    files.sort();
    Ok(files)
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if entry.file_type()?.is_dir() {
            if name != ".git" && name != "target" {
                walk(root, &path, files)?;
            }
        } else if let Ok(rel) = path.strip_prefix(root) {
            files.push(rel_string(rel));
        }
    }
    Ok(())
}

fn rel_string(rel: &Path) -> String {
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Every `file:line` of a tracked text file that names one of [`PRIVATE_NOTES`].
fn private_notes(root: &Path, files: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for file in files {
        // Binary files (the fuzz corpora) are not text, and not docs.
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            for note in PRIVATE_NOTES {
                if line.contains(note) {
                    problems.push(format!(
                        "{file}:{}: mentions {note}, a private note that is not in the repository; \
                         say it here or in ARCHITECTURE.md / RELIABILITY.md instead",
                        i + 1
                    ));
                }
            }
        }
    }
    problems
}

/// Every broken relative link of the tracked `*.md` files.
fn markdown_links(root: &Path, files: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut anchors_of: HashMap<PathBuf, Vec<String>> = HashMap::new();
    for file in files.iter().filter(|f| f.ends_with(".md")) {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            problems.push(format!("{file}: not UTF-8 text"));
            continue;
        };
        let dir = Path::new(file).parent().unwrap_or(Path::new(""));
        for link in links(&text) {
            let Some((path, anchor)) = local_target(&link.dest) else {
                continue;
            };
            let target = if path.is_empty() {
                PathBuf::from(file)
            } else if let Some(from_root) = path.strip_prefix('/') {
                PathBuf::from(from_root)
            } else {
                dir.join(&path)
            };
            let at = format!("{file}:{}: link `{}`", link.line, link.dest);
            let full = root.join(&target);
            if !full.exists() {
                problems.push(format!("{at}: {} does not exist", target.display()));
                continue;
            }
            let (Some(anchor), true) = (anchor, target.extension().is_some_and(|e| e == "md"))
            else {
                continue;
            };
            let anchors = anchors_of.entry(target.clone()).or_insert_with(|| {
                std::fs::read_to_string(&full)
                    .map(|t| heading_anchors(&t))
                    .unwrap_or_default()
            });
            if !anchors.iter().any(|a| *a == anchor.to_lowercase()) {
                problems.push(format!(
                    "{at}: {} has no heading with the anchor #{anchor} (its anchors: {})",
                    target.display(),
                    anchors.join(", ")
                ));
            }
        }
    }
    problems
}

/// A link found in markdown text: its destination, and the 1-based line it is on.
#[derive(Debug, PartialEq, Eq)]
struct Link {
    line: usize,
    dest: String,
}

/// The links of `markdown`: inline links and images (`[text](dest "title")`,
/// `![alt](<dest>)`) and reference definitions (`[label]: dest`), outside code blocks and
/// code spans.
fn links(markdown: &str) -> Vec<Link> {
    let mut found = Vec::new();
    for (line_no, line) in prose_lines(markdown) {
        let line = blank_code_spans(line);
        let trimmed = line.trim_start();
        // A reference definition: `[label]: dest`.
        if trimmed.starts_with('[')
            && !trimmed.starts_with("[^")
            && let Some(close) = trimmed
                .find(']')
                .filter(|&c| trimmed[c + 1..].starts_with(':'))
        {
            let dest = trimmed[close + 2..].split_whitespace().next().unwrap_or("");
            let dest = dest.trim_start_matches('<').trim_end_matches('>');
            if !dest.is_empty() {
                found.push(Link {
                    line: line_no,
                    dest: dest.to_string(),
                });
            }
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let before = &rest[..at];
            rest = &rest[at + 2..];
            if !before.contains('[') {
                continue;
            }
            if let Some(dest) = link_destination(rest) {
                found.push(Link {
                    line: line_no,
                    dest,
                });
            }
        }
    }
    found
}

/// The lines of `markdown` outside fenced code blocks, numbered from 1.
fn prose_lines(markdown: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut fence: Option<(char, usize)> = None;
    markdown.lines().enumerate().filter_map(move |(i, line)| {
        let trimmed = line.trim_start();
        let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = marker.map_or(0, |m| trimmed.chars().take_while(|c| *c == m).count());
        match (fence, marker) {
            (None, Some(m)) if run >= 3 => {
                fence = Some((m, run));
                None
            }
            (Some((m, n)), Some(c)) if c == m && run >= n && trimmed[run..].trim().is_empty() => {
                fence = None;
                None
            }
            (Some(_), _) => None,
            (None, _) => Some((i + 1, line)),
        }
    })
}

/// `line` with its code spans (`` `x` ``, ``` `` x `` ```) replaced by spaces.
fn blank_code_spans(line: &str) -> String {
    split_code_spans(line).0
}

/// `line` with its code spans replaced by spaces, and the spans' contents (trimmed).
fn split_code_spans(line: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(line.len());
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let after = &rest[start + ticks..];
        let closing = "`".repeat(ticks);
        // The span ends at the next run of exactly as many backticks.
        let mut search = 0;
        let end = loop {
            match after[search..].find(&closing) {
                Some(i) => {
                    let i = search + i;
                    let run = after[i..].chars().take_while(|c| *c == '`').count();
                    if run == ticks {
                        break Some(i);
                    }
                    search = i + run;
                }
                None => break None,
            }
        };
        match end {
            Some(end) => {
                out.push_str(&" ".repeat(ticks * 2 + end));
                spans.push(after[..end].trim().to_string());
                rest = &after[end + ticks..];
            }
            None => {
                // Unclosed: the backticks are literal.
                out.push_str(&rest[start..start + ticks]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, spans)
}

/// The destination of an inline link, given the text after its `](`.
fn link_destination(after: &str) -> Option<String> {
    let after = after.trim_start();
    if let Some(angled) = after.strip_prefix('<') {
        return angled.find('>').map(|end| angled[..end].to_string());
    }
    let mut depth = 0usize;
    for (i, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(after[..i].to_string()),
            ')' => depth -= 1,
            c if c.is_whitespace() => return Some(after[..i].to_string()),
            _ => {}
        }
    }
    None
}

/// The local file (percent-decoded; empty for the same file) and anchor that `dest`
/// points to, or `None` for a link that leaves the repository (`https:`, `mailto:`, ...).
fn local_target(dest: &str) -> Option<(String, Option<String>)> {
    let scheme_end = dest.find(':');
    let path_start = dest.find(['/', '#', '?']).unwrap_or(dest.len());
    if scheme_end.is_some_and(|c| c < path_start) || dest.starts_with("//") {
        return None;
    }
    let (path, anchor) = match dest.split_once('#') {
        Some((path, anchor)) => (path, Some(percent_decode(anchor))),
        None => (dest, None),
    };
    let path = path.split('?').next().unwrap_or("");
    Some((percent_decode(path), anchor.filter(|a| !a.is_empty())))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = s
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The heading text of an ATX heading line (`## Text ##`), with its level.
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let line = &line[indent..];
    let level = line.chars().take_while(|c| *c == '#').count();
    if indent > 3 || !(1..=6).contains(&level) {
        return None;
    }
    let text = &line[level..];
    if !(text.is_empty() || text.starts_with([' ', '\t'])) {
        return None;
    }
    let text = text.trim();
    // An optional closing sequence of `#`s, after a space.
    let without = text.trim_end_matches('#');
    let text = if without.is_empty() || without.ends_with([' ', '\t']) {
        without.trim_end()
    } else {
        text
    };
    Some((level, text))
}

/// The headings of `markdown` (ATX and setext, outside code blocks): level and text.
fn headings(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut previous: Option<(usize, &str)> = None;
    for (line_no, line) in prose_lines(markdown) {
        if let Some((level, text)) = atx_heading(line) {
            found.push((level, text.to_string()));
            previous = None;
            continue;
        }
        let underline = line.trim();
        let setext = if !underline.is_empty() && underline.chars().all(|c| c == '=') {
            Some(1)
        } else if underline.len() >= 2 && underline.chars().all(|c| c == '-') {
            Some(2)
        } else {
            None
        };
        match (setext, previous) {
            (Some(level), Some((prev_no, text))) if prev_no + 1 == line_no => {
                found.push((level, text.trim().to_string()));
                previous = None;
            }
            _ => {
                let para = !line.trim().is_empty()
                    && !line.trim_start().starts_with(['-', '*', '+', '>', '|']);
                previous = para.then_some((line_no, line));
            }
        }
    }
    found
}

/// The anchors GitHub gives the headings of `markdown`: each heading's [`slug`], with
/// `-1`, `-2`, ... appended to repeats.
fn heading_anchors(markdown: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::new();
    for (_, text) in headings(markdown) {
        let base = slug(&text);
        let count = seen.entry(base.clone()).or_insert(0);
        anchors.push(if *count == 0 {
            base
        } else {
            format!("{base}-{count}")
        });
        *count += 1;
    }
    anchors
}

/// GitHub's anchor for a heading: the rendered text (links reduced to their text,
/// code-span backticks dropped), lowercased, with every character that is not a letter,
/// a digit, `-`, `_` or a space removed and each space turned into `-`.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // `[text](dest)` renders as `text`.
    while let Some(open) = rest.find('[') {
        let close = rest[open..].find("](").map(|c| open + c);
        let end = close.and_then(|c| rest[c..].find(')').map(|e| c + e));
        match (close, end) {
            (Some(close), Some(end)) => {
                text.push_str(&rest[..open]);
                text.push_str(&rest[open + 1..close]);
                rest = &rest[end + 1..];
            }
            _ => break,
        }
    }
    text.push_str(rest);
    text.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Checks that ARCHITECTURE.md's Codemap section names every module of every workspace
/// crate, and lists those it does not.
///
/// The rule: the modules are derived from the file tree when the check runs. Every
/// `.rs` file under a member crate's `src/` is a module, except the crate roots
/// `src/lib.rs` and `src/main.rs`; every directory under `src/` is one too (with its
/// `mod.rs`, if any). The Codemap section (from the heading "Codemap" to the next
/// heading of the same or a higher level) names a module in a code span (backticks)
/// that is one of:
///
/// - its path from the workspace root: `fileio-core/src/uring/driver.rs`,
///   `fileio-core/src/uring/` (a directory);
/// - its path from its crate's `src/`, after a code span that starts with the crate's
///   directory (`fileio-core/`, `fileio-core/src/`) and before one that starts with
///   another crate's: `uring/driver.rs`, `uring/` (or `uring/mod.rs`), `mode.rs`;
/// - likewise its module path: `uring::driver`, `mode`.
///
/// So a bullet per crate (`` `fileio-core/src/` ``) with sub-bullets per file
/// (`` `uring/driver.rs`: ... ``) passes, and so does any other layout that writes the
/// paths out. Each crate must also be named (a code span that starts with its
/// directory).
fn codemap(root: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(root.join(ARCHITECTURE))
        .map_err(|e| format!("tidy: reading {ARCHITECTURE}: {e}"))?;
    let Some(section) = section(&text, "codemap") else {
        return Ok(vec![format!(
            "{ARCHITECTURE}: no Codemap section (a heading `Codemap`)"
        )]);
    };
    let mut crates = BTreeMap::new();
    for member in workspace_members(root)? {
        let src = root.join(&member).join("src");
        let mut modules = Vec::new();
        collect_modules(&src, &src, &mut modules)
            .map_err(|e| format!("tidy: listing {}: {e}", src.display()))?;
        modules.sort();
        crates.insert(member, modules);
    }
    let missing = missing_from_codemap(&section, &crates);
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![format!(
        "{ARCHITECTURE}: the Codemap section does not name these modules:\n  {}\n\
         Rule (see xtask/src/tidy.rs, `codemap`): every src/**/*.rs file except lib.rs / \
         main.rs and every directory under src/ of each workspace crate must appear in a \
         code span of the Codemap section, either as its path from the workspace root \
         (`fileio-core/src/uring/driver.rs`, `fileio-core/src/uring/`) or, below a code \
         span naming its crate (`fileio-core/src/`), as its path from src/ \
         (`uring/driver.rs`, `uring/`) or module path (`uring::driver`).",
        missing.join("\n  ")
    )])
}

/// The text of the section of `markdown` whose heading has the anchor `anchor`, up to
/// the next heading of the same or a higher level.
fn section(markdown: &str, anchor: &str) -> Option<String> {
    // Lines in fenced code blocks are not headings, whatever they start with.
    let prose: HashSet<usize> = prose_lines(markdown).map(|(n, _)| n).collect();
    let mut level = None;
    let mut body = String::new();
    for (i, line) in markdown.lines().enumerate() {
        let heading = atx_heading(line).filter(|_| prose.contains(&(i + 1)));
        match (level, heading) {
            (None, Some((l, text))) if slug(text) == anchor => level = Some(l),
            (Some(l), Some((this, _))) if this <= l => break,
            (Some(_), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, _) => {}
        }
    }
    level.map(|_| body)
}

/// The modules under `src` (see [`codemap`]): paths from `src/` with `/` separators,
/// directories ending in `/`.
fn collect_modules(src: &Path, dir: &Path, modules: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(src) else {
            continue;
        };
        let rel = rel_string(rel);
        if entry.file_type()?.is_dir() {
            modules.push(format!("{rel}/"));
            collect_modules(src, &path, modules)?;
        } else if rel.ends_with(".rs")
            && rel != "lib.rs"
            && rel != "main.rs"
            && !rel.ends_with("/mod.rs")
        {
            modules.push(rel);
        }
    }
    Ok(())
}

/// The code-span texts that name the module at `rel` (a path from `src/`, as listed by
/// [`collect_modules`]) relative to its crate.
fn module_names(rel: &str) -> Vec<String> {
    let mut names = vec![rel.to_string()];
    let module = match rel.strip_suffix('/') {
        Some(dir) => {
            names.push(format!("{dir}/mod.rs"));
            dir
        }
        None => rel.strip_suffix(".rs").unwrap_or(rel),
    };
    names.push(module.replace('/', "::"));
    names
}

/// The modules of `crates` (member directory → modules, as listed by
/// [`collect_modules`]) that `codemap` does not name, as paths from the workspace root;
/// and each crate that it does not name at all.
fn missing_from_codemap(codemap: &str, crates: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut named: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut current: Option<&str> = None;
    for span in code_spans(codemap) {
        let owner = crates
            .keys()
            .filter(|c| span == format!("{c}/") || span.starts_with(&format!("{c}/")))
            .max_by_key(|c| c.len());
        if let Some(owner) = owner {
            current = Some(owner);
            let names = named.entry(owner).or_default();
            let rest = &span[owner.len() + 1..];
            if let Some(in_src) = rest.strip_prefix("src/").filter(|r| !r.is_empty()) {
                names.push(in_src.to_string());
            }
        } else if let Some(crate_dir) = current {
            named.entry(crate_dir).or_default().push(span);
        }
    }
    let mut missing = Vec::new();
    for (crate_dir, modules) in crates {
        let Some(names) = named.get(crate_dir.as_str()) else {
            missing.push(format!("{crate_dir}/ (the crate itself)"));
            continue;
        };
        for module in modules {
            if !module_names(module).iter().any(|n| names.contains(n)) {
                missing.push(format!("{crate_dir}/src/{module}"));
            }
        }
    }
    missing
}

/// The contents of the code spans of `markdown`, in order (fenced code blocks skipped).
fn code_spans(markdown: &str) -> Vec<String> {
    prose_lines(markdown)
        .flat_map(|(_, line)| split_code_spans(line).1)
        .filter(|span| !span.is_empty())
        .collect()
}

/// The workspace's member directories, from the root Cargo.toml's `members = [...]`.
fn workspace_members(root: &Path) -> Result<Vec<String>, String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("tidy: reading Cargo.toml: {e}"))?;
    let start = manifest
        .find("members")
        .ok_or("tidy: the root Cargo.toml has no `members`")?;
    let list = &manifest[start..];
    let end = list
        .find(']')
        .ok_or("tidy: the root Cargo.toml's `members` has no `]`")?;
    Ok(list[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect())
}

/// The value of `key = "value"` in the `[table]` of a TOML file (simple one-line keys).
fn toml_string(manifest: &str, table: &str, key: &str) -> Option<String> {
    let mut in_table = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line == format!("[{table}]");
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if in_table && k.trim() == key {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// `major.minor` of a version such as `1.95` or `rustc 1.95.0 (59807616e 2026-04-14)`.
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let number = version
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = number.split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The workspace's `rust-version` against the `rustc` running CI, and the members'
/// `rust-version` and `[lints]`.
fn manifests(root: &Path) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("tidy: reading Cargo.toml: {e}"))?;
    let declared = toml_string(&manifest, "workspace.package", "rust-version");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let running = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    match (declared.as_deref().and_then(major_minor), running.as_deref().and_then(major_minor)) {
        (None, _) => problems.push(
            "Cargo.toml: [workspace.package] declares no rust-version; declare the one CI builds with"
                .to_string(),
        ),
        (Some(_), None) => problems.push(format!(
            "tidy: could not read the version of {}",
            rustc.to_string_lossy()
        )),
        (Some(d), Some(r)) if d > r => problems.push(format!(
            "Cargo.toml: rust-version {}.{} is newer than the rustc running CI ({}.{})",
            d.0, d.1, r.0, r.1
        )),
        (Some(d), Some(r)) if d != r => eprintln!(
            "tidy: note: Cargo.toml declares rust-version {}.{} but CI builds with rustc {}.{}; \
             only the version CI builds with is checked, so declare {}.{} when you change it",
            d.0, d.1, r.0, r.1, r.0, r.1
        ),
        _ => {}
    }
    for member in workspace_members(root)? {
        let path = format!("{member}/Cargo.toml");
        let text = std::fs::read_to_string(root.join(&path))
            .map_err(|e| format!("tidy: reading {path}: {e}"))?;
        let rust_version = toml_string(&text, "package", "rust-version");
        let inherited = text
            .lines()
            .any(|l| l.replace(' ', "") == "rust-version.workspace=true");
        if rust_version.is_some() || !inherited {
            problems.push(format!(
                "{path}: write `rust-version.workspace = true` (declared once, in the root Cargo.toml)"
            ));
        }
        if toml_string(&text, "lints", "workspace").as_deref() != Some("true") {
            problems.push(format!(
                "{path}: needs `[lints]` with `workspace = true` (the lints live once, in the root Cargo.toml)"
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dests(markdown: &str) -> Vec<String> {
        links(markdown).into_iter().map(|l| l.dest).collect()
    }

    #[test]
    fn finds_inline_links_images_and_definitions() {
        let md = "See [the map](ARCHITECTURE.md#codemap) and ![logo](<img/a b.png> \"t\").\n\
                  [x](https://example.com) [y](a_(b).md)\n\
                  [ref]: docs/ref.md \"title\"\n\
                  [a](b.md) not a definition]: c.md\n";
        assert_eq!(
            dests(md),
            [
                "ARCHITECTURE.md#codemap",
                "img/a b.png",
                "https://example.com",
                "a_(b).md",
                "docs/ref.md",
                "b.md"
            ]
        );
        assert_eq!(links(md)[4].line, 3);
    }

    #[test]
    fn skips_code() {
        let md = "`[not](a.md)` ``[nor `x`](b.md)`` [yes](c.md)\n\
                  ```rust\n[no](d.md)\n```\n\
                  ~~~~\n```\n[no](e.md)\n~~~~\n[yes](f.md)\n";
        assert_eq!(dests(md), ["c.md", "f.md"]);
    }

    #[test]
    fn local_targets() {
        assert_eq!(local_target("https://x.y/z"), None);
        assert_eq!(local_target("mailto:a@b"), None);
        assert_eq!(local_target("//cdn/x"), None);
        assert_eq!(
            local_target("a%20b.md#Some-Part"),
            Some(("a b.md".into(), Some("Some-Part".into())))
        );
        assert_eq!(
            local_target("#top"),
            Some((String::new(), Some("top".into())))
        );
        assert_eq!(local_target("dir/x.md#"), Some(("dir/x.md".into(), None)));
    }

    #[test]
    fn slugs_follow_github() {
        assert_eq!(slug("Bird's-eye view"), "birds-eye-view");
        assert_eq!(slug("A read"), "a-read");
        assert_eq!(slug("`cargo xtask ci`: the CI"), "cargo-xtask-ci-the-ci");
        assert_eq!(
            slug("Summary of one `cargo xtask bench` run"),
            "summary-of-one-cargo-xtask-bench-run"
        );
        assert_eq!(slug("snake_case & more!"), "snake_case--more");
        assert_eq!(slug("See [the docs](x.md) 2.0"), "see-the-docs-20");
        assert_eq!(slug("Ünïcode Äpfel"), "ünïcode-äpfel");
    }

    #[test]
    fn anchors_number_repeats_and_skip_code() {
        let md = "# Title #\n## Notes\ntext\n## Notes\n```\n# not a heading\n```\nSetext\n------\n- list\n---\n";
        assert_eq!(heading_anchors(md), ["title", "notes", "notes-1", "setext"]);
    }

    #[test]
    fn sections_end_at_the_next_heading_of_the_same_level() {
        let md = "# A\n## Codemap\none\n### Sub\ntwo\n```\n# code\n```\n## Next\nthree\n";
        assert_eq!(
            section(md, "codemap").as_deref(),
            Some("one\n### Sub\ntwo\n```\n# code\n```\n")
        );
        assert_eq!(section(md, "missing"), None);
    }

    #[test]
    fn module_names_rule() {
        assert_eq!(module_names("mode.rs"), ["mode.rs", "mode"]);
        assert_eq!(
            module_names("uring/driver.rs"),
            ["uring/driver.rs", "uring::driver"]
        );
        assert_eq!(module_names("uring/"), ["uring/", "uring/mod.rs", "uring"]);
    }

    #[test]
    fn codemap_scopes_names_to_the_current_crate() {
        let crates: BTreeMap<String, Vec<String>> = [
            (
                "core".to_string(),
                vec!["file.rs".into(), "uring/".into(), "uring/driver.rs".into()],
            ),
            ("cache".to_string(), vec!["file.rs".into(), "key.rs".into()]),
            ("tool".to_string(), vec!["ci.rs".into()]),
        ]
        .into_iter()
        .collect();
        let map = "- `core/src/`\n  - `file.rs`: files. `uring/` and `uring::driver`.\n\
                   - `cache/src/key.rs`: keys (`File` is elsewhere).\n";
        assert_eq!(
            missing_from_codemap(map, &crates),
            ["cache/src/file.rs", "tool/ (the crate itself)"]
        );
        let full = "`core/src/file.rs` `core/src/uring/` `core/src/uring/driver.rs` \
                    `cache/` `file.rs` `key.rs` `tool/src/ci.rs`";
        assert!(missing_from_codemap(full, &crates).is_empty());
    }

    #[test]
    fn versions() {
        assert_eq!(major_minor("1.95"), Some((1, 95)));
        assert_eq!(
            major_minor("rustc 1.95.0 (59807616e 2026-04-14)"),
            Some((1, 95))
        );
        assert_eq!(
            major_minor("rustc 1.97.0-nightly (abc 2026-05-01)"),
            Some((1, 97))
        );
        assert_eq!(major_minor("nonsense"), None);
        let toml =
            "[package]\nrust-version = \"1.0\"\n[workspace.package]\nrust-version = \"1.95\"\n";
        assert_eq!(
            toml_string(toml, "workspace.package", "rust-version").as_deref(),
            Some("1.95")
        );
    }
}
