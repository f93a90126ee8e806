//! `--change` instructions of `commit` and `import` (`CMD ["sh"]`, `ENV A=1`, ...): parsed
//! and expanded by the Dockerfile front end as a stage on the image being made, so that they
//! mean exactly what they mean in a Dockerfile. Only instructions that change the config
//! are allowed. No I/O.

use super::exec::Work;
use super::plan::{self, BaseImage, BaseImages, ConfigChange, Op, PlanRequest};
use crate::engine::image::platform::Platform;

/// What podman accepts in `--change`.
const ALLOWED: &[&str] =
    &["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

struct Fixed(BaseImage);

impl BaseImages for Fixed {
    fn config(&mut self, _: &str, _: &Platform) -> Result<BaseImage, String> {
        Ok(self.0.clone())
    }
}

/// The config changes `changes` make on top of the image `base`.
pub fn parse(changes: &[String], base: &Work) -> Result<Vec<ConfigChange>, String> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let mut text = String::from("FROM base\n");
    for c in changes {
        let word = c.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        let word = word.split('=').next().unwrap_or_default().to_string();
        if !ALLOWED.contains(&word.as_str()) {
            return Err(format!("invalid --change {c:?}: use one of {}", ALLOWED.join(", ")));
        }
        // `CMD=["sh"]` as well as `CMD ["sh"]`, as podman accepts.
        let line = match c.trim_start().split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case(&word) => format!("{word} {v}"),
            _ => c.trim().to_string(),
        };
        if line.contains('\n') {
            return Err(format!("invalid --change {c:?}: one instruction per --change"));
        }
        text.push_str(&line);
        text.push('\n');
    }
    let platform = Platform::host();
    let req = PlanRequest {
        build_args: Default::default(),
        target: None,
        platform: platform.clone(),
        build_platform: platform,
    };
    let plan = plan::plan_text(&text, "--change", &req, &mut Fixed(base_image(base)))
        .map_err(|e| format!("invalid --change: {e}"))?;
    let steps = plan.stages.into_iter().next_back().map(|s| s.steps).unwrap_or_default();
    Ok(steps
        .into_iter()
        .filter_map(|s| match s.op {
            Op::Config(c) => Some(c),
            _ => None,
        })
        .collect())
}

/// What the front end needs of the image's config (its ONBUILD triggers do not run here).
fn base_image(w: &Work) -> BaseImage {
    let cfg = w.doc.get("config");
    let strings = |k: &str| -> Vec<String> {
        cfg.and_then(|c| c.get(k))
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    let text = |k: &str| cfg.and_then(|c| c.get(k)).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let shell = strings("Shell");
    BaseImage {
        env: strings("Env"),
        working_dir: text("WorkingDir"),
        user: text("User"),
        shell: if shell.is_empty() { None } else { Some(shell) },
        on_build: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_mean_what_they_mean_in_a_dockerfile() {
        let mut w = Work::scratch(&Platform::host());
        w.set_env("HOME", "/root");
        let c = parse(&["CMD [\"sh\", \"-c\", \"echo hi\"]".into(), "ENV A=$HOME/x".into(), "WORKDIR=/srv".into()], &w)
            .unwrap();
        assert_eq!(c[0], ConfigChange::Cmd(vec!["sh".into(), "-c".into(), "echo hi".into()]));
        assert_eq!(c[1], ConfigChange::Env(vec![("A".into(), "/root/x".into())]));
        assert_eq!(c[2], ConfigChange::Workdir("/srv".into()));
        assert!(parse(&["RUN rm -rf /".into()], &w).unwrap_err().contains("use one of"));
        assert!(parse(&["CMD a\nRUN b".into()], &w).is_err());
    }
}
