//! YAML text as go-yaml (v3 defaults, indent 2) writes it, so `compose config` reads like
//! docker compose's: sequences indented under their key, plain/'single'/"double" quoting by
//! libyaml's rules, values folded past column 80, literal blocks for multi-line text, and
//! go-yaml's natural key order. Formats a tree; knows no compose keys.

use serde_norway::Value;
use std::cmp::Ordering;

/// `v` as go-yaml's encoder (v3 defaults, indent 2) writes it.
pub fn write(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Mapping(m) if !m.is_empty() => block(&mut out, v, 0, false),
        other => {
            out.push_str(&inline(other, 0, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => !m.is_empty(),
        Value::Sequence(s) => !s.is_empty(),
        _ => false,
    }
}

/// A non-empty mapping or sequence, one entry per line at `indent` (the first line's padding
/// already written when `inline_first`, after "- ").
fn block(out: &mut String, v: &Value, indent: usize, inline_first: bool) {
    let mut first = true;
    let mut start = |out: &mut String| {
        if !(first && inline_first) {
            pad(out, indent);
        }
        first = false;
    };
    match v {
        Value::Mapping(m) => {
            for (k, val) in m {
                start(out);
                let key = scalar_text(&key_text(k), None);
                out.push_str(&key);
                out.push(':');
                if is_block(val) {
                    out.push('\n');
                    block(out, val, indent + 2, false);
                } else {
                    out.push(' ');
                    out.push_str(&inline(val, indent + key.chars().count() + 2, indent + 2));
                    out.push('\n');
                }
            }
        }
        Value::Sequence(s) => {
            for item in s {
                start(out);
                out.push('-');
                if is_block(item) {
                    out.push(' ');
                    block(out, item, indent + 2, true);
                } else {
                    out.push(' ');
                    out.push_str(&inline(item, indent + 2, indent + 2));
                    out.push('\n');
                }
            }
        }
        other => {
            start(out);
            out.push_str(&inline(other, indent, indent));
            out.push('\n');
        }
    }
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => inline(other, 0, 0),
    }
}

/// A scalar or empty collection starting at column `col` (long text folds, and a multi-line
/// string becomes a literal block, onto lines indented by `indent`).
fn inline(v: &Value, col: usize, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.contains('\n') && literal_ok(s) => literal(s, indent),
        Value::String(s) => scalar_text(s, Some((col, indent))),
        Value::Mapping(_) => "{}".into(),
        Value::Sequence(_) => "[]".into(),
        Value::Tagged(t) => inline(&t.value, col, indent),
    }
}

fn literal_ok(s: &str) -> bool {
    !s.starts_with([' ', '\n'])
        && s.lines().all(|l| !l.ends_with(' ') && !l.chars().any(|c| c.is_control() && c != '\t'))
}

fn literal(s: &str, indent: usize) -> String {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(&mut out, indent);
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    out
}

/// go-yaml's line width: a space past this column becomes a line break.
const WIDTH: usize = 80;

/// A string as go-yaml writes it: plain, 'single' or "double" quoted; values (not keys: no
/// `fold`) break at spaces past column 80 onto lines indented by `fold.1`, as libyaml does.
fn scalar_text(s: &str, fold: Option<(usize, usize)>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let style = if s.is_empty() || reads_as_other_type(s) || chars.iter().any(|c| needs_escape(*c)) {
        Style::Double
    } else if plain_ok(s) {
        Style::Plain
    } else {
        Style::Single
    };
    let mut w = Folder { out: String::new(), col: fold.map_or(0, |f| f.0), indent: fold.map(|f| f.1) };
    match style {
        Style::Plain => {}
        Style::Single => w.put('\''),
        Style::Double => w.put('"'),
    }
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let next_space = chars.get(i + 1) == Some(&' ');
            let inside = i > 0 && i + 1 < chars.len();
            let may_break = match style {
                Style::Plain => !next_space,
                Style::Single => inside && !next_space,
                Style::Double => inside,
            };
            if !spaces && may_break && w.fold() {
                if style == Style::Double && next_space {
                    w.put('\\');
                }
            } else {
                w.put(' ');
            }
            spaces = true;
            continue;
        }
        spaces = false;
        match style {
            Style::Single if c == '\'' => w.put_str("''"),
            Style::Double => w.put_str(&escaped(c)),
            _ => w.put(c),
        }
    }
    match style {
        Style::Plain => {}
        Style::Single => w.put('\''),
        Style::Double => w.put('"'),
    }
    w.out
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
}

