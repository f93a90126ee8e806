//! containers.conf `[containers]` (and `[engine] stop_timeout`) as defaults of run options:
//! what the user did not give is taken from the configuration, what they gave wins. Pure;
//! `create` applies it to every container but a build's steps (which keep their own).
//! `log_driver` is not a flag's default here: `compat::LogConfig` takes it as its default
//! (a configured journald is kept, where `--log-driver journald` is refused).

use super::spec::RunOptions;
use crate::state::containers_conf::ContainersConf;

/// The host's proxy variables that Podman passes on by default (`http_proxy = true`).
const PROXY_VARS: [&str; 8] =
    ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ftp_proxy", "FTP_PROXY", "no_proxy", "NO_PROXY"];

/// The name of a `--ulimit NAME=...`.
fn ulimit_name(u: &str) -> &str {
    u.split('=').next().unwrap_or(u)
}

/// `opts` with containers.conf's defaults filled in; `host_env` is kiste's environment
/// (for `env_host` and the proxy variables).
pub fn apply(opts: &RunOptions, conf: &ContainersConf, host_env: &[(String, String)]) -> RunOptions {
    let t = &conf.containers;
    let mut o = opts.clone();
    o.read_only |= t.read_only == Some(true);
    o.init |= t.init == Some(true);
    o.no_hosts |= t.no_hosts == Some(true);
    o.default_sysctls = t.default_sysctls.clone().unwrap_or_default();
    for (given, conf) in
        [(&mut o.dns, &t.dns_servers), (&mut o.dns_search, &t.dns_searches), (&mut o.dns_options, &t.dns_options)]
    {
        if given.is_empty() {
            *given = conf.clone().unwrap_or_default();
        }
    }
    if o.tz.is_none() {
        o.tz = t.tz.clone();
    }
    if o.umask.is_none() {
        o.umask = t.umask.clone();
    }
    if o.shm_size.is_none() {
        o.shm_size = t.shm_size.clone();
    }
    if o.stop_timeout.is_none() {
        o.stop_timeout = conf.engine.stop_timeout;
    }
    let given: Vec<String> = o.ulimits.iter().map(|u| ulimit_name(u).to_string()).collect();
    let mut ulimits: Vec<String> =
        t.default_ulimits.iter().flatten().filter(|u| !given.iter().any(|g| g == ulimit_name(u))).cloned().collect();
    ulimits.append(&mut o.ulimits);
    o.ulimits = ulimits;
    if o.default_caps.is_none() {
        o.default_caps = t.default_capabilities.clone();
    }
    o.env_host |= t.env_host == Some(true);
    let proxies = o.http_proxy.or(t.http_proxy).unwrap_or(true);
    let mut base: Vec<String> = t.env.clone().unwrap_or_default();
    for (k, v) in host_env {
        if o.env_host || (proxies && PROXY_VARS.contains(&k.as_str())) {
            base.push(format!("{k}={v}"));
        }
    }
    base.append(&mut o.base_env);
    o.base_env = base;
    if !o.log_opts.iter().any(|l| l.starts_with("max-size="))
        && let Some(n) = t.log_size_max.filter(|n| *n > 0)
    {
        o.log_opts.push(format!("max-size={n}"));
    }
    if !o.log_opts.iter().any(|l| l.starts_with("tag="))
        && let Some(tag) = &t.log_tag
    {
        o.log_opts.push(format!("tag={tag}"));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::containers_conf::{ContainersTable, LogDriver};

    #[test]
    fn configuration_fills_what_was_not_given() {
        let conf = ContainersConf {
            containers: ContainersTable {
                read_only: Some(true),
                init: Some(true),
                env: Some(vec!["FROM_CONF=1".into()]),
                dns_servers: Some(vec!["9.9.9.9".into()]),
                default_ulimits: Some(vec!["nofile=100:200".into(), "nproc=50".into()]),
                default_capabilities: Some(vec!["CHOWN".into()]),
                tz: Some("UTC".into()),
                log_driver: Some(LogDriver::None),
                log_size_max: Some(1024),
                ..Default::default()
            },
            ..Default::default()
        };
        let host = vec![("http_proxy".to_string(), "http://p:3128".to_string()), ("SECRET".into(), "x".into())];
        let given = RunOptions {
            dns: vec!["1.1.1.1".into()],
            ulimits: vec!["nofile=5:6".into()],
            tz: Some("local".into()),
            ..Default::default()
        };
        let o = apply(&given, &conf, &host);
        assert!(o.read_only && o.init && !o.no_hosts);
        assert_eq!(o.dns, ["1.1.1.1"], "a flag wins");
        assert_eq!(o.ulimits, ["nproc=50", "nofile=5:6"]);
        assert_eq!(o.tz.as_deref(), Some("local"));
        assert_eq!(o.base_env, ["FROM_CONF=1", "http_proxy=http://p:3128"]);
        assert_eq!(o.default_caps, Some(vec!["CHOWN".to_string()]));
        assert_eq!(o.log_driver, None, "the configured driver is LogConfig's default, not a flag");
        assert_eq!(o.log_opts, ["max-size=1024"]);
        let host_too =
            apply(&RunOptions { env_host: true, http_proxy: Some(false), ..Default::default() }, &conf, &host);
        assert_eq!(host_too.base_env, ["FROM_CONF=1", "http_proxy=http://p:3128", "SECRET=x"]);
        let no_proxy = apply(&RunOptions { http_proxy: Some(false), ..Default::default() }, &conf, &host);
        assert_eq!(no_proxy.base_env, ["FROM_CONF=1"]);
        assert_eq!(apply(&RunOptions::default(), &ContainersConf::default(), &[]).ulimits, Vec::<String>::new());
    }
}
