//! The functions a template can call: Go's builtins (`and`, `or`, `not`, `len`, `index`,
//! `slice`, `print*`, comparisons, `html`, `js`, `urlquery`) and Podman's additions
//! (`json`, `join`, `lower`, `upper`, `title`, `split`, `pad`, `truncate`). `and`/`or`
//! short-circuit in the evaluator; everything else is a plain call on evaluated values.

use super::gofmt;
use super::value::{Value, element};
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Func {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Print,
    Printf,
    Println,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Html,
    Js,
    Urlquery,
    Join,
    Json,
    Lower,
    Pad,
    Split,
    Title,
    Truncate,
    Upper,
}

/// What a parameter accepts, as the Go function's parameter type would.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Param {
    /// `interface{}` / `reflect.Value`: anything, including no value.
    Any,
    /// `string`
    Str,
    /// `int`
    Int,
    /// `[]string` (any list; elements print with %v; no value is an empty list).
    List,
}

impl Param {
    pub fn go_name(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Str => "string",
            Param::Int => "int",
            Param::List => "[]string",
        }
    }
}

const ALL: [(&str, Func); 26] = [
    ("and", Func::And),
    ("or", Func::Or),
    ("not", Func::Not),
    ("len", Func::Len),
    ("index", Func::Index),
    ("slice", Func::Slice),
    ("print", Func::Print),
    ("printf", Func::Printf),
    ("println", Func::Println),
    ("eq", Func::Eq),
    ("ne", Func::Ne),
    ("lt", Func::Lt),
    ("le", Func::Le),
    ("gt", Func::Gt),
    ("ge", Func::Ge),
    ("html", Func::Html),
    ("js", Func::Js),
    ("urlquery", Func::Urlquery),
    ("join", Func::Join),
    ("json", Func::Json),
    ("lower", Func::Lower),
    ("pad", Func::Pad),
    ("split", Func::Split),
    ("title", Func::Title),
    ("truncate", Func::Truncate),
    ("upper", Func::Upper),
];

impl Func {
    pub fn lookup(name: &str) -> Option<Func> {
        ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    pub fn name(self) -> &'static str {
        ALL.iter().find(|(_, f)| *f == self).map_or("?", |(n, _)| n)
    }

    /// Fixed parameters, and the type of the variadic rest if the function has one.
    pub fn signature(self) -> (&'static [Param], Option<Param>) {
        use Param::*;
        match self {
            Func::And | Func::Or | Func::Index | Func::Slice | Func::Eq => (&[Any], Some(Any)),
            Func::Not | Func::Len | Func::Json => (&[Any], None),
            Func::Print | Func::Println | Func::Html | Func::Js | Func::Urlquery => (&[], Some(Any)),
            Func::Printf => (&[Str], Some(Any)),
            Func::Ne | Func::Lt | Func::Le | Func::Gt | Func::Ge => (&[Any, Any], None),
            Func::Join => (&[List, Str], None),
            Func::Lower | Func::Upper | Func::Title => (&[Str], None),
            Func::Pad => (&[Str, Int, Int], None),
            Func::Split => (&[Str, Str], None),
            Func::Truncate => (&[Str, Int], None),
        }
    }

