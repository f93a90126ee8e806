//! The Compose Specification's flexible value forms, read once into one typed form each (string
//! or list, list of `K=V` or map, Go durations, byte sizes, booleans and numbers that may arrive
//! as strings from interpolation, shell-split commands) and written back as docker compose prints
//! them. Knows no compose key names; the callers attach these to fields.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A scalar as text: strings as they are, numbers and booleans formatted as compose does.
struct ScalarText(&'static str);

impl<'de> Visitor<'de> for ScalarText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A string, number or boolean as text.
pub fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(ScalarText("a string, number or boolean"))
}

/// An optional scalar as text (`cpuset: 0-3`, `cpuset: 1`).
pub fn scalar_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.map(|s| s.0))
}

/// One string or a list of scalars (`dns: 8.8.8.8` or `dns: [8.8.8.8]`).
pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a list of strings")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
            Ok(vec![])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = vec![];
            while let Some(s) = seq.next_element::<Scalar>()? {
                out.push(s.0);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// A list of scalars only (`expose: [80, "443/tcp"]`, `cap_add: [NET_ADMIN]`).
pub fn scalar_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list: Option<Vec<Scalar>> = serde::Deserialize::deserialize(d)?;
    Ok(list.unwrap_or_default().into_iter().map(|s| s.0).collect())
}

/// A scalar read as text, for use inside collections.
pub struct Scalar(pub String);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarText("a string, number or boolean")).map(Scalar)
    }
}

/// `Some(text)` for a scalar, `None` for null: a map value in `environment`/`args`.
struct MaybeScalar(Option<String>);

impl<'de> serde::Deserialize<'de> for MaybeScalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MaybeScalar, D::Error> {
        let v: Option<Scalar> = serde::Deserialize::deserialize(d)?;
        Ok(MaybeScalar(v.map(|s| s.0)))
    }
}

/// `environment`, `build.args`: a list of `KEY=VALUE` / `KEY`, or a map whose null values mean
/// "take it from the environment". `None` is such a value not (yet) found.
pub fn env_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Option<String>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, Option<String>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of KEY=VALUE strings or a map")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(Scalar(s)) = seq.next_element::<Scalar>()? {
                let (k, v) = match s.split_once('=') {
                    Some((k, v)) => (k, Some(v.to_string())),
                    None => (s.as_str(), None),
                };
                if k.ends_with(char::is_whitespace) {
                    return Err(de::Error::custom(format!(
                        "\"{k}\" has a space before \"=\": write KEY=VALUE without spaces"
                    )));
                }
                if k.is_empty() {
                    return Err(de::Error::custom(format!("\"{s}\" has no name: write KEY=VALUE")));
                }
                out.insert(k.to_string(), v);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry::<String, MaybeScalar>()? {
                out.insert(k, v.0);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// `labels`, `sysctls`, `annotations`, `driver_opts`: a list of `KEY=VALUE` or a map; a key
/// without a value is the empty string.
pub fn labels<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(env_map(d)?.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
}

/// `command`, `entrypoint`: a string split as a shell would (no expansion) or a list.
pub fn command<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Vec<String>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a command string or a list of arguments")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            shell_split(v).map(Some).map_err(E::custom)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = vec![];
            while let Some(Scalar(s)) = seq.next_element::<Scalar>()? {
                out.push(s);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_any(V)
}

/// Splits a command line into words as a POSIX shell would, without expansions: quotes and
/// backslashes group and escape, nothing else is special.
pub fn shell_split(s: &str) -> Result<Vec<String>, String> {
    let mut words = vec![];
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(n) => cur.push(n),
                        None => return Err(format!("unclosed ' in command \"{s}\": close the quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => cur.push(n),
                            Some(n) => {
                                cur.push('\\');
                                cur.push(n);
                            }
                            None => return Err(format!("unclosed \" in command \"{s}\": close the quote")),
                        },
                        Some(n) => cur.push(n),
                        None => return Err(format!("unclosed \" in command \"{s}\": close the quote")),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Go's `strconv.ParseBool` spellings.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "True" | "TRUE" => Some(true),
        "0" | "f" | "F" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A boolean, or its text (an interpolated `${DEBUG:-false}` arrives as a string).
pub fn bool_<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_bool(d)?.unwrap_or(false))
}

pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("true or false")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_bool(v).map(Some).ok_or_else(|| E::custom(format!("invalid boolean \"{v}\": use true or false")))
        }
    }
    d.deserialize_any(V)
}

/// An integer, or its text.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v).map(Some).map_err(|_| E::custom(format!("{v} is too large")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim().parse().map(Some).map_err(|_| E::custom(format!("invalid integer \"{v}\": write a whole number")))
        }
    }
    d.deserialize_any(V)
}

/// A non-negative integer that fits `T`, or its text.
fn opt_unsigned<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<Option<T>, D::Error> {
    match opt_i64(d)? {
        None => Ok(None),
        Some(v) => T::try_from(v)
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{v} is out of range: use a number from 0 up"))),
    }
}

pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    opt_unsigned(d)
}

pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    opt_unsigned(d)
}

/// A number (`cpus: 0.5`, `cpus: "1.5"`).
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<f64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(Some)
                .ok_or_else(|| E::custom(format!("invalid number \"{v}\": write e.g. 0.5 or 2")))
        }
    }
    d.deserialize_any(V)
}