/// Text written from a known column, breaking lines where libyaml would.
struct Folder {
    out: String,
    col: usize,
    indent: Option<usize>,
}

impl Folder {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.col += 1;
    }
    fn put_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.put(c));
    }
    /// Breaks the line when past the width (and folding is allowed); true when it did.
    fn fold(&mut self) -> bool {
        match self.indent {
            Some(indent) if self.col > WIDTH => {
                self.out.push('\n');
                pad(&mut self.out, indent);
                self.col = indent;
                true
            }
            _ => false,
        }
    }
}

/// Characters libyaml does not print as they are (it double-quotes strings holding them).
fn needs_escape(c: char) -> bool {
    let printable = matches!(c, '\u{20}'..='\u{7e}' | '\u{85}')
        || (c >= '\u{a0}' && !matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}'));
    !printable || c == '\n'
}

/// One character inside double quotes, escaped as libyaml escapes it.
fn escaped(c: char) -> String {
    let short = match c {
        '\0' => "0",
        '\u{7}' => "a",
        '\u{8}' => "b",
        '\t' => "t",
        '\n' => "n",
        '\u{b}' => "v",
        '\u{c}' => "f",
        '\r' => "r",
        '\u{1b}' => "e",
        '"' => "\"",
        '\\' => "\\",
        '\u{85}' => "N",
        '\u{a0}' => "_",
        '\u{2028}' => "L",
        '\u{2029}' => "P",
        c if !needs_escape(c) => return c.to_string(),
        c if (c as u32) <= 0xff => return format!("\\x{:02X}", c as u32),
        c if (c as u32) <= 0xffff => return format!("\\u{:04X}", c as u32),
        c => return format!("\\U{:08X}", c as u32),
    };
    format!("\\{short}")
}

/// Whether libyaml may write `s` unquoted in block context.
fn plain_ok(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    let second = s.chars().nth(1);
    if s.starts_with("---") || s.starts_with("...") || s.starts_with(' ') || s.ends_with(' ') {
        return false;
    }
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && second.is_none_or(|c| c == ' ') {
        return false;
    }
    !(s.contains(": ") || s.contains(" #") || s.ends_with(':'))
}

/// Whether go-yaml would read `s` back as null, a boolean, a number or a timestamp.
fn reads_as_other_type(s: &str) -> bool {
    const SPECIAL: [&str; 27] = [
        "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", ".inf", ".Inf", ".INF",
        "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", "<<", "y", "Y", "n", "N",
    ];
    const OLD_BOOLS: [&str; 12] = ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];
    if SPECIAL.contains(&s) || OLD_BOOLS.contains(&s) || base60(s) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if !(first.is_ascii_digit() || matches!(first, '+' | '-' | '.')) {
        return false;
    }
    let plain = s.replace('_', "");
    go_int(&plain) || go_float(&plain) || timestamp(s)
}

