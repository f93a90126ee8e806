//! Variable expansion in Dockerfile words, as BuildKit's shell lexer does it: `$VAR`,
//! `${VAR}`, `${VAR:-w}`, `${VAR-w}`, `${VAR:+w}`, `${VAR+w}`, `${VAR:?m}`, `${VAR#p}`,
//! `${VAR%p}`, `${VAR/p/r}`, quotes, the escape token and word splitting. Pure text; knows
//! nothing of instructions or of which variables are in scope (see `args.rs`).

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to expand {word:?}: {msg}")]
pub struct ExpandError {
    pub word: String,
    pub msg: String,
}

/// Where variables are looked up.
pub trait Vars {
    fn get(&self, name: &str) -> Option<&str>;
}

/// An ordered list of variables; setting a name again replaces its value in place (as the
/// image config's Env list behaves).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VarList(Vec<(String, String)>);

impl VarList {
    pub fn new() -> VarList {
        VarList(Vec::new())
    }

    /// From `KEY=VALUE` strings (an image config's Env); an entry without `=` has an empty value.
    pub fn from_env(env: &[String]) -> VarList {
        let mut v = VarList::new();
        for e in env {
            let (k, val) = e.split_once('=').unwrap_or((e.as_str(), ""));
            v.set(k, val);
        }
        v
    }

    pub fn set(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.0.push((key.to_string(), value.to_string())),
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `KEY=VALUE` strings in order.
    pub fn to_env(&self) -> Vec<String> {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Vars for VarList {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Two scopes: the first wins, the second fills in.
pub struct Layered<'a>(pub &'a dyn Vars, pub &'a dyn Vars);

impl Vars for Layered<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).or_else(|| self.1.get(name))
    }
}

/// The lexer's modes (BuildKit's `shell.Lex` fields).
#[derive(Debug, Clone, Copy)]
pub struct Lexer {
    pub escape: char,
    /// Keep quote characters in the result.
    pub raw_quotes: bool,
    /// Keep escape tokens in the result.
    pub raw_escapes: bool,
    /// Treat quotes as ordinary characters.
    pub skip_quotes: bool,
    /// Leave references to unset variables as written.
    pub skip_unset: bool,
}

/// The result of one expansion: the word, the words it splits into, and which variables
/// were found and which were not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    pub text: String,
    pub words: Vec<String>,
    pub used: BTreeSet<String>,
    pub unset: BTreeSet<String>,
}

impl Lexer {
    pub fn new(escape: char) -> Lexer {
        Lexer { escape, raw_quotes: false, raw_escapes: false, skip_quotes: false, skip_unset: false }
    }

    /// Expands `word` into one string (BuildKit's ProcessWord).
    pub fn word(&self, word: &str, vars: &dyn Vars) -> Result<String, ExpandError> {
        Ok(self.process(word, vars)?.text)
    }

    /// Expands `word` and splits the result into words (BuildKit's ProcessWords).
    pub fn words(&self, word: &str, vars: &dyn Vars) -> Result<Vec<String>, ExpandError> {
        Ok(self.process(word, vars)?.words)
    }

    pub fn process(&self, word: &str, vars: &dyn Vars) -> Result<Expansion, ExpandError> {
        let mut p = Proc {
            lx: self,
            chars: word.chars().collect(),
            pos: 0,
            vars,
            raw_escapes: self.raw_escapes,
            used: BTreeSet::new(),
            unset: BTreeSet::new(),
        };
        let (text, words) =
            p.until(None, self.raw_escapes).map_err(|msg| ExpandError { word: word.to_string(), msg })?;
        Ok(Expansion { text, words, used: p.used, unset: p.unset })
    }
}

/// Collects the words of an expansion: unquoted whitespace separates words, quoted text
/// and escaped characters never do.
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if c.is_whitespace() {
            if self.in_word && !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.buf.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    fn add_raw_string(&mut self, s: &str) {
        self.buf.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(self.buf);
        }
        self.words
    }
}

struct Proc<'a> {
    lx: &'a Lexer,
    chars: Vec<char>,
    pos: usize,
    vars: &'a dyn Vars,
    raw_escapes: bool,
    used: BTreeSet<String>,
    unset: BTreeSet<String>,
}

type Res<T> = Result<T, String>;

