//! The data a template walks: Go's dynamic values as an enum (structs, maps, slices,
//! scalars, nil and "no value"), built from JSON by a [`Schema`]. Owns no parsing and no
//! printing rules (those are in `gofmt.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// One value as a Go template sees it. Clones are cheap (shared, immutable contents).
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// No value at all (Go's invalid `reflect.Value`): a missing map key, nil data, the nil
    /// element of a list or map. An action prints it as `<no value>`.
    #[default]
    Missing,
    /// A nil pointer held by a struct field (JSON `null`). Prints as `<nil>`.
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Arc<[Value]>),
    /// A Go map with string keys: a missing key is `<no value>`, never an error.
    Map(Arc<Map>),
    /// A Go struct: a missing field is an error naming the field and the type.
    Struct(Arc<Struct>),
    /// The column headings of a `table` template: each field evaluates to its heading.
    Headings(Arc<Headings>),
    /// A Go `time.Time`: prints as its `String()` (`2006-01-02 15:04:05.5 +0000 UTC`),
    /// encodes to JSON in RFC 3339 with nanoseconds, answers `.Unix` and `.UnixNano`.
    Time(chrono::DateTime<chrono::FixedOffset>),
}

/// A Go `map[string]T`, kept sorted by key (Go prints and ranges maps in key order).
#[derive(Debug, Default)]
pub struct Map {
    entries: BTreeMap<String, Value>,
    /// Every value is a string: the map is a `map[string]string`, whose missing entries
    /// index as `""` rather than `<no value>`.
    text: bool,
    /// A nil map (JSON `null`): empty to templates, `null` to `json` as in Go.
    nil: bool,
}

/// A Go struct value: its type (name and methods) and its fields in order, and the results
/// of its argument-less methods where the caller knows them already (Podman's reporters:
/// `{{.ID}}` is the short ID while `{{json .}}` shows the struct's full `Id`).
#[derive(Debug)]
pub struct Struct {
    ty: Arc<StructType>,
    fields: Vec<(String, Value)>,
    computed: Vec<(String, Value)>,
}

/// The key of a top-level JSON object whose entries are [`Struct`] method results, not
/// fields: they win over fields (exact names, as Go's methods) and `json` leaves them out.
pub const METHODS: &str = "$methods";

/// A struct type: the name errors show, and the methods its values answer.
#[derive(Debug)]
pub struct StructType {
    name: String,
    methods: Vec<Method>,
}

/// A method of a struct type, such as Podman's `{{.Label "key"}}` on `ps` rows. It gets
/// the receiver and exactly `args` evaluated arguments; an `Err` stops the template as
/// Go's `error calling NAME: ...`. Methods take precedence over fields, as in Go.
#[derive(Clone, Copy)]
pub struct Method {
    pub name: &'static str,
    pub args: usize,
    pub call: fn(&Value, &[Value]) -> Result<Value, String>,
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Method({}/{})", self.name, self.args)
    }
}

/// Headings of `table` columns: a caller's overrides, else the field name split at its
/// camel-case humps and upper-cased (`CreatedAt` -> `CREATED AT`), as Podman derives them.
#[derive(Debug, Default)]
pub struct Headings {
    overrides: Vec<(String, String)>,
}

impl Headings {
    pub fn heading(&self, field: &str) -> String {
        match self.overrides.iter().find(|(k, _)| k == field) {
            Some((_, h)) => h.to_uppercase(),
            None => camel_words(field).join(" ").to_uppercase(),
        }
    }
}

