//! Word-level rules of Dockerfile lines, as BuildKit's parser applies them: continuation
//! lines, the word splitting of ENV/LABEL/ARG, KEY=VALUE pairs, Go durations. Pure text
//! functions; no instructions, no expansion.

use super::instructions::{ArgDecl, KeyValue};

/// Joins continuation lines as BuildKit does: the escape token at a line's end (before
/// optional blanks) joins the next line; comment lines and blank lines inside are dropped.
pub fn join_continuations(raw: &str, escape: char) -> String {
    let mut out = String::new();
    for (i, line) in raw.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i > 0 {
            let t = line.trim_start();
            if t.starts_with('#') || t.is_empty() {
                continue;
            }
        }
        match strip_continuation(line, escape) {
            Some(body) => out.push_str(body),
            None => {
                out.push_str(line);
                break;
            }
        }
    }
    out
}

pub fn strip_continuation(line: &str, escape: char) -> Option<&str> {
    let body = line.trim_end_matches([' ', '\t']).strip_suffix(escape)?;
    if body.ends_with(escape) { None } else { Some(body) }
}

/// BuildKit's warning for blank lines inside a continued instruction.
pub fn empty_continuation_warnings(text: &str, escape: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut continued = false;
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if continued && line.trim().is_empty() {
            out.push(format!(
                "line {}: empty continuation line; it will become an error in a future Docker release",
                i + 1
            ));
            continue;
        }
        if continued && line.trim_start().starts_with('#') {
            continue;
        }
        continued = !line.trim_start().starts_with('#') && strip_continuation(line, escape).is_some();
    }
    out
}

/// Splits words as BuildKit's `parseWords` does for ENV, LABEL and ARG: whitespace
/// separates, quotes and escapes are kept for the expansion step.
pub fn parse_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote(char),
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut buf = String::new();
    let mut blank_ok = false;
    let mut phase = Phase::Spaces;
    let mut i = 0;
    while i < chars.len() {
        let mut ch = chars[i];
        if phase == Phase::Spaces {
            if ch.is_whitespace() {
                i += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !buf.is_empty() {
                    words.push(std::mem::take(&mut buf));
                }
                blank_ok = false;
                i += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                phase = Phase::Quote(ch);
                blank_ok = true;
            } else if ch == escape {
                let Some(&next) = chars.get(i + 1) else { break };
                buf.push(ch);
                i += 1;
                ch = next;
            }
            buf.push(ch);
            i += 1;
            continue;
        }
        if let Phase::Quote(q) = phase {
            if ch == q {
                phase = Phase::Word;
            } else if ch == escape && q != '\'' {
                let Some(&next) = chars.get(i + 1) else {
                    phase = Phase::Word;
                    i += 1;
                    continue;
                };
                buf.push(ch);
                i += 1;
                ch = next;
            }
            buf.push(ch);
            i += 1;
        }
    }
    if phase != Phase::Spaces && (blank_ok || !buf.is_empty()) {
        words.push(buf);
    }
    words
}

/// ENV and LABEL arguments: `K=V ...` or the legacy `K V` (the rest of the line).
pub fn parse_key_values(rest: &str, keyword: &str, escape: char) -> Result<Vec<KeyValue>, String> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Err(format!("{keyword} requires at least one KEY=VALUE"));
    };
    if !first.contains('=') {
        let rest = rest.trim();
        let Some((key, value)) = rest.split_once([' ', '\t', '\x0b', '\x0c', '\r']) else {
            return Err(format!("{keyword} {rest} needs a value: use {keyword} {rest}=VALUE"));
        };
        let value = value.trim_start_matches([' ', '\t', '\x0b', '\x0c', '\r']);
        return Ok(vec![KeyValue { key: key.to_string(), value: value.to_string(), legacy: true }]);
    }
    let mut out = Vec::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!("{keyword}: no \"=\" in {w:?}; use the form KEY=VALUE"));
        };
        if k.is_empty() {
            return Err(format!("{keyword} names can not be blank"));
        }
        out.push(KeyValue { key: k.to_string(), value: v.to_string(), legacy: false });
    }
    Ok(out)
}

