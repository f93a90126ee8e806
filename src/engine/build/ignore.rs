//! `.dockerignore` / `.containerignore` with Docker's pattern rules (moby's patternmatcher):
//! cleaned patterns, `**` across directories, `*` `?` `[...]` within one, `!` exceptions,
//! the last matching pattern wins, a path matches when it or a parent does. Not gitignore.
//! Pure matching plus finding and reading the ignore file; no walking.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreError {
    #[error("{file}: invalid pattern {pattern:?}: {why}")]
    Pattern { file: String, pattern: String, why: String },
    #[error("cannot read {path}: {why}")]
    Read { path: String, why: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `*`: any run of characters except `/`.
    Star,
    /// `?`: one character except `/`.
    One,
    /// `[...]` as a Go regexp class (`^` negates; it may match `/`).
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
    /// `**/` inside a pattern: any number of whole directories, or none.
    Dirs,
    /// `**` at the end after a wildcard: anything.
    Rest,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Glob(Vec<Tok>),
}

#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    exclusion: bool,
    matcher: Matcher,
}

/// The compiled patterns of one ignore file.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
}

/// Go's `filepath.Clean` for slash paths.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => match out.last() {
                Some(&l) if l != ".." => {
                    out.pop();
                }
                _ if rooted => {}
                _ => out.push(".."),
            },
            c => out.push(c),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Reads ignore-file text into patterns as Docker does: `#` lines are comments, lines are
/// trimmed and cleaned, a leading `/` is dropped, `!` marks an exception.
pub fn read_patterns(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut p = line.trim();
        if p.is_empty() {
            continue;
        }
        let invert = p.starts_with('!');
        if invert {
            p = p[1..].trim();
        }
        let mut cleaned = if p.is_empty() { String::new() } else { clean(p) };
        if cleaned.len() > 1 && cleaned.starts_with('/') {
            cleaned.remove(0);
        }
        out.push(if invert { format!("!{cleaned}") } else { cleaned });
    }
    out
}

/// The ignore file that applies: `<Dockerfile>.containerignore` / `.dockerignore` next to the
/// Dockerfile first, then `.containerignore` / `.dockerignore` in the context.
pub fn find_ignore_file(context: &Path, dockerfile: Option<&Path>) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(df) = dockerfile {
        for ext in ["containerignore", "dockerignore"] {
            let mut name = df.as_os_str().to_os_string();
            name.push(format!(".{ext}"));
            candidates.push(PathBuf::from(name));
        }
    }
    candidates.push(context.join(".containerignore"));
    candidates.push(context.join(".dockerignore"));
    candidates.into_iter().find(|p| p.is_file())
}

impl IgnoreRules {
    /// Reads and compiles the ignore file for a context (no file: nothing is ignored).
    pub fn load(context: &Path, dockerfile: Option<&Path>) -> Result<IgnoreRules, IgnoreError> {
        let Some(path) = find_ignore_file(context, dockerfile) else { return Ok(IgnoreRules::default()) };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| IgnoreError::Read { path: path.display().to_string(), why: e.to_string() })?;
        IgnoreRules::new(&read_patterns(&text), &path.display().to_string())
    }

    /// Compiles patterns (`file` names their origin in errors).
    pub fn new(patterns: &[String], file: &str) -> Result<IgnoreRules, IgnoreError> {
        let mut out = Vec::new();
        for raw in patterns {
            let p = raw.trim();
            if p.is_empty() {
                continue;
            }
            let err = |why: &str| IgnoreError::Pattern { file: file.into(), pattern: raw.clone(), why: why.into() };
            let p = clean(p);
            let (exclusion, p) = match p.strip_prefix('!') {
                Some("") => return Err(err("a lone \"!\" excludes nothing; write !PATTERN")),
                Some(rest) => (true, rest.to_string()),
                None => (false, p),
            };
            let matcher = compile(&p).map_err(|w| err(&w))?;
            out.push(Pattern { text: p, exclusion, matcher });
        }
        Ok(IgnoreRules { patterns: out })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `path` (slash-separated, relative to the context) is excluded: the last
    /// pattern matching it or one of its parents decides.
    pub fn matches(&self, path: &str) -> bool {
        let path = clean(path);
        if path == "." {
            return false;
        }
        let parents: Vec<&str> = path.match_indices('/').map(|(i, _)| path.get(..i).unwrap_or_default()).collect();
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            if p.matches(&path) || parents.iter().any(|d| p.matches(d)) {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Whether an excluded directory must still be walked because an exception pattern may
    /// re-include something beneath it.
    pub fn may_include_under(&self, dir: &str) -> bool {
        let dir = clean(dir);
        let comps: Vec<&str> = dir.split('/').collect();
        self.patterns.iter().filter(|p| p.exclusion).any(|p| {
            let pc: Vec<&str> = p.text.split('/').collect();
            for (i, d) in comps.iter().enumerate() {
                match pc.get(i) {
                    None => return false,
                    Some(c) if c.contains("**") => return true,
                    Some(c) => {
                        let ok = match compile(c) {
                            Ok(Matcher::Exact(s)) => s == *d,
                            Ok(Matcher::Glob(t)) => glob_match(&t, d),
                            _ => true,
                        };
                        if !ok {
                            return false;
                        }
                    }
                }
            }
            pc.len() > comps.len()
        })
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact(s) => path == s,
            Matcher::Prefix(s) => path.starts_with(s.as_str()),
            Matcher::Suffix(s) => path.ends_with(s.as_str()) || s.strip_prefix('/').is_some_and(|x| x == path),
            Matcher::Glob(t) => glob_match(t, path),
        }
    }
}

/// Compiles one cleaned pattern the way moby's patternmatcher classifies it.
fn compile(p: &str) -> Result<Matcher, String> {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Glob,
    }
    let chars: Vec<char> = p.chars().collect();
    let mut toks = Vec::new();
    let mut kind = Kind::Exact;
    let mut i = 0;
    let mut first = true;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        toks.push(Tok::Rest);
                        kind = Kind::Glob;
                    }
                } else {
                    toks.push(Tok::Dirs);
                    kind = Kind::Glob;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                toks.push(Tok::Star);
                kind = Kind::Glob;
            }
            '?' => {
                toks.push(Tok::One);
                kind = Kind::Glob;
            }
            '\\' => match chars.get(i) {
                Some(&n) => {
                    toks.push(Tok::Lit(n));
                    i += 1;
                    kind = Kind::Glob;
                }
                None => toks.push(Tok::Lit('\\')),
            },
            '[' => {
                let (tok, next) = class(&chars, i)?;
                toks.push(tok);
                i = next;
                kind = Kind::Glob;
            }
            ']' => return Err("unmatched \"]\"".into()),
            c => toks.push(Tok::Lit(c)),
        }
        first = false;
    }
    Ok(match kind {
        Kind::Exact => Matcher::Exact(p.to_string()),
        Kind::Prefix => Matcher::Prefix(p.get(..p.len() - 2).unwrap_or_default().to_string()),
        Kind::Suffix => Matcher::Suffix(p.get(2..).unwrap_or_default().to_string()),
        Kind::Glob => Matcher::Glob(toks),
    })
}

