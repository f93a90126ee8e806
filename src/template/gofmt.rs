//! Go's printing of template values: fmt's `%v` (slices `[a b]`, maps `map[k:v]`, floats as
//! float64), `Sprint`, `Sprintln`, `Sprintf` with its verbs, flags, widths and `%!` errors,
//! `strconv.Quote`, and encoding/json's compact output. Knows nothing about templates.

use super::value::{Map, Value};
use std::fmt::Write;

/// fmt's flags, width and precision for one verb.
#[derive(Clone, Copy, Default)]
struct Spec {
    plus: bool,
    /// `%+v`: struct fields with their names.
    plus_v: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Print(v)`: the value as `%v`.
pub(super) fn print_value(out: &mut String, v: &Value) {
    print_arg(out, v, 'v', &Spec::default(), 0);
}

/// `fmt.Sprint(args...)`: spaces between operands when neither side is a string.
pub(super) fn sprint(out: &mut String, args: &[Value]) {
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        print_value(out, a);
        prev_string = is_string;
    }
}

/// `fmt.Sprintln(args...)`: spaces between all operands, then a newline.
pub(super) fn sprintln(out: &mut String, args: &[Value]) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_value(out, a);
    }
    out.push('\n');
}

/// `fmt.Sprintf(format, args...)`.
pub(super) fn sprintf(out: &mut String, format: &str, args: &[Value]) {
    let mut p = Printf { out, args, next: 0, reordered: false };
    p.run(format);
}

struct Printf<'a> {
    out: &'a mut String,
    args: &'a [Value],
    next: usize,
    reordered: bool,
}

impl Printf<'_> {
    fn run(&mut self, format: &str) {
        let b = format.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let start = i;
            while i < b.len() && b[i] != b'%' {
                i += 1;
            }
            self.out.push_str(&format[start..i]);
            if i >= b.len() {
                break;
            }
            i = self.directive(format, i + 1);
        }
        if !self.reordered && self.next < self.args.len() {
            self.out.push_str("%!(EXTRA ");
            for (n, a) in self.args[self.next..].iter().enumerate() {
                if n > 0 {
                    self.out.push_str(", ");
                }
                self.out.push_str(&a.go_type());
                self.out.push('=');
                print_value(self.out, a);
            }
            self.out.push(')');
        }
    }

    /// Handles one `%...` directive starting after the `%`; returns the index after it.
    fn directive(&mut self, format: &str, mut i: usize) -> usize {
        let b = format.as_bytes();
        let mut s = Spec::default();
        while let Some(&c) = b.get(i) {
            match c {
                b'+' => s.plus = true,
                b'-' => s.minus = true,
                b'#' => s.sharp = true,
                b' ' => s.space = true,
                b'0' => s.zero = true,
                _ => break,
            }
            i += 1;
        }
        i = self.arg_index(b, i);
        if b.get(i) == Some(&b'*') {
            i += 1;
            match self.take_int() {
                Some(w) if w < 0 => {
                    s.minus = true;
                    s.width = Some(w.unsigned_abs() as usize);
                }
                Some(w) => s.width = Some(w as usize),
                None => self.out.push_str("%!(BADWIDTH)"),
            }
        } else {
            let (n, j) = number(b, i);
            s.width = n;
            i = j;
        }
        if b.get(i) == Some(&b'.') {
            i = self.arg_index(b, i + 1);
            if b.get(i) == Some(&b'*') {
                i += 1;
                match self.take_int() {
                    Some(p) if p >= 0 => s.prec = Some(p as usize),
                    Some(_) => {}
                    None => self.out.push_str("%!(BADPREC)"),
                }
            } else {
                let (n, j) = number(b, i);
                s.prec = Some(n.unwrap_or(0));
                i = j;
            }
        }
        i = self.arg_index(b, i);
        let Some(verb) = format[i.min(format.len())..].chars().next() else {
            self.out.push_str("%!(NOVERB)");
            return i;
        };
        let after = i + verb.len_utf8();
        if verb == '%' {
            self.out.push('%');
            return after;
        }
        if verb == 'v' {
            (s.plus_v, s.plus, s.sharp) = (s.plus, false, false);
        }
        match self.args.get(self.next) {
            Some(a) => {
                self.next += 1;
                if s.minus {
                    s.zero = false;
                }
                print_arg(self.out, a, verb, &s, 0);
            }
            None => {
                let _ = write!(self.out, "%!{verb}(MISSING)");
            }
        }
        after
    }

    /// `[n]` before a width, precision or verb: use argument n (1-based) next.
    fn arg_index(&mut self, b: &[u8], i: usize) -> usize {
        if b.get(i) != Some(&b'[') {
            return i;
        }
        self.reordered = true;
        let (n, j) = number(b, i + 1);
        match (n, b.get(j)) {
            (Some(n), Some(b']')) if n >= 1 && n <= self.args.len() => {
                self.next = n - 1;
                j + 1
            }
            _ => {
                self.out.push_str("%!(BADINDEX)");
                self.next = self.args.len();
                b[i..].iter().position(|c| *c == b']').map_or(b.len(), |p| i + p + 1)
            }
        }
    }

    fn take_int(&mut self) -> Option<i64> {
        let v = self.args.get(self.next)?;
        self.next += 1;
        match v {
            Value::Int(i) if i.unsigned_abs() < 1_000_000 => Some(*i),
            _ => None,
        }
    }
}

fn number(b: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add((d - b'0') as usize);
        i += 1;
    }
    ((i > start).then_some(n.min(1_000_000)), i)
}

fn print_arg(out: &mut String, v: &Value, verb: char, s: &Spec, depth: usize) {
    if verb == 'T' {
        pad(out, &v.go_type(), s);
        return;
    }
    match v {
        Value::Missing | Value::Nil if depth > 0 || verb == 'v' => pad(out, "<nil>", s),
        Value::Missing | Value::Nil => bad_verb(out, v, verb),
        Value::Bool(b) if verb == 'v' || verb == 't' => pad(out, if *b { "true" } else { "false" }, s),
        Value::Int(i) => fmt_int(out, v, *i, verb, s),
        Value::Float(f) => fmt_float(out, v, *f, verb, s),
        Value::Str(t) => fmt_str(out, v, t, verb, s),
        Value::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(' ');
                }
                print_arg(out, item, verb, s, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => print_map(out, m, verb, s, depth),
        Value::Struct(st) => {
            out.push('{');
            for (n, (k, item)) in st.fields().iter().enumerate() {
                if n > 0 {
                    out.push(' ');
                }
                if s.plus_v {
                    out.push_str(k);
                    out.push(':');
                }
                print_arg(out, item, verb, s, depth + 1);
            }
            out.push('}');
        }
        Value::Headings(_) => out.push_str("map[]"),
        Value::Time(t) => fmt_str(out, v, &crate::util::go_time_string(t), verb, s),
        Value::Bool(_) => bad_verb(out, v, verb),
    }
}

fn print_map(out: &mut String, m: &Map, verb: char, s: &Spec, depth: usize) {
    out.push_str("map[");
    for (n, (k, item)) in m.entries().iter().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        fmt_str(out, &Value::Missing, k, verb, s);
        out.push(':');
        print_arg(out, item, verb, s, depth + 1);
    }
    out.push(']');
}

/// `%!d(string=abc)`: a verb that does not apply to the operand.
fn bad_verb(out: &mut String, v: &Value, verb: char) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    match v {
        Value::Missing | Value::Nil => out.push_str("<nil>"),
        v => {
            out.push_str(&v.go_type());
            out.push('=');
            print_value(out, v);
        }
    }
    out.push(')');
}

/// Pads to the width with spaces (or zeros, for numbers with the 0 flag), counting runes.
fn pad(out: &mut String, text: &str, s: &Spec) {
    let n = text.chars().count();
    let fill = s.width.unwrap_or(0).saturating_sub(n);
    if fill == 0 {
        out.push_str(text);
    } else if s.minus {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(text);
    }
}

/// Pads a number: zero padding goes after the sign.
fn pad_number(out: &mut String, text: &str, s: &Spec) {
    let n = text.chars().count();
    let width = s.width.unwrap_or(0);
    if s.zero && !s.minus && width > n {
        let (sign, digits) = match text.as_bytes().first() {
            Some(b'+' | b'-' | b' ') => text.split_at(1),
            _ => ("", text),
        };
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', width - n));
        out.push_str(digits);
    } else {
        pad(out, text, s);
    }
}

fn fmt_str(out: &mut String, v: &Value, t: &str, verb: char, s: &Spec) {
    let t = match s.prec {
        Some(p) if matches!(verb, 'v' | 's' | 'q' | 'x' | 'X') => match t.char_indices().nth(p) {
            Some((i, _)) => &t[..i],
            None => t,
        },
        _ => t,
    };
    match verb {
        'v' | 's' => pad(out, t, s),
        'q' if s.sharp && !t.contains('`') && t.chars().all(|c| c == '\t' || !c.is_control()) => {
            pad(out, &format!("`{t}`"), s)
        }
        'q' => pad(out, &quote(t, s.plus), s),
        'x' | 'X' => {
            let mut h = String::new();
            for (n, byte) in t.bytes().enumerate() {
                if s.space && n > 0 {
                    h.push(' ');
                }
                if s.sharp && (s.space || n == 0) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                let _ = if verb == 'x' { write!(h, "{byte:02x}") } else { write!(h, "{byte:02X}") };
            }
            pad(out, &h, s)
        }
        _ => bad_verb(out, v, verb),
    }
}