/// ARG arguments: `NAME` or `NAME=default`, several per line.
pub fn parse_arg_decls(rest: &str, escape: char) -> Result<Vec<ArgDecl>, String> {
    let words = parse_words(rest, escape);
    if words.is_empty() {
        return Err("ARG requires at least one name".into());
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some(("", _)) => Err("ARG names can not be blank".to_string()),
            Some((k, v)) => Ok(ArgDecl { name: k.to_string(), default: Some(v.to_string()) }),
            None => Ok(ArgDecl { name: w, default: None }),
        })
        .collect()
}

/// Parses a Go duration (`30s`, `1m30s`, `1.5h`, `500ms`) into nanoseconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    if s == "0" {
        return Some(0);
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        let n: f64 = num.parse().ok()?;
        let unit_len = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += n * scale;
        rest = tail;
    }
    (total.is_finite() && total < u64::MAX as f64).then_some(total as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_join_and_drop_comments_and_blank_lines() {
        assert_eq!(
            join_continuations("apt-get update && \\\n    apt-get install x", '\\'),
            "apt-get update &&     apt-get install x"
        );
        assert_eq!(join_continuations("a \\\n# comment\n\n  b", '\\'), "a   b");
        assert_eq!(join_continuations("a \\  \t\nb", '\\'), "a b");
        assert_eq!(join_continuations("a `\nb", '`'), "a b");
        assert_eq!(join_continuations("a \\\\\nb", '\\'), "a \\\\");
        assert_eq!(join_continuations("a\r\n", '\\'), "a");
        assert_eq!(join_continuations("\\\nb", '\\'), "b");
    }

    #[test]
    fn empty_continuation_lines_warn() {
        let w = empty_continuation_warnings("FROM a\nRUN a \\\n\n  b\nRUN c\n", '\\');
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("line 3:"), "{w:?}");
        assert!(empty_continuation_warnings("FROM a\nRUN a \\\n# c\n b\n", '\\').is_empty());
    }

    #[test]
    fn words_keep_quotes_for_later() {
        assert_eq!(parse_words("a=1 b=\"x y\" c='p q'", '\\'), ["a=1", "b=\"x y\"", "c='p q'"]);
        assert_eq!(parse_words("a=x\\ y b", '\\'), ["a=x\\ y", "b"]);
        assert_eq!(parse_words("  a   b  ", '\\'), ["a", "b"]);
        assert_eq!(parse_words("a=\"\"", '\\'), ["a=\"\""]);
        assert_eq!(parse_words("\"\"", '\\'), ["\"\""]);
        assert_eq!(parse_words("a\\", '\\'), ["a"]);
        assert_eq!(parse_words("x=\"a\\\"b\"", '\\'), ["x=\"a\\\"b\""]);
        assert_eq!(parse_words("x=`\"", '`'), ["x=`\""]);
    }

    #[test]
    fn key_values_both_forms() {
        let kv = parse_key_values("A=1 B=\"two words\"", "ENV", '\\').unwrap();
        assert_eq!(kv.len(), 2);
        assert_eq!((kv[1].key.as_str(), kv[1].value.as_str(), kv[1].legacy), ("B", "\"two words\"", false));
        let kv = parse_key_values("NAME  the rest  of it", "ENV", '\\').unwrap();
        assert_eq!((kv[0].key.as_str(), kv[0].value.as_str(), kv[0].legacy), ("NAME", "the rest  of it", true));
        assert_eq!(parse_key_values("ONLY", "ENV", '\\').unwrap_err(), "ENV ONLY needs a value: use ENV ONLY=VALUE");
        assert!(parse_key_values("A=1 B", "LABEL", '\\').unwrap_err().contains("no \"=\" in \"B\""));
        assert_eq!(parse_key_values("=1", "ENV", '\\').unwrap_err(), "ENV names can not be blank");
        let kv = parse_key_values("A==b", "LABEL", '\\').unwrap();
        assert_eq!(kv[0].value, "=b");
    }

    #[test]
    fn arg_declarations() {
        let a = parse_arg_decls("A B=2 C=\"x y\" D=", '\\').unwrap();
        let got: Vec<_> = a.iter().map(|d| (d.name.as_str(), d.default.as_deref())).collect();
        assert_eq!(got, [("A", None), ("B", Some("2")), ("C", Some("\"x y\"")), ("D", Some(""))]);
        assert!(parse_arg_decls("=x", '\\').is_err());
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("30s"), Some(30_000_000_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("500ms"), Some(500_000_000));
        assert_eq!(parse_duration("10us"), Some(10_000));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration(""), None);
    }
}