/// Splits a Go identifier into words the way Podman's headings do: runs of lower-case,
/// upper-case, digits and other characters, with an upper-case run handing its last
/// letter to a following lower-case run (`PDFLoader` -> `PDF Loader`).
fn camel_words(s: &str) -> Vec<String> {
    let class = |c: char| match c {
        c if c.is_lowercase() => 1,
        c if c.is_uppercase() => 2,
        c if c.is_numeric() => 3,
        _ => 4,
    };
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last = 0;
    for c in s.chars() {
        let k = class(c);
        match runs.last_mut() {
            Some(run) if k == last => run.push(c),
            _ => runs.push(vec![c]),
        }
        last = k;
    }
    for i in 0..runs.len().saturating_sub(1) {
        let upper_then_lower =
            runs[i].first().is_some_and(|c| c.is_uppercase()) && runs[i + 1].first().is_some_and(|c| c.is_lowercase());
        if upper_then_lower && let Some(c) = runs[i].pop() {
            runs[i + 1].insert(0, c);
        }
    }
    runs.into_iter().filter(|r| !r.is_empty()).map(|r| r.into_iter().collect()).collect()
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// The value of `{{.}}` in a `table` heading row.
    pub fn headings(overrides: &[(&str, &str)]) -> Value {
        let overrides = overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Value::Headings(Arc::new(Headings { overrides }))
    }

    /// A struct field or map entry by exact name (for methods reading their receiver).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Struct(s) => s.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Value::Map(m) => m.entries.get(key),
            _ => None,
        }
    }

    /// Go's truth: false, 0, nil, and empty strings, lists and maps are false; structs are true.
    pub fn truth(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.entries.is_empty(),
            Value::Struct(_) | Value::Headings(_) | Value::Time(_) => true,
        }
    }

    /// The Go type name errors show (`string`, `int`, `[]interface {}`, the struct's name).
    pub fn go_type(&self) -> String {
        match self {
            Value::Missing | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::Str(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(m) if m.text => "map[string]string".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Struct(s) => s.ty.name.clone(),
            Value::Headings(_) => "map[string]string".into(),
            Value::Time(_) => "time.Time".into(),
        }
    }
}

/// An element read out of a list or map: a nil there is an empty interface, which Go
/// treats as no value at all.
pub(super) fn element(v: &Value) -> Value {
    match v {
        Value::Nil => Value::Missing,
        v => v.clone(),
    }
}

impl Map {
    pub fn new(entries: BTreeMap<String, Value>) -> Map {
        let text = entries.values().all(|v| matches!(v, Value::Str(_)));
        Map { entries, text, nil: false }
    }
    /// Go's nil map of strings.
    pub fn nil() -> Map {
        Map { entries: BTreeMap::new(), text: true, nil: true }
    }
    pub(super) fn is_nil(&self) -> bool {
        self.nil
    }
    pub fn entries(&self) -> &BTreeMap<String, Value> {
        &self.entries
    }
    /// Go's `index m key`: a missing key gives the zero value of the element type.
    pub(super) fn index(&self, key: &str) -> Value {
        match self.entries.get(key) {
            Some(v) => element(v),
            None if self.text => Value::str(""),
            None => Value::Missing,
        }
    }
}

impl Struct {
    pub fn fields(&self) -> &[(String, Value)] {
        &self.fields
    }
    pub(super) fn type_name(&self) -> &str {
        &self.ty.name
    }
    pub(super) fn method(&self, name: &str) -> Option<&Method> {
        self.ty.methods.iter().find(|m| m.name == name)
    }
    /// A known result of the argument-less method `name` (see [`METHODS`]).
    pub(super) fn computed(&self, name: &str) -> Option<&Value> {
        self.computed.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
    /// The field of that name; failing that, one whose name matches ignoring case and
    /// underscores (`.ID` finds JSON's `Id`, `.NetworkInterface` finds `network_interface`).
    pub(super) fn field(&self, name: &str) -> Option<&Value> {
        let exact = self.fields.iter().find(|(k, _)| k == name);
        exact.or_else(|| self.fields.iter().find(|(k, _)| loose_eq(k, name))).map(|(_, v)| v)
    }
}

fn loose_eq(a: &str, b: &str) -> bool {
    let mut a = a.bytes().filter(|c| *c != b'_');
    let mut b = b.bytes().filter(|c| *c != b'_');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(&y) => {}
            _ => return false,
        }
    }
}

/// How JSON becomes template values. A JSON object is a struct (missing fields are errors)
/// unless its key is listed with [`Schema::maps`]: those are Go maps (missing keys print
/// `<no value>`, `null` is an empty map). A listed key `A.B` matches an object at a path
/// ending in `A.B`; `Labels` matches every object under a `Labels` key. The top-level
/// object gets the schema's type name and methods; nested structs are named by their key.
#[derive(Debug)]
pub struct Schema {
    top: Arc<StructType>,
    maps: Vec<Vec<String>>,
    times: Vec<Vec<String>>,
}

impl Schema {
    pub fn new(type_name: &str) -> Schema {
        Schema {
            top: Arc::new(StructType { name: type_name.into(), methods: Vec::new() }),
            maps: Vec::new(),
            times: Vec::new(),
        }
    }

