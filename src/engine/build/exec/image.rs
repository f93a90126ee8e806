//! The image a build is making: its config document (kept as JSON, so keys of base images
//! that kiste does not model survive), its layers and history; what each config instruction
//! changes; and recording it in the image store — each step's result as an intermediate image
//! (under its cache key), the last one with its names. An ID is the digest of the config as
//! serialised (sorted keys), so the same build gives the same ID.

use super::BuildError;
use super::options::ImageFormat;
use crate::engine::build::plan::{ConfigChange, HealthcheckKey};
use crate::engine::image::platform::Platform;
use crate::engine::image::store::{self, ImageRecord, NewImage};
use serde_json::{Map, Value, json};

/// The image being built, step by step.
#[derive(Debug, Clone)]
pub struct Work {
    /// The stored image this state is (None until recorded).
    pub id: Option<String>,
    pub doc: Value,
    /// (diff ID, size), bottom first.
    pub layers: Vec<(String, u64)>,
}

/// RFC 3339 text of `t` (Unix seconds), as image configs write times.
pub fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Work {
    /// An image with nothing in it (FROM scratch).
    pub fn scratch(platform: &Platform) -> Work {
        let mut doc = json!({
            "architecture": platform.arch,
            "os": platform.os,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": []},
            "history": [],
        });
        if let (Some(v), Some(m)) = (&platform.variant, doc.as_object_mut()) {
            m.insert("variant".into(), json!(v));
        }
        Work { id: None, doc, layers: Vec::new() }
    }

    /// A stored image (a base image, a cached step); `sizes` are the store's layer sizes.
    pub fn from_record(rec: &ImageRecord, sizes: &std::collections::HashMap<String, u64>) -> Result<Work, BuildError> {
        let doc: Value = serde_json::from_str(&rec.config)
            .map_err(|e| BuildError::Invalid(format!("image {} has a bad config: {e}", rec.id)))?;
        let layers = rec.layers.iter().map(|l| (l.clone(), sizes.get(l).copied().unwrap_or(0))).collect();
        Ok(Work { id: Some(rec.id.clone()), doc, layers })
    }

    /// The `config` section (Env, Cmd, ...), made when missing.
    pub fn config(&mut self) -> &mut Map<String, Value> {
        if !self.doc.get("config").is_some_and(Value::is_object) {
            self.set("config", json!({}));
        }
        match self.doc.get_mut("config") {
            Some(Value::Object(m)) => m,
            _ => unreachable!("set above"),
        }
    }

    pub fn set(&mut self, key: &str, v: Value) {
        if let Some(m) = self.doc.as_object_mut() {
            m.insert(key.into(), v);
        }
    }

    /// The config's Env as a list of `K=V`.
    pub fn env(&self) -> Vec<String> {
        self.doc["config"]["Env"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or_default()
    }

    /// Sets `K=V` in Env, replacing an earlier K.
    pub fn set_env(&mut self, k: &str, v: &str) {
        let mut env = self.env();
        env.retain(|e| e.split('=').next() != Some(k));
        env.push(format!("{k}={v}"));
        self.config().insert("Env".into(), json!(env));
    }

    fn map_insert(&mut self, key: &str, k: &str, v: Value) {
        let c = self.config();
        if !c.get(key).is_some_and(Value::is_object) {
            c.insert(key.into(), json!({}));
        }
        if let Some(Value::Object(m)) = c.get_mut(key) {
            m.insert(k.into(), v);
        }
    }

    /// Applies a config instruction. Returns a warning when the format cannot keep it.
    pub fn apply(&mut self, change: &ConfigChange, format: ImageFormat) -> Option<String> {
        let docker_only = |what: &str| {
            Some(format!("{what} is not supported for OCI image format and will be ignored. Must use `docker` format"))
        };
        match change {
            ConfigChange::Env(pairs) => pairs.iter().for_each(|(k, v)| self.set_env(k, v)),
            ConfigChange::Cmd(argv) => {
                self.config().insert("Cmd".into(), json!(argv));
            }
            ConfigChange::Entrypoint { argv, reset_cmd } => {
                self.config().insert("Entrypoint".into(), json!(argv));
                if *reset_cmd {
                    self.config().remove("Cmd");
                }
            }
            ConfigChange::Workdir(w) => {
                self.config().insert("WorkingDir".into(), json!(w));
            }
            ConfigChange::Label(pairs) => pairs.iter().for_each(|(k, v)| self.map_insert("Labels", k, json!(v))),
            ConfigChange::Expose(ports) => ports.iter().for_each(|p| self.map_insert("ExposedPorts", p, json!({}))),
            ConfigChange::User(u) => {
                self.config().insert("User".into(), json!(u));
            }
            ConfigChange::Volume(vs) => vs.iter().for_each(|v| self.map_insert("Volumes", v, json!({}))),
            ConfigChange::StopSignal(s) => {
                self.config().insert("StopSignal".into(), json!(s));
            }
            ConfigChange::Healthcheck(h) if format == ImageFormat::Docker => {
                self.config().insert("Healthcheck".into(), healthcheck_json(h));
            }
            ConfigChange::Healthcheck(_) => return docker_only("HEALTHCHECK"),
            ConfigChange::Shell(s) if format == ImageFormat::Docker => {
                self.config().insert("Shell".into(), json!(s));
            }
            ConfigChange::Shell(s) => return docker_only(&format!("SHELL {s:?}")),
            ConfigChange::OnBuild(t) if format == ImageFormat::Docker => {
                let c = self.config();
                let mut list: Vec<Value> = c.get("OnBuild").and_then(Value::as_array).cloned().unwrap_or_default();
                list.push(json!(t));
                c.insert("OnBuild".into(), json!(list));
            }
            ConfigChange::OnBuild(_) => return docker_only("ONBUILD"),
            ConfigChange::Maintainer(m) => self.set("author", json!(m)),
            ConfigChange::Arg(_) => {}
        }
        None
    }

    pub fn add_layer(&mut self, diff_id: &str, size: u64) {
        self.layers.push((diff_id.to_string(), size));
        let ids: Vec<&str> = self.layers.iter().map(|(d, _)| d.as_str()).collect();
        self.set("rootfs", json!({"type": "layers", "diff_ids": ids}));
    }

    /// Replaces the layers from index `base` on with one (a squash); the history's entries
    /// for them all become empty but the last.
    pub fn squash_from(&mut self, base: usize, diff_id: &str, size: u64) {
        let gone = self.layers.len().saturating_sub(base);
        self.layers.truncate(base);
        self.add_layer(diff_id, size);
        let mut list = self.doc.get("history").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut seen = 0;
        for h in list.iter_mut().rev() {
            if h["empty_layer"].as_bool().unwrap_or(false) || seen >= gone {
                continue;
            }
            seen += 1;
            if seen > 1
                && let Some(m) = h.as_object_mut()
            {
                m.insert("empty_layer".into(), json!(true));
            }
        }
        self.set("history", json!(list));
    }

    /// A history entry for a step, at `created`.
    pub fn add_history(&mut self, created_by: &str, empty_layer: bool, created: &str) {
        self.add_history_comment(created_by, empty_layer, created, "");
    }

    /// A history entry with a comment (commit's and import's `--message`; none when empty).
    pub fn add_history_comment(&mut self, created_by: &str, empty_layer: bool, created: &str, comment: &str) {
        let mut h = json!({"created": created, "created_by": created_by});
        if !comment.is_empty()
            && let Some(m) = h.as_object_mut()
        {
            m.insert("comment".into(), json!(comment));
        }
        if empty_layer && let Some(m) = h.as_object_mut() {
            m.insert("empty_layer".into(), json!(true));
        }
        let mut list = self.doc.get("history").and_then(Value::as_array).cloned().unwrap_or_default();
        list.push(h);
        self.set("history", json!(list));
        self.set("created", json!(created));
    }

    /// The config bytes and the image ID they give.
    pub fn serialise(&self) -> (Vec<u8>, String) {
        let bytes = serde_json::to_vec(&self.doc).unwrap_or_default();
        let id = crate::util::sha256_bytes(&bytes);
        (bytes, id)
    }

    /// Records this state as an image (a name for the final one), returning its ID.
    pub fn record(
        &mut self,
        conn: &mut rusqlite::Connection,
        format: ImageFormat,
        name: Option<&str>,
    ) -> Result<String, BuildError> {
        let (config, id) = self.serialise();
        let (manifest_type, config_type, layer_type) = match format {
            ImageFormat::Oci => (
                crate::engine::image::registry::OCI_MANIFEST,
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar",
            ),
            ImageFormat::Docker => (
                crate::engine::image::registry::DOCKER_MANIFEST,
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar",
            ),
        };
        let layers: Vec<Value> =
            self.layers.iter().map(|(d, s)| json!({"mediaType": layer_type, "digest": d, "size": s})).collect();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": id, "size": config.len()},
            "layers": layers,
        }))
        .unwrap_or_default();
        let rows: Vec<(String, u64, String)> = self.layers.iter().map(|(d, s)| (d.clone(), *s, d.clone())).collect();
        let created = self.doc.get("created").and_then(Value::as_str).map(String::from);
        let config_text = String::from_utf8_lossy(&config).into_owned();
        store::insert(
            conn,
            &NewImage {
                id: &id,
                config: &config_text,
                manifest: &String::from_utf8_lossy(&manifest),
                manifest_digest: &crate::util::sha256_bytes(&manifest),
                manifest_media_type: manifest_type,
                created: created.as_deref(),
                layers: &rows,
                name,
                repo_digests: &[],
            },
        )?;
        self.id = Some(id.clone());
        Ok(id)
    }
}

