//! The template parser: tokens into the AST of `ast.rs`, with Go's grammar and Go's parse
//! errors (`unexpected "}" in operand`, `function "foo" not defined`, undefined variables,
//! `{{break}}` outside `{{range}}`). Resolves function names; evaluates nothing.

use super::ast::{Arg, Branch, Command, List, Node, Pipe};
use super::funcs::Func;
use super::gofmt::quote;
use super::lex::{Item, Kind, lex};
use super::value::Value;
use std::fmt;

/// A parse failure: the line of the last token read, and Go's message.
#[derive(Debug)]
pub(super) struct ParseError {
    pub line: usize,
    pub msg: String,
}

pub(super) struct Parsed {
    pub root: List,
    /// `{{define}}` and `{{block}}` bodies by name.
    pub defs: Vec<(String, List)>,
}

pub(super) fn parse(text: &str) -> Result<Parsed, ParseError> {
    let mut items = lex(text);
    if items.is_empty() {
        items.push(Item { kind: Kind::Eof, pos: text.len(), line: 1, val: String::new() });
    }
    let mut p = Parser { items, i: 0, far: 0, vars: vec!["$".into()], range_depth: 0, defs: Vec::new() };
    let root = p.top()?;
    Ok(Parsed { root, defs: p.defs })
}

/// What `{{...}}` parsed to: a node, or the `{{end}}`/`{{else}}` closing a list.
enum Step {
    Node(Node),
    End,
    Else,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Node(n) => n.fmt(f),
            Step::End => f.write_str("{{end}}"),
            Step::Else => f.write_str("{{else}}"),
        }
    }
}

type R<T> = Result<T, ParseError>;

struct Parser {
    items: Vec<Item>,
    i: usize,
    /// One past the furthest token read: errors name its line.
    far: usize,
    vars: Vec<String>,
    range_depth: usize,
    defs: Vec<(String, List)>,
}

impl Parser {
    fn next(&mut self) -> Item {
        let k = self.i.min(self.items.len() - 1);
        self.i = k + 1;
        self.far = self.far.max(self.i);
        self.items[k].clone()
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn peek(&mut self) -> Item {
        let t = self.next();
        self.backup();
        t
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn error(&self, msg: impl Into<String>) -> ParseError {
        let line = self.items.get(self.far.saturating_sub(1)).map_or(1, |t| t.line);
        ParseError { line, msg: msg.into() }
    }

    fn unexpected(&self, t: &Item, context: &str) -> ParseError {
        self.error(format!("unexpected {t} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> R<Item> {
        let t = self.next_non_space();
        if t.kind != kind {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    /// The whole text: nodes and `{{define}}`s, up to EOF.
    fn top(&mut self) -> R<List> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Step::Node(n) => root.push(n),
                other => return Err(self.error(format!("unexpected {other}"))),
            }
        }
        Ok(root)
    }

    /// Parses a separately scoped body (define, block): its own `$`, no enclosing range.
    fn nested(&mut self, context: &str) -> R<List> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let depth = std::mem::replace(&mut self.range_depth, 0);
        let r = self.item_list();
        self.vars = vars;
        self.range_depth = depth;
        match r? {
            (list, Step::End) => Ok(list),
            (_, other) => Err(self.error(format!("unexpected {other} in {context}"))),
        }
    }

    fn definition(&mut self) -> R<()> {
        const CONTEXT: &str = "define clause";
        let t = self.next_non_space();
        if !matches!(t.kind, Kind::String | Kind::RawString) {
            return Err(self.unexpected(&t, CONTEXT));
        }
        let name = unquote(&t.val).map_err(|e| self.error(e))?;
        self.expect(Kind::RightDelim, CONTEXT)?;
        let body = self.nested(CONTEXT)?;
        self.add(name, body)
    }

    /// Go's rule: a later definition replaces an empty one; two non-empty ones conflict.
    fn add(&mut self, name: String, body: List) -> R<()> {
        let blank = |l: &List| l.iter().all(Node::is_blank);
        match self.defs.iter_mut().find(|(n, _)| *n == name) {
            None => self.defs.push((name, body)),
            Some((_, old)) if blank(old) => *old = body,
            Some(_) if blank(&body) => {}
            Some(_) => {
                return Err(self.error(format!("template: multiple definition of template {}", quote(&name, false))));
            }
        }
        Ok(())
    }

    /// Nodes up to the `{{end}}` or `{{else}}` that closes them.
    fn item_list(&mut self) -> R<(List, Step)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Step::Node(n) => list.push(n),
                end => return Ok((list, end)),
            }
        }
        Err(self.error("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> R<Step> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Step::Node(Node::Text(t.val))),
            Kind::LeftDelim => self.action(),
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> R<Step> {
        let t = self.next_non_space();
        let node = match t.kind {
            Kind::Block => self.block()?,
            Kind::Break => self.loop_control("break")?,
            Kind::Continue => self.loop_control("continue")?,
            Kind::Else => return self.else_control(),
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Step::End);
            }
            Kind::If => Node::If(self.control("if")?),
            Kind::Range => Node::Range(self.control("range")?),
            Kind::With => Node::With(self.control("with")?),
            Kind::Template => self.template()?,
            _ => {
                self.backup();
                Node::Action(self.pipeline("command", Kind::RightDelim)?)
            }
        };
        Ok(Step::Node(node))
    }