fn fmt_int(out: &mut String, v: &Value, i: i64, verb: char, s: &Spec) {
    let u = i.unsigned_abs();
    let mut digits = match verb {
        'v' | 'd' => u.to_string(),
        'b' => format!("{u:b}"),
        'o' | 'O' => format!("{u:o}"),
        'x' => format!("{u:x}"),
        'X' => format!("{u:X}"),
        'c' => return pad(out, &char_of(i).to_string(), s),
        'q' => return pad(out, &quote_rune(char_of(i), s.plus), s),
        'U' => {
            let mut t = format!("U+{u:04X}");
            if s.sharp
                && let Some(c) = char::from_u32(u as u32).filter(|c| !c.is_control())
            {
                let _ = write!(t, " '{c}'");
            }
            return pad(out, &t, s);
        }
        _ => return bad_verb(out, v, verb),
    };
    if let Some(p) = s.prec {
        if p == 0 && i == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let prefix = match verb {
        'b' if s.sharp => "0b",
        'o' if s.sharp && !digits.starts_with('0') => "0",
        'O' => "0o",
        'x' if s.sharp => "0x",
        'X' if s.sharp => "0X",
        _ => "",
    };
    let sign = if i < 0 {
        "-"
    } else if s.plus {
        "+"
    } else if s.space {
        " "
    } else {
        ""
    };
    let text = format!("{sign}{prefix}{digits}");
    if s.prec.is_some() {
        pad(out, &text, s);
    } else {
        pad_number(out, &text, s);
    }
}

fn char_of(i: i64) -> char {
    u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}')
}

