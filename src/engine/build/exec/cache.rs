//! The layer cache: each step's result is an intermediate image recorded under a key — the
//! digest of the previous step's key, the step's text (expanded arguments and the build args
//! it sees) and, for COPY/ADD, its sources' content — so a later build with the same inputs
//! reuses it, and changing one input changes the keys of exactly that step and the ones after.
//! Keys live in the state database (`build_cache`) beside the images they name; removing an
//! image removes its keys.

use rusqlite::{Connection, OptionalExtension, params};

/// The key of a step: parent key, the step's cache text, its content checksum ("" if none).
pub fn key(parent: &str, step_text: &str, content: &str) -> String {
    crate::util::sha256_bytes(format!("{parent}\n{step_text}\n{content}").as_bytes())
}

/// The image recorded under `key`, if it is still there.
pub fn lookup(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT c.image_id FROM build_cache c JOIN images i ON i.id = c.image_id WHERE c.key = ?1",
        [key],
        |r| r.get(0),
    )
    .optional()
}

/// Records `image_id` (built on `parent_id`) under `key`.
pub fn record(conn: &Connection, key: &str, image_id: &str, parent_id: Option<&str>) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO build_cache(key, image_id, parent_id, added) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id, parent_id = excluded.parent_id",
        params![key, image_id, parent_id, crate::state::db::now()],
    )?;
    Ok(())
}

/// The intermediate images: recorded under a cache key and without a name.
pub fn intermediates(conn: &Connection) -> rusqlite::Result<Vec<(String, Option<String>)>> {
    let mut st = conn.prepare(
        "SELECT DISTINCT c.image_id, c.parent_id FROM build_cache c
         WHERE NOT EXISTS (SELECT 1 FROM image_names n WHERE n.image_id = c.image_id)",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_change_with_every_input() {
        let k = super::key("p", "RUN x", "");
        assert_eq!(k, super::key("p", "RUN x", ""));
        assert_ne!(k, super::key("q", "RUN x", ""));
        assert_ne!(k, super::key("p", "RUN y", ""));
        assert_ne!(k, super::key("p", "RUN x", "sha256:1"));
    }
}