    pub fn maps(mut self, keys: &[&str]) -> Schema {
        self.maps.extend(keys.iter().map(|k| k.split('.').map(String::from).collect()));
        self
    }

    /// Keys (matched as [`Schema::maps`]' are) whose RFC 3339 strings are Go `time.Time`s.
    pub fn times(mut self, keys: &[&str]) -> Schema {
        self.times.extend(keys.iter().map(|k| k.split('.').map(String::from).collect()));
        self
    }

    pub fn methods(mut self, methods: &[Method]) -> Schema {
        let name = self.top.name.clone();
        let mut all = self.top.methods.clone();
        all.extend_from_slice(methods);
        self.top = Arc::new(StructType { name, methods: all });
        self
    }

    /// Converts one JSON value (usually an object: one row or one inspected object).
    pub fn value(&self, json: &serde_json::Value) -> Value {
        self.convert(json, &mut Vec::new())
    }

    fn is_map(&self, path: &[&str]) -> bool {
        ends_with_any(&self.maps, path)
    }

    fn convert<'j>(&self, json: &'j serde_json::Value, path: &mut Vec<&'j str>) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null if !path.is_empty() && self.is_map(path) => Value::Map(Arc::new(Map::nil())),
            J::Null => Value::Nil,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            J::String(s) => match ends_with_any(&self.times, path) {
                true => chrono::DateTime::parse_from_rfc3339(s).map_or_else(|_| Value::str(s), Value::Time),
                false => Value::str(s),
            },
            J::Array(a) => Value::List(a.iter().map(|v| self.convert(v, path)).collect()),
            J::Object(o) => {
                let map = !path.is_empty() && self.is_map(path);
                let top = path.is_empty();
                let ty = match path.last() {
                    None => self.top.clone(),
                    Some(k) => Arc::new(StructType { name: k.to_string(), methods: Vec::new() }),
                };
                let mut field = |(k, v): (&'j String, &'j J)| {
                    path.push(k);
                    let v = self.convert(v, path);
                    path.pop();
                    (k.clone(), v)
                };
                if map {
                    return Value::Map(Arc::new(Map::new(o.iter().map(field).collect())));
                }
                let fields = o.iter().filter(|(k, _)| !(top && *k == METHODS)).map(&mut field).collect();
                let computed = match o.get(METHODS) {
                    Some(J::Object(m)) if top => m.iter().map(&mut field).collect(),
                    _ => Vec::new(),
                };
                Value::Struct(Arc::new(Struct { ty, fields, computed }))
            }
        }
    }
}

/// Whether `path` ends with one of `keys`.
fn ends_with_any(keys: &[Vec<String>], path: &[&str]) -> bool {
    keys.iter().any(|p| p.len() <= path.len() && path[path.len() - p.len()..].iter().zip(p).all(|(a, b)| a == b))
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Arc::from(s))
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::List(Arc::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_headings_as_podman() {
        let h = Headings { overrides: vec![("ID".into(), "container id".into())] };
        assert_eq!(h.heading("ID"), "CONTAINER ID");
        assert_eq!(h.heading("CreatedAt"), "CREATED AT");
        assert_eq!(h.heading("ImageID"), "IMAGE ID");
        assert_eq!(h.heading("Names"), "NAMES");
        assert_eq!(h.heading("PDFLoader"), "PDF LOADER");
        assert_eq!(h.heading("GL11Version"), "GL 11 VERSION");
        assert_eq!(h.heading("RawSize"), "RAW SIZE");
    }

    #[test]
    fn schema_makes_structs_and_maps() {
        let s = Schema::new("T").maps(&["Labels", "Graph.Data"]);
        let v = s.value(&serde_json::json!({"A": {"B": 1}, "Labels": null, "Graph": {"Data": {"x": "y"}}, "N": null}));
        let Value::Struct(t) = &v else { panic!("{v:?}") };
        assert_eq!(t.type_name(), "T");
        assert!(matches!(t.field("A"), Some(Value::Struct(_))));
        assert!(matches!(t.field("Labels"), Some(Value::Map(m)) if m.entries.is_empty()));
        assert!(matches!(t.field("N"), Some(Value::Nil)));
        let Some(Value::Struct(g)) = t.field("graph") else { panic!() };
        assert!(matches!(g.field("Data"), Some(Value::Map(_))));
    }
}
