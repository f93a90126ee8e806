//! Parser tests: a corpus of Dockerfiles with their expected instructions and errors.

use super::*;
use crate::engine::build::instructions::{ArgDecl, KeyValue};

fn ok(text: &str) -> Dockerfile {
    match parse(text, "Dockerfile") {
        Ok(d) => d,
        Err(e) => panic!("{e}\n--- in ---\n{text}"),
    }
}

fn err(text: &str) -> String {
    match parse(text, "Dockerfile") {
        Ok(d) => panic!("expected an error, got {:#?}", d.instructions),
        Err(e) => e.to_string(),
    }
}

/// `(keyword, line)` of each instruction.
fn shape(d: &Dockerfile) -> Vec<(&'static str, usize)> {
    d.instructions.iter().map(|i| (i.kind.keyword(), i.line)).collect()
}

fn run(i: &Instruction) -> &Run {
    match &i.kind {
        Kind::Run(r) => r,
        other => panic!("not RUN: {other:?}"),
    }
}

fn copy(i: &Instruction) -> &Copy {
    match &i.kind {
        Kind::Copy(c) | Kind::Add(c) => c,
        other => panic!("not COPY/ADD: {other:?}"),
    }
}

#[test]
fn python_app() {
    let d = ok(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nENV FLASK_ENV=production\nEXPOSE 5000\nCMD [\"python\", \"main.py\"]\n",
    );
    assert_eq!(
        shape(&d),
        [("FROM", 1), ("WORKDIR", 2), ("COPY", 3), ("RUN", 4), ("COPY", 5), ("ENV", 6), ("EXPOSE", 7), ("CMD", 8)]
    );
    assert_eq!(d.instructions[2].source, "COPY requirements.txt .");
    assert_eq!(
        run(&d.instructions[3]).command,
        CommandLine::Shell("pip install --no-cache-dir -r requirements.txt".into())
    );
    assert_eq!(d.instructions[7].kind, Kind::Cmd(CommandLine::Exec(vec!["python".into(), "main.py".into()])));
    assert_eq!(d.escape, '\\');
}

#[test]
fn from_forms() {
    let d = ok("ARG V=1\nFROM --platform=linux/arm64 alpine:$V AS Build\nFROM scratch\nfrom build as final\n");
    assert_eq!(
        d.instructions[1].kind,
        Kind::From(From {
            image: "alpine:$V".into(),
            platform: Some("linux/arm64".into()),
            name: Some("build".into())
        })
    );
    assert_eq!(d.instructions[2].kind, Kind::From(From { image: "scratch".into(), platform: None, name: None }));
    assert_eq!(
        d.instructions[3].kind,
        Kind::From(From { image: "build".into(), platform: None, name: Some("final".into()) })
    );
}

#[test]
fn from_errors() {
    assert_eq!(err("FROM\n"), "Dockerfile:1: FROM requires an image name (FROM IMAGE [AS NAME])");
    assert_eq!(
        err("FROM a b\n"),
        "Dockerfile:1: FROM takes an image and an optional \"AS name\" (FROM IMAGE [AS NAME])"
    );
    assert!(err("FROM a AS 1x\n").starts_with("Dockerfile:1: FROM: invalid stage name \"1x\""));
    assert_eq!(
        err("FROM a AS x\nFROM b AS X\n"),
        "Dockerfile:2: FROM: duplicate stage name \"x\" (first used on line 1): give each stage its own name"
    );
    assert_eq!(err("FROM --plaform=x a\n"), "Dockerfile:1: FROM: unknown flag --plaform (did you mean --platform?)");
}

#[test]
fn unknown_instruction_names_file_line_and_suggestion() {
    let e = parse("FROM a\n\nRUNN echo\n", "Containerfile").unwrap_err();
    assert_eq!(e.to_string(), "Containerfile:3: unknown instruction \"RUNN\" (did you mean RUN?)");
    assert_eq!(e.line, 3);
    assert!(err("FROM a\nFOOBAR x\n").starts_with("Dockerfile:2: unknown instruction \"FOOBAR\": "));
    assert_eq!(err("FROM a\ncopyy a b\n"), "Dockerfile:2: unknown instruction \"copyy\" (did you mean COPY?)");
}

#[test]
fn instructions_need_a_stage() {
    assert!(err("RUN ls\nFROM a\n").starts_with("Dockerfile:1: instruction before the first FROM"));
    assert_eq!(err(""), "Dockerfile: no FROM instruction: a Dockerfile needs at least one FROM");
    assert_eq!(err("# only a comment\n\n"), "Dockerfile: no FROM instruction: a Dockerfile needs at least one FROM");
    assert_eq!(err("ARG A\n"), "Dockerfile: no FROM instruction: a Dockerfile needs at least one FROM");
    let d = ok("ARG A=1 B\nARG C\nFROM x\n");
    assert_eq!(shape(&d), [("ARG", 1), ("ARG", 2), ("FROM", 3)]);
}

#[test]
fn lowercase_leading_space_crlf_and_bom() {
    let d = ok("\u{feff}from alpine\r\n   run ls -l\r\n\tcmd echo hi\r\n");
    assert_eq!(shape(&d), [("FROM", 1), ("RUN", 2), ("CMD", 3)]);
    assert_eq!(run(&d.instructions[1]).command, CommandLine::Shell("ls -l".into()));
    assert_eq!(d.instructions[2].kind, Kind::Cmd(CommandLine::Shell("echo hi".into())));
}

#[test]
fn continuations_comments_and_line_numbers() {
    let text = "FROM a\n# comment\nRUN apt-get update \\\n  # inside\n\n    && apt-get install -y \\\n      curl\nENV A=1 \\\n    B=2\nRUN done\n";
    let d = ok(text);
    assert_eq!(shape(&d), [("FROM", 1), ("RUN", 3), ("ENV", 8), ("RUN", 10)]);
    assert_eq!(
        run(&d.instructions[1]).command,
        CommandLine::Shell("apt-get update     && apt-get install -y       curl".into())
    );
    assert_eq!(d.instructions[1].source, "RUN apt-get update     && apt-get install -y       curl");
    let Kind::Env(kv) = &d.instructions[2].kind else { panic!() };
    assert_eq!(kv.iter().map(|k| (k.key.as_str(), k.value.as_str())).collect::<Vec<_>>(), [("A", "1"), ("B", "2")]);
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
}

#[test]
fn continuation_at_end_of_file() {
    let d = ok("FROM a\nRUN echo \\");
    assert_eq!(run(&d.instructions[1]).command, CommandLine::Shell("echo".into()));
}

#[test]
fn directives() {
    let d = ok(
        "# syntax=docker/dockerfile:1.7\n# escape=`\n# check=skip=all\nFROM a\nRUN echo `\n  hi\nCOPY --chown=`\"1:1`\" x y\n",
    );
    assert_eq!(d.escape, '`');
    assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1.7"));
    assert_eq!(run(&d.instructions[1]).command, CommandLine::Shell("echo   hi".into()));
    assert_eq!(copy(&d.instructions[2]).chown.as_deref(), Some("\"1:1\""));
    let d = ok("# comment first\n# escape=`\nFROM a\nRUN echo \\\n hi\n");
    assert_eq!(d.escape, '\\', "a directive after a comment is a comment");
    assert_eq!(run(&d.instructions[1]).command, CommandLine::Shell("echo  hi".into()));
    assert!(err("# escape=x\nFROM a\n").starts_with("Dockerfile:1: invalid escape token \"x\""));
    let d = ok("#ESCAPE = `\nFROM a\n");
    assert_eq!(d.escape, '`');
}

#[test]
fn run_forms_and_flags() {
    let d = ok(concat!(
        "FROM a\n",
        "RUN [\"echo\", \"a b\"]\n",
        "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=tok --network=none pip install x\n",
        "RUN [ -f /etc/passwd ] && echo yes\n",
        "RUN --network=host \\\n    make\n",
    ));
    assert_eq!(run(&d.instructions[1]).command, CommandLine::Exec(vec!["echo".into(), "a b".into()]));
    let r = run(&d.instructions[2]);
    assert_eq!(r.mounts, ["type=cache,target=/root/.cache", "type=secret,id=tok"]);
    assert_eq!(r.network, Some(RunNetwork::None));
    assert_eq!(r.command, CommandLine::Shell("pip install x".into()));
    assert_eq!(run(&d.instructions[3]).command, CommandLine::Shell("[ -f /etc/passwd ] && echo yes".into()));
    let r = run(&d.instructions[4]);
    assert_eq!((r.network, r.command.clone()), (Some(RunNetwork::Host), CommandLine::Shell("make".into())));
}

#[test]
fn run_errors() {
    assert!(
        err("FROM a\nRUN --security=insecure ls\n")
            .starts_with("Dockerfile:2: RUN: --security=insecure is not supported")
    );
    assert_eq!(
        err("FROM a\nRUN --network=bridge ls\n"),
        "Dockerfile:2: RUN: invalid --network \"bridge\": use default, none or host"
    );
    assert_eq!(
        err("FROM a\nRUN --mnt=type=cache ls\n"),
        "Dockerfile:2: RUN: unknown flag --mnt (did you mean --mount?)"
    );
    assert!(err("FROM a\nRUN\n").starts_with("Dockerfile:2: RUN: requires a command"));
    assert!(err("FROM a\nRUN --device=/dev/fuse ls\n").contains("--device is not supported"));
}

#[test]
fn run_heredoc_at_start() {
    let d = ok("FROM a\nRUN <<EOF\nls /\nwhoami\nEOF\nUSER nobody\n");
    let r = run(&d.instructions[1]);
    assert_eq!(r.command, CommandLine::Shell("<<EOF".into()));
    assert_eq!(
        r.heredocs,
        [HereDoc { name: "EOF".into(), content: "ls /\nwhoami\n".into(), expand: true, chomp: false }]
    );
    assert_eq!(shape(&d), [("FROM", 1), ("RUN", 2), ("USER", 6)]);
}

#[test]
fn run_heredoc_after_a_command() {
    let text = "FROM a\nRUN cat <<EOF > /etc/app.conf\nkey = value\nRUNN not an instruction\nEOF\nRUN python3 <<'PY' | tee /log\nprint('$HOME')\nPY\nWORKDIR /x\n";
    let d = ok(text);
    assert_eq!(shape(&d), [("FROM", 1), ("RUN", 2), ("RUN", 6), ("WORKDIR", 9)]);
    let r = run(&d.instructions[1]);
    assert_eq!(r.command, CommandLine::Shell("cat <<EOF > /etc/app.conf".into()));
    assert_eq!(r.heredocs[0].content, "key = value\nRUNN not an instruction\n");
    let r = run(&d.instructions[2]);
    assert_eq!(r.command, CommandLine::Shell("python3 <<'PY' | tee /log".into()));
    assert!(!r.heredocs[0].expand);
    assert_eq!(r.heredocs[0].content, "print('$HOME')\n");
}

#[test]
fn run_two_heredocs_and_chomp() {
    let d = ok("FROM a\nRUN <<-ONE cat - <<TWO\n\tfirst\n\tONE\nsecond\nTWO\nCMD x\n");
    let r = run(&d.instructions[1]);
    assert_eq!(r.heredocs.len(), 2);
    assert_eq!(r.heredocs[0].body(), "first\n");
    assert!(r.heredocs[0].chomp);
    assert_eq!(r.heredocs[1].content, "second\n");
    assert_eq!(shape(&d), [("FROM", 1), ("RUN", 2), ("CMD", 7)]);
}

#[test]
fn run_heredoc_with_backtick_escape_and_restart() {
    let d = ok("# escape=`\nFROM a\nRUN cat <<EOF > x\nbody\nEOF\nRUN echo `\n  done\n");
    assert_eq!(shape(&d), [("FROM", 2), ("RUN", 3), ("RUN", 6)]);
    assert_eq!(run(&d.instructions[2]).command, CommandLine::Shell("echo   done".into()));
}

#[test]
fn heredoc_errors() {
    assert!(err("FROM a\nRUN cat <<EOF\nnever ends\n").contains("Dockerfile:2: unterminated heredoc <<EOF"));
    assert_eq!(err("FROM a\nCOPY x <<EOF\nEOF\n"), "Dockerfile:2: COPY: cannot accept a heredoc as the destination");
}

#[test]
fn quoted_heredoc_words_are_not_heredocs() {
    let d = ok("FROM a\nRUN echo \"<<EOF\"\nRUN echo '<<EOF' && echo a<<b\n");
    assert!(run(&d.instructions[1]).heredocs.is_empty());
    assert!(run(&d.instructions[2]).heredocs.is_empty());
}

#[test]
fn copy_and_add_flags() {
    let d = ok(concat!(
        "FROM a\n",
        "COPY --from=build --chown=\"app:app\" --chmod=0755 --link --parents --exclude=*.md --exclude=tmp ./src ./lib /app/\n",
        "ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false https://x.example/a.tar /opt/\n",
        "COPY [\"with space\", \"/dest dir/\"]\n",
    ));
    let c = copy(&d.instructions[1]);
    assert_eq!(c.sources, [Source::Path("./src".into()), Source::Path("./lib".into())]);
    assert_eq!(c.dest, "/app/");
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("app:app"));
    assert_eq!(c.chmod.as_deref(), Some("0755"));
    assert!(c.link && c.parents);
    assert_eq!(c.exclude, ["*.md", "tmp"]);
    let a = copy(&d.instructions[2]);
    assert!(matches!(&d.instructions[2].kind, Kind::Add(_)));
    assert_eq!((a.checksum.as_deref(), a.keep_git_dir, a.unpack), (Some("sha256:abc"), Some(true), Some(false)));
    let j = copy(&d.instructions[3]);
    assert_eq!((j.sources.clone(), j.dest.as_str()), (vec![Source::Path("with space".into())], "/dest dir/"));
}

