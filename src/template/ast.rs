//! The parsed form of a template: nodes with their byte positions, printed back the way
//! Go's parse nodes print (error messages quote them as `at <.Foo>`). No evaluation here.

use super::funcs::Func;
use super::value::Value;
use std::fmt::{self, Display, Formatter, Write};

pub(super) type List = Vec<Node>;

pub(super) enum Node {
    Text(String),
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
    Template { pos: usize, name: String, pipe: Option<Pipe> },
    Break,
    Continue,
}

/// `{{if|with|range pipe}} list {{else}} else_list {{end}}`.
pub(super) struct Branch {
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

/// `$a, $b := cmd | cmd`.
pub(super) struct Pipe {
    pub pos: usize,
    pub decl: Vec<String>,
    pub assign: bool,
    pub cmds: Vec<Command>,
}

pub(super) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand. Literals carry their value, computed once at parse time.
pub(super) enum Arg {
    /// `.A.B`
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `$x.A.B` (`name` includes the `$`).
    Variable {
        pos: usize,
        name: String,
        idents: Vec<String>,
    },
    /// `(pipe).A.B` or `func.A`.
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Func {
        pos: usize,
        func: Func,
    },
    Pipe(Box<Pipe>),
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    /// A number or character constant: its text, its value, and its value as an integer
    /// argument when it is integral.
    Number {
        pos: usize,
        text: String,
        value: Value,
        int: Option<i64>,
    },
    String {
        pos: usize,
        quoted: String,
        value: Value,
    },
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Func { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool(pos, _)
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl Node {
    /// Go's IsEmptyTree for one node: only white space.
    pub fn is_blank(&self) -> bool {
        matches!(self, Node::Text(t) if t.trim().is_empty())
    }
}

fn list(f: &mut Formatter<'_>, l: &List) -> fmt::Result {
    l.iter().try_for_each(|n| n.fmt(f))
}

impl Display for Node {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let branch = |f: &mut Formatter<'_>, kw: &str, b: &Branch| {
            write!(f, "{{{{{kw} {}}}}}", b.pipe)?;
            list(f, &b.list)?;
            if let Some(e) = &b.else_list {
                f.write_str("{{else}}")?;
                list(f, e)?;
            }
            f.write_str("{{end}}")
        };
        match self {
            Node::Text(t) => f.write_str(t),
            Node::Action(p) => write!(f, "{{{{{p}}}}}"),
            Node::If(b) => branch(f, "if", b),
            Node::With(b) => branch(f, "with", b),
            Node::Range(b) => branch(f, "range", b),
            Node::Template { name, pipe: None, .. } => {
                write!(f, "{{{{template {}}}}}", super::gofmt::quote(name, false))
            }
            Node::Template { name, pipe: Some(p), .. } => {
                write!(f, "{{{{template {} {p}}}}}", super::gofmt::quote(name, false))
            }
            Node::Break => f.write_str("{{break}}"),
            Node::Continue => f.write_str("{{continue}}"),
        }
    }
}

impl Display for Pipe {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            c.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            match a {
                Arg::Pipe(p) => write!(f, "({p})")?,
                a => a.fmt(f)?,
            }
        }
        Ok(())
    }
}

fn fields(f: &mut Formatter<'_>, idents: &[String]) -> fmt::Result {
    idents.iter().try_for_each(|i| write!(f, ".{i}"))
}

impl Display for Arg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => fields(f, idents),
            Arg::Variable { name, idents, .. } => {
                f.write_str(name)?;
                fields(f, idents)
            }
            Arg::Chain { node, fields: idents, .. } => {
                match node.as_ref() {
                    Arg::Pipe(p) => write!(f, "({p})")?,
                    n => n.fmt(f)?,
                }
                fields(f, idents)
            }
            Arg::Func { func, .. } => f.write_str(func.name()),
            Arg::Pipe(p) => write!(f, "({p})"),
            Arg::Dot(_) => f.write_char('.'),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number { text, .. } => f.write_str(text),
            Arg::String { quoted, .. } => f.write_str(quoted),
        }
    }
}
