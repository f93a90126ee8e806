//! Issue 16 (first part): `kiste compose config` on fixture projects under
//! tests/data/compose/<case>/, compared exactly with their recorded outputs (`@DIR@` stands for
//! the project directory), the list flags, file discovery and project flags, and bad files
//! giving one-line errors that name the file, the key path and the fix, with exit code 125.

mod common;

use common::{TestHome, code, output_within, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Output;

fn data(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/compose").join(case)
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// A copy of a fixture project the test user can read, named after the case (the default
/// project name is the directory's).
struct Fixture {
    _scratch: common::ScratchDir,
    dir: PathBuf,
}

fn fixture(case: &str) -> Fixture {
    let scratch = common::ScratchDir::new(&format!("compose-{case}"));
    let dir = scratch.join(case);
    copy_dir(&data(case), &dir);
    Fixture { _scratch: scratch, dir }
}

/// A recorded output with `@DIR@` replaced by the project directory.
fn expected(case: &str, file: &str, dir: &Path) -> String {
    let text = std::fs::read_to_string(data(case).join(file)).unwrap();
    text.replace("@DIR@", &dir.display().to_string())
}

/// `kiste ARGS` in `cwd` with extra environment variables.
fn run_in(h: &TestHome, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = h.command(args);
    c.current_dir(cwd);
    for (k, v) in env {
        c.env(k, v);
    }
    output_within(&mut c, 60, &format!("kiste {args:?}"))
}

fn ok_in(h: &TestHome, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let o = run_in(h, cwd, args, env);
    assert!(o.status.success(), "kiste {args:?} failed ({}): {}", o.status, stderr(&o));
    stdout(&o)
}

/// Compares line by line first, so a difference is easy to read.
fn assert_same(got: &str, want: &str, what: &str) {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "{what}: line {} differs\n--- got:\n{got}", i + 1);
    }
    assert_eq!(got, want, "{what}: output differs in length or trailing newline");
}

