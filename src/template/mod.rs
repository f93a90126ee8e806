//! Go's text/template, written for kiste's `--format`: lexer, parser, evaluator, Go's
//! builtins plus Podman's functions, and Go's value printing. A leaf module: it knows
//! nothing of commands, terminals or tables (Podman's `table` rules are in cli/output.rs).
//!
//! Use: parse once with [`Template::parse`], then [`Template::execute`] per value. Data is
//! a [`Value`], usually made from JSON by a [`Schema`]:
//!
//! - A JSON object becomes a *struct*: a field it lacks is an error, as Go reports it
//!   (`can't evaluate field Foo in type T`). Field names match exactly, else ignoring case
//!   and underscores, so `.ID` finds a JSON `Id` and `.NetworkInterface` a
//!   `network_interface`.
//! - Objects under the keys given to [`Schema::maps`] (`Labels`, `Config.Volumes`, ...)
//!   become *maps*: a missing key prints `<no value>`, `index` of one gives `""` (for a map
//!   of strings), and a JSON `null` there is an empty map.
//! - The top-level object has the schema's type name (shown in errors) and its
//!   [`Method`]s, which take arguments: `{{.Label "k"}}`. Methods win over fields, as in Go.
//! - Numbers that are integers in JSON are Go ints; others are float64 (`1.5`, `1e+06`).
//!   `null` is a nil (`<nil>`) in a struct, no value (`<no value>`) in a list or map.
//!
//! [`Value::headings`] is the heading row of a `table`: every field evaluates to its
//! heading (caller's overrides, else the camel-case words upper-cased).
//!
//! Not implemented: `call` (there are no function values), complex numbers, `%#v`
//! Go-syntax printing, `%b`/`%x` of floats. `truncate` cuts at a character boundary.

mod ast;
mod exec;
mod funcs;
mod gofmt;
mod lex;
mod parse;
#[cfg(test)]
mod tests;
mod value;

pub use value::{METHODS, Method, Schema, Value};

use std::collections::HashMap;

/// A template error, on one line: where (template name, line, and for execution the
/// column and the node) and what, in Go's words.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template: {name}:{line}: {message}")]
    Parse { name: String, line: usize, message: String },
    #[error("template: {name}:{line}:{col}: executing \"{template}\" at <{context}>: {message}")]
    Exec { name: String, template: String, line: usize, col: usize, context: String, message: String },
}

/// A parsed template and the templates it defines.
pub struct Template {
    name: String,
    text: String,
    root: ast::List,
    defs: HashMap<String, ast::List>,
}

/// Keeps an error on one line.
fn one_line(s: &str) -> String {
    s.replace('\n', "\\n").replace('\r', "\\r")
}

impl Template {
    /// Parses `text`; `name` names the template in errors (Podman uses the command's name).
    pub fn parse(name: &str, text: &str) -> Result<Template, TemplateError> {
        let parsed = parse::parse(text).map_err(|e| TemplateError::Parse {
            name: name.into(),
            line: e.line,
            message: one_line(&e.msg),
        })?;
        Ok(Template {
            name: name.into(),
            text: text.into(),
            root: parsed.root,
            defs: parsed.defs.into_iter().collect(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The body of a `{{define}}`d template, or this template's own.
    fn lookup(&self, name: &str) -> Option<&ast::List> {
        self.defs.get(name).or_else(|| (name == self.name).then_some(&self.root))
    }

    /// Appends the output for `data` to `out`. On error, `out` keeps what was written
    /// before it, as Go's writer would.
    pub fn execute(&self, data: &Value, out: &mut String) -> Result<(), TemplateError> {
        exec::State::new(self, out, data).run(data, &self.root).map_err(|e| {
            let before = self.text.get(..e.pos).unwrap_or(&self.text);
            let line = 1 + before.matches('\n').count();
            let col = before.rfind('\n').map_or(e.pos, |nl| e.pos - nl - 1);
            TemplateError::Exec {
                name: self.name.clone(),
                template: e.template,
                line,
                col,
                context: one_line(&e.context),
                message: one_line(&e.msg),
            }
        })
    }

    /// The output for `data` as a string.
    #[cfg(test)]
    pub fn render(&self, data: &Value) -> Result<String, TemplateError> {
        let mut out = String::new();
        self.execute(data, &mut out)?;
        Ok(out)
    }
}