#[test]
fn copy_errors() {
    assert_eq!(
        err("FROM a\n\n\n\nCOPY --form=x a b\n"),
        "Dockerfile:5: COPY: unknown flag --form (did you mean --from?)"
    );
    assert_eq!(err("FROM a\nCOPY a\n"), "Dockerfile:2: COPY requires at least one source and a destination");
    assert_eq!(
        err("FROM a\nCOPY --checksum=x a b\n"),
        "Dockerfile:2: COPY: unknown flag --checksum (valid flags: --from, --chown, --chmod, --link, --parents, --exclude)"
    );
    assert_eq!(
        err("FROM a\nADD --from=x a b\n"),
        "Dockerfile:2: ADD: unknown flag --from (valid flags: --chown, --chmod, --link, --keep-git-dir, --checksum, --unpack, --exclude)"
    );
    assert_eq!(
        err("FROM a\nCOPY --link=maybe a b\n"),
        "Dockerfile:2: COPY: --link expects true or false, not \"maybe\""
    );
    assert_eq!(err("FROM a\nCOPY --from=a --from=b a b\n"), "Dockerfile:2: COPY: duplicate flag --from: give it once");
}

#[test]
fn copy_heredoc_sources() {
    let d = ok("FROM a\nCOPY <<file.txt <<'raw' plain /dest/\nhello $NAME\nfile.txt\n$NOT\nraw\nRUN ls\n");
    let c = copy(&d.instructions[1]);
    assert_eq!(c.sources.len(), 3);
    assert_eq!(
        c.sources[0],
        Source::HereDoc(HereDoc {
            name: "file.txt".into(),
            content: "hello $NAME\n".into(),
            expand: true,
            chomp: false
        })
    );
    assert_eq!(
        c.sources[1],
        Source::HereDoc(HereDoc { name: "raw".into(), content: "$NOT\n".into(), expand: false, chomp: false })
    );
    assert_eq!(c.sources[2], Source::Path("plain".into()));
    assert_eq!(shape(&d), [("FROM", 1), ("COPY", 2), ("RUN", 7)]);
}

