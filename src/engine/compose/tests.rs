//! End-to-end tests of loading: files on disk -> `Project`, through every stage.

use super::*;
use crate::testutil::{tmpdir, write};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn opts(dir: &Path, env: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        cwd: dir.to_path_buf(),
        interpolate: true,
        environment: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..LoadOptions::default()
    }
}

fn load_dir(dir: &Path, env: &[(&str, &str)]) -> Result<Loaded, String> {
    load(&opts(dir, env)).map_err(|e| e.to_string())
}

fn project(name: &str, text: &str) -> (PathBuf, Project) {
    let d = tmpdir(name).join("proj");
    write(&d.join("compose.yaml"), text);
    let p = load_dir(&d, &[]).unwrap().project;
    (d, p)
}

fn error(name: &str, text: &str) -> String {
    let d = tmpdir(name).join("proj");
    write(&d.join("compose.yaml"), text);
    load_dir(&d, &[]).unwrap_err()
}

#[test]
fn normalisation() {
    let (d, p) = project(
        "compose-t-norm",
        "services:\n  web:\n    build: .\n    secrets: [token]\n    volumes_from: [data]\n    network_mode: service:net\n  data: {image: d}\n  net: {image: n}\nsecrets:\n  token: {file: ./t.txt}\nnetworks:\n  ext: {external: true}\n  named: {name: custom}\nvolumes:\n  v: {}\n",
    );
    assert_eq!(p.name, "proj");
    let web = &p.services["web"];
    let b = web.build.as_ref().unwrap();
    assert_eq!(b.context, d.display().to_string());
    assert_eq!(b.dockerfile.as_deref(), Some("Dockerfile"));
    assert_eq!(web.secrets[0].target.as_deref(), Some("/run/secrets/token"));
    assert_eq!(web.depends_on["data"], Dependency::started());
    assert_eq!(web.depends_on["net"], Dependency { condition: Condition::Started, restart: true, required: true });
    assert!(web.networks.is_empty(), "network_mode services join no network");
    assert_eq!(p.services["data"].networks.get("default"), Some(&None));
    assert_eq!(p.networks["default"].name, "proj_default");
    assert_eq!(p.networks["ext"].name, "ext");
    assert_eq!(p.networks["named"].name, "custom");
    assert_eq!(p.volumes["v"].name, "proj_v");
    assert_eq!(p.secrets["token"].file.as_deref(), Some(d.join("t.txt").as_path()));
    assert_eq!(web.image_name(&p.name), "proj-web");
    assert_eq!(p.start_order(), ["data", "net", "web"]);
}

#[test]
fn environment_sources_and_precedence() {
    let d = tmpdir("compose-t-env").join("proj");
    write(&d.join(".env"), "TAG=from-dotenv\nSHARED=dotenv\nONLY_DOTENV=yes\n");
    write(&d.join("web.env"), "A=file\nB=file\nREF=${TAG}\n");
    write(
        &d.join("compose.yaml"),
        "services:\n  web:\n    image: img:${TAG}\n    env_file: [web.env, {path: missing.env, required: false}]\n    environment: [B=explicit, SHARED, ONLY_DOTENV, ABSENT]\n",
    );
    let l = load_dir(&d, &[("SHARED", "process"), ("TAG", "process-tag")]).unwrap();
    let web = &l.project.services["web"];
    assert_eq!(web.image.as_deref(), Some("img:process-tag"));
    let env = |k: &str| web.environment.get(k).cloned().flatten();
    assert_eq!(env("A").as_deref(), Some("file"));
    assert_eq!(env("B").as_deref(), Some("explicit"));
    assert_eq!(env("REF").as_deref(), Some("process-tag"));
    assert_eq!(env("SHARED").as_deref(), Some("process"));
    assert_eq!(env("ONLY_DOTENV").as_deref(), Some("yes"));
    assert_eq!(web.environment.get("ABSENT"), Some(&None));
    assert_eq!(l.project.environment["COMPOSE_PROJECT_NAME"], "proj");

    write(&d.join("compose.yaml"), "services:\n  web:\n    image: x\n    env_file: nope.env\n");
    let e = load_dir(&d, &[]).unwrap_err();
    let want = format!(
        "services.web.env_file[0]: env file {} not found: create it or mark it required: false",
        d.join("nope.env").display()
    );
    assert!(e.ends_with(&want), "{e}");
}

