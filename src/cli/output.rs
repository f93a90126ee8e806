//! Output helpers shared by commands: aligned tables, JSON, and `--format` Go templates run
//! by `crate::template` with Podman's rules (`table` headings and alignment, `\t`/`\n`
//! escapes, one rendering per row, each command's heading names). No command logic here.

use crate::template::{Method, Schema, Template, TemplateError, Value};
use serde_json::Value as Json;
use std::io::Write;

/// Prints rows as a table aligned like Podman's (columns separated by 2+ spaces).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut tw = tabwriter::TabWriter::new(std::io::stdout().lock()).padding(2).minwidth(2);
    if !headers.is_empty() {
        writeln!(tw, "{}", headers.join("\t"))?;
    }
    for r in rows {
        writeln!(tw, "{}", r.join("\t"))?;
    }
    tw.flush()
}

pub fn json(v: &Json) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)
}

/// True when `--format` asks for JSON output rather than a template, by Podman's rule:
/// `json`, `{{json}}` or `{{json.}}` (`{{json .}}` is a template printing each row's JSON).
pub fn is_json(format: Option<&str>) -> bool {
    let ws: &[char] = &[' ', '\t', '\n', '\r', '\x0c'];
    let Some(f) = format.map(|f| f.trim_matches(ws)) else { return false };
    if f == "json" {
        return true;
    }
    let inner = f.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")).map(|r| r.trim_matches(ws));
    matches!(inner, Some("json" | "json."))
}

/// How one command's objects appear to `--format` templates.
#[derive(Clone, Copy)]
pub struct Shape {
    /// The template's name in errors; Podman uses the command's name.
    pub name: &'static str,
    /// The Go type a row is, for `can't evaluate field X in type T`.
    pub type_name: fn(&Json) -> &'static str,
    /// Keys whose JSON objects are Go maps (missing keys print `<no value>`).
    pub maps: &'static [&'static str],
    /// Methods rows answer, such as `{{.Label "key"}}`.
    pub methods: &'static [Method],
    /// `table` headings other than the field name's words upper-cased (`ID` -> `CONTAINER ID`).
    pub headings: &'static [(&'static str, &'static str)],
    /// Print the heading row of a `table` format (false for `--noheading`).
    pub heading_row: bool,
    /// Apply Podman's inspect rewrites (`.Src` -> `.Source`, `.Dst`, `.ImageID`).
    pub inspect: bool,
    /// Keys whose RFC 3339 strings are Go `time.Time`s (printed as Go prints times).
    pub times: &'static [&'static str],
    /// Dotted paths of Podman's optional pointer fields: left out of the JSON when unset,
    /// but a template sees them as nil (`{{.State.Health}}` is `<nil>`, not an error).
    pub optional: &'static [&'static str],
}

/// Objects that are Go maps in Podman's output types.
const MAPS: &[&str] = &[
    "Labels",
    "Annotations",
    "Options",
    "ExposedPorts",
    "Volumes",
    "GraphDriver.Data",
    "NetworkSettings.Networks",
    "NetworkSettings.Ports",
    "LogConfig.Config",
    "labels",
    "options",
];

/// Fields that are `time.Time` in Podman's output types.
pub const TIMES: &[&str] = &["Created", "CreatedAt", "StartedAt", "FinishedAt", "LastTagTime", "created"];

const BASE: Shape = Shape {
    name: "format",
    type_name: |_| "struct",
    maps: MAPS,
    times: TIMES,
    methods: &[],
    headings: &[],
    heading_row: true,
    inspect: false,
    optional: &[],
};

/// `ps` rows: Podman's psReporter, with `.Label "k"` and `.Labels` as `k=v,...`.
pub const PS: Shape = Shape {
    name: "ps",
    type_name: |_| "containers.psReporter",
    methods: &[Method { name: "Label", args: 1, call: label }, Method { name: "Labels", args: 0, call: labels_text }],
    headings: &[
        ("Cgroup", "cgroupns"),
        ("CreatedHuman", "created"),
        ("ID", "container id"),
        ("IPC", "ipc"),
        ("MNT", "mnt"),
        ("NET", "net"),
        ("Networks", "networks"),
        ("PIDNS", "pidns"),
        ("Pod", "pod id"),
        ("PodName", "podname"),
        ("Restarts", "restarts"),
        ("RunningFor", "running for"),
        ("UTS", "uts"),
        ("User", "userns"),
    ],
    ..BASE
};

/// `images` rows (one per name).
pub const IMAGES: Shape = Shape {
    name: "images",
    type_name: |_| "images.imageReporter",
    headings: &[("ID", "image id"), ("ReadOnly", "r/o")],
    ..BASE
};

