//! Variable interpolation as compose-go does it: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`,
//! `${VAR:?err}`, `${VAR?err}`, `${VAR:+r}`, `${VAR+r}` (defaults nest), `$$` for a literal `$`,
//! in every string value of a tree (never in keys). Owns no environment: the caller's lookup
//! decides what is set.

use super::ComposeError;
use serde_norway::Value;

#[derive(Debug, PartialEq)]
pub enum TemplateError {
    /// `${` not closed, or not `${NAME[op word]}`.
    Invalid,
    /// `:?` / `?` found the variable unset (or empty).
    Required { var: String, reason: String },
}

/// What substitution needs from its caller.
pub struct Env<'a> {
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Variables used without a default and not set (each reported once by the caller).
    pub missing: Vec<String>,
}

impl Env<'_> {
    fn get(&mut self, name: &str, warn: bool) -> Option<String> {
        let v = (self.lookup)(name);
        if v.is_none() && warn && !self.missing.iter().any(|m| m == name) {
            self.missing.push(name.to_string());
        }
        v
    }
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn name_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first().is_none_or(|c| !is_name_start(*c)) {
        return 0;
    }
    b.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count()
}

/// The index of the `}` closing the `{` at `open`, counting nested braces as compose-go does.
fn closing_brace(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Substitutes the variables in `s`.
pub fn substitute(s: &str, env: &mut Env) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match after.as_bytes().first() {
            Some(b'$') => {
                out.push('$');
                rest = &after[1..];
            }
            Some(b'{') => {
                let close = closing_brace(after, 0).ok_or(TemplateError::Invalid)?;
                out.push_str(&braced(&after[1..close], env)?);
                rest = &after[close + 1..];
            }
            Some(c) if is_name_start(*c) => {
                let n = name_len(after);
                out.push_str(&env.get(&after[..n], true).unwrap_or_default());
                rest = &after[n..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The inside of `${...}`.
fn braced(inner: &str, env: &mut Env) -> Result<String, TemplateError> {
    let n = name_len(inner);
    if n == 0 {
        return Err(TemplateError::Invalid);
    }
    let (name, op) = inner.split_at(n);
    if op.is_empty() {
        return Ok(env.get(name, true).unwrap_or_default());
    }
    let (colon, op) = match op.strip_prefix(':') {
        Some(o) => (true, o),
        None => (false, op),
    };
    let (kind, word) = op.split_at(op.chars().next().map_or(0, char::len_utf8));
    let value = env.get(name, false);
    // With ':' an empty value counts as unset.
    let set = value.as_deref().is_some_and(|v| !colon || !v.is_empty());
    match kind {
        "-" => {
            if set {
                Ok(value.unwrap_or_default())
            } else {
                substitute(word, env)
            }
        }
        "+" => {
            if set {
                substitute(word, env)
            } else {
                Ok(String::new())
            }
        }
        "?" => {
            if set {
                Ok(value.unwrap_or_default())
            } else {
                Err(TemplateError::Required { var: name.to_string(), reason: substitute(word, env)? })
            }
        }
        _ => Err(TemplateError::Invalid),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// Interpolates every string value of `v` in place; errors name `file` and the key path.
pub fn interpolate(v: &mut Value, path: &str, file: &str, env: &mut Env) -> Result<(), ComposeError> {
    match v {
        Value::String(s) => {
            *s = substitute(s, env).map_err(|e| error(file, path, s, e))?;
        }
        Value::Mapping(m) => {
            for (k, val) in m.iter_mut() {
                interpolate(val, &join(path, k.as_str().unwrap_or_default()), file, env)?;
            }
        }
        Value::Sequence(list) => {
            for (i, val) in list.iter_mut().enumerate() {
                interpolate(val, &format!("{path}[{i}]"), file, env)?;
            }
        }
        Value::Tagged(t) => interpolate(&mut t.value, path, file, env)?,
        _ => {}
    }
    Ok(())
}

fn error(file: &str, path: &str, template: &str, e: TemplateError) -> ComposeError {
    let message = match e {
        TemplateError::Invalid => format!(
            "invalid interpolation format in \"{template}\": write ${{VAR}}, ${{VAR:-default}} ..., or $$ for a literal $"
        ),
        TemplateError::Required { var, reason } => {
            let reason = if reason.is_empty() { String::new() } else { format!(": {reason}") };
            format!(
                "required variable {var} is missing a value{reason}; set {var} in the environment or in the .env file"
            )
        }
    };
    ComposeError::invalid(file, path, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> (Result<String, TemplateError>, Vec<String>) {
        let lookup = |k: &str| match k {
            "SET" => Some("value".to_string()),
            "EMPTY" => Some(String::new()),
            "lower_case" => Some("lc".to_string()),
            _ => None,
        };
        let mut env = Env { lookup: &lookup, missing: vec![] };
        let r = substitute(s, &mut env);
        (r, env.missing)
    }

    fn ok(s: &str) -> String {
        run(s).0.unwrap()
    }

    #[test]
    fn table() {
        let cases = [
            ("plain", "plain"),
            ("$SET", "value"),
            ("${SET}", "value"),
            ("a${SET}b", "avalueb"),
            ("$SET.txt", "value.txt"),
            ("${lower_case}", "lc"),
            ("${UNSET}", ""),
            ("${UNSET:-d}", "d"),
            ("${EMPTY:-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${UNSET-d}", "d"),
            ("${SET:-d}", "value"),
            ("${SET:+r}", "r"),
            ("${EMPTY:+r}", ""),
            ("${EMPTY+r}", "r"),
            ("${UNSET+r}", ""),
            ("${UNSET:-${SET}}", "value"),
            ("${UNSET:-${ALSO:-deep}}", "deep"),
            ("${UNSET:-a-$SET-b}", "a-value-b"),
            ("${SET:?must}", "value"),
            ("$$", "$"),
            ("$${SET}", "${SET}"),
            ("$$SET", "$SET"),
            ("a $ b", "a $ b"),
            ("cost: 5$", "cost: 5$"),
            ("$1", "$1"),
            ("${UNSET:-}", ""),
            ("${UNSET:-a}}", "a}"),
            ("${UNSET:-$$}", "$"),
            ("ünï${SET}cødé", "ünïvaluecødé"),
        ];
        for (input, want) in cases {
            assert_eq!(ok(input), want, "{input}");
        }
    }

    #[test]
    fn warnings_once_and_not_for_defaults() {
        let (_, missing) = run("$A ${A} ${B:-x} ${C-y} ${D:+z}");
        assert_eq!(missing, vec!["A"]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            run("${UNSET:?set it}").0,
            Err(TemplateError::Required { var: "UNSET".into(), reason: "set it".into() })
        );
        assert_eq!(run("${EMPTY:?}").0, Err(TemplateError::Required { var: "EMPTY".into(), reason: String::new() }));
        assert_eq!(ok("${EMPTY?no}"), "");
        assert!(matches!(run("${UNSET?x}").0, Err(TemplateError::Required { .. })));
        for bad in ["${", "${SET", "${}", "${1A}", "${SET:=x}", "${SET!}", "${ SET}"] {
            assert_eq!(run(bad).0, Err(TemplateError::Invalid), "{bad}");
        }
    }

    #[test]
    fn tree_paths_in_errors() {
        let mut v: Value = serde_norway::from_str("services: {web: {ports: [\"80\", \"${P:?no port}\"]}}").unwrap();
        let lookup = |_: &str| None;
        let mut env = Env { lookup: &lookup, missing: vec![] };
        let e = interpolate(&mut v, "", "compose.yaml", &mut env).unwrap_err().to_string();
        assert_eq!(
            e,
            "compose.yaml: services.web.ports[1]: required variable P is missing a value: no port; set P in the environment or in the .env file"
        );
    }

    #[test]
    fn keys_untouched_values_replaced() {
        let mut v: Value = serde_norway::from_str("$K: {a: $SET, n: 1}").unwrap();
        let lookup = |k: &str| (k == "SET").then(|| "v".to_string());
        let mut env = Env { lookup: &lookup, missing: vec![] };
        interpolate(&mut v, "", "f", &mut env).unwrap();
        assert_eq!(v["$K"]["a"], Value::from("v"));
        assert_eq!(v["$K"]["n"], Value::from(1));
    }
}