#[test]
fn project_name_precedence() {
    let d = tmpdir("compose-t-name").join("Some Dir");
    write(&d.join("compose.yaml"), "name: ${N:-From_File}\nservices: {a: {image: x}}\n");
    assert_eq!(load_dir(&d, &[]).unwrap().project.name, "from_file");
    assert_eq!(load_dir(&d, &[("N", "env-name")]).unwrap().project.name, "env-name");
    assert_eq!(load_dir(&d, &[("COMPOSE_PROJECT_NAME", "cpn")]).unwrap().project.name, "cpn");
    let mut o = opts(&d, &[("COMPOSE_PROJECT_NAME", "cpn")]);
    o.project_name = Some("flag".into());
    assert_eq!(load(&o).unwrap().project.name, "flag");
    o.project_name = Some("Flag".into());
    assert!(load(&o).unwrap_err().to_string().starts_with("invalid project name \"Flag\" (-p)"));
    write(&d.join("compose.yaml"), "services: {a: {image: x}}\n");
    assert_eq!(load_dir(&d, &[]).unwrap().project.name, "somedir");
}

#[test]
fn override_files_merge() {
    let d = tmpdir("compose-t-merge");
    write(
        &d.join("compose.yaml"),
        "services:\n  web:\n    image: a\n    ports: [\"80:80\"]\n    environment: {A: \"1\"}\n",
    );
    write(
        &d.join("compose.override.yaml"),
        "services:\n  web:\n    image: b\n    ports: [\"81:81\"]\n    environment: {B: \"2\"}\n",
    );
    write(&d.join("prod.yaml"), "services:\n  web:\n    ports: !reset []\n    environment: {A: \"3\"}\n");
    let p = load_dir(&d, &[]).unwrap().project;
    let web = &p.services["web"];
    assert_eq!(web.image.as_deref(), Some("b"));
    assert_eq!(web.ports.len(), 2);
    let mut o = opts(&d, &[]);
    o.files = vec!["compose.yaml".into(), "prod.yaml".into()];
    let p = load(&o).unwrap().project;
    let web = &p.services["web"];
    assert!(web.ports.is_empty());
    assert_eq!(web.environment["A"].as_deref(), Some("3"));
    assert_eq!(
        p.compose_files,
        [d.join("compose.yaml").display().to_string(), d.join("prod.yaml").display().to_string()]
    );
}

#[test]
fn profiles() {
    let d = tmpdir("compose-t-profiles");
    write(
        &d.join("compose.yaml"),
        "services:\n  app: {image: a}\n  dbg: {image: d, profiles: [debug]}\n  all: {image: x, profiles: [x, y]}\n",
    );
    let names = |l: Loaded| l.project.services.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(load_dir(&d, &[]).unwrap()), ["app"]);
    assert_eq!(names(load_dir(&d, &[("COMPOSE_PROFILES", "debug, y")]).unwrap()), ["all", "app", "dbg"]);
    let mut o = opts(&d, &[("COMPOSE_PROFILES", "debug")]);
    o.profiles = vec!["y".into()];
    assert_eq!(names(load(&o).unwrap()), ["all", "app"]);
    o.profiles = vec!["*".into()];
    let mut p = load(&o).unwrap().project;
    assert_eq!(p.services.len(), 3);
    p.select(&["dbg".into()], true).unwrap();
    assert_eq!(p.services.keys().collect::<Vec<_>>(), ["dbg"]);
}

#[test]
fn typed_forms_are_normalised() {
    let (_, p) = project(
        "compose-t-forms",
        r#"services:
  s:
    image: x
    command: echo "a b" c
    entrypoint: []
    stop_grace_period: 1m30s
    shm_size: 1g
    ulimits: {nofile: {soft: 10, hard: 20}, nproc: 5}
    extra_hosts: ["db:10.0.0.2", "h=1.2.3.4,5.6.7.8"]
    labels: [a=1, b]
    restart: on-failure:3
    pull_policy: if_not_present
    deploy: {replicas: "2", resources: {limits: {cpus: "1.5", memory: 256M}}}
    healthcheck: {test: [CMD, true], start_period: 5s}
"#,
    );
    let s = &p.services["s"];
    assert_eq!(s.command.as_deref(), Some(&["echo".to_string(), "a b".into(), "c".into()][..]));
    assert_eq!(s.entrypoint.as_deref(), Some(&[][..]));
    assert_eq!(s.stop_grace_period, Some(Duration::from_secs(90)));
    assert_eq!(s.shm_size, Some(1 << 30));
    assert_eq!(s.ulimits["nofile"], Ulimit::SoftHard { soft: 10, hard: 20 });
    assert_eq!(s.extra_hosts["h"], ["1.2.3.4", "5.6.7.8"]);
    assert_eq!(s.labels, BTreeMap::from([("a".into(), "1".into()), ("b".into(), String::new())]));
    assert_eq!(s.restart, Some(RestartPolicy::OnFailure(Some(3))));
    assert_eq!(s.pull_policy, Some(PullPolicy::Missing));
    assert_eq!(s.replicas(), 2);
    let limits = s.deploy.as_ref().unwrap().resources.limits.as_ref().unwrap();
    assert_eq!((limits.cpus, limits.memory), (Some(1.5), Some(256 << 20)));
    assert_eq!(s.healthcheck.as_ref().unwrap().test, HealthTest::Cmd(vec!["true".into()]));
}

