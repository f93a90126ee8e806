//! `kiste __storage-helper`: the re-executed kiste that runs inside the user namespace to
//! unpack, commit, export, delete, measure and probe on the user's behalf (see userns.rs for how it is started).
//! Speaks JSON on stdin/stdout with its parent; never touches the database.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

pub fn main() -> ExitCode {
    if let Err(e) = super::userns::enter_from_parent() {
        crate::util::print_error(format!("storage helper: {e}"));
        return ExitCode::from(125);
    }
    let args: Vec<OsString> = std::env::args_os().skip(2).collect();
    let Some(verb) = args.first().and_then(|a| a.to_str()) else {
        crate::util::print_error("storage helper: missing verb");
        return ExitCode::from(125);
    };
    match verb {
        "apply" => super::layers::helper_apply(),
        "copy" => super::buildcopy::helper_copy(),
        "squash" => super::squash::helper_squash(),
        "commit" => super::layerio::helper_commit(),
        "export" => super::layerio::helper_export(),
        "remove" => super::layers::helper_remove(&args[1..]),
        "du" => super::usage::helper_du(&args[1..]),
        "probe-overlay" => match args.get(1) {
            Some(d) => super::overlay::helper_probe(std::path::Path::new(d)),
            None => ExitCode::from(125),
        },
        "volume-init" => super::volcopy::helper_init(),
        "chown" => super::volcopy::helper_chown(),
        "vol-export" => super::volcopy::helper_export(&args[1..]),
        "put" => super::volcopy::helper_put(&args[1..]),
        "ctr-cp" => super::cproot::helper_stopped(&args[1..]),
        "exec" => {
            let argv: Vec<&OsString> = args[1..].iter().skip_while(|a| *a == "--").collect();
            let Some((prog, rest)) = argv.split_first() else {
                return ExitCode::from(125);
            };
            // A mount namespace of the session's own (as Podman's): `kiste mount` mounts in
            // it; the host's mounts reach it as slaves, nothing goes back.
            if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS) {
                crate::util::print_error(format!("unshare(CLONE_NEWNS): {e}"));
                return ExitCode::from(125);
            }
            let err = std::process::Command::new(prog).args(rest).env(crate::state::paths::SESSION_ENV, "1").exec();
            crate::util::print_error(format!("cannot run {}: {err}", prog.to_string_lossy()));
            ExitCode::from(if err.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 })
        }
        other => {
            crate::util::print_error(format!("storage helper: unknown verb {other}"));
            ExitCode::from(125)
        }
    }
}