fn fmt_float(out: &mut String, v: &Value, f: f64, verb: char, s: &Spec) {
    let body = match verb {
        'v' | 'g' | 'G' => float_g(f, s.prec, verb == 'G'),
        'e' | 'E' => float_e(f, s.prec.unwrap_or(6), verb == 'E'),
        'f' | 'F' => float_f(f, s.prec.unwrap_or(6)),
        _ => return bad_verb(out, v, verb),
    };
    let text = if body.starts_with('-') {
        body
    } else if s.plus {
        format!("+{body}")
    } else if s.space {
        format!(" {body}")
    } else {
        body
    };
    if f.is_finite() { pad_number(out, &text, s) } else { pad(out, &text, s) }
}

/// Decimal digits of |f| without trailing zeros, and the decimal point's position:
/// the value is 0.DIGITS × 10^dp. `sig` asks for that many significant digits (rounded).
fn digits(f: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    if f == 0.0 {
        return (Vec::new(), 0);
    }
    let e = match sig {
        None => format!("{:e}", f.abs()),
        Some(n) => format!("{:.*e}", n.max(1) - 1, f.abs()),
    };
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    (d, exp + 1)
}

fn non_finite(f: f64) -> Option<String> {
    match f {
        f if f.is_nan() => Some("NaN".into()),
        f if f.is_infinite() && f > 0.0 => Some("+Inf".into()),
        f if f.is_infinite() => Some("-Inf".into()),
        _ => None,
    }
}

fn sign_of(f: f64) -> &'static str {
    if f.is_sign_negative() { "-" } else { "" }
}

/// strconv's `%e` layout: d.ddde±XX with `prec` digits after the point.
fn layout_e(f: f64, d: &[u8], dp: i32, prec: usize, upper: bool) -> String {
    let mut s = String::from(sign_of(f));
    s.push(d.first().map_or('0', |c| *c as char));
    if prec > 0 {
        s.push('.');
        for k in 1..=prec {
            s.push(d.get(k).map_or('0', |c| *c as char));
        }
    }
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    let _ = write!(s, "{}{}{:02}", if upper { 'E' } else { 'e' }, if exp < 0 { '-' } else { '+' }, exp.abs());
    s
}

/// strconv's `%f` layout with `prec` digits after the point.
fn layout_f(f: f64, d: &[u8], dp: i32, prec: usize) -> String {
    let mut s = String::from(sign_of(f));
    let digit = |k: i32| if k >= 0 { d.get(k as usize).map_or('0', |c| *c as char) } else { '0' };
    if dp > 0 {
        (0..dp).for_each(|k| s.push(digit(k)));
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        (0..prec as i32).for_each(|k| s.push(digit(dp + k)));
    }
    s
}