#[test]
fn full_model_yaml_and_json() {
    let h = TestHome::new();
    let f = fixture("full");
    // The process environment wins over .env (LOG_LEVEL=debug there).
    let env = [("LOG_LEVEL", "warn")];
    for format in ["yaml", "json"] {
        let o = run_in(&h, &f.dir, &["compose", "config", "--format", format], &env);
        assert!(o.status.success(), "config --format {format}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "no warnings expected");
        assert_same(&stdout(&o), &expected("full", &format!("expected.{format}"), &f.dir), format);
    }
    // The default format is yaml.
    let plain = ok_in(&h, &f.dir, &["compose", "config"], &env);
    assert_same(&plain, &expected("full", "expected.yaml", &f.dir), "default format");
}

#[test]
fn override_file_and_explicit_files_merge() {
    let h = TestHome::new();
    let f = fixture("merge");
    let got = ok_in(&h, &f.dir, &["compose", "config"], &[]);
    assert_same(&got, &expected("merge", "expected.yaml", &f.dir), "compose.yaml + compose.override.yaml");
    let got = ok_in(&h, &f.dir, &["compose", "-f", "compose.yaml", "-f", "prod.yaml", "config"], &[]);
    assert_same(&got, &expected("merge", "expected.prod.yaml", &f.dir), "-f compose.yaml -f prod.yaml");
    // COMPOSE_FILE does the same as the -f flags.
    let got = ok_in(&h, &f.dir, &["compose", "config"], &[("COMPOSE_FILE", "compose.yaml:prod.yaml")]);
    assert_same(&got, &expected("merge", "expected.prod.yaml", &f.dir), "COMPOSE_FILE");
}

#[test]
fn found_from_a_subdirectory() {
    let h = TestHome::new();
    let f = fixture("merge");
    let deep = f.dir.join("src/deeper");
    std::fs::create_dir_all(&deep).unwrap();
    let got = ok_in(&h, &deep, &["compose", "config"], &[]);
    assert_same(&got, &expected("merge", "expected.yaml", &f.dir), "found in a parent directory");
}

#[test]
fn extends_and_include() {
    let h = TestHome::new();
    for case in ["extends", "include"] {
        let f = fixture(case);
        let got = ok_in(&h, &f.dir, &["compose", "config"], &[]);
        assert_same(&got, &expected(case, "expected.yaml", &f.dir), case);
    }
}

#[test]
fn profiles_and_list_flags() {
    let h = TestHome::new();
    let f = fixture("profiles");
    let got = ok_in(&h, &f.dir, &["compose", "config"], &[]);
    assert_same(&got, &expected("profiles", "expected.yaml", &f.dir), "no profile");
    // Dependencies first, then by name.
    assert_eq!(ok_in(&h, &f.dir, &["compose", "--profile", "debug", "config", "--services"], &[]), "db\napp\ndebug\n");
    assert_eq!(
        ok_in(&h, &f.dir, &["compose", "config", "--services"], &[("COMPOSE_PROFILES", "all")]),
        "db\napp\ndebug\ndocs\n"
    );
    assert_eq!(ok_in(&h, &f.dir, &["compose", "config", "--profiles"], &[]), "all\ndebug\n");
    assert_eq!(
        ok_in(&h, &f.dir, &["compose", "--profile", "all", "config", "--images"], &[]),
        "db\napp\nbusybox\ndocs\n"
    );
    assert_eq!(ok_in(&h, &f.dir, &["compose", "config", "--networks"], &[]), "default\n");
    assert_eq!(ok_in(&h, &f.dir, &["compose", "config", "--services", "app"], &[]), "db\napp\n");
    let full = fixture("full");
    assert_eq!(ok_in(&h, &full.dir, &["compose", "config", "--volumes"], &[]), "data\nshared\n");
}

#[test]
fn project_flags() {
    let h = TestHome::new();
    let f = fixture("profiles");
    let name = |out: &str| out.lines().next().unwrap_or_default().to_string();
    assert_eq!(name(&ok_in(&h, &f.dir, &["compose", "-p", "other", "config"], &[])), "name: other");
    assert_eq!(
        name(&ok_in(&h, &f.dir, &["compose", "config"], &[("COMPOSE_PROJECT_NAME", "from-env")])),
        "name: from-env"
    );
    let o = run_in(&h, &f.dir, &["compose", "-p", "Not Valid", "config"], &[]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).starts_with("Error: invalid project name \"Not Valid\" (-p): use only lowercase"),
        "{}",
        stderr(&o)
    );

    // --project-directory moves relative paths and the .env lookup.
    let m = fixture("merge");
    let other = m.dir.join("src");
    let out = ok_in(&h, &m.dir, &["compose", "--project-directory", "src", "config"], &[]);
    assert_eq!(name(&out), "name: src");
    assert!(out.contains(&format!("source: {}/src\n", other.display())), "{out}");

    // --env-file replaces .env.
    let full = fixture("full");
    std::fs::write(full.dir.join("other.env"), "TAG=7.0\n").unwrap();
    let out = ok_in(&h, &full.dir, &["compose", "--env-file", "other.env", "config"], &[]);
    assert!(out.contains("image: registry.local/web:7.0\n"), "{out}");
    assert!(out.contains("LOG_LEVEL: info\n"), "the default applies without .env: {out}");

    // -f - reads stdin; the project directory is the working directory.
    let text = std::fs::read_to_string(f.dir.join("compose.yaml")).unwrap();
    let mut c = h.command(&["compose", "-p", "stdin", "-f", "-", "config"]);
    c.current_dir(&f.dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let o = common::wait_output(child, 60, "compose -f -");
    assert!(o.status.success(), "{}", stderr(&o));
    let want = expected("profiles", "expected.yaml", &f.dir).replace("profiles", "stdin");
    assert_same(&stdout(&o), &want, "-f -");
}

#[test]
fn output_file_quiet_and_no_interpolate() {
    let h = TestHome::new();
    let f = fixture("full");
    let out = h.home().join("model.yaml");
    let printed = ok_in(&h, &f.dir, &["compose", "config", "-o", out.to_str().unwrap()], &[("LOG_LEVEL", "warn")]);
    assert_eq!(printed, "");
    assert_same(&std::fs::read_to_string(&out).unwrap(), &expected("full", "expected.yaml", &f.dir), "-o FILE");
    assert_eq!(ok_in(&h, &f.dir, &["compose", "config", "-q"], &[]), "");
    let raw = ok_in(&h, &f.dir, &["compose", "config", "--no-interpolate"], &[]);
    assert!(raw.contains("image: registry.local/web:${TAG}\n"), "{raw}");
    assert!(raw.contains("LOG_LEVEL: ${LOG_LEVEL:-info}\n"), "{raw}");
}

#[test]
fn unset_variable_is_a_warning() {
    let h = TestHome::new();
    let f = fixture("profiles");
    std::fs::write(f.dir.join("compose.yaml"), "services:\n  a:\n    image: \"busybox:${NOPE}latest\"\n").unwrap();
    let o = run_in(&h, &f.dir, &["compose", "config"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "WARN[0000] The \"NOPE\" variable is not set. Defaulting to a blank string.\n");
    assert!(stdout(&o).contains("image: busybox:latest\n"));
}

#[test]
fn bad_files_name_file_key_and_fix() {
    let h = TestHome::new();
    let f = fixture("bad");
    let cases = [
        (
            "unknown-key.yaml",
            "services.web.enviroment: unknown key \"enviroment\": did you mean \"environment\"? (fix the spelling or remove it)",
        ),
        (
            "wrong-type.yaml",
            "services.web.ports[1]: invalid port \"80800:80\": ports are numbers 1-65535, e.g. \"8080:80\" or \"127.0.0.1:8080:80/udp\"",
        ),
        ("not-a-list.yaml", "services.web.cap_add: expected a list, got integer `5`"),
        (
            "missing-var.yaml",
            "services.web.image: required variable TAG is missing a value: set TAG to the release to deploy; set TAG in the environment or in the .env file",
        ),
        (
            "unset-required.yaml",
            "services.web.environment.TOKEN: required variable TOKEN is missing a value; set TOKEN in the environment or in the .env file",
        ),
        (
            "undefined-service.yaml",
            "services.web.depends_on.db: service \"db\" is not defined: define it or remove the dependency",
        ),
    ];
    for (file, want) in cases {
        let o = run_in(&h, &f.dir, &["compose", "-f", file, "config"], &[]);
        assert_eq!(code(&o), 125, "{file}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{file}");
        assert_eq!(stderr(&o), format!("Error: {}: {want}\n", f.dir.join(file).display()), "{file}");
    }
    // `?` is satisfied by an empty value, `:?` is not.
    assert!(run_in(&h, &f.dir, &["compose", "-f", "unset-required.yaml", "config"], &[("TOKEN", "")]).status.success());
    assert_eq!(code(&run_in(&h, &f.dir, &["compose", "-f", "missing-var.yaml", "config"], &[("TAG", "")])), 125);
}

#[test]
fn no_compose_file() {
    let h = TestHome::new();
    let empty = common::ScratchDir::new("compose-none");
    let o = run_in(&h, &empty, &["compose", "config"], &[]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).starts_with("Error: no compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml in "),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).ends_with("or its parents: create one or name it with -f FILE\n"), "{}", stderr(&o));
}