/// YAML 1.1 sexagesimal numbers (`12:30`), which go-yaml quotes:
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn base60(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (s, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut parts = s.split(':');
    let head = parts.next().unwrap_or_default();
    let head_ok =
        head.starts_with(|c: char| c.is_ascii_digit()) && head.chars().all(|c| c.is_ascii_digit() || c == '_');
    let rest: Vec<&str> = parts.collect();
    let sixty = |p: &&str| match p.as_bytes() {
        [d] => d.is_ascii_digit(),
        [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
        _ => false,
    };
    head_ok && !rest.is_empty() && rest.iter().all(sixty) && frac.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// Go's strconv.ParseInt(s, 0, 64) syntax (range not checked).
fn go_int(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (digits, radix) = match s.get(..2) {
        Some("0x" | "0X") => (&s[2..], 16),
        Some("0o" | "0O") => (&s[2..], 8),
        Some("0b" | "0B") => (&s[2..], 2),
        _ if s.len() > 1 && s.starts_with('0') => (&s[1..], 8),
        _ => (s, 10),
    };
    !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn go_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |d: &str| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

/// A YAML timestamp starts `YYYY-M-D`.
fn timestamp(s: &str) -> bool {
    let date = s.split(['T', 't', ' ']).next().unwrap_or_default();
    let parts: Vec<&str> = date.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit()))
}

/// go-yaml's order of map keys: letters by code point, runs of digits by their value
/// (`web2` < `web10`), other characters before letters.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    if natural_less(a, b) {
        Ordering::Less
    } else if natural_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn natural_less(a: &str, b: &str) -> bool {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut digits = false;
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            // A number with leading zeros inside a longer number counts as non-zero.
            if ar[..i].iter().rev().take_while(|c| c.is_ascii_digit()).any(|c| *c != '0') {
                an = 1;
                bn = 1;
            }
        }
        let run = |r: &[char], n: &mut i64| {
            let mut end = i;
            while end < r.len() && r[end].is_ascii_digit() {
                *n = n.saturating_mul(10).saturating_add(i64::from(r[end] as u8 - b'0'));
                end += 1;
            }
            end
        };
        let (ai, bi) = (run(&ar, &mut an), run(&br, &mut bn));
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_norway::Mapping;

    #[test]
    fn quoting_like_go_yaml() {
        let cases = [
            ("nginx", "nginx"),
            ("8080", "\"8080\""),
            ("0440", "\"0440\""),
            ("08", "\"08\""),
            ("1.5", "\"1.5\""),
            ("1e3", "\"1e3\""),
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("null", "\"null\""),
            ("", "\"\""),
            ("2024-01-02", "\"2024-01-02\""),
            ("-c", "-c"),
            ("- x", "'- x'"),
            ("a: b", "'a: b'"),
            ("a #b", "'a #b'"),
            ("*star", "'*star'"),
            ("it's", "it's"),
            ("'q", "'''q'"),
            ("curl -f http://localhost", "curl -f http://localhost"),
            ("/run/secrets/x", "/run/secrets/x"),
            ("tab\there", "\"tab\\there\""),
            ("0.0.0.0", "0.0.0.0"),
            ("1.2.3", "1.2.3"),
            ("0x1F", "\"0x1F\""),
            ("12:30", "\"12:30\""),
            ("8080:80", "8080:80"),
            ("127.0.0.1:8080:80", "127.0.0.1:8080:80"),
        ];
        for (s, want) in cases {
            assert_eq!(scalar_text(s, None), want, "{s:?}");
        }
    }

    #[test]
    fn layout() {
        let v: Value = serde_norway::from_str(
            "name: p\nservices:\n  web:\n    command: [sh, -c, echo hi]\n    networks: {default: null}\n    ports: [{mode: ingress, target: 80, published: \"8080\"}]\n    volume: {}\n    x: [[a, b]]\n",
        )
        .unwrap();
        let want = "name: p\nservices:\n  web:\n    command:\n      - sh\n      - -c\n      - echo hi\n    networks:\n      default: null\n    ports:\n      - mode: ingress\n        target: 80\n        published: \"8080\"\n    volume: {}\n    x:\n      - - a\n        - b\n";
        assert_eq!(write(&v), want);
    }

    #[test]
    fn literal_blocks() {
        let v: Value = serde_norway::from_str("a:\n  b: \"FROM x\\nRUN y\\n\"\n  c: \"one\\ntwo\"\n").unwrap();
        assert_eq!(write(&v), "a:\n  b: |\n    FROM x\n    RUN y\n  c: |-\n    one\n    two\n");
        let back: Value = serde_norway::from_str(&write(&v)).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn natural_key_order() {
        let mut keys = vec!["web10", "web2", "a_b", "ab", "a~", "B", "a1b", "a1_", "x01", "x1", "web"];
        keys.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(keys, ["B", "a_b", "a~", "a1b", "a1_", "ab", "web", "web2", "web10", "x1", "x01"]);
    }

    #[test]
    fn long_values_fold_like_go_yaml() {
        let long = format!("{} y z", "x".repeat(79));
        let v: Value = serde_norway::from_str(&format!("a: {long}\nb: ['{long}']\n\"{long}\": 1\n")).unwrap();
        let text = write(&v);
        let x = "x".repeat(79);
        assert_eq!(text, format!("a: {x}\n  y z\nb:\n  - {x}\n    y z\n{x} y z: 1\n"));
        let back: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(back, v);
        let quoted = format!("a: {x}: z  w");
        let v: Value = [(Value::from("k"), Value::from(quoted.as_str()))].into_iter().collect::<Mapping>().into();
        let text = write(&v);
        assert_eq!(text, format!("k: 'a: {x}:\n  z  w'\n"));
        assert_eq!(serde_norway::from_str::<Value>(&text).unwrap(), v);
        let v: Value =
            [(Value::from("k"), Value::from(format!("{x}\t y").as_str()))].into_iter().collect::<Mapping>().into();
        let text = write(&v);
        assert_eq!(text, format!("k: \"{x}\\t\n  y\"\n"));
        assert_eq!(serde_norway::from_str::<Value>(&text).unwrap(), v);
    }
}
