//! Table tests of the template engine against what Go's text/template (with Podman's
//! functions) prints for the same template and data.

use super::{Method, Schema, Template, Value};

fn label(recv: &Value, args: &[Value]) -> Result<Value, String> {
    let key = match args.first() {
        Some(Value::Str(k)) => k.to_string(),
        _ => return Err("label name must be a string".into()),
    };
    Ok(match recv.get("Labels").and_then(|l| l.get(&key)) {
        Some(v) => v.clone(),
        None => Value::str(""),
    })
}

fn data() -> Value {
    let json = serde_json::json!({
        "ID": "abc123", "Names": "web", "State": "running", "Pid": 42, "Size": 1.5, "Big": 1000000.0,
        "Empty": "", "Zero": 0, "True": true, "False": false, "Nil": null,
        "List": ["a", "b", "c"], "Nums": [3, 1, 2], "EmptyList": [], "Matrix": [[1, 2], [3, 4]],
        "Labels": {"app": "web", "tier": "front", "io.x/y": "z"},
        "Annotations": {},
        "Config": {"Hostname": "h1", "Labels": {"created_by": "kiste"}, "Env": ["A=1", "B=2"], "Cmd": null},
        "Mounts": [{"Source": "/a", "Destination": "/x"}, {"Source": "/b", "Destination": "/y"}],
        "Mixed": {"k": 1, "n": null},
    });
    Schema::new("T")
        .maps(&["Labels", "Annotations", "Mixed"])
        .methods(&[Method { name: "Label", args: 1, call: label }])
        .value(&json)
}

fn run(text: &str) -> Result<String, String> {
    let t = Template::parse("t", text).map_err(|e| e.to_string())?;
    t.render(&data()).map_err(|e| e.to_string())
}

fn check(cases: &[(&str, &str)]) {
    for (text, want) in cases {
        assert_eq!(run(text).as_deref(), Ok(*want), "template {text:?}");
    }
}

/// Errors: the expected text must appear in the one-line message.
fn check_err(cases: &[(&str, &str)]) {
    for (text, want) in cases {
        match run(text) {
            Ok(out) => panic!("template {text:?} printed {out:?}, expected an error with {want:?}"),
            Err(e) => {
                assert!(e.contains(want), "template {text:?}: error {e:?} lacks {want:?}");
                assert!(!e.contains('\n'), "{e:?} spans lines");
            }
        }
    }
}

#[test]
fn fields_and_printing() {
    check(&[
        ("{{.ID}}", "abc123"),
        ("{{.Names}} {{.State}}", "web running"),
        ("{{.Pid}}", "42"),
        ("{{.Size}}", "1.5"),
        ("{{.Big}}", "1e+06"),
        ("{{.True}} {{.False}}", "true false"),
        ("{{.Nil}}", "<nil>"),
        ("{{.List}}", "[a b c]"),
        ("{{.Nums}}", "[3 1 2]"),
        ("{{.Labels}}", "map[app:web io.x/y:z tier:front]"),
        ("{{.Annotations}}", "map[]"),
        ("{{.EmptyList}}", "[]"),
        ("{{.Config.Hostname}}", "h1"),
        ("{{.Config.Labels.created_by}}", "kiste"),
        ("{{.Config}}", "{<nil> [A=1 B=2] h1 map[created_by:kiste]}"),
        ("{{.Mounts}}", "[{/x /a} {/y /b}]"),
        ("{{.Matrix}}", "[[1 2] [3 4]]"),
        ("{{.Mixed}}", "map[k:1 n:<nil>]"),
        ("{{.Config.Cmd}}", "<nil>"),
        ("{{.id}} {{.names}}", "abc123 web"),
        ("{{$.ID}}", "abc123"),
        ("plain text", "plain text"),
        ("", ""),
    ]);
}

#[test]
fn missing_map_keys_print_no_value() {
    check(&[
        ("{{.Labels.app}}", "web"),
        ("{{.Labels.missing}}", "<no value>"),
        ("{{.Config.Labels.nope}}", "<no value>"),
        ("{{.Mixed.n}}", "<no value>"),
        ("{{.Labels.missing.deeper}}", "<no value>"),
        ("{{.Nil.Anything}}", "<no value>"),
        ("{{index .Labels \"nope\"}}", ""),
        ("{{index .Mixed \"nope\"}}", "<no value>"),
        ("{{print .Labels.missing}}", "<nil>"),
    ]);
}