    fn else_control(&mut self) -> R<Step> {
        // `{{else if ...}}` and `{{else with ...}}` leave the keyword for the control.
        if matches!(self.peek_non_space().kind, Kind::If | Kind::With) {
            return Ok(Step::Else);
        }
        self.expect(Kind::RightDelim, "else")?;
        Ok(Step::Else)
    }

    fn loop_control(&mut self, kw: &str) -> R<Node> {
        let t = self.next_non_space();
        if t.kind != Kind::RightDelim {
            return Err(self.unexpected(&t, &format!("{{{{{kw}}}}}")));
        }
        if self.range_depth == 0 {
            return Err(self.error(format!("{{{{{kw}}}}} outside {{{{range}}}}")));
        }
        Ok(if kw == "break" { Node::Break } else { Node::Continue })
    }

    /// if/with/range: pipeline, list, optional else (or `else if`/`else with` chain), end.
    fn control(&mut self, context: &'static str) -> R<Branch> {
        let mark = self.vars.len();
        let r = self.control_body(context);
        self.vars.truncate(mark);
        r
    }

    fn control_body(&mut self, context: &'static str) -> R<Branch> {
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let in_range = context == "range";
        self.range_depth += usize::from(in_range);
        let r = self.item_list();
        self.range_depth -= usize::from(in_range);
        let (list, next) = r?;
        let else_list = match next {
            Step::Else => Some(self.else_list(context)?),
            _ => None,
        };
        Ok(Branch { pipe, list, else_list })
    }

    fn else_list(&mut self, context: &'static str) -> R<List> {
        match (context, self.peek().kind) {
            ("if", Kind::If) => {
                self.next();
                return Ok(vec![Node::If(self.control("if")?)]);
            }
            ("with", Kind::With) => {
                self.next();
                return Ok(vec![Node::With(self.control("with")?)]);
            }
            _ => {}
        }
        match self.item_list()? {
            (list, Step::End) => Ok(list),
            (_, next) => Err(self.error(format!("expected end; found {next}"))),
        }
    }

    fn template_name(&mut self, context: &str) -> R<(usize, String)> {
        let t = self.next_non_space();
        match t.kind {
            Kind::String | Kind::RawString => Ok((t.pos, unquote(&t.val).map_err(|e| self.error(e))?)),
            _ => Err(self.unexpected(&t, context)),
        }
    }

