//! The template lexer: text and `{{ }}` actions into tokens, as Go's text/template/parse
//! lexer (trim markers, comments, raw strings, numbers, keywords). Errors become an
//! `Error` token that ends the stream; the parser reports it. Knows nothing of meaning.

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    Error,
    Bool,
    Char,
    CharConstant,
    Declare,
    Assign,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl Kind {
    fn keyword(word: &str) -> Option<Kind> {
        Some(match word {
            "block" => Kind::Block,
            "break" => Kind::Break,
            "continue" => Kind::Continue,
            "define" => Kind::Define,
            "else" => Kind::Else,
            "end" => Kind::End,
            "if" => Kind::If,
            "nil" => Kind::Nil,
            "range" => Kind::Range,
            "template" => Kind::Template,
            "with" => Kind::With,
            _ => return None,
        })
    }

    fn is_keyword(self) -> bool {
        matches!(
            self,
            Kind::Block
                | Kind::Break
                | Kind::Continue
                | Kind::Dot
                | Kind::Define
                | Kind::Else
                | Kind::End
                | Kind::If
                | Kind::Nil
                | Kind::Range
                | Kind::Template
                | Kind::With
        )
    }
}

/// One token: its kind, byte offset, line, and text (for `Error`, the message).
#[derive(Clone, Debug)]
pub(super) struct Item {
    pub kind: Kind,
    pub pos: usize,
    pub line: usize,
    pub val: String,
}

impl std::fmt::Display for Item {
    /// As Go names tokens in "unexpected X in Y".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Kind::Eof => f.write_str("EOF"),
            Kind::Error => f.write_str(&self.val),
            k if k.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", super::gofmt::quote(&head, false))
            }
            _ => f.write_str(&super::gofmt::quote(&self.val, false)),
        }
    }
}

const SPACE: &[char] = &[' ', '\t', '\r', '\n'];

fn is_space(c: char) -> bool {
    SPACE.contains(&c)
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    paren_depth: usize,
    items: Vec<Item>,
}

