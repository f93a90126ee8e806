//! Instruction flags (`--from=...`, `--link`, `--mount=...`): which flag each instruction
//! accepts, quote removal as BuildKit does it, booleans, repeats, and "did you mean"
//! suggestions. Knows nothing of what a flag's value means.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// `--link` or `--link=true|false`.
    Bool,
    /// `--from=VALUE`, at most once.
    Value,
    /// `--mount=VALUE`, any number of times.
    List,
}

/// The flags of one instruction after checking.
#[derive(Debug, Default)]
pub struct Flags(BTreeMap<&'static str, Vec<String>>);

impl Flags {
    pub fn value(&self, name: &str) -> Option<String> {
        self.0.get(name).and_then(|v| v.last().cloned())
    }

    pub fn list(&self, name: &str) -> Vec<String> {
        self.0.get(name).cloned().unwrap_or_default()
    }

    /// A boolean flag: `None` when absent.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.0.get(name).and_then(|v| v.last()).map(|v| v == "true")
    }
}

/// Checks raw `(name, value)` pairs against the flags `spec` allows.
pub fn check(
    raw: &[(String, Option<String>)],
    spec: &[(&'static str, FlagKind)],
    escape: char,
) -> Result<Flags, String> {
    let mut out = Flags::default();
    for (name, value) in raw {
        let Some(&(known, kind)) = spec.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) else {
            let names: Vec<&str> = spec.iter().map(|(n, _)| *n).collect();
            let hint = match suggest(name, &names) {
                Some(s) => format!(" (did you mean --{s}?)"),
                None if names.is_empty() => " (this instruction takes no flags)".to_string(),
                None => format!(" (valid flags: --{})", names.join(", --")),
            };
            return Err(format!("unknown flag --{name}{hint}"));
        };
        let value = value.as_deref().map(|v| unquote(v, escape));
        let slot = out.0.entry(known).or_default();
        if kind != FlagKind::List && !slot.is_empty() {
            return Err(format!("duplicate flag --{known}: give it once"));
        }
        let v = match (kind, value) {
            (FlagKind::Bool, None) => "true".to_string(),
            (FlagKind::Bool, Some(v)) => match v.to_ascii_lowercase().as_str() {
                "true" | "false" => v.to_ascii_lowercase(),
                _ => return Err(format!("--{known} expects true or false, not {v:?}")),
            },
            (_, None) => return Err(format!("flag --{known} needs a value: --{known}=VALUE")),
            (_, Some(v)) => v,
        };
        slot.push(v);
    }
    Ok(out)
}

/// Removes quotes and escape tokens from a flag value, as BuildKit's flag splitter does.
pub fn unquote(v: &str, escape: char) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            None if c == '\'' || c == '"' => quote = Some(c),
            Some(q) if c == q => quote = None,
            _ if c == escape => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The closest of `names` to `word` (edit distance at most 2, or a prefix), if any.
pub fn suggest<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    names
        .iter()
        .map(|n| (distance(&w, &n.to_ascii_lowercase()), *n))
        .filter(|(d, n)| *d <= 2.min(n.len().saturating_sub(1)).max(1) || (w.len() >= 3 && n.starts_with(w.as_str())))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COPY: &[(&str, FlagKind)] =
        &[("from", FlagKind::Value), ("chown", FlagKind::Value), ("link", FlagKind::Bool), ("exclude", FlagKind::List)];

    fn raw(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.map(str::to_string))).collect()
    }

    #[test]
    fn values_bools_and_lists() {
        let f = check(
            &raw(&[("from", Some("build")), ("link", None), ("exclude", Some("*.md")), ("exclude", Some("x"))]),
            COPY,
            '\\',
        )
        .unwrap();
        assert_eq!(f.value("from").as_deref(), Some("build"));
        assert_eq!(f.bool("link"), Some(true));
        assert_eq!(f.bool("chown"), None);
        assert_eq!(f.list("exclude"), ["*.md", "x"]);
        let f = check(&raw(&[("link", Some("FALSE"))]), COPY, '\\').unwrap();
        assert_eq!(f.bool("link"), Some(false));
    }

    #[test]
    fn errors_name_the_flag_and_the_fix() {
        let e = check(&raw(&[("form", Some("x"))]), COPY, '\\').unwrap_err();
        assert_eq!(e, "unknown flag --form (did you mean --from?)");
        let e = check(&raw(&[("zzz", Some("x"))]), COPY, '\\').unwrap_err();
        assert_eq!(e, "unknown flag --zzz (valid flags: --from, --chown, --link, --exclude)");
        let e = check(&raw(&[("x", None)]), &[], '\\').unwrap_err();
        assert_eq!(e, "unknown flag --x (this instruction takes no flags)");
        let e = check(&raw(&[("from", Some("a")), ("from", Some("b"))]), COPY, '\\').unwrap_err();
        assert_eq!(e, "duplicate flag --from: give it once");
        let e = check(&raw(&[("from", None)]), COPY, '\\').unwrap_err();
        assert_eq!(e, "flag --from needs a value: --from=VALUE");
        let e = check(&raw(&[("link", Some("yes"))]), COPY, '\\').unwrap_err();
        assert_eq!(e, "--link expects true or false, not \"yes\"");
    }

    #[test]
    fn quotes_and_escapes_are_removed() {
        assert_eq!(unquote("\"1000:1000\"", '\\'), "1000:1000");
        assert_eq!(unquote("type=secret,id='a b'", '\\'), "type=secret,id=a b");
        assert_eq!(unquote("a\\\"b", '\\'), "a\"b");
        assert_eq!(unquote("a`\"b", '`'), "a\"b");
    }

    #[test]
    fn suggestions() {
        let names = ["RUN", "ENV", "COPY", "WORKDIR", "ENTRYPOINT"];
        assert_eq!(suggest("RUNN", &names), Some("RUN"));
        assert_eq!(suggest("copi", &names), Some("COPY"));
        assert_eq!(suggest("WORKDIRR", &names), Some("WORKDIR"));
        assert_eq!(suggest("XYZZY", &names), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