    fn template(&mut self) -> R<Node> {
        const CONTEXT: &str = "template clause";
        let (pos, name) = self.template_name(CONTEXT)?;
        let pipe = match self.next_non_space().kind {
            Kind::RightDelim => None,
            _ => {
                self.backup();
                Some(self.pipeline(CONTEXT, Kind::RightDelim)?)
            }
        };
        Ok(Node::Template { pos, name, pipe })
    }

    fn block(&mut self) -> R<Node> {
        const CONTEXT: &str = "block clause";
        let (pos, name) = self.template_name(CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Kind::RightDelim)?;
        let body = self.nested(CONTEXT)?;
        self.add(name.clone(), body)?;
        Ok(Node::Template { pos, name, pipe: Some(pipe) })
    }

    /// `decls? command ('|' command)*` up to `end` (`}}` or `)`).
    fn pipeline(&mut self, context: &str, end: Kind) -> R<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe { pos, decl: Vec::new(), assign: false, cmds: Vec::new() };
        self.declarations(&mut pipe, context)?;
        loop {
            let t = self.next_non_space();
            match t.kind {
                k if k == end => {
                    check_pipeline(&pipe, context).map_err(|m| self.error(m))?;
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&t, context)),
            }
        }
    }

    /// `$x :=`, `$x =`, and range's `$i, $v :=`.
    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> R<()> {
        loop {
            let save = self.i;
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                return Ok(());
            }
            self.next_non_space();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    return Ok(());
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => return Err(self.error("range can only initialize variables")),
                        }
                    }
                    return Err(self.error(format!("too many declarations in {context}")));
                }
                _ => {
                    self.i = save;
                    return Ok(());
                }
            }
        }
    }

    fn command(&mut self) -> R<Command> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(a) = self.operand()? {
                args.push(a);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.error("empty command"));
        }
        Ok(Command { pos, args })
    }

    /// A term, possibly followed by `.Field`s.
    fn operand(&mut self) -> R<Option<Arg>> {
        let Some(node) = self.term()? else { return Ok(None) };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos;
        let mut more = Vec::new();
        while self.peek().kind == Kind::Field {
            more.push(self.next().val.get(1..).unwrap_or("").to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(more);
                Arg::Field { pos, idents }
            }
            Arg::Variable { name, mut idents, .. } => {
                idents.extend(more);
                Arg::Variable { pos, name, idents }
            }
            Arg::Bool(..) | Arg::String { .. } | Arg::Number { .. } | Arg::Nil(_) | Arg::Dot(_) => {
                return Err(self.error(format!("unexpected . after term {}", quote(&node.to_string(), false))));
            }
            other => Arg::Chain { pos, node: Box::new(other), fields: more },
        }))
    }

    fn term(&mut self) -> R<Option<Arg>> {
        let t = self.next_non_space();
        let pos = t.pos;
        Ok(Some(match t.kind {
            Kind::Identifier => match Func::lookup(&t.val) {
                Some(func) => Arg::Func { pos, func },
                None => return Err(self.error(format!("function {} not defined", quote(&t.val, false)))),
            },
            Kind::Dot => Arg::Dot(pos),
            Kind::Nil => Arg::Nil(pos),
            Kind::Variable => {
                if !self.vars.contains(&t.val) {
                    return Err(self.error(format!("undefined variable {}", quote(&t.val, false))));
                }
                Arg::Variable { pos, name: t.val, idents: Vec::new() }
            }
            Kind::Field => Arg::Field { pos, idents: vec![t.val.get(1..).unwrap_or("").to_string()] },
            Kind::Bool => Arg::Bool(pos, t.val == "true"),
            Kind::CharConstant | Kind::Number => {
                let (value, int) = number(&t).map_err(|e| self.error(e))?;
                Arg::Number { pos, text: t.val, value, int }
            }
            Kind::LeftParen => Arg::Pipe(Box::new(self.pipeline("parenthesized pipeline", Kind::RightParen)?)),
            Kind::String | Kind::RawString => {
                let s = unquote(&t.val).map_err(|e| self.error(e))?;
                Arg::String { pos, quoted: t.val, value: Value::from(s) }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

fn check_pipeline(pipe: &Pipe, context: &str) -> Result<(), String> {
    if pipe.cmds.is_empty() {
        return Err(format!("missing value for {context}"));
    }
    for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
        if matches!(
            c.args.first(),
            Some(Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number { .. } | Arg::String { .. })
        ) {
            return Err(format!("non executable command in pipeline stage {}", i + 1));
        }
    }
    Ok(())
}

/// A number or character constant: its value by Go's syntax (integer, else float64) and
/// its integer value when integral (what an `int` parameter accepts).
fn number(t: &Item) -> Result<(Value, Option<i64>), String> {
    let text = t.val.as_str();
    if t.kind == Kind::CharConstant {
        let s = unquote(text)?;
        let c = s.chars().next().map_or(0, |c| c as i64);
        return Ok((Value::Int(c), Some(c)));
    }
    let illegal = || format!("illegal number syntax: {}", quote(text, false));
    if text.ends_with('i') {
        return Err(illegal());
    }
    if let Some(i) = go_int(text) {
        return Ok((Value::Int(i), Some(i)));
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    match clean.parse::<f64>() {
        Ok(f) if text.contains(['.', 'e', 'E']) && !text.starts_with("0x") && !text.starts_with("0X") => {
            let int = (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64);
            Ok((Value::Float(f), int))
        }
        Ok(_) => Err(format!("integer overflow: {}", quote(text, false))),
        Err(_) => Err(illegal()),
    }
}

/// Go's `strconv.ParseInt(text, 0, 64)`: sign, 0x/0o/0b/0 prefixes, underscores.
fn go_int(text: &str) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(&digits, radix).ok()?;
    if neg { 0i64.checked_sub_unsigned(magnitude) } else { i64::try_from(magnitude).ok() }
}

/// Go's `strconv.Unquote` for "...", `...` and '...' literals.
pub(super) fn unquote(s: &str) -> Result<String, String> {
    let bad = || "invalid syntax".to_string();
    if let Some(raw) = s.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return Ok(raw.replace('\r', ""));
    }
    let (delim, body) = match s.as_bytes().first() {
        Some(b'"') => ('"', s.get(1..s.len().saturating_sub(1)).filter(|_| s.len() >= 2 && s.ends_with('"'))),
        Some(b'\'') => ('\'', s.get(1..s.len().saturating_sub(1)).filter(|_| s.len() >= 2 && s.ends_with('\''))),
        _ => return Err(bad()),
    };
    let body = body.ok_or_else(bad)?;
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == delim || c == '\n' {
            return Err(bad());
        }
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        escape(&mut chars, delim, &mut out).ok_or_else(bad)?;
    }
    let s = String::from_utf8_lossy(&out).into_owned();
    if delim == '\'' && s.chars().count() != 1 {
        return Err(bad());
    }
    Ok(s)
}

fn escape(chars: &mut std::str::Chars<'_>, delim: char, out: &mut Vec<u8>) -> Option<()> {
    fn hex(n: usize, chars: &mut std::str::Chars<'_>) -> Option<u32> {
        let h: String = chars.by_ref().take(n).collect();
        (h.len() == n).then_some(())?;
        u32::from_str_radix(&h, 16).ok()
    }
    let c = match chars.next()? {
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        '\\' => '\\',
        c if c == delim => c,
        'x' => {
            out.push(hex(2, chars)? as u8);
            return Some(());
        }
        'u' => char::from_u32(hex(4, chars)?)?,
        'U' => char::from_u32(hex(8, chars)?)?,
        c @ '0'..='7' => {
            let rest: String = chars.by_ref().take(2).collect();
            let v = u32::from_str_radix(&format!("{c}{rest}"), 8).ok().filter(|v| *v <= 255 && rest.len() == 2)?;
            out.push(v as u8);
            return Some(());
        }
        _ => return None,
    };
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    Some(())
}