    /// Calls the function on arguments already checked against its signature.
    pub fn call(self, a: &[Value]) -> Result<Value, String> {
        let arg = |i: usize| a.get(i).cloned().unwrap_or_default();
        let text = |i: usize| match a.get(i) {
            Some(Value::Str(s)) => s.to_string(),
            _ => String::new(),
        };
        let int = |i: usize| match a.get(i) {
            Some(Value::Int(n)) => *n,
            _ => 0,
        };
        let first = arg(0);
        let rest = a.get(1..).unwrap_or(&[]);
        Ok(match self {
            Func::And => {
                a.iter().find(|v| !v.truth()).cloned().unwrap_or_else(|| a.last().cloned().unwrap_or_default())
            }
            Func::Or => a.iter().find(|v| v.truth()).cloned().unwrap_or_else(|| a.last().cloned().unwrap_or_default()),
            Func::Not => Value::Bool(!first.truth()),
            Func::Len => Value::Int(length(&first)?),
            Func::Index => index(&first, rest)?,
            Func::Slice => slice(&first, rest)?,
            Func::Print => string_with(|s| gofmt::sprint(s, a)),
            Func::Println => string_with(|s| gofmt::sprintln(s, a)),
            Func::Printf => string_with(|s| gofmt::sprintf(s, &text(0), rest)),
            Func::Eq => Value::Bool(eq(&first, rest)?),
            Func::Ne => Value::Bool(!eq(&first, rest)?),
            Func::Lt => Value::Bool(lt(&first, &arg(1))?),
            Func::Le => Value::Bool(lt(&first, &arg(1))? || eq(&first, rest)?),
            Func::Gt => Value::Bool(!(lt(&first, &arg(1))? || eq(&first, rest)?)),
            Func::Ge => Value::Bool(!lt(&first, &arg(1))?),
            Func::Html => Value::from(html(&eval_args(a))),
            Func::Js => Value::from(js(&eval_args(a))),
            Func::Urlquery => Value::from(urlquery(&eval_args(a))),
            Func::Join => Value::from(join(&first, &text(1))),
            Func::Json => string_with(|s| gofmt::write_json(s, &first)),
            Func::Lower => Value::from(text(0).chars().map(|c| simple_case(c, char::to_lowercase)).collect::<String>()),
            Func::Upper => Value::from(text(0).chars().map(|c| simple_case(c, char::to_uppercase)).collect::<String>()),
            Func::Title => Value::from(title(&text(0))),
            Func::Pad => pad(&text(0), int(1), int(2))?,
            Func::Split => split(&text(0), &text(1)),
            Func::Truncate => truncate(&text(0), int(1))?,
        })
    }
}

fn string_with(f: impl FnOnce(&mut String)) -> Value {
    let mut s = String::new();
    f(&mut s);
    Value::from(s)
}

fn length(v: &Value) -> Result<i64, String> {
    Ok(match v {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.entries().len(),
        Value::Missing | Value::Nil => return Err("len of nil pointer".into()),
        v => return Err(format!("len of type {}", v.go_type())),
    } as i64)
}

