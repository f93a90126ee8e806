//! The state database (SQLite, WAL): opening, schema migrations, busy handling.
//! Tables are read and written by the engine modules that own them; this file owns only the schema.

use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("state database {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("cannot lock {path}: {source}")]
    Lock { path: String, source: std::io::Error },
    #[error("state database: {0}")]
    Sql(#[from] rusqlite::Error),
}

const SCHEMA_VERSION: i64 = 5;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    manifest TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    manifest_media_type TEXT NOT NULL,
    created TEXT,
    size INTEGER NOT NULL,
    added INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS image_names (
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    added INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS image_names_by_image ON image_names(image_id);
CREATE TABLE IF NOT EXISTS image_digests (
    repo TEXT NOT NULL,
    digest TEXT NOT NULL,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    PRIMARY KEY (repo, digest)
);
CREATE INDEX IF NOT EXISTS image_digests_by_image ON image_digests(image_id);
CREATE TABLE IF NOT EXISTS layers (
    diff_id TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    blob_digest TEXT,
    added INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    diff_id TEXT NOT NULL REFERENCES layers(diff_id),
    PRIMARY KEY (image_id, idx)
);
CREATE INDEX IF NOT EXISTS image_layers_by_layer ON image_layers(diff_id);
CREATE TABLE IF NOT EXISTS containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    image_name TEXT NOT NULL,
    command TEXT NOT NULL,
    created INTEGER NOT NULL,
    state TEXT NOT NULL,
    pid INTEGER,
    monitor_pid INTEGER,
    exit_code INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    boot_id TEXT,
    options TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS containers_by_image ON containers(image_id);
CREATE TABLE IF NOT EXISTS volumes (
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL,
    created INTEGER NOT NULL,
    labels TEXT NOT NULL,
    options TEXT NOT NULL,
    anonymous INTEGER NOT NULL DEFAULT 0,
    needs_init INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS build_cache (
    key TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    parent_id TEXT,
    added INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS build_cache_by_image ON build_cache(image_id);
CREATE TABLE IF NOT EXISTS layer_blobs (
    diff_id TEXT NOT NULL,
    compression TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    tar_digest TEXT NOT NULL,
    added INTEGER NOT NULL,
    PRIMARY KEY (diff_id, compression, digest)
);
CREATE TABLE IF NOT EXISTS blob_locations (
    digest TEXT NOT NULL,
    repo TEXT NOT NULL,
    added INTEGER NOT NULL,
    PRIMARY KEY (digest, repo)
);
";

/// Opens (creating if needed) the database at `path` and brings the schema up to date.
pub fn open(path: &Path) -> Result<Connection, DbError> {
    let err = |source| DbError::Open { path: path.display().to_string(), source };
    // Fast path for every command after the first: an existing database already in WAL mode
    // (persistent) with the current schema needs neither the creation lock nor migration.
    if path.exists() {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).map_err(err)?;
        if version == SCHEMA_VERSION && mode.eq_ignore_ascii_case("wal") {
            configure(&conn).map_err(err)?;
            return Ok(conn);
        }
    }
    // Creating the file, switching it to WAL and migrating are serialised between processes:
    // SQLite answers "database is locked" at once (no busy wait) to a second process doing
    // the same on a brand-new database.
    let lock_path = path.with_extension("db.lock");
    let _guard = super::lock::FileLock::exclusive(&lock_path)
        .map_err(|e| DbError::Lock { path: lock_path.display().to_string(), source: e })?;
    let conn = Connection::open(path).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    configure(&conn).map_err(err)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
    if version < SCHEMA_VERSION {
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"))
            .map_err(err)?;
    }
    Ok(conn)
}

/// Pages the WAL may hold before the writer that passes it checkpoints.
const WAL_PAGES: i64 = 64;

/// Per-connection settings.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Short-lived processes open and close the database many times: checkpointing the WAL at
    // every close costs several fsyncs per command. SQLite checkpoints when the WAL grows past
    // its limit instead; a crash at any moment still leaves a consistent database.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    // That limit is small: every process is the database's first connection, and the first
    // connection reads the whole WAL to rebuild its index (with SQLite's default of 1000
    // pages, ~2 ms per open, several opens per `run`). A checkpoint every 64 pages costs
    // less than that.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_PAGES)?;
    conn.pragma_update(None, "journal_size_limit", WAL_PAGES * 4096)?;
    conn.pragma_update(None, "foreign_keys", "ON")
}

/// Seconds since the epoch, as stored in `added` columns.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn opens_twice_and_migrates_once() {
        let dir = std::env::temp_dir().join(format!("kiste-db-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("k.db");
        let c = super::open(&p).unwrap();
        c.execute("INSERT INTO layers(diff_id,size,added) VALUES('x',1,0)", []).unwrap();
        drop(c);
        let c = super::open(&p).unwrap();
        let n: i64 = c.query_row("SELECT count(*) FROM layers", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
