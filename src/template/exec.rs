//! The evaluator: walks a parsed template over a value and writes the output, with Go's
//! rules for fields, maps, methods, variables and scopes, pipelines, control structures,
//! truth, and its execution errors. Parses nothing; printing rules live in `gofmt.rs`.

use super::Template;
use super::ast::{Arg, Branch, Command, List, Node, Pipe};
use super::funcs::{Func, Param};
use super::gofmt;
use super::value::{Method, Value, element};
use std::fmt::Display;

/// An execution failure: the node's position and text, and Go's message.
pub(super) struct ExecError {
    pub pos: usize,
    pub context: String,
    pub template: String,
    pub msg: String,
}

type R<T> = Result<T, ExecError>;

/// Where an error is reported: a node's position and its printed form.
type At<'a> = (usize, &'a dyn Display);

/// How a list of nodes ended.
enum Flow {
    Normal,
    Break,
    Continue,
}

/// Nested `{{template}}` calls allowed before giving up on a runaway recursion.
const MAX_DEPTH: usize = 100;

pub(super) struct State<'t, 'o> {
    tmpl: &'t Template,
    /// The template being executed (the top one, or a `{{define}}`d one).
    current: &'t str,
    out: &'o mut String,
    vars: Vec<(&'t str, Value)>,
    depth: usize,
}

/// How an action prints its value: fmt's `%v`, with no value as `<no value>`.
fn print(out: &mut String, v: &Value) {
    match v {
        Value::Missing => out.push_str("<no value>"),
        Value::Str(s) => out.push_str(s),
        v => gofmt::print_value(out, v),
    }
}

/// Checks a value against a parameter type as Go's reflection would.
fn validate(v: Value, p: Param) -> Result<Value, String> {
    match (p, v) {
        (Param::Any, v) | (Param::Str, v @ Value::Str(_)) | (Param::Int, v @ Value::Int(_)) => Ok(v),
        (Param::List, v @ Value::List(_)) => Ok(v),
        (Param::List, Value::Missing | Value::Nil) => Ok(Value::from(Vec::new())),
        (p, Value::Missing) => Err(format!("invalid value; expected {}", p.go_name())),
        (p, v) => Err(format!("wrong type for value; expected {}; got {}", p.go_name(), v.go_type())),
    }
}

impl<'t, 'o> State<'t, 'o> {
    pub fn new(tmpl: &'t Template, out: &'o mut String, data: &Value) -> Self {
        State { tmpl, current: tmpl.name(), out, vars: vec![("$", data.clone())], depth: 0 }
    }

    pub fn run(&mut self, data: &Value, root: &'t List) -> R<()> {
        self.walk(data, root).map(|_| ())
    }

    fn err(&self, at: At<'_>, msg: impl Into<String>) -> ExecError {
        ExecError { pos: at.0, context: at.1.to_string(), template: self.current.to_string(), msg: msg.into() }
    }