/// A Go duration (`1m30s`, `500ms`, `1.5h`, also `1d`/`1w` as compose accepts).
pub fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    match serde::Deserialize::deserialize(d)? {
        None => Ok(None),
        Some(Scalar(s)) => parse_duration(&s).map(Some).map_err(de::Error::custom),
    }
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration \"{s}\": use a number with a unit, e.g. 30s, 1m30s or 500ms");
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    if t.is_empty() || t.starts_with('-') {
        return Err(bad());
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let nanos = match &rest[..unit_len] {
            "ns" => 1f64,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            "w" => 7.0 * 86400e9,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += num * nanos;
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(Duration::from_nanos(total.round() as u64))
}

/// Go's `time.Duration.String()`: `1m30s`, `1h0m0s`, `500ms`, `1.5s`, `0s`.
pub fn go_duration(d: Duration) -> String {
    let n = d.as_nanos();
    if n == 0 {
        return "0s".into();
    }
    if n < 1_000_000_000 {
        let (unit, div) = if n < 1_000 {
            ("ns", 1)
        } else if n < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", fraction(n, div));
    }
    let secs = n / 1_000_000_000;
    let sub = n % 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let s = fraction(s * 1_000_000_000 + sub, 1_000_000_000);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// `n / div` with the fraction's trailing zeros dropped (`1500, 1000` -> `1.5`).
fn fraction(n: u128, div: u128) -> String {
    let (whole, frac) = (n / div, n % div);
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A byte size: an integer, or text as Docker reads it (`512m`, `1gb`, `1.5g`, binary units).
pub fn opt_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match serde::Deserialize::deserialize(d)? {
        None => Ok(None),
        Some(Scalar(s)) => parse_bytes(&s).map(Some).map_err(de::Error::custom),
    }
}

pub fn parse_bytes(s: &str) -> Result<i64, String> {
    let bad = || format!("invalid size \"{s}\": use bytes or a unit, e.g. 512m or 1g");
    if let Ok(n) = s.trim().parse::<i64>() {
        return Ok(n);
    }
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let t = t.strip_suffix('i').unwrap_or(t);
    let (num, shift) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 10),
        Some('m') => (&t[..t.len() - 1], 20),
        Some('g') => (&t[..t.len() - 1], 30),
        Some('t') => (&t[..t.len() - 1], 40),
        Some('p') => (&t[..t.len() - 1], 50),
        _ => (t, 0),
    };
    let n: f64 = num.trim_end().parse().map_err(|_| bad())?;
    let v = n * (1u64 << shift) as f64;
    if !v.is_finite() || v < 0.0 || v > i64::MAX as f64 {
        return Err(bad());
    }
    Ok(v as i64)
}

/// `extra_hosts`: a list of `host:ip` / `host=ip` (ip may list several, comma-separated) or a
/// map host -> ip or list of ips.
pub fn extra_hosts<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, Vec<String>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of \"host:ip\" entries or a map of host to ip")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out: Self::Value = BTreeMap::new();
            while let Some(Scalar(s)) = seq.next_element::<Scalar>()? {
                let (host, ips) = s.split_once('=').or_else(|| s.split_once(':')).ok_or_else(|| {
                    de::Error::custom(format!("invalid extra host \"{s}\": write host:ip, e.g. db:10.0.0.5"))
                })?;
                let list = out.entry(check_host(host)?).or_default();
                list.extend(ips.split(',').map(strip_brackets));
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(host) = map.next_key::<String>()? {
                let ips = map.next_value_seed(StringListSeed)?;
                out.insert(check_host(&host)?, ips.iter().map(|s| strip_brackets(s)).collect());
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

fn check_host<E: de::Error>(host: &str) -> Result<String, E> {
    if host.is_empty() || host.contains([':', '=']) {
        return Err(E::custom(format!("bad host name \"{host}\" in extra_hosts: write host:ip")));
    }
    Ok(host.to_string())
}

fn strip_brackets(ip: &str) -> String {
    ip.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(ip).to_string()
}

struct StringListSeed;

impl<'de> de::DeserializeSeed<'de> for StringListSeed {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        string_list(d)
    }
}

// ---- serializers for `config` output ----

pub fn ser_duration<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&go_duration(*d)),
        None => s.serialize_none(),
    }
}

/// Sizes print as a decimal string, as compose-go's UnitBytes does.
pub fn ser_bytes<S: Serializer>(b: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_str(&b.to_string()),
        None => s.serialize_none(),
    }
}

/// Whole numbers print without a fraction (`cpus: 2`, `cpus: 0.5`), as Go formats them.
pub fn ser_number<S: Serializer>(f: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        Some(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1e15 => s.serialize_u64(*f as u64),
        Some(f) => s.serialize_f64(*f),
        None => s.serialize_none(),
    }
}

/// `extra_hosts` print as a sorted list of `host=ip`.
pub fn ser_hosts<S: Serializer>(h: &BTreeMap<String, Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
    let mut list: Vec<String> = h.iter().flat_map(|(k, ips)| ips.iter().map(move |ip| format!("{k}={ip}"))).collect();
    list.sort();
    s.collect_seq(list)
}

pub fn is_false(b: &bool) -> bool {
    !*b
}