/// An integer index into something of length `cap` (Go allows `cap` itself for slicing).
fn index_arg(ix: &Value, cap: usize) -> Result<usize, String> {
    match ix {
        Value::Int(i) if *i < 0 || *i as u64 > cap as u64 => Err(format!("index out of range: {i}")),
        Value::Int(i) => Ok(*i as usize),
        Value::Missing | Value::Nil => Err("cannot index slice/array with nil".into()),
        v => Err(format!("cannot index slice/array with type {}", v.go_type())),
    }
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if matches!(item, Value::Missing) {
        return Err("index of untyped nil".into());
    }
    let mut item = item.clone();
    for ix in indexes {
        item = match &item {
            Value::Missing | Value::Nil => return Err("index of nil pointer".into()),
            Value::List(l) => match index_arg(ix, l.len())? {
                x if x == l.len() => return Err(format!("index out of range: {x}")),
                x => element(&l[x]),
            },
            Value::Str(s) => match index_arg(ix, s.len())? {
                x if x == s.len() => return Err(format!("index out of range: {x}")),
                x => Value::Int(i64::from(s.as_bytes()[x])),
            },
            Value::Map(m) => match ix {
                Value::Str(k) => m.index(k),
                Value::Missing | Value::Nil => return Err("value is nil; should be of type string".into()),
                v => return Err(format!("value has type {}; should be string", v.go_type())),
            },
            v => return Err(format!("can't index item of type {}", v.go_type())),
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match item {
        Value::Missing => return Err("slice of untyped nil".into()),
        Value::Str(_) if indexes.len() == 3 => return Err("cannot 3-index slice a string".into()),
        Value::Str(s) => s.len(),
        Value::List(l) => l.len(),
        v => return Err(format!("can't slice item of type {}", v.go_type())),
    };
    let mut idx = [0, len, len];
    for (n, ix) in indexes.iter().enumerate() {
        idx[n] = index_arg(ix, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match item {
        Value::Str(s) => Value::from(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned()),
        Value::List(l) => Value::from(l[idx[0]..idx[1]].to_vec()),
        _ => Value::Missing,
    })
}

/// A comparable operand: Go's basic kinds.
enum Basic<'a> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

fn basic(v: &Value) -> Option<Basic<'_>> {
    Some(match v {
        Value::Bool(b) => Basic::Bool(*b),
        Value::Int(i) => Basic::Int(*i),
        Value::Float(f) => Basic::Float(*f),
        Value::Str(s) => Basic::Str(s),
        _ => return None,
    })
}

const BAD_TYPE: &str = "invalid type for comparison";
const INCOMPATIBLE: &str = "incompatible types for comparison";

fn eq(a: &Value, rest: &[Value]) -> Result<bool, String> {
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let nil = |v: &Value| matches!(v, Value::Missing | Value::Nil);
    for b in rest {
        let truth = match (basic(a), basic(b)) {
            (Some(Basic::Bool(x)), Some(Basic::Bool(y))) => x == y,
            (Some(Basic::Int(x)), Some(Basic::Int(y))) => x == y,
            (Some(Basic::Float(x)), Some(Basic::Float(y))) => x == y,
            (Some(Basic::Str(x)), Some(Basic::Str(y))) => x == y,
            (Some(_), Some(_)) => return Err(INCOMPATIBLE.into()),
            _ if nil(a) || nil(b) => nil(a) && nil(b),
            (None, None) => return Err(format!("non-comparable types {}, {}", a.go_type(), b.go_type())),
            _ => return Err(INCOMPATIBLE.into()),
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (Some(x), Some(y)) = (basic(a), basic(b)) else { return Err(BAD_TYPE.into()) };
    match (x, y) {
        (Basic::Int(x), Basic::Int(y)) => Ok(x < y),
        (Basic::Float(x), Basic::Float(y)) => Ok(x < y),
        (Basic::Str(x), Basic::Str(y)) => Ok(x < y),
        (Basic::Bool(_), Basic::Bool(_)) => Err(BAD_TYPE.into()),
        _ => Err(INCOMPATIBLE.into()),
    }
}

/// The text of html/js/urlquery's arguments: one string as is, else Sprint with each
/// no-value argument shown as `<no value>`.
fn eval_args(a: &[Value]) -> String {
    if let [Value::Str(s)] = a {
        return s.to_string();
    }
    let shown: Vec<Value> =
        a.iter().map(|v| if matches!(v, Value::Missing) { Value::str("<no value>") } else { v.clone() }).collect();
    let mut s = String::new();
    gofmt::sprint(&mut s, &shown);
    s
}

fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c if !c.is_ascii() && (c.is_control() || c.is_whitespace()) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn urlquery(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn join(list: &Value, sep: &str) -> String {
    let Value::List(items) = list else { return String::new() };
    let mut out = String::new();
    for (n, v) in items.iter().enumerate() {
        if n > 0 {
            out.push_str(sep);
        }
        match v {
            Value::Str(s) => out.push_str(s),
            v => gofmt::print_value(&mut out, v),
        }
    }
    out
}

/// Go's unicode.ToUpper/ToLower: one rune to one rune, else unchanged.
fn simple_case<I: Iterator<Item = char>>(c: char, f: impl Fn(char) -> I) -> char {
    let mut m = f(c);
    match (m.next(), m.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// strings.Title: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !(c.is_alphabetic() || c.is_numeric()) && c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if separator(prev) { simple_case(c, char::to_uppercase) } else { c };
            prev = c;
            out
        })
        .collect()
}

fn pad(s: &str, prefix: i64, suffix: i64) -> Result<Value, String> {
    if prefix < 0 || suffix < 0 {
        return Err("strings: negative Repeat count".into());
    }
    if s.is_empty() {
        return Ok(Value::str(""));
    }
    Ok(Value::from(format!("{}{s}{}", " ".repeat(prefix as usize), " ".repeat(suffix as usize))))
}

fn split(s: &str, sep: &str) -> Value {
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::from(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::str).collect()
    };
    Value::from(parts)
}

/// Podman's truncate: the first `n` bytes (backing off to a character boundary).
fn truncate(s: &str, n: i64) -> Result<Value, String> {
    if n < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{n}]"));
    }
    let n = n as usize;
    if s.len() < n {
        return Ok(Value::str(s));
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Ok(Value::str(&s[..end]))
}