/// `network ls` rows.
pub const NETWORKS: Shape = Shape {
    name: "ls",
    type_name: |_| "network.ListPrintReports",
    methods: &[Method { name: "Labels", args: 0, call: labels_text }],
    headings: &[("Name", "name"), ("Driver", "driver"), ("Labels", "labels"), ("ID", "network id")],
    ..BASE
};

/// `system df` rows.
pub const DF: Shape = Shape {
    name: "df",
    type_name: |_| "*system.dfSummary",
    headings: &[("Size", "size"), ("Reclaimable", "reclaimable")],
    ..BASE
};

/// `history` rows.
pub const HISTORY: Shape = Shape {
    name: "history",
    type_name: |_| "images.historyReporter",
    headings: &[("ID", "id"), ("CreatedBy", "created by")],
    ..BASE
};

/// `inspect` objects (containers, images, networks): the format applies to each.
pub const INSPECT: Shape =
    Shape { name: "inspect", type_name: inspect_type, inspect: true, optional: &["State.Health"], ..BASE };

/// `system info`.
pub const INFO: Shape = Shape { name: "info", type_name: |_| "*define.Info", ..BASE };

/// `version`.
pub const VERSION: Shape = Shape { name: "version", type_name: |_| "*define.Version", ..BASE };

fn inspect_type(v: &Json) -> &'static str {
    if v.get("State").is_some() {
        "*define.InspectContainerData"
    } else if v.get("RootFS").is_some() {
        "*entities.ImageInspectReport"
    } else {
        "types.Network"
    }
}

/// `{{.Label "key"}}`: one label's value, `""` when unset.
fn label(row: &Value, args: &[Value]) -> Result<Value, String> {
    let Some(Value::Str(key)) = args.first() else { return Err("the label name must be a string".into()) };
    let labels = row.get("Labels").or_else(|| row.get("labels"));
    Ok(labels.and_then(|l| l.get(key)).cloned().unwrap_or_else(|| Value::str("")))
}

/// `{{.Labels}}` on ps and network ls: `k=v,k2=v2`, sorted, as Podman prints them.
fn labels_text(row: &Value, _: &[Value]) -> Result<Value, String> {
    let Some(Value::Map(m)) = row.get("Labels").or_else(|| row.get("labels")) else { return Ok(Value::str("")) };
    let mut s = String::new();
    for (k, v) in m.entries() {
        if !s.is_empty() {
            s.push(',');
        }
        s.push_str(k);
        s.push('=');
        if let Value::Str(v) = v {
            s.push_str(v);
        }
    }
    Ok(Value::from(s))
}

/// A user's `--format` parsed as Podman prepares it.
struct Format {
    template: Template,
    table: bool,
}