#[test]
fn literals() {
    check(&[
        ("{{\"a\\tb\"}}", "a\tb"),
        ("{{`raw\\n`}}", "raw\\n"),
        ("{{'a'}} {{'\\n'}}", "97 10"),
        ("{{1.5}} {{1e3}} {{0x1F}} {{-3}} {{1_000}} {{0o17}} {{0b101}}", "1.5 1000 31 -3 1000 15 5"),
        ("{{true}} {{false}}", "true false"),
        ("{{\"\\u00e9\\x41\"}}", "éA"),
        (
            "{{.}}",
            "{map[] 1e+06 {<nil> [A=1 B=2] h1 map[created_by:kiste]}  [] false abc123 map[app:web io.x/y:z tier:front] \
             [a b c] [[1 2] [3 4]] map[k:1 n:<nil>] [{/x /a} {/y /b}] web <nil> [3 1 2] 42 1.5 running true 0}",
        ),
    ]);
}

#[test]
fn trim_markers_and_comments() {
    check(&[
        ("a {{- .ID -}} b", "aabc123b"),
        ("{{23 -}} < {{- 45}}", "23<45"),
        ("{{/* c */}}x", "x"),
        ("a\n{{- /* multi\nline */ -}}\n b", "ab"),
        ("{{- .ID}}\n", "abc123\n"),
        ("{{-3}}", "-3"),
        ("{{.ID\t-}}  x", "abc123x"),
    ]);
}