#[test]
fn env_label_arg() {
    let d = ok(
        "FROM a\nENV PATH /usr/local/bin:$PATH\nENV A=1 B=\"x y\"\nLABEL org.opencontainers.image.title=\"My app\" version=1\nARG USER=app GROUP\n",
    );
    assert_eq!(
        d.instructions[1].kind,
        Kind::Env(vec![KeyValue { key: "PATH".into(), value: "/usr/local/bin:$PATH".into(), legacy: true }])
    );
    let Kind::Env(kv) = &d.instructions[2].kind else { panic!() };
    assert_eq!(kv[1].value, "\"x y\"");
    let Kind::Label(l) = &d.instructions[3].kind else { panic!() };
    assert_eq!(l[0].key, "org.opencontainers.image.title");
    assert_eq!(
        d.instructions[4].kind,
        Kind::Arg(vec![
            ArgDecl { name: "USER".into(), default: Some("app".into()) },
            ArgDecl { name: "GROUP".into(), default: None }
        ])
    );
    assert_eq!(err("FROM a\nENV ONLY\n"), "Dockerfile:2: ENV: ENV ONLY needs a value: use ENV ONLY=VALUE");
    assert!(err("FROM a\nENV\n").starts_with("Dockerfile:2: ENV requires"));
}

#[test]
fn healthcheck() {
    let d = ok(concat!(
        "FROM a\n",
        "HEALTHCHECK NONE\n",
        "HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=5s --retries=3 CMD curl -f http://localhost/ || exit 1\n",
        "HEALTHCHECK CMD [\"/bin/check\", \"-q\"]\n",
    ));
    assert_eq!(d.instructions[1].kind, Kind::Healthcheck(Healthcheck::None));
    let Kind::Healthcheck(Healthcheck::Check(h)) = &d.instructions[2].kind else { panic!() };
    assert_eq!(h.test, ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]);
    assert_eq!(
        (h.interval, h.timeout, h.start_period, h.start_interval, h.retries),
        (30_000_000_000, 3_000_000_000, 60_000_000_000, 5_000_000_000, 3)
    );
    let Kind::Healthcheck(Healthcheck::Check(h)) = &d.instructions[3].kind else { panic!() };
    assert_eq!(h.test, ["CMD", "/bin/check", "-q"]);
    assert_eq!(
        err("FROM a\nHEALTHCHECK --interval=30 CMD x\n"),
        "Dockerfile:2: HEALTHCHECK: invalid --interval \"30\": use a duration such as 30s or 1m30s"
    );
    assert!(err("FROM a\nHEALTHCHECK --retries=-1 CMD x\n").contains("invalid --retries \"-1\""));
    assert!(err("FROM a\nHEALTHCHECK --timeout=10us CMD x\n").contains("less than 1ms"));
    assert!(err("FROM a\nHEALTHCHECK --intervall=1s CMD x\n").contains("did you mean --interval?"));
    assert!(
        err("FROM a\nHEALTHCHECK NONE x\n").starts_with("Dockerfile:2: HEALTHCHECK NONE does not accept arguments")
    );
}