/// Parses a `[...]` class starting after the `[`; returns the token and the index after `]`.
fn class(chars: &[char], mut i: usize) -> Result<(Tok, usize), String> {
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else { return Err("unterminated \"[\"".into()) };
        if c == ']' && !first {
            return Ok((Tok::Class { negated, items }, i + 1));
        }
        first = false;
        let mut lo = c;
        i += 1;
        if lo == '\\' {
            lo = *chars.get(i).ok_or("unterminated \"[\"")?;
            i += 1;
        }
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|n| *n != ']') {
            let mut hi = chars[i + 1];
            i += 2;
            if hi == '\\' {
                hi = *chars.get(i).ok_or("unterminated \"[\"")?;
                i += 1;
            }
            if hi < lo {
                return Err(format!("bad range {lo}-{hi}"));
            }
            items.push((lo, hi));
        } else {
            items.push((lo, lo));
        }
    }
}

/// Matches tokens against all of `s` (memoised, so `*`/`**` never go exponential).
fn glob_match(toks: &[Tok], s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let mut memo = vec![None; (toks.len() + 1) * (chars.len() + 1)];
    go(toks, &chars, 0, 0, &mut memo)
}

fn go(t: &[Tok], s: &[char], ti: usize, si: usize, memo: &mut Vec<Option<bool>>) -> bool {
    let key = ti * (s.len() + 1) + si;
    if let Some(Some(v)) = memo.get(key) {
        return *v;
    }
    let rest = s.get(si..).unwrap_or_default();
    let r = match t.get(ti) {
        None => rest.is_empty(),
        Some(Tok::Lit(c)) => rest.first() == Some(c) && go(t, s, ti + 1, si + 1, memo),
        Some(Tok::One) => rest.first().is_some_and(|c| *c != '/') && go(t, s, ti + 1, si + 1, memo),
        Some(Tok::Class { negated, items }) => {
            rest.first().is_some_and(|c| items.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated)
                && go(t, s, ti + 1, si + 1, memo)
        }
        Some(Tok::Star) => {
            let run = rest.iter().take_while(|c| **c != '/').count();
            (0..=run).any(|n| go(t, s, ti + 1, si + n, memo))
        }
        Some(Tok::Rest) => true,
        Some(Tok::Dirs) => {
            go(t, s, ti + 1, si, memo)
                || rest.iter().enumerate().any(|(n, c)| *c == '/' && go(t, s, ti + 1, si + n + 1, memo))
        }
    };
    if let Some(slot) = memo.get_mut(key) {
        *slot = Some(r);
    }
    r
}

#[cfg(test)]
#[path = "ignore_tests.rs"]
mod tests;