#[test]
fn variables() {
    check(&[
        ("{{$x := .Names}}{{$x}}", "web"),
        ("{{$x := 1}}{{$x = 2}}{{$x}}", "2"),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
        ("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "21"),
        ("{{with $x := .Config}}{{$x.Hostname}}{{end}}", "h1"),
        ("{{range .List}}{{$.Names}}{{end}}", "webwebweb"),
        ("{{$m := .Mounts}}{{(index $m 1).Source}}", "/b"),
        ("{{$x := .Labels}}{{$x.tier}}", "front"),
    ]);
}

#[test]
fn range() {
    check(&[
        ("{{range .Mounts}}{{.Source}}:{{.Destination}},{{end}}", "/a:/x,/b:/y,"),
        ("{{range $i, $v := .List}}{{$i}}={{$v}} {{end}}", "0=a 1=b 2=c "),
        ("{{range $v := .List}}{{$v}}{{end}}", "abc"),
        ("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", "app=web;io.x/y=z;tier=front;"),
        ("{{range .Labels}}{{.}},{{end}}", "web,z,front,"),
        ("{{range .EmptyList}}x{{else}}none{{end}}", "none"),
        ("{{range .Labels.nope}}x{{else}}none{{end}}", "none"),
        ("{{range .List}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", "a"),
        ("{{range .List}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", "ac"),
        ("{{range 3}}{{.}}{{end}}", "012"),
        ("{{range $i := 2}}{{$i}}{{end}}", "01"),
        ("{{range .Nums}}{{.}}{{end}}", "312"),
        ("{{range .Matrix}}{{range .}}{{.}}{{end}};{{end}}", "12;34;"),
        ("{{range .Mixed}}{{.}} {{end}}", "1 <no value> "),
        ("{{$i := 9}}{{range $i = .List}}{{end}}{{$i}}", "c"),
    ]);
}

#[test]
fn conditionals() {
    check(&[
        ("{{if eq .State \"running\"}}up{{else}}down{{end}}", "up"),
        ("{{if .Empty}}a{{else if .Zero}}b{{else if .List}}c{{else}}d{{end}}", "c"),
        ("{{if .Nil}}a{{else}}b{{end}}", "b"),
        ("{{if .EmptyList}}a{{else}}b{{end}}", "b"),
        ("{{if .Annotations}}a{{else}}b{{end}}", "b"),
        ("{{if .Config}}a{{end}}", "a"),
        ("{{if .Labels.nope}}a{{else}}b{{end}}", "b"),
        ("{{if .Size}}a{{end}}", "a"),
        ("{{with .Config.Hostname}}{{.}}{{end}}", "h1"),
        ("{{with .Empty}}x{{else}}y{{end}}", "y"),
        ("{{with .Empty}}x{{else with .Names}}{{.}}{{end}}", "web"),
        ("{{if and .True (not .False)}}yes{{end}}", "yes"),
    ]);
}

#[test]
fn templates_and_blocks() {
    check(&[
        ("{{define \"T\"}}[{{.}}]{{end}}{{template \"T\" .Names}}", "[web]"),
        ("{{block \"B\" .ID}}<{{.}}>{{end}}", "<abc123>"),
        ("{{template \"T\"}}{{define \"T\"}}x{{.}}{{end}}", "x<no value>"),
        ("{{define \"T\"}}{{$}}{{end}}{{template \"T\" 5}}", "5"),
        ("{{define `T`}}{{range .}}{{.}}{{end}}{{end}}{{template \"T\" .List}}", "abc"),
        ("{{define \"a\"}}{{end}}{{define \"a\"}}y{{end}}{{template \"a\"}}", "y"),
    ]);
}

#[test]
fn pipes_parens_and_methods() {
    check(&[
        ("{{.Names | upper}}", "WEB"),
        ("{{\"put\" | printf \"%s%s\" \"out\" | printf \"%q\"}}", "\"output\""),
        ("{{printf \"%s-%s\" (upper .Names) (lower \"X\")}}", "WEB-x"),
        ("{{(index .Mounts 1).Source}}", "/b"),
        ("{{(.Config).Hostname}}", "h1"),
        ("{{.Label \"app\"}}", "web"),
        ("{{.Label \"none\"}}", ""),
        ("{{\"tier\" | .Label}}", "front"),
        ("{{.Label (lower \"APP\")}}", "web"),
        ("{{with .Config}}{{$.Label \"app\"}}{{end}}", "web"),
    ]);
}

#[test]
fn go_builtins() {
    check(&[
        ("{{len .List}} {{len .Labels}} {{len .Names}} {{len \"é\"}}", "3 3 3 2"),
        ("{{index .List 1}}", "b"),
        ("{{index .Labels \"app\"}}", "web"),
        ("{{index .Matrix 1 0}}", "3"),
        ("{{index .Names 0}}", "119"),
        ("{{index .List}}", "[a b c]"),
        ("{{slice .Names 1 2}} {{slice .List 1}} {{slice .List}} {{slice .List 0 1 2}}", "e [b c] [a b c] [a]"),
        ("{{not .True}} {{not .Empty}}", "false true"),
        ("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"x\"}} [{{or 0 \"\"}}]", "0 2 x []"),
        ("{{and false .Nope}} {{or true .Nope}}", "false true"),
        ("{{print 1 2 \"a\" 3 .Nil}}", "1 2a3 <nil>"),
        ("{{println \"a\" 1}}", "a 1\n"),
        ("{{eq .Pid 42}} {{eq .State \"x\" \"running\"}} {{ne .Names \"web\"}}", "true true false"),
        ("{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}}", "true true true false"),
        ("{{eq .Labels.nope \"x\"}} {{eq .Labels.nope .Labels.nada}}", "false true"),
        ("{{html \"<a href='x'>&</a>\"}}", "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"),
        ("{{html .Labels.nope}}", "&lt;no value&gt;"),
        ("{{js \"it's <b>\"}}", "it\\'s \\u003Cb\\u003E"),
        ("{{urlquery \"a b&c=d/é\"}}", "a+b%26c%3Dd%2F%C3%A9"),
    ]);
}

#[test]
fn printf() {
    check(&[
        (
            "{{printf \"%-10s|%5d|%.2f|%t|%x|%q|%%\" \"ab\" 42 3.14259 true 255 \"hi\"}}",
            "ab        |   42|3.14|true|ff|\"hi\"|%",
        ),
        ("{{printf \"%-10s|\" .Names}}", "web       |"),
        ("{{printf \"%d\" \"x\"}}", "%!d(string=x)"),
        ("{{printf \"%s\" .Pid}}", "%!s(int=42)"),
        ("{{printf \"%v %v\" .List .Labels}}", "[a b c] map[app:web io.x/y:z tier:front]"),
        ("{{printf \"%v|%s\" .Labels.nope .Labels.nope}}", "<nil>|%!s(<nil>)"),
        ("{{printf \"%05.1f|%e|%g\" 3.14259 1234.5678 0.00001}}", "003.1|1.234568e+03|1e-05"),
        ("{{printf \"%v %.1f\" .Size .Size}}", "1.5 1.5"),
        ("{{printf \"%s %s\" \"a\"}}", "a %!s(MISSING)"),
        ("{{printf \"%s\" \"a\" 1}}", "a%!(EXTRA int=1)"),
        ("{{printf \"%+v\" .Mounts}}", "[{Destination:/x Source:/a} {Destination:/y Source:/b}]"),
        ("{{printf \"%6.2f%%\" 12.345}}", " 12.35%"),
        ("{{printf \"%s\" .List}}", "[a b c]"),
        ("{{printf \"%c%c\" 72 105}}", "Hi"),
    ]);
}

#[test]
fn podman_functions() {
    check(&[
        ("{{json .List}}", "[\"a\",\"b\",\"c\"]"),
        ("{{json .Labels}}", "{\"app\":\"web\",\"io.x/y\":\"z\",\"tier\":\"front\"}"),
        ("{{json .Names}} {{json .Pid}} {{json .Size}} {{json .Nil}}", "\"web\" 42 1.5 null"),
        (
            "{{json .Config}}",
            "{\"Cmd\":null,\"Env\":[\"A=1\",\"B=2\"],\"Hostname\":\"h1\",\"Labels\":{\"created_by\":\"kiste\"}}",
        ),
        ("{{json \"<&>\"}}", "\"<&>\""),
        ("{{json .Labels.nope}}", "null"),
        ("{{upper .Names}} {{lower \"ABC\"}} {{title \"hello wOrld-x\"}}", "WEB abc Hello WOrld-X"),
        ("{{.Names | title}}", "Web"),
        ("{{join .List \", \"}}", "a, b, c"),
        ("{{join .Config.Env \";\"}} [{{join .Labels.nope \",\"}}]", "A=1;B=2 []"),
        ("{{split \"a,b,c\" \",\"}} {{len (split \"\" \",\")}}", "[a b c] 1"),
        ("{{index (split \"a:b\" \":\") 1}}", "b"),
        ("{{truncate .ID 3}} {{truncate .ID 10}} {{truncate .ID 6}}", "abc abc123 abc123"),
        ("{{pad .Names 2 1}}|{{pad \"\" 2 2}}|", "  web ||"),
    ]);
}

#[test]
fn parse_errors_as_go() {
    check_err(&[
        ("{{foo}}", "template: t:1: function \"foo\" not defined"),
        ("{{.ID", "template: t:1: unexpected unclosed action in operand"),
        ("{{", "template: t:1: unexpected unclosed action in command"),
        ("{{end}}", "template: t:1: unexpected {{end}}"),
        ("{{else}}", "template: t:1: unexpected {{else}}"),
        ("{{if .ID}}x", "template: t:1: unexpected EOF"),
        ("{{$x}}", "template: t:1: undefined variable \"$x\""),
        ("{{if true}}{{$x := 1}}{{end}}{{$x}}", "undefined variable \"$x\""),
        ("{{break}}", "{{break}} outside {{range}}"),
        ("{{range .List}}{{else}}{{continue}}{{end}}", "{{continue}} outside {{range}}"),
        ("{{.ID | \"x\"}}", "non executable command in pipeline stage 2"),
        ("{{}}", "missing value for command"),
        ("{{if}}{{end}}", "missing value for if"),
        ("{{\"x\".Y}}", "unexpected . after term \"\\\"x\\\"\""),
        ("{{range $i, $v, $w := .List}}{{end}}", "too many declarations in range"),
        ("{{with $i, $v := .}}{{end}}", "too many declarations in with"),
        ("{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}", "multiple definition of template \"a\""),
        ("a\nb\n{{foo}}", "template: t:3: function \"foo\" not defined"),
        ("{{\"\\z\"}}", "template: t:1: invalid syntax"),
        ("{{3x}}", "unexpected bad number syntax: \"3x\" in command"),
        ("{{/* x }}", "unclosed comment"),
        ("{{.A#}}", "bad character U+0023 '#'"),
        ("{{(.ID}}", "unclosed left paren"),
        ("{{.ID)}}", "unexpected right paren"),
        ("{{if .ID}}{{else}}{{else}}{{end}}", "expected end; found {{else}}"),
        ("{{range .List}}{{else if .ID}}{{end}}", "unexpected <if> in input"),
        ("{{template .ID}}", "unexpected \".ID\" in template clause"),
        ("{{template . }}", "unexpected <.> in template clause"),
        ("{{with $x := 1 2}}{{end}}", "can't give argument to non-function 1"),
        ("{{len index}}", "wrong number of args for index: want at least 1 got 0"),
    ]);
}

#[test]
fn execution_errors_as_go() {
    check_err(&[
        ("{{.Nope}}", "template: t:1:2: executing \"t\" at <.Nope>: can't evaluate field Nope in type T"),
        (
            "{{.Config.Nope}}",
            "template: t:1:9: executing \"t\" at <.Config.Nope>: can't evaluate field Nope in type Config",
        ),
        ("{{.Names.First}}", "can't evaluate field First in type string"),
        ("{{.Labels.app 1}}", "app is not a method but has arguments"),
        ("{{.ID 1}}", "ID has arguments but cannot be invoked as function"),
        (
            "{{index .List 5}}",
            "template: t:1:2: executing \"t\" at <index .List 5>: error calling index: index out of range: 5",
        ),
        ("{{index .List 3}}", "error calling index: index out of range: 3"),
        ("{{index .Labels 1}}", "error calling index: value has type int; should be string"),
        ("{{index .Pid 1}}", "error calling index: can't index item of type int"),
        ("{{index .Labels.nope 1}}", "error calling index: index of untyped nil"),
        ("{{slice .List 2 1}}", "error calling slice: invalid slice index: 2 > 1"),
        ("{{slice .Names 0 1 2}}", "error calling slice: cannot 3-index slice a string"),
        ("{{. 1}}", "can't give argument to non-function ."),
        ("{{nil}}", "template: t:1:2: executing \"t\" at <nil>: nil is not a command"),
        ("x\n  {{.Nope}}", "template: t:2:4: executing \"t\" at <.Nope>"),
        ("{{define \"D\"}}{{.Nope}}{{end}}{{template \"D\" .}}", "template: t:1:16: executing \"D\" at <.Nope>"),
        ("{{template \"nope\"}}", "template \"nope\" not defined"),
        ("{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}", "exceeded maximum template depth (100)"),
        ("{{range .Names}}x{{end}}", "at <.Names>: range can't iterate over web"),
        ("{{range $i, $v := 3}}{{end}}", "can't use 3 to iterate over more than one variable"),
        ("{{eq .Pid 42.0}}", "error calling eq: incompatible types for comparison"),
        ("{{eq .List .List}}", "error calling eq: non-comparable types"),
        ("{{lt true false}}", "error calling lt: invalid type for comparison"),
        ("{{lt .Labels.nope 1}}", "error calling lt: invalid type for comparison"),
        ("{{eq .Pid}}", "error calling eq: missing argument for comparison"),
        ("{{upper .Pid}}", "at <.Pid>: wrong type for value; expected string; got int"),
        ("{{upper .Labels.nope}}", "invalid value; expected string"),
        ("{{truncate .ID \"3\"}}", "expected integer; found \"3\""),
        ("{{truncate .ID 1.5}}", "expected integer; found 1.5"),
        ("{{truncate .ID -1}}", "error calling truncate: runtime error: slice bounds out of range [:-1]"),
        ("{{len 3}}", "error calling len: len of type int"),
        ("{{not}}", "wrong number of args for not: want 1 got 0"),
        ("{{upper \"a\" \"b\"}}", "wrong number of args for upper: want 1 got 2"),
        ("{{.Label}}", "wrong number of args for Label: want 1 got 0"),
        ("{{.Label 3}}", "error calling Label: label name must be a string"),
        ("{{join .Names \",\"}}", "wrong type for value; expected []string; got string"),
        ("{{printf .Pid}}", "wrong type for value; expected string; got int"),
        ("{{$x := 1}}{{template \"T\"}}{{define \"T\"}}{{$x = 2}}{{end}}", "undefined variable"),
    ]);
}

#[test]
fn parsed_once_executed_many_times_and_partial_output_kept() {
    let t = Template::parse("t", "{{.A}}-{{.B}}").unwrap();
    let rows: Vec<Value> =
        (0..3).map(|i| Schema::new("R").value(&serde_json::json!({"A": i, "B": format!("b{i}")}))).collect();
    let out: Vec<String> = rows.iter().map(|r| t.render(r).unwrap()).collect();
    assert_eq!(out, ["0-b0", "1-b1", "2-b2"]);

    let t = Template::parse("t", "a{{.X}}b{{.Nope}}c").unwrap();
    let mut out = String::new();
    let r = Schema::new("R").value(&serde_json::json!({"X": 1}));
    assert!(t.execute(&r, &mut out).is_err());
    assert_eq!(out, "a1b");
}

#[test]
fn headings_row() {
    let t = Template::parse("t", "{{.ID}}\t{{.CreatedAt}}\t{{upper .Names}}\t{{.Label \"x\"}}").unwrap();
    let h = Value::headings(&[("ID", "container id")]);
    assert_eq!(t.render(&h).unwrap(), "CONTAINER ID\tCREATED AT\tNAMES\tLABEL");
}

/// A reporter row as Podman's are: a struct whose known method results (`$methods`) win
/// over its fields and stay out of `json`, with `time.Time` fields.
#[test]
fn reporter_methods_and_times() {
    let json = serde_json::json!({
        "Id": "abcdef0123456789", "Names": ["web"], "Created": "2026-11-30T21:19:50.12345Z",
        "Zero": "0001-01-01T00:00:00Z", "Text": "2026-11-30T21:19:50Z", "Labels": null,
        "$methods": {"ID": "abcdef", "Names": "web"},
    });
    let row = Schema::new("R").maps(&["Labels"]).times(&["Created", "Zero"]).value(&json);
    let render = |text: &str| Template::parse("t", text).unwrap().render(&row).map_err(|e| e.to_string());
    let cases = [
        ("{{.ID}} {{.Id}} {{.Names}} {{len .Names}}", "abcdef abcdef0123456789 web 3"),
        (
            "{{json .}}",
            r#"{"Created":"2026-11-30T21:19:50.12345Z","Id":"abcdef0123456789","Labels":null,"Names":["web"],"Text":"2026-11-30T21:19:50Z","Zero":"0001-01-01T00:00:00Z"}"#,
        ),
        // A nil map: empty to templates, null to json, as Go's.
        ("{{.Labels}} {{len .Labels}} [{{index .Labels \"x\"}}] {{json .Labels}}", "map[] 0 [] null"),
        (
            "{{.Created}}|{{.Zero}}|{{.Text}}",
            "2026-11-30 21:19:50.12345 +0000 UTC|0001-01-01 00:00:00 +0000 UTC|2026-11-30T21:19:50Z",
        ),
        (
            "{{.Created.Unix}} {{printf \"%s|%v|%T\" .Created .Created .Created}}",
            "1796073590 2026-11-30 21:19:50.12345 +0000 UTC|2026-11-30 21:19:50.12345 +0000 UTC|time.Time",
        ),
        ("{{if .Created}}set{{end}}", "set"),
    ];
    for (text, want) in cases {
        assert_eq!(render(text).as_deref(), Ok(want), "{text}");
    }
    let err = render("{{.ID 1}}").unwrap_err();
    assert!(err.contains("wrong number of args for ID: want 0 got 1"), "{err}");
    let err = render("{{.Created.Month}}").unwrap_err();
    assert!(err.contains("can't evaluate field Month in type time.Time"), "{err}");
}