/// Tokenizes the whole input; the last item is `Eof` or `Error`.
pub(super) fn lex(input: &str) -> Vec<Item> {
    let mut l = Lexer { input, pos: 0, start: 0, paren_depth: 0, items: Vec::new() };
    let mut inside = false;
    loop {
        let more = if inside { l.inside_action() } else { l.text() };
        match more {
            Some(next_inside) => inside = next_inside,
            None => break,
        }
    }
    // Lines, computed once in order.
    let mut line = 1;
    let mut at = 0;
    for item in &mut l.items {
        let upto = item.pos.min(input.len());
        if upto > at {
            line += input.as_bytes()[at..upto].iter().filter(|b| **b == b'\n').count();
            at = upto;
        }
        item.line = line;
    }
    l.items
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn emit(&mut self, kind: Kind) {
        let val = self.input.get(self.start..self.pos).unwrap_or("").to_string();
        self.items.push(Item { kind, pos: self.start, line: 0, val });
        self.start = self.pos;
    }

    /// Records an error token; the stream ends.
    fn error(&mut self, msg: String) -> Option<bool> {
        self.items.push(Item { kind: Kind::Error, pos: self.start, line: 0, val: msg });
        None
    }

    /// Text up to the next `{{`; returns Some(true) to lex an action next.
    fn text(&mut self) -> Option<bool> {
        let Some(x) = self.rest().find("{{") else {
            self.pos = self.input.len();
            if self.pos > self.start {
                self.emit(Kind::Text);
            }
            self.emit(Kind::Eof);
            return None;
        };
        self.pos += x;
        let trim = self.input[self.pos + 2..].starts_with("- ") || left_trim_marker(&self.input[self.pos + 2..]);
        let text_end =
            if trim { self.start + self.input[self.start..self.pos].trim_end_matches(SPACE).len() } else { self.pos };
        if text_end > self.start {
            let keep = self.pos;
            self.pos = text_end;
            self.emit(Kind::Text);
            self.pos = keep;
        }
        self.start = self.pos;
        self.left_delim(trim)
    }

    fn left_delim(&mut self, trim: bool) -> Option<bool> {
        self.pos += 2;
        let after = if trim { 2 } else { 0 };
        if self.input[self.pos + after..].starts_with("/*") {
            self.pos += after;
            self.start = self.pos;
            return self.comment();
        }
        self.emit(Kind::LeftDelim);
        self.pos += after;
        self.start = self.pos;
        self.paren_depth = 0;
        Some(true)
    }

    fn comment(&mut self) -> Option<bool> {
        self.pos += 2;
        let Some(x) = self.rest().find("*/") else {
            return self.error("unclosed comment".into());
        };
        self.pos += x + 2;
        let Some(trim) = self.at_right_delim() else {
            return self.error("comment ends before closing delimiter".into());
        };
        self.pos += if trim { 4 } else { 2 };
        if trim {
            self.pos += self.rest().len() - self.rest().trim_start_matches(SPACE).len();
        }
        self.start = self.pos;
        Some(false)
    }

    /// At `}}` (Some(false)) or ` -}}` (Some(true)).
    fn at_right_delim(&self) -> Option<bool> {
        let r = self.rest();
        if r.starts_with("}}") {
            return Some(false);
        }
        let mut c = r.chars();
        match (c.next(), c.next()) {
            (Some(s), Some('-')) if is_space(s) && c.as_str().starts_with("}}") => Some(true),
            _ => None,
        }
    }

    fn right_delim(&mut self, trim: bool) -> Option<bool> {
        if trim {
            self.pos += self.peek().map_or(1, char::len_utf8) + 1;
            self.start = self.pos;
        }
        self.pos += 2;
        self.emit(Kind::RightDelim);
        if trim {
            self.pos += self.rest().len() - self.rest().trim_start_matches(SPACE).len();
            self.start = self.pos;
        }
        Some(false)
    }

    fn inside_action(&mut self) -> Option<bool> {
        if let Some(trim) = self.at_right_delim() {
            if self.paren_depth == 0 {
                return self.right_delim(trim);
            }
            return self.error("unclosed left paren".into());
        }
        let Some(c) = self.bump() else {
            return self.error("unclosed action".into());
        };
        match c {
            c if is_space(c) => self.space(),
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.bump() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => return self.quote(),
            '`' => return self.raw_quote(),
            '$' => return self.field_or_variable(Kind::Variable),
            '\'' => return self.char_constant(),
            '.' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => return self.field_or_variable(Kind::Field),
            '.' | '+' | '-' | '0'..='9' => {
                self.pos = self.start;
                return self.number();
            }
            c if is_alnum(c) => return self.identifier(),
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                if self.paren_depth == 0 {
                    return self.error("unexpected right paren".into());
                }
                self.emit(Kind::RightParen);
                self.paren_depth -= 1;
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
            c => return self.error(format!("unrecognized character in action: {}", unicode_name(c))),
        }
        Some(true)
    }

    /// A run of spaces; a single space before `-}}` belongs to the trim marker.
    fn space(&mut self) {
        let mut n = 1;
        while self.peek().is_some_and(is_space) {
            self.bump();
            n += 1;
        }
        let before = self.pos - 1;
        if self.input[before..].starts_with(|c: char| is_space(c)) && self.input[before + 1..].starts_with("-}}") {
            self.pos = before;
            if n == 1 {
                return;
            }
        }
        self.emit(Kind::Space);
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) => is_space(c) || matches!(c, '.' | ',' | '|' | ':' | ')' | '(' | '}'),
        }
    }

    fn identifier(&mut self) -> Option<bool> {
        while self.peek().is_some_and(is_alnum) {
            self.bump();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return self.error(format!("bad character {}", unicode_name(c)));
        }
        let word = &self.input[self.start..self.pos];
        let kind = match Kind::keyword(word) {
            Some(k) => k,
            None if word == "true" || word == "false" => Kind::Bool,
            None => Kind::Identifier,
        };
        self.emit(kind);
        Some(true)
    }

    /// `.Name` / `$name` (the sigil is consumed); `.` alone is dot, `$` alone is a variable.
    fn field_or_variable(&mut self, kind: Kind) -> Option<bool> {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable { Kind::Variable } else { Kind::Dot });
            return Some(true);
        }
        while self.peek().is_some_and(is_alnum) {
            self.bump();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return self.error(format!("bad character {}", unicode_name(c)));
        }
        self.emit(kind);
        Some(true)
    }

    fn char_constant(&mut self) -> Option<bool> {
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    Some('\n') | None => return self.error("unterminated character constant".into()),
                    _ => {}
                },
                Some('\n') | None => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(Kind::CharConstant);
        Some(true)
    }

    fn quote(&mut self) -> Option<bool> {
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    Some('\n') | None => return self.error("unterminated quoted string".into()),
                    _ => {}
                },
                Some('\n') | None => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        self.emit(Kind::String);
        Some(true)
    }

    fn raw_quote(&mut self) -> Option<bool> {
        loop {
            match self.bump() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(Kind::RawString);
        Some(true)
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.bump();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    /// Go's number scanner: sign, 0x/0o/0b prefixes, underscores, fraction, exponent.
    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.bump();
            return false;
        }
        true
    }

    fn number(&mut self) -> Option<bool> {
        if !self.scan_number() || self.peek().is_some_and(|c| c == '+' || c == '-') {
            if self.peek().is_some_and(|c| c == '+' || c == '-') {
                self.scan_number();
            }
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", super::gofmt::quote(&text, false)));
        }
        self.emit(Kind::Number);
        Some(true)
    }
}