    fn walk(&mut self, dot: &Value, list: &'t [Node]) -> R<Flow> {
        for node in list {
            match self.node(dot, node)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn node(&mut self, dot: &Value, node: &'t Node) -> R<Flow> {
        match node {
            Node::Text(t) => self.out.push_str(t),
            Node::Action(pipe) => {
                let v = self.pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    print(self.out, &v);
                }
            }
            Node::If(b) => return self.scoped(|s| s.if_with(dot, b, false)),
            Node::With(b) => return self.scoped(|s| s.if_with(dot, b, true)),
            Node::Range(b) => return self.scoped(|s| s.range(dot, b)),
            Node::Template { pos, name, pipe } => self.template(dot, (*pos, node), name, pipe.as_ref())?,
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    /// Runs `f` and drops the variables it declared, as at a control's `{{end}}`.
    fn scoped(&mut self, f: impl FnOnce(&mut Self) -> R<Flow>) -> R<Flow> {
        let mark = self.vars.len();
        let r = f(self);
        self.vars.truncate(mark);
        r
    }

    fn if_with(&mut self, dot: &Value, b: &'t Branch, with: bool) -> R<Flow> {
        let v = self.pipeline(dot, &b.pipe)?;
        match (v.truth(), &b.else_list) {
            (true, _) if with => self.walk(&v, &b.list),
            (true, _) => self.walk(dot, &b.list),
            (false, Some(e)) => self.walk(dot, e),
            (false, None) => Ok(Flow::Normal),
        }
    }

    fn range(&mut self, dot: &Value, b: &'t Branch) -> R<Flow> {
        let val = self.pipeline(dot, &b.pipe)?;
        let mark = self.vars.len();
        let mut ran = false;
        match &val {
            Value::List(items) => {
                for (i, e) in items.iter().enumerate() {
                    ran = true;
                    if self.iteration(b, mark, Value::Int(i as i64), element(e))? {
                        break;
                    }
                }
            }
            Value::Map(m) => {
                for (k, v) in m.entries() {
                    ran = true;
                    if self.iteration(b, mark, Value::str(k), element(v))? {
                        break;
                    }
                }
            }
            Value::Int(n) => {
                if b.pipe.decl.len() > 1 {
                    let msg = format!("can't use {n} to iterate over more than one variable");
                    return Err(self.err(last_arg(&b.pipe), msg));
                }
                for i in 0..*n {
                    ran = true;
                    if self.iteration(b, mark, Value::Int(i), Value::Int(i))? {
                        break;
                    }
                }
            }
            Value::Missing | Value::Nil => {}
            v => {
                let mut shown = String::new();
                gofmt::print_value(&mut shown, v);
                return Err(self.err(last_arg(&b.pipe), format!("range can't iterate over {shown}")));
            }
        }
        match &b.else_list {
            Some(e) if !ran => self.walk(dot, e),
            _ => Ok(Flow::Normal),
        }
    }

    /// One pass of a range body with its variables set; true when it hit `{{break}}`.
    fn iteration(&mut self, b: &'t Branch, mark: usize, index: Value, elem: Value) -> R<bool> {
        let decl = &b.pipe.decl;
        let at = (b.pipe.pos, &b.pipe as &dyn Display);
        match (decl.len(), b.pipe.assign) {
            (0, _) => {}
            (1, true) => self.set_var(&decl[0], elem.clone(), at)?,
            (_, true) => {
                self.set_var(&decl[0], index, at)?;
                self.set_var(&decl[1], elem.clone(), at)?;
            }
            (n, false) => {
                if let Some(v) = self.vars.get_mut(mark - 1) {
                    v.1 = elem.clone();
                }
                if n > 1
                    && let Some(v) = self.vars.get_mut(mark - 2)
                {
                    v.1 = index;
                }
            }
        }
        let flow = self.walk(&elem, &b.list);
        self.vars.truncate(mark);
        Ok(matches!(flow?, Flow::Break))
    }

    fn template(&mut self, dot: &Value, at: At<'_>, name: &'t str, pipe: Option<&'t Pipe>) -> R<()> {
        let Some(body) = self.tmpl.lookup(name) else {
            return Err(self.err(at, format!("template {} not defined", gofmt::quote(name, false))));
        };
        if self.depth >= MAX_DEPTH {
            return Err(self.err(at, format!("exceeded maximum template depth ({MAX_DEPTH})")));
        }
        let dot = match pipe {
            Some(p) => self.pipeline(dot, p)?,
            None => Value::Missing,
        };
        // No dynamic scoping: the called template sees only its own $.
        let vars = std::mem::replace(&mut self.vars, vec![("$", dot.clone())]);
        let current = std::mem::replace(&mut self.current, name);
        self.depth += 1;
        let r = self.walk(&dot, body);
        self.depth -= 1;
        self.current = current;
        self.vars = vars;
        r.map(|_| ())
    }

    fn var(&self, name: &str, at: At<'_>) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _)| *n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.err(at, format!("undefined variable: {name}"))),
        }
    }

    fn set_var(&mut self, name: &str, v: Value, at: At<'_>) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => Err(self.err(at, format!("undefined variable: {name}"))),
        }
    }

    fn pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> R<Value> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(dot, cmd, value)?);
        }
        let value = value.unwrap_or_default();
        for name in &pipe.decl {
            if pipe.assign {
                self.set_var(name, value.clone(), (pipe.pos, pipe))?;
            } else {
                self.vars.push((name.as_str(), value.clone()));
            }
        }
        Ok(value)
    }

    fn command(&mut self, dot: &Value, cmd: &'t Command, fin: Option<Value>) -> R<Value> {
        let Some(first) = cmd.args.first() else { return Ok(Value::Missing) };
        let args = cmd.args.as_slice();
        match first {
            Arg::Field { idents, .. } => self.field_chain(dot, dot.clone(), first, idents, args, fin),
            Arg::Chain { node, fields, .. } => {
                let receiver = self.arg(dot, Param::Any, node)?;
                self.field_chain(dot, receiver, first, fields, args, fin)
            }
            Arg::Func { func, .. } => self.call(dot, *func, first, (cmd.pos, cmd), args, fin),
            Arg::Variable { name, idents, .. } => self.variable(dot, first, name, idents, args, fin),
            Arg::Pipe(p) => {
                self.not_a_function(args, &fin)?;
                self.pipeline(dot, p)
            }
            Arg::Nil(pos) => Err(self.err((*pos, first), "nil is not a command")),
            literal => {
                self.not_a_function(args, &fin)?;
                Ok(match literal {
                    Arg::Bool(_, b) => Value::Bool(*b),
                    Arg::Dot(_) => dot.clone(),
                    Arg::Number { value, .. } | Arg::String { value, .. } => value.clone(),
                    _ => Value::Missing,
                })
            }
        }
    }

    fn not_a_function(&self, args: &[Arg], fin: &Option<Value>) -> R<()> {
        match args.first() {
            Some(a) if args.len() > 1 || fin.is_some() => {
                Err(self.err((a.pos(), a), format!("can't give argument to non-function {a}")))
            }
            _ => Ok(()),
        }
    }

    fn variable(
        &mut self,
        dot: &Value,
        node: &'t Arg,
        name: &str,
        idents: &'t [String],
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let v = self.var(name, (node.pos(), node))?;
        if idents.is_empty() {
            self.not_a_function(args, &fin)?;
            return Ok(v);
        }
        self.field_chain(dot, v, node, idents, args, fin)
    }

    /// `.X.Y.Z args`: every name but the last is a plain field; the last gets the arguments.
    fn field_chain(
        &mut self,
        dot: &Value,
        mut receiver: Value,
        node: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let Some((last, init)) = idents.split_last() else { return Ok(receiver) };
        for name in init {
            receiver = self.field(dot, name, node, &[], None, receiver)?;
        }
        self.field(dot, last, node, args, fin, receiver)
    }

    fn field(
        &mut self,
        dot: &Value,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Value>,
        receiver: Value,
    ) -> R<Value> {
        let at: At<'_> = (node.pos(), node);
        let has_args = args.len() > 1 || fin.is_some();
        match &receiver {
            Value::Missing | Value::Nil => Ok(Value::Missing),
            Value::Struct(s) => {
                if let Some(m) = s.method(name) {
                    return self.call_method(dot, *m, &receiver, node, args, fin);
                }
                if let Some(v) = s.computed(name) {
                    return match has_args {
                        true => Err(self.err(
                            at,
                            format!(
                                "wrong number of args for {name}: want 0 got {}",
                                args.len() - 1 + usize::from(fin.is_some())
                            ),
                        )),
                        false => Ok(v.clone()),
                    };
                }
                match s.field(name) {
                    Some(_) if has_args => {
                        Err(self.err(at, format!("{name} has arguments but cannot be invoked as function")))
                    }
                    Some(v) => Ok(v.clone()),
                    None => Err(self.err(at, format!("can't evaluate field {name} in type {}", s.type_name()))),
                }
            }
            Value::Map(_) if has_args => Err(self.err(at, format!("{name} is not a method but has arguments"))),
            Value::Map(m) => Ok(m.entries().get(name).map(element).unwrap_or_default()),
            Value::Headings(h) => Ok(Value::from(h.heading(name))),
            Value::Time(t) if !has_args => match name {
                "Unix" => Ok(Value::Int(t.timestamp())),
                "UnixNano" => Ok(Value::Int(t.timestamp_nanos_opt().unwrap_or(0))),
                "String" => Ok(Value::from(crate::util::go_time_string(t))),
                "UTC" => Ok(Value::Time(t.with_timezone(&chrono::FixedOffset::east_opt(0).unwrap_or(*t.offset())))),
                _ => Err(self.err(at, format!("can't evaluate field {name} in type time.Time"))),
            },
            v => Err(self.err(at, format!("can't evaluate field {name} in type {}", v.go_type()))),
        }
    }

    fn call_method(
        &mut self,
        dot: &Value,
        m: Method,
        receiver: &Value,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let given = args.get(1..).unwrap_or(&[]);
        let n = given.len() + usize::from(fin.is_some());
        if n != m.args {
            return Err(
                self.err((node.pos(), node), format!("wrong number of args for {}: want {} got {n}", m.name, m.args))
            );
        }
        let mut vals = Vec::with_capacity(n);
        for a in given {
            vals.push(self.arg(dot, Param::Any, a)?);
        }
        vals.extend(fin);
        (m.call)(receiver, &vals).map_err(|e| self.err((node.pos(), node), format!("error calling {}: {e}", m.name)))
    }

    /// Calls a function: `ident` names it, `call` is where its own errors point, `args`
    /// holds the function itself then its arguments, `fin` the value piped in.
    fn call(
        &mut self,
        dot: &Value,
        func: Func,
        ident: &'t Arg,
        call: At<'_>,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let name = func.name();
        let (fixed, variadic) = func.signature();
        let given = args.get(1..).unwrap_or(&[]);
        let n = given.len() + usize::from(fin.is_some());
        let here: At<'_> = (ident.pos(), ident);
        if variadic.is_some() && n < fixed.len() {
            let msg = format!("wrong number of args for {name}: want at least {} got {}", fixed.len(), given.len());
            return Err(self.err(here, msg));
        }
        if variadic.is_none() && n != fixed.len() {
            return Err(self.err(here, format!("wrong number of args for {name}: want {} got {n}", fixed.len())));
        }
        if matches!(func, Func::And | Func::Or) {
            return self.and_or(dot, func == Func::Or, given, fin);
        }
        let param = |i: usize| fixed.get(i).copied().or(variadic).unwrap_or(Param::Any);
        let mut vals = Vec::with_capacity(n);
        for (i, a) in given.iter().enumerate() {
            vals.push(self.arg(dot, param(i), a)?);
        }
        if let Some(f) = fin {
            vals.push(validate(f, param(given.len())).map_err(|m| self.err(call, m))?);
        }
        func.call(&vals).map_err(|e| self.err(call, format!("error calling {name}: {e}")))
    }

    /// `and`/`or`: arguments evaluated left to right only until the result is known.
    fn and_or(&mut self, dot: &Value, or: bool, args: &'t [Arg], fin: Option<Value>) -> R<Value> {
        let mut v = Value::Missing;
        for a in args {
            v = self.arg(dot, Param::Any, a)?;
            if v.truth() == or {
                return Ok(v);
            }
        }
        Ok(fin.unwrap_or(v))
    }

    /// Evaluates an argument for a parameter of type `p`.
    fn arg(&mut self, dot: &Value, p: Param, a: &'t Arg) -> R<Value> {
        let at: At<'_> = (a.pos(), a);
        let v = match a {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) if matches!(p, Param::Any | Param::List) => Value::Missing,
            Arg::Nil(_) => return Err(self.err(at, format!("cannot assign nil to {}", p.go_name()))),
            Arg::Field { idents, .. } => {
                self.field_chain(dot, dot.clone(), a, idents, std::slice::from_ref(a), None)?
            }
            Arg::Variable { name, idents, .. } => self.variable(dot, a, name, idents, &[], None)?,
            Arg::Pipe(pipe) => self.pipeline(dot, pipe)?,
            Arg::Func { func, .. } => self.call(dot, *func, a, at, &[], None)?,
            Arg::Chain { node, fields, .. } => {
                let receiver = self.arg(dot, Param::Any, node)?;
                self.field_chain(dot, receiver, a, fields, &[], None)?
            }
            Arg::Bool(_, b) if p == Param::Any => Value::Bool(*b),
            Arg::Number { value, .. } if p == Param::Any => value.clone(),
            Arg::Number { int: Some(i), .. } if p == Param::Int => Value::Int(*i),
            Arg::String { value, .. } if matches!(p, Param::Any | Param::Str) => value.clone(),
            literal => {
                let want = match p {
                    Param::Int => "integer",
                    Param::Str => "string",
                    _ => "[]string",
                };
                return Err(self.err(at, format!("expected {want}; found {literal}")));
            }
        };
        validate(v, p).map_err(|m| self.err(at, m))
    }
}

/// Where a pipeline's value came from last, for errors about that value.
fn last_arg(pipe: &Pipe) -> At<'_> {
    match pipe.cmds.last().and_then(|c| c.args.last()) {
        Some(a) => (a.pos(), a),
        None => (pipe.pos, pipe),
    }
}