fn float_e(f: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = non_finite(f) {
        return s;
    }
    let (d, dp) = digits(f, Some(prec + 1));
    layout_e(f, &d, dp, prec, upper)
}

fn float_f(f: f64, prec: usize) -> String {
    non_finite(f).unwrap_or_else(|| format!("{f:.prec$}"))
}

/// `%g` (and `%v`): shortest digits unless a precision is given; `%e` form when the
/// exponent is below -4 or at least the precision (6 for shortest).
fn float_g(f: f64, prec: Option<usize>, upper: bool) -> String {
    if let Some(s) = non_finite(f) {
        return s;
    }
    let (d, dp) = digits(f, prec.map(|p| p.max(1)));
    let nd = d.len() as i32;
    let mut p = prec.map_or(nd, |p| p.max(1) as i32);
    let mut eprec = p;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if prec.is_none() {
        eprec = 6;
    }
    let exp = dp - 1;
    if exp < -4 || exp >= eprec {
        p = p.min(nd);
        return layout_e(f, &d, dp, (p - 1).max(0) as usize, upper);
    }
    if p > dp {
        p = nd;
    }
    layout_f(f, &d, dp, (p - dp).max(0) as usize)
}

/// `strconv.Quote` (with `ascii`, `QuoteToASCII`).
pub(super) fn quote(s: &str, ascii: bool) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        escape_char(&mut q, c, '"', ascii);
    }
    q.push('"');
    q
}

fn quote_rune(c: char, ascii: bool) -> String {
    let mut q = String::from('\'');
    escape_char(&mut q, c, '\'', ascii);
    q.push('\'');
    q
}

fn escape_char(q: &mut String, c: char, delim: char, ascii: bool) {
    match c {
        c if c == delim || c == '\\' => {
            q.push('\\');
            q.push(c);
        }
        '\x07' => q.push_str("\\a"),
        '\x08' => q.push_str("\\b"),
        '\x0c' => q.push_str("\\f"),
        '\n' => q.push_str("\\n"),
        '\r' => q.push_str("\\r"),
        '\t' => q.push_str("\\t"),
        '\x0b' => q.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(q, "\\x{:02x}", c as u32);
        }
        c if printable(c) && (!ascii || c.is_ascii()) => q.push(c),
        c if (c as u32) < 0x10000 => {
            let _ = write!(q, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(q, "\\U{:08x}", c as u32);
        }
    }
}

/// Close to Go's `unicode.IsPrint`: graphic characters and the ASCII space.
fn printable(c: char) -> bool {
    c == ' ' || !(c.is_control() || c.is_whitespace() || ('\u{fff9}'..='\u{fffb}').contains(&c))
}

/// encoding/json's compact encoding without HTML escaping (Podman's `{{json .}}`).
pub(super) fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Missing | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&json_float(*f)),
        Value::Str(s) => json_string(out, s),
        Value::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Map(m) if m.is_nil() => out.push_str("null"),
        Value::Map(m) => json_object(out, m.entries().iter().map(|(k, v)| (k.as_str(), v))),
        Value::Struct(s) => json_object(out, s.fields().iter().map(|(k, v)| (k.as_str(), v))),
        Value::Headings(_) => out.push_str("{}"),
        Value::Time(t) => json_string(out, &crate::util::go_rfc3339(t)),
    }
}

