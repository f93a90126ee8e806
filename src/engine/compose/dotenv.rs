//! `.env` / `env_file` files as compose-go reads them: `KEY=VALUE` (or `KEY: VALUE`), an
//! optional `export `, comments, single quotes (literal), double quotes (escapes and variables,
//! may span lines), unquoted values cut at ` #`, and a bare `KEY` taken from the lookup.
//! Variables in values are expanded with the lookup first, then the file's earlier keys.

use super::interpolate::{self, Env, TemplateError};

/// Parses `text`; `lookup` answers bare keys and variables (before the file's own values).
/// Errors are "line N: ..." messages.
pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<(String, String)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<(String, String)> = vec![];
    let mut line = 1usize;
    let mut rest = text;
    loop {
        rest = skip_blank_and_comments(rest, &mut line);
        if rest.is_empty() {
            break;
        }
        let (key, after, inherited) = key(rest, line)?;
        if inherited {
            if let Some(v) = lookup(&key) {
                set(&mut out, key, v);
            }
            line += 1;
            rest = after;
            continue;
        }
        let (value, after) = value(after, &mut line, &out, lookup)?;
        set(&mut out, key, value);
        rest = after;
    }
    Ok(out)
}

fn set(out: &mut Vec<(String, String)>, key: String, value: String) {
    match out.iter_mut().find(|(k, _)| *k == key) {
        Some(e) => e.1 = value,
        None => out.push((key, value)),
    }
}

fn skip_blank_and_comments<'a>(mut s: &'a str, line: &mut usize) -> &'a str {
    loop {
        let trimmed = s.trim_start_matches(|c: char| {
            if c == '\n' {
                *line += 1;
            }
            c.is_whitespace()
        });
        if let Some(comment) = trimmed.strip_prefix('#') {
            s = comment.find('\n').map_or("", |i| &comment[i..]);
            continue;
        }
        return trimmed;
    }
}

/// Reads `KEY=`, `KEY:` or a bare `KEY` line; returns (key, rest, bare).
fn key(src: &str, line: usize) -> Result<(String, &str, bool), String> {
    let src = match src.strip_prefix("export") {
        Some(r) if r.starts_with([' ', '\t']) => r.trim_start_matches([' ', '\t']),
        _ => src,
    };
    for (i, c) in src.char_indices() {
        match c {
            '=' | ':' | '\n' => {
                let key = src[..i].trim_end().to_string();
                if key.contains(char::is_whitespace) {
                    return Err(format!("line {line}: key \"{key}\" cannot contain a space"));
                }
                let rest = src[i + 1..].trim_start_matches([' ', '\t']);
                return Ok((key, if c == '\n' { &src[i + 1..] } else { rest }, c == '\n'));
            }
            ' ' | '\t' | '_' | '.' | '-' | '[' | ']' => {}
            c if c.is_alphanumeric() => {}
            c => {
                let first = src.lines().next().unwrap_or_default();
                return Err(format!("line {line}: unexpected character \"{c}\" in variable name \"{first}\""));
            }
        }
    }
    Ok((src.trim_end().to_string(), "", true))
}

fn value<'a>(
    src: &'a str,
    line: &mut usize,
    earlier: &[(String, String)],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, &'a str), String> {
    let expand = |v: &str, line: usize| -> Result<String, String> {
        let both = |k: &str| lookup(k).or_else(|| earlier.iter().find(|(e, _)| e == k).map(|(_, v)| v.clone()));
        let mut env = Env { lookup: &both, missing: vec![] };
        interpolate::substitute(v, &mut env).map_err(|e| match e {
            TemplateError::Invalid => format!("line {line}: invalid interpolation format in \"{v}\""),
            TemplateError::Required { var, reason } => {
                format!("line {line}: required variable {var} is missing a value: {reason}")
            }
        })
    };
    let quote = match src.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            let (v, rest) = src.split_once('\n').unwrap_or((src, ""));
            let v = v.split(" #").next().unwrap_or_default().trim_end();
            let value = expand(v, *line)?;
            *line += 1;
            return Ok((value, rest));
        }
    };
    let mut chars = String::new();
    let mut escaped = false;
    for (i, c) in src.char_indices().skip(1) {
        if c == '\n' {
            *line += 1;
        }
        if c == quote && !escaped {
            let value = if quote == '"' { expand(&unescape(&chars), *line)? } else { chars };
            return Ok((value, &src[i + c.len_utf8()..]));
        }
        if c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        if escaped && c != quote {
            chars.push('\\');
        }
        escaped = false;
        chars.push(c);
    }
    let first = src.lines().next().unwrap_or_default();
    Err(format!("line {line}: unterminated quoted value {first}"))
}

/// Double-quoted escapes: `\n \t \r \\ \" \$` (as `$$`, kept literal by expansion) ...
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('$') => out.push_str("$$"),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Vec<(String, String)> {
        let lookup = |k: &str| (k == "HOME_VAR").then(|| "/home/u".to_string());
        parse(text, &lookup).unwrap()
    }

    fn get<'a>(v: &'a [(String, String)], k: &str) -> &'a str {
        &v.iter().find(|(key, _)| key == k).unwrap().1
    }

    #[test]
    fn forms() {
        let v = p(concat!(
            "# comment\n",
            "A=1\n",
            "export B=two words # comment\n",
            "C='single $A \\n'\n",
            "D=\"double $A\\nline\"\n",
            "E: colon\n",
            "F=\n",
            "HOME_VAR\n",
            "MISSING\n",
            "G=${A}-${UNSET:-dflt}\n",
            "H=\"multi\nline\"\n",
            "I=a#b\n",
            "J=\"\\$A\"\n",
            "  K = spaced\n",
        ));
        assert_eq!(get(&v, "A"), "1");
        assert_eq!(get(&v, "B"), "two words");
        assert_eq!(get(&v, "C"), "single $A \\n");
        assert_eq!(get(&v, "D"), "double 1\nline");
        assert_eq!(get(&v, "E"), "colon");
        assert_eq!(get(&v, "F"), "");
        assert_eq!(get(&v, "HOME_VAR"), "/home/u");
        assert!(!v.iter().any(|(k, _)| k == "MISSING"));
        assert_eq!(get(&v, "G"), "1-dflt");
        assert_eq!(get(&v, "H"), "multi\nline");
        assert_eq!(get(&v, "I"), "a#b");
        assert_eq!(get(&v, "J"), "$A");
        assert_eq!(get(&v, "K"), "spaced");
    }

    #[test]
    fn lookup_wins_over_earlier_values() {
        let v = p("HOME_VAR=x\nY=$HOME_VAR\n");
        assert_eq!(get(&v, "Y"), "/home/u");
    }

    #[test]
    fn errors() {
        let lookup = |_: &str| None;
        assert!(parse("A=\"open\n", &lookup).unwrap_err().contains("unterminated"));
        assert!(parse("A B=1\n", &lookup).unwrap_err().contains("cannot contain a space"));
        assert!(parse("A*=1\n", &lookup).unwrap_err().starts_with("line 1: unexpected character"));
        assert!(parse("\n\nX=${Y:?need}\n", &lookup).unwrap_err().starts_with("line 3:"));
    }
}
