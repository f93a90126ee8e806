//! Plan tests: Dockerfiles with a fake base-image lookup, checked step by step.

use super::*;
use crate::engine::build::stages::Base;

#[derive(Default)]
struct Fake {
    images: BTreeMap<String, BaseImage>,
    asked: Vec<String>,
}

impl BaseImages for Fake {
    fn config(&mut self, reference: &str, _platform: &Platform) -> Result<BaseImage, String> {
        self.asked.push(reference.to_string());
        self.images.get(reference).cloned().ok_or_else(|| format!("image {reference:?} not found"))
    }
}

fn fake() -> Fake {
    let mut f = Fake::default();
    f.images.insert(
        "python:3.11-slim".into(),
        BaseImage {
            env: vec![
                "PATH=/usr/local/bin:/usr/bin:/bin".into(),
                "LANG=C.UTF-8".into(),
                "PYTHON_VERSION=3.11.9".into(),
            ],
            ..Default::default()
        },
    );
    f.images.insert("alpine".into(), BaseImage { env: vec!["PATH=/bin".into()], ..Default::default() });
    f.images.insert(
        "onbuild-base".into(),
        BaseImage {
            env: vec![],
            working_dir: "/srv".into(),
            on_build: vec!["COPY . /app/src".into(), "RUN make -C /app/src".into()],
            ..Default::default()
        },
    );
    f
}

fn req(args: &[(&str, &str)], target: Option<&str>) -> PlanRequest {
    PlanRequest {
        build_args: args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        target: target.map(str::to_string),
        platform: Platform { os: "linux".into(), arch: "amd64".into(), variant: None },
        build_platform: Platform { os: "linux".into(), arch: "amd64".into(), variant: None },
    }
}