/// Go's `%#U`: `U+0023 '#'`.
fn unicode_name(c: char) -> String {
    if c.is_control() { format!("U+{:04X}", c as u32) } else { format!("U+{:04X} '{c}'", c as u32) }
}

/// `-` followed by any space character after `{{`.
fn left_trim_marker(s: &str) -> bool {
    let mut c = s.chars();
    c.next() == Some('-') && c.next().is_some_and(is_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Kind> {
        lex(s).into_iter().map(|i| i.kind).collect()
    }

    #[test]
    fn tokens_of_an_action() {
        use Kind::*;
        assert_eq!(
            kinds(r#"a{{ if eq .A.B "x" | $v := `r` 1.5 (nil) }}b"#),
            vec![
                Text, LeftDelim, Space, If, Space, Identifier, Space, Field, Field, Space, String, Space, Pipe, Space,
                Variable, Space, Declare, Space, RawString, Space, Number, Space, LeftParen, Nil, RightParen, Space,
                RightDelim, Text, Eof
            ]
        );
    }

    #[test]
    fn trim_markers_and_comments() {
        let items = lex("a  {{- 3 -}}  b {{/* c */}} c {{- /* d */ -}} e");
        let texts: Vec<&str> = items.iter().filter(|i| i.kind == Kind::Text).map(|i| i.val.as_str()).collect();
        assert_eq!(texts, vec!["a", "b ", " c", "e"]);
        assert!(kinds("{{-3}}").contains(&Kind::Number));
    }

    #[test]
    fn errors_end_the_stream() {
        let last = |s: &str| lex(s).pop().map(|i| i.val).unwrap_or_default();
        assert_eq!(last("{{.A"), "unclosed action");
        assert_eq!(last("{{/* x"), "unclosed comment");
        assert_eq!(last("{{/* x */ }}"), "comment ends before closing delimiter");
        assert_eq!(last("{{\"abc}}"), "unterminated quoted string");
        assert_eq!(last("{{(1}}"), "unclosed left paren");
        assert_eq!(last("{{3x}}"), "bad number syntax: \"3x\"");
        assert_eq!(last("{{.A#}}"), "bad character U+0023 '#'");
    }
}