impl Proc<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn lookup(&mut self, name: &str) -> Option<String> {
        match self.vars.get(name) {
            Some(v) => {
                self.used.insert(name.to_string());
                Some(v.to_string())
            }
            None => {
                self.unset.insert(name.to_string());
                None
            }
        }
    }

    /// Processes up to `stop` (consumed) or the end; returns the text and its words.
    fn until(&mut self, stop: Option<char>, raw_escapes: bool) -> Res<(String, Vec<String>)> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let r = self.until_inner(stop);
        self.raw_escapes = saved;
        r
    }

    fn until_inner(&mut self, stop: Option<char>) -> Res<(String, Vec<String>)> {
        let mut out = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if stop == Some(c) {
                self.pos += 1;
                return Ok((out, words.finish()));
            }
            match c {
                '$' => {
                    let v = self.dollar()?;
                    out.push_str(&v);
                    words.add_string(&v);
                }
                '<' => {
                    let v = self.possible_heredoc();
                    out.push_str(&v);
                    words.add_raw_string(&v);
                }
                '\'' | '"' if !self.lx.skip_quotes => {
                    let v = if c == '\'' { self.single_quote()? } else { self.double_quote()? };
                    out.push_str(&v);
                    words.add_raw_string(&v);
                }
                _ => {
                    self.pos += 1;
                    if c == self.lx.escape {
                        if self.raw_escapes {
                            words.add_raw_char(c);
                            out.push(c);
                        }
                        let Some(e) = self.next() else { break };
                        words.add_raw_char(e);
                        out.push(e);
                    } else {
                        words.add_char(c);
                        out.push(c);
                    }
                }
            }
        }
        match stop {
            Some(s) => Err(format!("unexpected end of statement while looking for matching {s}")),
            None => Ok((out, words.finish())),
        }
    }

    fn single_quote(&mut self) -> Res<String> {
        let mut out = String::new();
        let q = self.next().unwrap_or('\'');
        if self.lx.raw_quotes {
            out.push(q);
        }
        loop {
            match self.next() {
                None => return Err("unexpected end of statement while looking for matching single-quote".into()),
                Some('\'') => {
                    if self.lx.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Res<String> {
        let mut out = String::new();
        let q = self.next().unwrap_or('"');
        if self.lx.raw_quotes {
            out.push(q);
        }
        loop {
            match self.peek() {
                None => return Err("unexpected end of statement while looking for matching double-quote".into()),
                Some('"') => {
                    self.pos += 1;
                    if self.lx.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => {
                    let v = self.dollar()?;
                    out.push_str(&v);
                }
                Some(c) => {
                    self.pos += 1;
                    let mut c = c;
                    if c == self.lx.escape {
                        if self.raw_escapes {
                            out.push(c);
                        }
                        match self.peek() {
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.lx.escape => {
                                self.pos += 1;
                                c = n;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    fn possible_heredoc(&mut self) -> String {
        self.pos += 1;
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.pos += 1;
        let mut out = String::from("<<");
        while let Some(c @ ('\t' | '\r' | ' ')) = self.peek() {
            out.push(c);
            self.pos += 1;
        }
        out
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && c.is_ascii_digit() {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    name.push(d);
                    self.pos += 1;
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.pos += 1;
                return c.to_string();
            }
            if !c.is_alphanumeric() && c != '_' {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        name
    }

    fn dollar(&mut self) -> Res<String> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.lookup(&name) {
                Some(v) => v,
                None if self.lx.skip_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.pos += 1;
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        match self.next() {
            None => Err("syntax error: missing '}'".into()),
            Some('}') => Ok(match self.lookup(&name) {
                Some(v) => v,
                None if self.lx.skip_unset => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some('/') => self.replace(&name),
            Some(':') => match self.next() {
                None => Err("syntax error: missing '}'".into()),
                Some(op) => self.modifier(&name, op, true),
            },
            Some(op) => self.modifier(&name, op, false),
        }
    }

    /// `${name<op>word}` and `${name:<op>word}`.
    fn modifier(&mut self, name: &str, op: char, colon: bool) -> Res<String> {
        let shown = if colon { format!(":{op}") } else { op.to_string() };
        let trims = op == '#' || op == '%';
        if !matches!(op, '+' | '-' | '?' | '#' | '%') {
            // Consume the rest for the error, as BuildKit does.
            let _ = self.until(Some('}'), false);
            return Err(format!("unsupported modifier ({shown}) in substitution"));
        }
        if colon && trims {
            return Err(format!("unsupported modifier ({shown}) in substitution"));
        }
        let (word, _) = self
            .until(Some('}'), trims)
            .map_err(|e| if self.peek().is_none() { "syntax error: missing '}'".to_string() } else { e })?;
        let value = self.lookup(name);
        if value.is_none() && self.lx.skip_unset {
            return Ok(format!("${{{name}{shown}{word}}}"));
        }
        let empty = value.as_deref().is_none_or(|v| colon && v.is_empty());
        match op {
            '-' => Ok(if empty { word } else { value.unwrap_or_default() }),
            '+' => Ok(if empty { String::new() } else { word }),
            '?' => match value {
                None => Err(format!("{name}: {}", if word.is_empty() { "is not allowed to be unset" } else { &word })),
                Some(v) if colon && v.is_empty() => {
                    Err(format!("{name}: {}", if word.is_empty() { "is not allowed to be empty" } else { &word }))
                }
                Some(v) => Ok(v),
            },
            _ => {
                let (greedy, pat) = match word.strip_prefix(op) {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, word.clone()),
                };
                let pat = Pattern::parse(&pat)?;
                let v = value.unwrap_or_default();
                Ok(if op == '#' { pat.trim_prefix(&v, greedy) } else { pat.trim_suffix(&v, greedy) })
            }
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`.
    fn replace(&mut self, name: &str) -> Res<String> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let (pattern, _) = self
            .until(Some('/'), true)
            .map_err(|e| if self.peek().is_none() { "syntax error: missing '/' in ${}".to_string() } else { e })?;
        let (repl, _) = self
            .until(Some('}'), true)
            .map_err(|e| if self.peek().is_none() { "syntax error: missing '}'".to_string() } else { e })?;
        let value = self.lookup(name);
        let Some(value) = value else {
            return Ok(if self.lx.skip_unset { format!("${{{name}/{pattern}/{repl}}}") } else { String::new() });
        };
        let pat = Pattern::parse(&pattern)?;
        Ok(pat.replace(&value, &repl, all))
    }
}

/// A shell pattern of `${VAR#...}`, `${VAR%...}` and `${VAR/...}`: `*`, `?` and literals.
#[derive(Debug)]
struct Pattern(Vec<Tok>);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Lit(char),
    Any,
    One,
}

impl Pattern {
    fn parse(s: &str) -> Res<Pattern> {
        let mut out = Vec::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '*' => out.push(Tok::Any),
                '?' => out.push(Tok::One),
                '\\' => match it.next() {
                    Some(n @ ('}' | '/')) => out.push(Tok::Lit(n)),
                    Some(n @ ('*' | '?' | '\\')) => out.push(Tok::Lit(n)),
                    Some(n) => return Err(format!("invalid pattern ({s}) in substitution: invalid escape '\\{n}'")),
                    None => return Err(format!("invalid pattern ({s}) in substitution: invalid escape '\\'")),
                },
                c => out.push(Tok::Lit(c)),
            }
        }
        Ok(Pattern(out))
    }

    /// Whether the pattern matches all of `s`.
    fn matches(&self, s: &[char]) -> bool {
        fn go(p: &[Tok], s: &[char]) -> bool {
            match p.split_first() {
                None => s.is_empty(),
                Some((Tok::Any, rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
                Some((Tok::One, rest)) => !s.is_empty() && go(rest, &s[1..]),
                Some((Tok::Lit(c), rest)) => s.first() == Some(c) && go(rest, &s[1..]),
            }
        }
        go(&self.0, s)
    }

    fn trim_prefix(&self, v: &str, greedy: bool) -> String {
        let chars: Vec<char> = v.chars().collect();
        let mut lens: Vec<usize> = (0..=chars.len()).collect();
        if greedy {
            lens.reverse();
        }
        match lens.into_iter().find(|&n| self.matches(&chars[..n])) {
            Some(n) => chars[n..].iter().collect(),
            None => v.to_string(),
        }
    }

    fn trim_suffix(&self, v: &str, greedy: bool) -> String {
        let chars: Vec<char> = v.chars().collect();
        let mut starts: Vec<usize> = (0..=chars.len()).rev().collect();
        if greedy {
            starts.reverse();
        }
        match starts.into_iter().find(|&i| self.matches(&chars[i..])) {
            Some(i) => chars[..i].iter().collect(),
            None => v.to_string(),
        }
    }

    /// The longest match starting at `i`, if any.
    fn match_at(&self, chars: &[char], i: usize) -> Option<usize> {
        (i..=chars.len()).rev().find(|&j| self.matches(&chars[i..j]))
    }

    fn replace(&self, v: &str, repl: &str, all: bool) -> String {
        let chars: Vec<char> = v.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i <= chars.len() {
            match self.match_at(&chars, i) {
                Some(j) => {
                    out.push_str(repl);
                    if !all {
                        out.extend(&chars[j..]);
                        return out;
                    }
                    if j == i {
                        if let Some(c) = chars.get(i) {
                            out.push(*c);
                        }
                        i += 1;
                    } else {
                        i = j;
                    }
                }
                None => {
                    if let Some(c) = chars.get(i) {
                        out.push(*c);
                    }
                    i += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> VarList {
        let mut v = VarList::new();
        v.set("PWD", "/home");
        v.set("SHELL", "bash");
        v.set("NULL", "");
        v.set("space", "abc  def");
        v.set("leading", "  ab c");
        v.set("trailing", "ab c   ");
        v.set("path", "/usr/local/lib/file.tar.gz");
        v
    }

    /// `(input, expected)`; `None` expects an error.
    const WORDS: &[(&str, Option<&str>)] = &[
        ("hello", Some("hello")),
        ("he'll'o", Some("hello")),
        ("he'llo", None),
        ("he\\'llo", Some("he'llo")),
        ("he\\\\'llo", None),
        ("abc\\tdef", Some("abctdef")),
        ("\"abc\\tdef\"", Some("abc\\tdef")),
        ("\"abc\\\\tdef\"", Some("abc\\tdef")),
        ("'abc\\tdef'", Some("abc\\tdef")),
        ("hello\\", Some("hello")),
        ("hello\\\\", Some("hello\\")),
        ("\"hello", None),
        ("\"hello\\\"", None),
        ("\"hel'lo\"", Some("hel'lo")),
        ("'hello\\'", Some("hello\\")),
        ("\"''\"", Some("''")),
        ("$.", Some("$.")),
        ("he$1x", Some("hex")),
        ("he$.x", Some("he$.x")),
        ("he$pwd.", Some("he.")),
        ("he$PWD", Some("he/home")),
        ("he\\$PWD", Some("he$PWD")),
        ("he\\\\$PWD", Some("he\\/home")),
        ("\"he\\$PWD\"", Some("he$PWD")),
        ("\\${}", Some("${}")),
        ("${}", None),
        ("he${}xx", None),
        ("he${hi}xx", Some("hexx")),
        ("he${PWD}", Some("he/home")),
        ("he${.}", None),
        ("he${XXX:-000}xx", Some("he000xx")),
        ("he${PWD:-000}xx", Some("he/homexx")),
        ("he${XXX:-$PWD}xx", Some("he/homexx")),
        ("he${XXX:-${PWD:-yyy}}xx", Some("he/homexx")),
        ("he${XXX:-${YYY:-yyy}}xx", Some("heyyyxx")),
        ("he${XXX:YYY}", None),
        ("he${XXX?}", None),
        ("he${XXX:?}", None),
        ("he${PWD?}", Some("he/home")),
        ("he${NULL?}", Some("he")),
        ("he${NULL:?}", None),
        ("he${NULL-x}", Some("he")),
        ("he${NULL:-x}", Some("hex")),
        ("he${NULL+x}", Some("hex")),
        ("he${NULL:+x}", Some("he")),
        ("he${XXX+x}", Some("he")),
        ("he${XXX:+${PWD}}xx", Some("hexx")),
        ("he${PWD:+${SHELL}}xx", Some("hebashxx")),
        ("'he${XX}'", Some("he${XX}")),
        ("\"he'$PWD'\"", Some("he'/home'")),
        ("'$PWD'", Some("$PWD")),
        ("he${PWD", None),
        ("he${PWD:=000}xx", None),
        ("he${PWD:+${PWD}:}xx", Some("he/home:xx")),
        ("he${XXX:-\\$PWD:}xx", Some("he$PWD:xx")),
        ("he${XXX:-\\${PWD}z}xx", Some("he${PWDz}xx")),
        ("안'녕'하세요", Some("안녕하세요")),
        ("${aaa}}", Some("}")),
        ("${aaa:-bbb {foo}", Some("bbb {foo")),
        ("${:-bbb}", None),
        ("${1:-bbb}", Some("bbb")),
        ("${path#*/}", Some("usr/local/lib/file.tar.gz")),
        ("${path##*/}", Some("file.tar.gz")),
        ("${path%.*}", Some("/usr/local/lib/file.tar")),
        ("${path%%.*}", Some("/usr/local/lib/file")),
        ("${path:#x}", None),
        ("${path/lib/LIB}", Some("/usr/local/LIB/file.tar.gz")),
        ("${path//l/L}", Some("/usr/LocaL/Lib/fiLe.tar.gz")),
        ("${XXX?custom message}", None),
    ];

    #[test]
    fn process_word_table() {
        let lx = Lexer::new('\\');
        let e = env();
        for (input, want) in WORDS {
            let got = lx.word(input, &e);
            match want {
                Some(w) => assert_eq!(got.as_deref(), Ok(*w), "input {input:?}"),
                None => assert!(got.is_err(), "input {input:?} gave {got:?}"),
            }
        }
    }

    /// `(input, words joined by ",")`.
    const SPLIT: &[(&str, &str)] = &[
        ("hello", "hello"),
        ("hello${hi}bye", "hellobye"),
        ("hello${space}bye", "helloabc,defbye"),
        ("hello\"${space}\"bye", "helloabc  defbye"),
        ("hello \"${space}\"bye", "hello,abc  defbye"),
        ("hello${leading}def", "hello,ab,cdef"),
        ("hello\"${leading}\" def", "hello  ab c,def"),
        ("hello${trailing}d", "helloab,c,d"),
        ("hello\" there  \"", "hello there  "),
        ("hello there     ", "hello,there"),
        ("hello\\ there", "hello there"),
        ("hello\\\" there", "hello\",there"),
        ("hello'$there'", "hello$there"),
        ("a \"\" b", "a,b"),
    ];

    #[test]
    fn process_words_table() {
        let lx = Lexer::new('\\');
        let e = env();
        for (input, want) in SPLIT {
            let got = lx.words(input, &e).unwrap().join(",");
            assert_eq!(got, *want, "input {input:?}");
        }
        assert!(lx.words("hello\" there", &e).is_err());
    }

    #[test]
    fn backtick_escape_token() {
        let lx = Lexer::new('`');
        let e = env();
        assert_eq!(lx.word("he`$PWD", &e).unwrap(), "he$PWD");
        assert_eq!(lx.word("c:\\dir\\$PWD", &e).unwrap(), "c:\\dir\\/home");
        assert_eq!(lx.word("\"a`\"b\"", &e).unwrap(), "a\"b");
    }

    #[test]
    fn modes_raw_quotes_skip_unset() {
        let e = env();
        let mut lx = Lexer::new('\\');
        lx.raw_quotes = true;
        lx.skip_unset = true;
        assert_eq!(lx.word("'a b' $NOPE ${NOPE} ${NOPE:-x} $PWD", &e).unwrap(), "'a b' $NOPE ${NOPE} ${NOPE:-x} /home");
        let mut sq = Lexer::new('\\');
        sq.skip_quotes = true;
        assert_eq!(sq.word("'$PWD' \"x\"", &e).unwrap(), "'/home' \"x\"");
    }

    #[test]
    fn reports_used_and_unset() {
        let e = env();
        let r = Lexer::new('\\').process("$PWD ${X:-$SHELL} $Y", &e).unwrap();
        assert_eq!(r.used.iter().collect::<Vec<_>>(), ["PWD", "SHELL"]);
        assert_eq!(r.unset.iter().collect::<Vec<_>>(), ["X", "Y"]);
    }

    #[test]
    fn errors_are_one_line_and_name_the_word() {
        let e = Lexer::new('\\').word("${A:?must be set}", &VarList::new()).unwrap_err();
        assert_eq!(e.to_string(), "failed to expand \"${A:?must be set}\": A: must be set");
        let e = Lexer::new('\\').word("${A", &VarList::new()).unwrap_err();
        assert!(e.to_string().ends_with("missing '}'"), "{e}");
    }

    #[test]
    fn heredoc_marker_stays_one_word() {
        let mut lx = Lexer::new('\\');
        lx.raw_quotes = true;
        lx.raw_escapes = true;
        lx.skip_unset = true;
        let w = lx.words("cat << EOF > /x", &VarList::new()).unwrap();
        assert_eq!(w, ["cat", "<< EOF", ">", "/x"]);
    }

    #[test]
    fn varlist_replaces_in_place() {
        let mut v = VarList::from_env(&["A=1".into(), "B=2".into(), "C".into()]);
        v.set("A", "3");
        assert_eq!(v.to_env(), ["A=3", "B=2", "C="]);
        v.remove("B");
        assert_eq!(v.to_env(), ["A=3", "C="]);
    }
}