fn plan_ok(text: &str, args: &[(&str, &str)], target: Option<&str>) -> BuildPlan {
    let mut f = fake();
    match plan_text(text, "Dockerfile", &req(args, target), &mut f) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn plan_err(text: &str, args: &[(&str, &str)]) -> String {
    plan_text(text, "Dockerfile", &req(args, None), &mut fake()).unwrap_err().to_string()
}

fn ops(p: &BuildPlan) -> Vec<&Op> {
    p.stages.last().unwrap().steps.iter().map(|s| &s.op).collect()
}

fn run_argv(op: &Op) -> &[String] {
    match op {
        Op::Run(RunStep { script: RunScript::Argv(a), .. }) => a,
        other => panic!("not a plain RUN: {other:?}"),
    }
}

fn config(op: &Op) -> &ConfigChange {
    match op {
        Op::Config(c) => c,
        other => panic!("not a config step: {other:?}"),
    }
}

fn copy_op(op: &Op) -> &CopyStep {
    match op {
        Op::Copy(c) => c,
        other => panic!("not COPY: {other:?}"),
    }
}

const APP: &str = "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nENV FLASK_ENV=production\nEXPOSE 5000\nCMD [\"python\", \"main.py\"]\n";

#[test]
fn python_app_plan() {
    let p = plan_ok(APP, &[], None);
    assert_eq!(p.stages.len(), 1);
    let s = &p.stages[0];
    assert_eq!(s.base, Base::Image("python:3.11-slim".into()));
    assert_eq!(s.steps.len(), 7);
    let o = ops(&p);
    assert_eq!(config(o[0]), &ConfigChange::Workdir("/app".into()));
    let c = copy_op(o[1]);
    assert_eq!((c.sources.clone(), c.dest.as_str()), (vec![CopySource::Path("requirements.txt".into())], "/app/"));
    assert_eq!(run_argv(o[2]), ["/bin/sh", "-c", "pip install --no-cache-dir -r requirements.txt"]);
    let Op::Run(r) = o[2] else { panic!() };
    assert_eq!(r.workdir, "/app");
    assert!(r.env.contains(&"PYTHON_VERSION=3.11.9".to_string()));
    assert_eq!(copy_op(o[3]).dest, "/app/");
    assert_eq!(config(o[4]), &ConfigChange::Env(vec![("FLASK_ENV".into(), "production".into())]));
    assert_eq!(config(o[5]), &ConfigChange::Expose(vec!["5000/tcp".into()]));
    assert_eq!(config(o[6]), &ConfigChange::Cmd(vec!["python".into(), "main.py".into()]));
    assert!(s.end.env().contains(&"FLASK_ENV=production".to_string()));
    assert_eq!(s.steps[2].source, "RUN pip install --no-cache-dir -r requirements.txt");
    assert_eq!(s.steps[2].created_by, "/bin/sh -c pip install --no-cache-dir -r requirements.txt");
    assert_eq!(s.steps[4].created_by, "/bin/sh -c #(nop) ENV FLASK_ENV=production");
}

#[test]
fn cache_keys_are_stable_and_track_args() {
    let text = "FROM alpine\nARG V=1\nRUN echo $V\nCOPY a /b\n";
    let a = plan_ok(text, &[], None);
    let b = plan_ok(text, &[], None);
    assert_eq!(a, b);
    let c = plan_ok(text, &[("V", "2")], None);
    let (ka, kc) = (&a.stages[0].steps, &c.stages[0].steps);
    assert_ne!(ka[1].cache_key, kc[1].cache_key, "RUN sees the ARG value");
    assert_eq!(ka[2].cache_key, kc[2].cache_key, "COPY does not use it");
    assert_eq!(kc[1].created_by, "|1 V=2 /bin/sh -c echo $V");
    let d = plan_ok(text, &[("HTTP_PROXY", "http://proxy:3128")], None);
    assert_eq!(a.stages[0].steps[1].cache_key, d.stages[0].steps[1].cache_key, "proxy args stay out of cache keys");
    assert_eq!(d.proxy_env, [("HTTP_PROXY".to_string(), "http://proxy:3128".to_string())]);
    assert!(d.unused_build_args.is_empty());
}

#[test]
fn env_expansion_uses_the_values_before_the_instruction() {
    let p =
        plan_ok("FROM alpine\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\nWORKDIR /$def/${ghi:-x}\n", &[], None);
    let o = ops(&p);
    assert_eq!(config(o[1]), &ConfigChange::Env(vec![("abc".into(), "bye".into()), ("def".into(), "hello".into())]));
    assert_eq!(config(o[2]), &ConfigChange::Env(vec![("ghi".into(), "bye".into())]));
    assert_eq!(config(o[3]), &ConfigChange::Workdir("/hello/bye".into()));
}

#[test]
fn arg_scoping() {
    let text = concat!(
        "ARG VERSION=latest\n",
        "ARG IMG=alpine\n",
        "FROM ${IMG}\n",
        "LABEL before=\"[$VERSION]\"\n",
        "ARG VERSION\n",
        "LABEL after=\"[$VERSION]\"\n",
        "ARG A=1 B=${A}2\n",
        "ENV A=env\n",
        "LABEL a=$A b=$B\n",
    );
    let p = plan_ok(text, &[], None);
    let o = ops(&p);
    assert_eq!(config(o[0]), &ConfigChange::Label(vec![("before".into(), "[]".into())]));
    assert_eq!(config(o[2]), &ConfigChange::Label(vec![("after".into(), "[latest]".into())]));
    assert_eq!(config(o[3]), &ConfigChange::Arg(vec![("A".into(), Some("1".into())), ("B".into(), Some("12".into()))]));
    assert_eq!(config(o[5]), &ConfigChange::Label(vec![("a".into(), "env".into()), ("b".into(), "12".into())]));
    let p = plan_ok(text, &[("VERSION", "v2")], None);
    assert_eq!(config(ops(&p)[2]), &ConfigChange::Label(vec![("after".into(), "[v2]".into())]));
}

#[test]
fn args_reach_run_env_but_not_the_image_env() {
    let p = plan_ok("FROM alpine\nARG TOKEN=abc\nRUN true\n", &[], None);
    let Op::Run(r) = ops(&p)[1] else { panic!() };
    assert!(r.env.contains(&"TOKEN=abc".to_string()));
    assert!(!p.stages[0].end.env().iter().any(|e| e.starts_with("TOKEN=")));
}

#[test]
fn undeclared_build_args_are_reported() {
    let p = plan_ok("FROM alpine\nARG USED\n", &[("USED", "1"), ("TYPO", "2"), ("no_proxy", "x")], None);
    assert_eq!(p.unused_build_args, ["TYPO"]);
}

#[test]
fn platform_args_need_declaration_inside_a_stage() {
    let p = plan_ok(
        "FROM alpine\nLABEL a=[$TARGETARCH]\nARG TARGETARCH\nLABEL b=[$TARGETARCH] p=$TARGETPLATFORM\n",
        &[],
        None,
    );
    let o = ops(&p);
    assert_eq!(config(o[0]), &ConfigChange::Label(vec![("a".into(), "[]".into())]));
    assert_eq!(config(o[2]), &ConfigChange::Label(vec![("b".into(), "[amd64]".into()), ("p".into(), "".into())]));
}

#[test]
fn multi_stage_only_needed_stages_and_their_bases() {
    let text = concat!(
        "FROM alpine AS build\nENV BUILT=1\nWORKDIR /src\nRUN make\n",
        "FROM python:3.11-slim AS unused\nRUN false\n",
        "FROM build AS test\nRUN make test\n",
        "FROM alpine\nCOPY --from=build /src/out /usr/bin/\nCOPY --from=docker.io/library/busybox /bin/busybox /bin/\n",
    );
    let mut f = fake();
    let p = plan_text(text, "Dockerfile", &req(&[], None), &mut f).unwrap();
    assert_eq!(p.stages.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 3]);
    assert_eq!(f.asked, ["alpine", "alpine"], "the unused stage's image is never looked up");
    let o = ops(&p);
    assert_eq!(copy_op(o[0]).from, Some(FromRefKey::Stage(0)));
    assert_eq!(copy_op(o[1]).from, Some(FromRefKey::Image("docker.io/library/busybox".into())));
    let p = plan_ok(text, &[], Some("test"));
    assert_eq!(p.stages.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 2]);
    let Op::Run(r) = &p.stages[1].steps[0].op else { panic!() };
    assert_eq!(r.workdir, "/src", "a stage inherits its base stage's WORKDIR");
    assert!(r.env.contains(&"BUILT=1".to_string()), "and its ENV");
}