/// Docker's Healthcheck object (durations in nanoseconds).
fn healthcheck_json(h: &HealthcheckKey) -> Value {
    match h {
        HealthcheckKey::None => json!({"Test": ["NONE"]}),
        HealthcheckKey::Check { test, interval, timeout, start_period, start_interval, retries } => {
            let mut m = Map::new();
            m.insert("Test".into(), json!(test));
            for (k, v) in [
                ("Interval", *interval),
                ("Timeout", *timeout),
                ("StartPeriod", *start_period),
                ("StartInterval", *start_interval),
            ] {
                if v > 0 {
                    m.insert(k.into(), json!(v));
                }
            }
            if *retries > 0 {
                m.insert("Retries".into(), json!(retries));
            }
            Value::Object(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_changes_land_where_docker_puts_them() {
        let mut w = Work::scratch(&Platform::host());
        w.apply(&ConfigChange::Env(vec![("A".into(), "1".into())]), ImageFormat::Oci);
        w.apply(&ConfigChange::Env(vec![("A".into(), "2".into()), ("B".into(), "x y".into())]), ImageFormat::Oci);
        assert_eq!(w.env(), ["A=2", "B=x y"]);
        w.apply(&ConfigChange::Cmd(vec!["sh".into()]), ImageFormat::Oci);
        w.apply(&ConfigChange::Entrypoint { argv: vec!["/ep".into()], reset_cmd: true }, ImageFormat::Oci);
        assert!(w.doc["config"].get("Cmd").is_none());
        assert_eq!(w.doc["config"]["Entrypoint"], json!(["/ep"]));
        w.apply(&ConfigChange::Expose(vec!["5000/tcp".into()]), ImageFormat::Oci);
        assert_eq!(w.doc["config"]["ExposedPorts"], json!({"5000/tcp": {}}));
        let hc = ConfigChange::Healthcheck(HealthcheckKey::None);
        assert!(w.apply(&hc, ImageFormat::Oci).unwrap().contains("HEALTHCHECK"));
        assert!(w.apply(&hc, ImageFormat::Docker).is_none());
        assert_eq!(w.doc["config"]["Healthcheck"], json!({"Test": ["NONE"]}));
        w.add_layer("sha256:aa", 3);
        w.add_history("/bin/sh -c true", false, &rfc3339(0));
        assert_eq!(w.doc["rootfs"]["diff_ids"], json!(["sha256:aa"]));
        assert_eq!(w.doc["created"], json!("1970-01-01T00:00:00Z"));
        // Same document, same ID.
        assert_eq!(w.serialise().1, w.clone().serialise().1);
    }
}