/// Go's strings.Replacer: at each position the first pair (in order) that matches wins.
fn replace(s: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'scan: while let Some(c) = rest.chars().next() {
        for (from, to) in pairs {
            if let Some(after) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = after;
                continue 'scan;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Podman's NormalizeFormat: `\t` and `\n` escapes (and, in a table, spaces) become tabs
/// and newlines, and the format ends with a newline.
fn normalize(format: &str, table: bool) -> String {
    let mut f = if table {
        replace(format, &[("\\t", "\t"), (" ", "\t"), ("\\n", "\n")])
    } else {
        replace(format, &[("\\t", "\t"), ("\\n", "\n")])
    };
    if !f.ends_with('\n') {
        f.push('\n');
    }
    f
}

/// Podman's EnforceRange: a format without `{{range .}}...{{end}}` is applied to each row.
fn enforce_range(format: &str) -> String {
    if ranges_over_list(format) { format.to_string() } else { format!("{{{{range .}}}}{format}{{{{end -}}}}") }
}

/// Whether the format has `{{range .}}` followed by an `{{end}}` (spaces allowed inside).
fn ranges_over_list(f: &str) -> bool {
    let ws: &[char] = &[' ', '\t', '\n', '\r', '\x0c'];
    let action = |s: &str, words: &[&str]| -> Option<usize> {
        let mut r = s.strip_prefix("{{")?;
        for w in words {
            r = r.trim_start_matches(ws);
            r = match *w {
                "-?" => r.strip_prefix('-').unwrap_or(r),
                w => r.strip_prefix(w)?,
            };
        }
        r = r.trim_start_matches(ws).strip_prefix("}}")?;
        Some(s.len() - r.len())
    };
    f.match_indices("{{").any(|(i, _)| match action(&f[i..], &["range", "."]) {
        Some(n) => {
            let rest = &f[i + n..];
            rest.match_indices("{{").any(|(j, _)| action(&rest[j..], &["end", "-?"]).is_some())
        }
        None => false,
    })
}

impl Format {
    /// `list`: the data is the list of rows (Podman's user formats for lists); otherwise a
    /// single object (info, version). If the escaped format does not parse, the format as
    /// typed is tried, as Podman does (`{{printf "\n"}}`).
    fn parse(format: &str, shape: &Shape, list: bool) -> Result<Format, TemplateError> {
        let format = match shape.inspect {
            true => replace(format, &[(".Src", ".Source"), (".Dst", ".Destination"), (".ImageID", ".Image")]),
            false => format.to_string(),
        };
        let (normal, typed, table) = match format.strip_prefix("table ") {
            Some(rest) => (
                format!("{{{{range .}}}}{}{{{{end -}}}}", normalize(rest, true)),
                format!("{{{{range .}}}}{rest}{{{{end -}}}}"),
                true,
            ),
            None if list => (enforce_range(&normalize(&format, false)), enforce_range(&format), false),
            None => (normalize(&format, false), format.clone(), false),
        };
        let template = Template::parse(shape.name, &normal).or_else(|_| Template::parse(shape.name, &typed))?;
        Ok(Format { template, table })
    }
}

/// Converts rows for templates: JSON objects become structs of the shape's type.
fn values(shape: &Shape, rows: &[Json]) -> Vec<Value> {
    let mut schemas: Vec<(&str, Schema)> = Vec::new();
    rows.iter()
        .map(|row| {
            let ty = (shape.type_name)(row);
            let at = match schemas.iter().position(|(t, _)| *t == ty) {
                Some(i) => i,
                None => {
                    schemas.push((ty, Schema::new(ty).maps(shape.maps).times(shape.times).methods(shape.methods)));
                    schemas.len() - 1
                }
            };
            match shape.optional.is_empty() {
                true => schemas[at].1.value(row),
                false => schemas[at].1.value(&with_optional(row, shape.optional)),
            }
        })
        .collect()
}

/// `row` with each absent optional field whose parent object is there set to null.
fn with_optional(row: &Json, optional: &[&str]) -> Json {
    let mut row = row.clone();
    for path in optional {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        let mut at = Some(&mut row);
        for k in parent.split('.').filter(|k| !k.is_empty()) {
            at = at.and_then(|v| v.get_mut(k));
        }
        if let Some(o) = at.and_then(|v| v.as_object_mut()) {
            o.entry(key.to_string()).or_insert(Json::Null);
        }
    }
    row
}

/// Writes rendered output (through the column aligner for `table`), then reports the
/// template's error if rendering stopped early, as Podman's output would show.
fn emit(out: &str, table: bool, result: Result<(), TemplateError>) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    if table {
        let mut tw = tabwriter::TabWriter::new(&mut stdout).minwidth(10).padding(2);
        tw.write_all(out.as_bytes())?;
        tw.flush()?;
    } else {
        stdout.write_all(out.as_bytes())?;
    }
    stdout.flush()?;
    Ok(result?)
}

/// Renders a list through a user's `--format` as Podman does: each row gets the format
/// and a newline, unless the format has its own `{{range .}}`; `table ...` prints a heading
/// row (unless `shape.heading_row` is false) and aligns columns.
pub fn render_list(format: &str, shape: &Shape, rows: &[Json], out: &mut String) -> Result<bool, TemplateError> {
    let f = Format::parse(format, shape, true)?;
    if f.table && shape.heading_row {
        f.template.execute(&Value::from(vec![Value::headings(shape.headings)]), out)?;
    }
    f.template.execute(&Value::from(values(shape, rows)), out)?;
    Ok(f.table)
}

/// Prints `rows` through a user's `--format` (see [`render_list`]).
pub fn templated(format: &str, shape: &Shape, rows: &[Json]) -> anyhow::Result<()> {
    let mut out = String::new();
    let table = format.starts_with("table ");
    let result = render_list(format, shape, rows, &mut out).map(|_| ());
    emit(&out, table, result)
}

/// Prints one object (`info`, `version`) through a user's `--format`.
pub fn templated_one(format: &str, shape: &Shape, value: &Json) -> anyhow::Result<()> {
    let mut out = String::new();
    let result = Format::parse(format, shape, false).and_then(|f| {
        let v = values(shape, std::slice::from_ref(value)).pop().unwrap_or_default();
        f.template.execute(&v, &mut out).map(|_| f.table)
    });
    let table = format.starts_with("table ");
    emit(&out, table, result.map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ps_rows() -> Vec<Json> {
        vec![
            json!({"ID": "abc123456789", "Names": "web", "Status": "Up 2 minutes", "State": "running",
                   "Labels": {"app": "web", "tier": "front"}, "Pid": 42}),
            json!({"ID": "def987654321", "Names": "database-server", "Status": "Exited (0) 1 hour ago",
                   "State": "exited", "Labels": null, "Pid": 0}),
        ]
    }

    fn render(format: &str, shape: &Shape, rows: &[Json]) -> Result<String, String> {
        let mut out = String::new();
        let table = render_list(format, shape, rows, &mut out).map_err(|e| e.to_string())?;
        if !table {
            return Ok(out);
        }
        let mut tw = tabwriter::TabWriter::new(Vec::new()).minwidth(10).padding(2);
        tw.write_all(out.as_bytes()).map_err(|e| e.to_string())?;
        String::from_utf8(tw.into_inner().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    }

    #[test]
    fn one_rendering_per_row() {
        let rows = ps_rows();
        let cases = [
            ("{{.ID}} {{.Names}}", "abc123456789 web\ndef987654321 database-server\n"),
            ("{{.Names}}\\t{{.Pid}}", "web\t42\ndatabase-server\t0\n"),
            ("{{.Names}}\\n", "web\ndatabase-server\n"),
            ("{{if eq .State \"running\"}}up{{else}}down{{end}}", "up\ndown\n"),
            ("{{.Label \"app\"}}|{{.Labels}}", "web|app=web,tier=front\n|\n"),
            ("{{range .}}{{.Names}},{{end}}", "web,database-server,\n"),
            ("{{ range . }}{{.Pid}} {{ end }}", "42 0 \n"),
            // The escaped format does not parse; the typed one does, without a newline per row.
            ("{{printf \"%q\" \"\\n\"}}", "\"\\n\"\"\\n\""),
            ("{{json .Pid}}", "42\n0\n"),
        ];
        for (format, want) in cases {
            assert_eq!(render(format, &PS, &rows).as_deref(), Ok(want), "{format}");
        }
        // No rows, no output.
        assert_eq!(render("{{.ID}}", &PS, &[]).as_deref(), Ok(""));
    }

    #[test]
    fn table_headings_and_alignment_as_podman() {
        let rows = ps_rows();
        assert_eq!(
            render("table {{.ID}}\\t{{.Names}}\\t{{.Status}}", &PS, &rows).unwrap(),
            "CONTAINER ID  NAMES            STATUS\n\
             abc123456789  web              Up 2 minutes\n\
             def987654321  database-server  Exited (0) 1 hour ago\n"
        );
        // Spaces separate columns too; short columns are 12 wide as Podman's tabwriter.
        assert_eq!(
            render("table {{.Pid}} {{.State}}", &PS, &rows).unwrap(),
            "PID         STATE\n42          running\n0           exited\n"
        );
        // Headings for an empty list.
        assert_eq!(render("table {{.CreatedAt}} {{.RunningFor}}", &PS, &[]).unwrap(), "CREATED AT  RUNNING FOR\n");
        let no_heading = Shape { heading_row: false, ..IMAGES };
        assert_eq!(render("table {{.ID}}", &no_heading, &[json!({"ID": "x"})]).unwrap(), "x\n");
        assert_eq!(render("table {{.ID}}", &IMAGES, &[]).unwrap(), "IMAGE ID\n");
    }

    #[test]
    fn errors_name_the_command_and_position() {
        let rows = ps_rows();
        assert_eq!(
            render("{{.Foo}}", &PS, &rows).unwrap_err(),
            "template: ps:1:13: executing \"ps\" at <.Foo>: can't evaluate field Foo in type containers.psReporter"
        );
        assert_eq!(render("{{foo}}", &PS, &rows).unwrap_err(), "template: ps:1: function \"foo\" not defined");
        assert!(render("{{.Labels.nope}}", &PS, &rows).is_err(), "Labels is a method on ps rows");
        assert_eq!(
            render("{{.Config.Nope}}", &INSPECT, &[json!({"Config": {}, "State": {}})]).unwrap_err(),
            "template: inspect:1:20: executing \"inspect\" at <.Config.Nope>: can't evaluate field Nope in type Config"
        );
    }

    #[test]
    fn an_unset_optional_field_is_nil_to_templates() {
        let rows = [json!({"State": {"Status": "running"}})];
        assert_eq!(render("{{.State.Health}} {{json .State.Health}}", &INSPECT, &rows).unwrap(), "<nil> null\n");
        let rows = [json!({"State": {"Health": {"Status": "healthy"}}})];
        assert_eq!(render("{{.State.Health.Status}}", &INSPECT, &rows).unwrap(), "healthy\n");
        // Without a State (an image), nothing is added.
        assert!(render("{{.State}}", &INSPECT, &[json!({"Id": "i"})]).is_err());
    }

    #[test]
    fn inspect_formats() {
        let ctr = json!({"Id": "c1", "Image": "sha", "State": {"Status": "running", "Pid": 7},
            "Config": {"Labels": {"a": "1"}, "Env": ["X=1"]},
            "Mounts": [{"Source": "/s", "Destination": "/d"}],
            "NetworkSettings": {"Networks": {}, "IPAddress": "10.0.2.100"}});
        let rows = [ctr];
        let cases = [
            ("{{.State.Status}}", "running\n"),
            ("{{.Id}} {{.ID}}", "c1 c1\n"),
            ("{{.ImageID}}", "sha\n"),
            ("{{range .Mounts}}{{.Src}}:{{.Dst}}{{end}}", "/s:/d\n"),
            ("{{.Config.Labels.a}} {{.Config.Labels.b}}", "1 <no value>\n"),
            ("{{.NetworkSettings.Networks}}", "map[]\n"),
            ("{{json .Config.Env}}", "[\"X=1\"]\n"),
            ("{{.NetworkSettings.IPAddress}}", "10.0.2.100\n"),
        ];
        for (format, want) in cases {
            assert_eq!(render(format, &INSPECT, &rows).as_deref(), Ok(want), "{format}");
        }
    }

    #[test]
    fn json_formats() {
        for f in ["json", " json ", "{{json}}", "{{ json }}", "{{json.}}"] {
            assert!(is_json(Some(f)), "{f}");
        }
        for f in ["{{json .}}", "{{.ID}}", "jsonx", "table json"] {
            assert!(!is_json(Some(f)), "{f}");
        }
        assert!(!is_json(None));
        assert_eq!(
            render("{{json .}}", &DF, &[json!({"Type": "Images", "Total": 1, "Size": "1kB"})]).unwrap(),
            "{\"Size\":\"1kB\",\"Total\":1,\"Type\":\"Images\"}\n"
        );
    }

    #[test]
    fn network_and_df_rows() {
        let nets = [json!({"name": "n1", "id": "0123", "driver": "bridge", "network_interface": "kiste1",
            "labels": {"k": "v"}, "dns_enabled": true})];
        assert_eq!(
            render("{{.Name}} {{.Driver}} {{.NetworkInterface}} {{.DNSEnabled}} {{.Labels}}", &NETWORKS, &nets)
                .unwrap(),
            "n1 bridge kiste1 true k=v\n"
        );
        assert_eq!(render("table {{.ID}} {{.Name}}", &NETWORKS, &nets).unwrap(), "NETWORK ID  NAME\n0123        n1\n");
        let df = [json!({"Type": "Images", "Total": 2, "RawSize": 1536, "Reclaimable": "0B (0%)"})];
        assert_eq!(
            render("table {{.Type}}\\t{{.RawSize}}\\t{{.Reclaimable}}", &DF, &df).unwrap(),
            "TYPE        RAW SIZE    RECLAIMABLE\nImages      1536        0B (0%)\n"
        );
    }

    #[test]
    fn normalization_rules() {
        assert_eq!(replace("a\\tb c\\n", &[("\\t", "\t"), (" ", "\t"), ("\\n", "\n")]), "a\tb\tc\n");
        assert!(ranges_over_list("{{range .}}x{{end}}"));
        assert!(ranges_over_list("{{ range . }}x{{ end -}}"));
        assert!(!ranges_over_list("{{range .}}x{{- end}}"), "Podman's pattern has no trim marker before end");
        assert!(!ranges_over_list("{{range .Mounts}}x{{end}}"));
        assert!(!ranges_over_list("{{range .}}x"));
        assert_eq!(enforce_range("{{.A}}"), "{{range .}}{{.A}}{{end -}}");
    }

    #[test]
    fn single_objects() {
        let info = json!({"host": {"arch": "amd64", "os": "linux"}, "store": {"graphRoot": "/x"}});
        let f = Format::parse("{{.Host.Arch}}/{{.Host.Os}} {{.Store.GraphRoot}}", &INFO, false).unwrap();
        let v = values(&INFO, std::slice::from_ref(&info)).pop().unwrap();
        assert_eq!(f.template.render(&v).unwrap(), "amd64/linux /x\n");
    }
}