#[test]
fn copy_and_add_details() {
    let text = concat!(
        "FROM alpine\nARG OWNER=app\nWORKDIR /w\n",
        "COPY --chown=${OWNER}:${OWNER} --chmod=0640 src/*.py ./lib/\n",
        "ADD https://example.com/a.tar.gz /opt/\n",
        "ADD --checksum=sha256:${OWNER} local.tar /\n",
        "COPY <<EOF <<'RAW' /etc/\nowner=$OWNER\nEOF\nraw=$OWNER\nRAW\n",
        "COPY x ../up\n",
    );
    let p = plan_ok(text, &[], None);
    let o = ops(&p);
    let c = copy_op(o[2]);
    assert_eq!((c.chown.as_deref(), c.chmod, c.dest.as_str()), (Some("app:app"), Some(0o640), "/w/lib/"));
    assert_eq!(c.sources, [CopySource::Path("src/*.py".into())]);
    let a = copy_op(o[3]);
    assert!(a.add);
    assert_eq!(a.sources, [CopySource::Url("https://example.com/a.tar.gz".into())]);
    assert_eq!(copy_op(o[4]).checksum.as_deref(), Some("sha256:app"));
    assert_eq!(copy_op(o[4]).dest, "/");
    let h = copy_op(o[5]);
    assert_eq!(
        h.sources,
        [
            CopySource::Content { name: "EOF".into(), data: "owner=app\n".into() },
            CopySource::Content { name: "RAW".into(), data: "raw=$OWNER\n".into() }
        ]
    );
    assert_eq!(copy_op(o[6]).dest, "/up");
    assert!(
        plan_err("FROM alpine\nCOPY --chmod=rwx a b\n", &[]).starts_with("Dockerfile:2: COPY: invalid --chmod \"rwx\"")
    );
}

#[test]
fn run_heredocs_become_scripts() {
    let text = concat!(
        "FROM alpine\n",
        "RUN <<EOF\necho one\necho two\nEOF\n",
        "RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n",
        "RUN cat <<EOF > /x\n$HOME\nEOF\n",
        "SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\n",
        "RUN ls | wc -l\n",
        "RUN [\"/bin/true\"]\n",
    );
    let p = plan_ok(text, &[], None);
    let o = ops(&p);
    assert_eq!(run_argv(o[0]), ["/bin/sh", "-c", "echo one\necho two\n"]);
    let Op::Run(RunStep { script: RunScript::ScriptFile { argv, path, content }, .. }) = o[1] else {
        panic!("{:?}", o[1])
    };
    assert_eq!(
        (argv.as_slice(), path.as_str(), content.as_str()),
        (
            &["/bin/sh".to_string(), "-c".into(), "/dev/pipes/EOF".into()][..],
            "/dev/pipes/EOF",
            "#!/usr/bin/env python3\nprint(1)\n"
        )
    );
    assert_eq!(run_argv(o[2]), ["/bin/sh", "-c", "cat <<EOF > /x\n$HOME\nEOF"]);
    assert_eq!(run_argv(o[4]), ["/bin/bash", "-eo", "pipefail", "-c", "ls | wc -l"]);
    assert_eq!(run_argv(o[5]), ["/bin/true"]);
}