#[test]
fn validation_errors() {
    let cases = [
        ("services: {a: {command: x}}", "services.a: has neither image nor build: add image: NAME or build: DIRECTORY"),
        (
            "services: {a: {image: x, depends_on: [b]}}",
            "services.a.depends_on.b: service \"b\" is not defined: define it or remove the dependency",
        ),
        (
            "services: {a: {image: x, networks: [front]}}",
            "services.a.networks.front: network \"front\" is not declared: add it under the top-level networks",
        ),
        (
            "services: {a: {image: x, volumes: [\"data:/d\"]}}",
            "services.a.volumes[0]: volume \"data\" is not declared: add it under the top-level volumes",
        ),
        (
            "services: {a: {image: x, depends_on: [b]}, b: {image: x, depends_on: [a]}}",
            "depends_on: dependency cycle: a -> b -> a; remove one of these dependencies",
        ),
        (
            "services: {a: {image: x, container_name: c, scale: 2}}",
            "services.a.container_name: a container name must be unique but the service has 2 replicas: remove container_name or scale to 1",
        ),
        (
            "services: {a: {image: x, secrets: [s]}}",
            "services.a.secrets[0]: secret \"s\" is not declared: add it under the top-level secrets",
        ),
        (
            "services: {a: {image: x}}\nnetworks: {n: {driver: overlay}}",
            "networks.n.driver: driver \"overlay\" is not supported: kiste networks use bridge",
        ),
        (
            "services: {a: {image: x, tmpfs: /d, volumes: [\"v:/d\"]}}\nvolumes: {v: {}}",
            "services.a.volumes[0]: target /d is already mounted by services.a.tmpfs[0]: mount each path once",
        ),
        (
            "services: {a: {image: x, network_mode: host, networks: [n]}}\nnetworks: {n: {}}",
            "services.a.network_mode: network_mode and networks exclude each other: keep one",
        ),
        (
            "services: {a: {image: x, scale: 2, deploy: {replicas: 3}}}",
            "services.a.scale: scale (2) and deploy.replicas (3) differ: set one",
        ),
        ("secrets: {s: {}}", "secrets.s: needs file or environment (or external: true)"),
        (
            "services: {a: {image: x, expose: [\"80/icmp\"]}}",
            "services.a.expose[0]: invalid port \"80/icmp\": write PORT[/PROTOCOL], e.g. 80 or 53/udp",
        ),
    ];
    for (i, (text, want)) in cases.into_iter().enumerate() {
        let e = error(&format!("compose-t-valid-{i}"), text);
        assert!(e.ends_with(want), "{text}\n got: {e}\nwant: …{want}");
        assert!(e.contains("compose.yaml: "), "{e}");
    }
}

#[test]
fn optional_dependency_is_a_warning() {
    let d = tmpdir("compose-t-optional").join("p");
    write(
        &d.join("compose.yaml"),
        "services: {a: {image: x, depends_on: {b: {condition: service_started, required: false}}}}\n",
    );
    let l = load_dir(&d, &[]).unwrap();
    assert!(l.warnings.iter().any(|w| w.contains("skipping the optional dependency")), "{:?}", l.warnings);
}

#[test]
fn unset_variable_warns_once() {
    let d = tmpdir("compose-t-unset").join("p");
    write(&d.join("compose.yaml"), "services: {a: {image: \"x:$NOPE\", labels: [\"l=${NOPE}\"]}}\n");
    let l = load_dir(&d, &[]).unwrap();
    assert_eq!(l.warnings, ["The \"NOPE\" variable is not set. Defaulting to a blank string."]);
    assert_eq!(l.project.services["a"].image.as_deref(), Some("x:"));
}

#[test]
fn no_interpolation_model_keeps_variables() {
    let d = tmpdir("compose-t-noint").join("p");
    write(&d.join("compose.yaml"), "services: {a: {image: \"x:${TAG:?}\", build: ./b}}\n");
    let mut o = opts(&d, &[]);
    o.interpolate = false;
    let (tree, _) = load_model(&o).unwrap();
    assert_eq!(tree["services"]["a"]["image"], serde_norway::Value::from("x:${TAG:?}"));
    assert_eq!(tree["services"]["a"]["build"], serde_norway::Value::from(d.join("b").display().to_string()));
    assert_eq!(tree["name"], serde_norway::Value::from("p"));
}

#[test]
fn config_hash_ignores_scale_and_dependencies() {
    let (_, p) = project("compose-t-hash", "services:\n  a: {image: x, scale: 2, depends_on: [b]}\n  b: {image: y}\n");
    let a = &p.services["a"];
    let mut other = a.clone();
    other.scale = Some(5);
    other.depends_on.clear();
    assert_eq!(a.config_hash(), other.config_hash());
    assert_eq!(a.config_hash().len(), 64);
    other.environment.insert("K".into(), Some("v".into()));
    assert_ne!(a.config_hash(), other.config_hash());
}