fn json_object<'a>(out: &mut String, entries: impl Iterator<Item = (&'a str, &'a Value)>) {
    out.push('{');
    for (n, (k, v)) in entries.enumerate() {
        if n > 0 {
            out.push(',');
        }
        json_string(out, k);
        out.push(':');
        write_json(out, v);
    }
    out.push('}');
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// encoding/json's float64: shortest digits, `%e` form below 1e-6 or from 1e21 on.
fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let (d, dp) = digits(f, None);
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = layout_e(f, &d, dp, d.len().saturating_sub(1), false);
        // encoding/json writes e-7, not e-07.
        return match s.rsplit_once("e-0") {
            Some((m, e)) if e.len() == 1 => format!("{m}e-{e}"),
            _ => s,
        };
    }
    layout_f(f, &d, dp, (d.len() as i32 - dp).max(0) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(format: &str, args: &[Value]) -> String {
        let mut s = String::new();
        sprintf(&mut s, format, args);
        s
    }

    fn v(f: f64) -> String {
        let mut s = String::new();
        print_value(&mut s, &Value::Float(f));
        s
    }

    #[test]
    fn floats_print_as_go_float64() {
        let cases = [
            (1.5, "1.5"),
            (1e6, "1e+06"),
            (100000.0, "100000"),
            (123456789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.0, "0"),
            (-2.25, "-2.25"),
            (1e21, "1e+21"),
            (3.0, "3"),
        ];
        for (f, want) in cases {
            assert_eq!(v(f), want, "{f}");
        }
    }

    #[test]
    fn printf_verbs() {
        let s = Value::str;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("%s|%d|%v", vec![s("a"), Value::Int(-3), Value::Bool(true)], "a|-3|true"),
            ("%-10s|", vec![s("ab")], "ab        |"),
            ("%10s|", vec![s("ab")], "        ab|"),
            ("%5d|%-5d|%05d", vec![Value::Int(42), Value::Int(42), Value::Int(-42)], "   42|42   |-0042"),
            (
                "%x %X %#x %o %b",
                vec![Value::Int(255), Value::Int(255), Value::Int(255), Value::Int(8), Value::Int(5)],
                "ff FF 0xff 10 101",
            ),
            ("%q", vec![s("a\"b\n")], "\"a\\\"b\\n\""),
            ("%x", vec![s("hi")], "6869"),
            (
                "%.2f|%f|%8.3f",
                vec![Value::Float(3.14259), Value::Float(1.5), Value::Float(2.0)],
                "3.14|1.500000|   2.000",
            ),
            ("%e|%.2e", vec![Value::Float(1234.5678), Value::Float(0.000123)], "1.234568e+03|1.23e-04"),
            ("%g|%.3g|%.3g", vec![Value::Float(1e6), Value::Float(1234.0), Value::Float(100.0)], "1e+06|1.23e+03|100"),
            ("%t|%v", vec![Value::Bool(false), Value::Missing], "false|<nil>"),
            ("%d%%", vec![Value::Int(50)], "50%"),
            ("%.3s", vec![s("abcdef")], "abc"),
            ("%c|%q|%U", vec![Value::Int(65), Value::Int(65), Value::Int(65)], "A|'A'|U+0041"),
            ("%+d|% d", vec![Value::Int(5), Value::Int(5)], "+5| 5"),
            ("%*d|%-*d|", vec![Value::Int(4), Value::Int(7), Value::Int(3), Value::Int(1)], "   7|1  |"),
            ("%[2]s %[1]s", vec![s("a"), s("b")], "b a"),
            ("%v", vec![Value::from(vec![s("a"), Value::Int(1), Value::Nil])], "[a 1 <nil>]"),
            ("%T %T", vec![s("a"), Value::Float(1.0)], "string float64"),
            ("%+v|%+d", vec![Value::Int(5), Value::Int(5)], "5|+5"),
        ];
        for (f, args, want) in cases {
            assert_eq!(pf(f, &args), want, "{f}");
        }
    }

    #[test]
    fn printf_errors_as_go() {
        assert_eq!(pf("%d", &[Value::str("abc")]), "%!d(string=abc)");
        assert_eq!(pf("%s", &[Value::Int(5)]), "%!s(int=5)");
        assert_eq!(pf("%d %d", &[Value::Int(1)]), "1 %!d(MISSING)");
        assert_eq!(pf("%d", &[Value::Int(1), Value::str("x")]), "1%!(EXTRA string=x)");
        assert_eq!(pf("%s", &[Value::Missing]), "%!s(<nil>)");
        assert_eq!(pf("50%", &[]), "50%!(NOVERB)");
        assert_eq!(pf("%f", &[Value::Int(1)]), "%!f(int=1)");
    }

    #[test]
    fn sprint_spacing() {
        let mut s = String::new();
        sprint(&mut s, &[Value::Int(1), Value::Int(2), Value::str("a"), Value::Int(3)]);
        assert_eq!(s, "1 2a3");
        let mut s = String::new();
        sprintln(&mut s, &[Value::str("a"), Value::str("b")]);
        assert_eq!(s, "a b\n");
    }

    #[test]
    fn json_like_encoding_json() {
        let mut s = String::new();
        let m = Map::new([("b".into(), Value::Float(1e-7)), ("a".into(), Value::str("<&>\"\n"))].into());
        write_json(&mut s, &Value::from(vec![Value::Map(std::sync::Arc::new(m)), Value::Float(2.5), Value::Nil]));
        assert_eq!(s, r#"[{"a":"<&>\"\n","b":1e-7},2.5,null]"#);
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(100.0), "100");
    }
}