#[test]
fn shell_volume_and_single_value_instructions() {
    let d = ok(concat!(
        "FROM a\n",
        "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n",
        "VOLUME [\"/data\", \"/logs\"]\n",
        "VOLUME /a /b\n",
        "USER app:app\n",
        "WORKDIR /srv/my app\n",
        "STOPSIGNAL SIGTERM\n",
        "MAINTAINER Jane <jane@example.com>\n",
        "EXPOSE 80/tcp 53/udp\n",
        "ENTRYPOINT [\"/init\"]\n",
        "ENTRYPOINT exec nginx -g 'daemon off;'\n",
    ));
    assert_eq!(
        d.instructions[1].kind,
        Kind::Shell(vec!["/bin/bash".into(), "-o".into(), "pipefail".into(), "-c".into()])
    );
    assert_eq!(d.instructions[2].kind, Kind::Volume(vec!["/data".into(), "/logs".into()]));
    assert_eq!(d.instructions[3].kind, Kind::Volume(vec!["/a".into(), "/b".into()]));
    assert_eq!(d.instructions[4].kind, Kind::User("app:app".into()));
    assert_eq!(d.instructions[5].kind, Kind::Workdir("/srv/my app".into()));
    assert_eq!(d.instructions[6].kind, Kind::StopSignal("SIGTERM".into()));
    assert_eq!(d.instructions[7].kind, Kind::Maintainer("Jane <jane@example.com>".into()));
    assert_eq!(d.instructions[8].kind, Kind::Expose(vec!["80/tcp".into(), "53/udp".into()]));
    assert_eq!(d.instructions[9].kind, Kind::Entrypoint(CommandLine::Exec(vec!["/init".into()])));
    assert_eq!(d.instructions[10].kind, Kind::Entrypoint(CommandLine::Shell("exec nginx -g 'daemon off;'".into())));
    assert!(err("FROM a\nSHELL /bin/sh -c\n").starts_with("Dockerfile:2: SHELL requires a JSON array"));
    assert_eq!(err("FROM a\nVOLUME [\"\"]\n"), "Dockerfile:2: VOLUME: paths cannot be empty");
}