#[test]
fn run_mounts_resolved() {
    let text = "FROM alpine\nWORKDIR /src\nARG CACHE=/root/.cache\nRUN --mount=type=cache,target=$CACHE/pip --mount=type=secret,id=tok --mount=type=bind,target=rel --network=none make\n";
    let p = plan_ok(text, &[], None);
    let Op::Run(r) = ops(&p)[2] else { panic!() };
    assert_eq!(r.mounts[0].target, "/root/.cache/pip");
    assert_eq!(r.mounts[0].mount.id.as_deref(), Some("/root/.cache/pip"));
    assert_eq!(r.mounts[1].target, "/run/secrets/tok");
    assert_eq!(r.mounts[2].target, "/src/rel");
    assert_eq!(r.network, Some(RunNetworkKind::None));
    assert!(plan_err("FROM alpine\nRUN --mount=type=cache,target=/ ls\n", &[]).contains("invalid mount target \"/\""));
    assert!(
        plan_err("FROM alpine\nRUN --mount=type=cache ls\n", &[])
            .starts_with("Dockerfile:2: RUN: --mount=type=cache: cache mount needs target=PATH")
    );
}

#[test]
fn cmd_entrypoint_shell_and_config_steps() {
    let text = concat!(
        "FROM alpine\n",
        "ENTRYPOINT [\"/init\"]\n",
        "CMD echo $HOME\n",
        "ENTRYPOINT run.sh\n",
        "USER ${U:-nobody}\n",
        "VOLUME /data ${HOME:-/home}\n",
        "STOPSIGNAL SIG${S:-TERM}\n",
        "EXPOSE 80 53/udp 8000-8002\n",
        "HEALTHCHECK NONE\n",
        "ONBUILD RUN echo later\n",
        "MAINTAINER me\n",
    );
    let p = plan_ok(text, &[], None);
    let o = ops(&p);
    assert_eq!(config(o[0]), &ConfigChange::Entrypoint { argv: vec!["/init".into()], reset_cmd: true });
    assert_eq!(config(o[1]), &ConfigChange::Cmd(vec!["/bin/sh".into(), "-c".into(), "echo $HOME".into()]));
    assert_eq!(
        config(o[2]),
        &ConfigChange::Entrypoint { argv: vec!["/bin/sh".into(), "-c".into(), "run.sh".into()], reset_cmd: false }
    );
    assert_eq!(config(o[3]), &ConfigChange::User("nobody".into()));
    assert_eq!(config(o[4]), &ConfigChange::Volume(vec!["/data".into(), "/home".into()]));
    assert_eq!(config(o[5]), &ConfigChange::StopSignal("SIGTERM".into()));
    assert_eq!(
        config(o[6]),
        &ConfigChange::Expose(vec![
            "80/tcp".into(),
            "53/udp".into(),
            "8000/tcp".into(),
            "8001/tcp".into(),
            "8002/tcp".into()
        ])
    );
    assert_eq!(config(o[7]), &ConfigChange::Healthcheck(HealthcheckKey::None));
    assert_eq!(config(o[8]), &ConfigChange::OnBuild("RUN echo later".into()));
    assert_eq!(config(o[9]), &ConfigChange::Maintainer("me".into()));
    assert!(plan_err("FROM alpine\nVOLUME $NOPE\n", &[]).starts_with("Dockerfile:2: VOLUME: paths cannot be empty"));
    assert!(plan_err("FROM alpine\nEXPOSE 80/tcpx\n", &[]).contains("invalid port \"80/tcpx\""));
    assert!(plan_err("FROM alpine\nENV A=${B:?required}\n", &[]).contains("B: required"));
}

#[test]
fn onbuild_triggers_of_the_base_run_first() {
    let p = plan_ok("FROM onbuild-base\nRUN ls\n", &[], None);
    let s = &p.stages[0].steps;
    assert_eq!(s.len(), 3);
    assert!(s[0].onbuild && s[1].onbuild && !s[2].onbuild);
    assert_eq!(copy_op(&s[0].op).dest, "/app/src");
    assert_eq!(run_argv(&s[1].op), ["/bin/sh", "-c", "make -C /app/src"]);
    let Op::Run(r) = &s[2].op else { panic!() };
    assert_eq!(r.workdir, "/srv");
}

#[test]
fn base_lookup_failure_and_target_errors() {
    let e = plan_err("FROM missing:1\nRUN x\n", &[]);
    assert_eq!(e, "Dockerfile:1: FROM missing:1: image \"missing:1\" not found");
    let e = plan_text("FROM alpine AS a\n", "Dockerfile", &req(&[], Some("b")), &mut fake()).unwrap_err();
    assert_eq!(e.to_string(), "Dockerfile: target stage \"b\" not found; the stages are: a");
    assert!(plan_err("FROM alpine\nRUNN x\n", &[]).starts_with("Dockerfile:2: unknown instruction"));
}

#[test]
fn scratch_runs_get_a_default_path() {
    let p = plan_ok("FROM scratch\nRUN x\n", &[], None);
    let Op::Run(r) = ops(&p)[0] else { panic!() };
    assert_eq!(r.env, [format!("PATH={DEFAULT_PATH}")]);
    assert!(p.stages[0].end.env().is_empty());
}