#[test]
fn onbuild() {
    let d = ok("FROM a\nONBUILD RUN make /app\nONBUILD COPY --chown=1 . /src\n");
    let Kind::Onbuild { expression, inner } = &d.instructions[1].kind else { panic!() };
    assert_eq!(expression, "RUN make /app");
    assert_eq!(
        inner.kind,
        Kind::Run(Run {
            command: CommandLine::Shell("make /app".into()),
            heredocs: vec![],
            mounts: vec![],
            network: None
        })
    );
    let Kind::Onbuild { expression, .. } = &d.instructions[2].kind else { panic!() };
    assert_eq!(expression, "COPY --chown=1 . /src");
    assert_eq!(err("FROM a\nONBUILD FROM b\n"), "Dockerfile:2: ONBUILD: FROM isn't allowed as an ONBUILD trigger");
    assert_eq!(
        err("FROM a\nONBUILD MAINTAINER b\n"),
        "Dockerfile:2: ONBUILD: MAINTAINER isn't allowed as an ONBUILD trigger"
    );
    assert!(err("FROM a\nONBUILD ONBUILD RUN x\n").starts_with("Dockerfile:2: ONBUILD"));
}

#[test]
fn cmd_shell_and_json_like_text() {
    let d = ok("FROM a\nCMD [\"unterminated\nCMD echo \\\n  two lines\nCMD []\n");
    assert_eq!(d.instructions[1].kind, Kind::Cmd(CommandLine::Shell("[\"unterminated".into())));
    assert_eq!(d.instructions[2].kind, Kind::Cmd(CommandLine::Shell("echo   two lines".into())));
    assert_eq!(d.instructions[3].kind, Kind::Cmd(CommandLine::Exec(vec![])));
}
