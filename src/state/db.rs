//! The state database (SQLite, WAL): opening, schema migrations, busy handling.
//! Tables are read and written by the engine modules that own them; this file owns only the schema.

use rusqlite::Connection;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Mutex;
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
        let mut conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(BUSY).map_err(err)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).map_err(err)?;
        if version == SCHEMA_VERSION && mode.eq_ignore_ascii_case("wal") {
            configure(&mut conn, path).map_err(err)?;
            return Ok(conn);
        }
    }
    // Creating the file, switching it to WAL and migrating are serialised between processes:
    // SQLite answers "database is locked" at once (no busy wait) to a second process doing
    // the same on a brand-new database.
    let lock_path = path.with_extension("db.lock");
    let _guard = super::lock::FileLock::exclusive(&lock_path)
        .map_err(|e| DbError::Lock { path: lock_path.display().to_string(), source: e })?;
    let mut conn = Connection::open(path).map_err(err)?;
    conn.busy_timeout(BUSY).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    configure(&mut conn, path).map_err(err)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
    if version < SCHEMA_VERSION {
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"))
            .map_err(err)?;
    }
    Ok(conn)
}

/// How long a statement waits for another process's lock.
const BUSY: Duration = Duration::from_secs(30);

/// Frames the WAL may hold before the writer that passes it checkpoints at once.
const WAL_BACKSTOP: i32 = 256;
/// Frames past which [`tidy_wal`] checkpoints.
const WAL_TIDY: i32 = 32;

/// The database whose WAL this process's last commit left past [`WAL_TIDY`] frames, as
/// SQLite's WAL hook tells it.
static UNTIDY: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Per-connection settings.
fn configure(conn: &mut Connection, path: &Path) -> rusqlite::Result<()> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Short-lived processes open and close the database many times: checkpointing the WAL at
    // every close costs several fsyncs per command. A crash at any moment still leaves a
    // consistent database.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    // The WAL must stay short: every process is the database's first connection, and the
    // first connection reads the whole WAL to rebuild its index (~2 ms at 1000 pages, several
    // opens per `run`). But a checkpoint costs three fsyncs, and SQLite's autocheckpoint runs
    // it in whichever commit passes the limit — inside a `run`'s create or its `--rm`
    // removal, on the caller's critical path. So commits only count the frames; a monitor
    // checkpoints once its caller has its answer (`tidy_wal`). A commit checkpoints at once
    // only past a backstop (no monitor for a long time: pulls, builds).
    let path = path.to_path_buf();
    conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, frames: i32| {
        if frames >= WAL_BACKSTOP {
            // Its failure (another process checkpointing: busy) is no failure of the commit,
            // which is done: SQLite's own hook ignores it too.
            let _ = wal.checkpoint();
        }
        // Past the backstop too: a checkpoint alone does not start the WAL again.
        if let Ok(mut u) = UNTIDY.lock() {
            *u = (frames >= WAL_TIDY).then(|| path.clone());
        }
        Ok(())
    }))?;
    conn.pragma_update(None, "journal_size_limit", i64::from(WAL_BACKSTOP) * 4096)?;
    conn.pragma_update(None, "foreign_keys", "ON")
}

/// Checkpoints the WAL when this process's last commit left it past [`WAL_TIDY`] frames,
/// and starts it again. For work off the critical path: a monitor whose caller has its answer.
pub fn tidy_wal() {
    let Some(path) = UNTIDY.lock().ok().and_then(|mut u| u.take()) else { return };
    let done = super::dbpool::take(&path)
        .map_err(|e| e.to_string())
        .and_then(|conn| empty_wal(&conn).map_err(|e| e.to_string()));
    if let Err(e) = done {
        tracing::debug!("checkpoint of {}: {e}", path.display());
    }
}

/// Copies the WAL into the database (PASSIVE: writers are not held up during its fsyncs),
/// then, when all of it was copied, commits one page so that SQLite starts the WAL again
/// from its beginning. That restart matters: every process opens the database as its first
/// connection, whose recovery forgets what was copied, so a WAL that is only copied is never
/// restarted by the next process and is copied whole again each time. Restarting here, not
/// by truncating the file, also keeps the WAL header's fsync off the next caller's path.
fn empty_wal(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::wal::CheckpointMode;
    let (frames, copied) = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE)?;
    if frames > 0 && frames == copied {
        // The version as it is (a monitor of an older kiste may outlive a migration).
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let kept = conn
            .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
            .and_then(|v| conn.pragma_update(None, "user_version", v));
        conn.execute_batch(if kept.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
        kept?;
    }
    Ok(())
}

/// Seconds since the epoch, as stored in `added` columns.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn opens_twice_and_migrates_once() {
        let dir = crate::testutil::tmpdir("db");
        let p = dir.join("k.db");
        let c = super::open(&p).unwrap();
        c.execute("INSERT INTO layers(diff_id,size,added) VALUES('x',1,0)", []).unwrap();
        drop(c);
        let c = super::open(&p).unwrap();
        let n: i64 = c.query_row("SELECT count(*) FROM layers", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Frames in the WAL as a new process sees it (its first connection recovers the index).
    fn frames_after_recovery(p: &std::path::Path) -> i32 {
        let c = super::open(p).unwrap();
        c.wal_checkpoint_v2(None::<&str>, rusqlite::wal::CheckpointMode::PASSIVE).unwrap().0
    }

    #[test]
    fn commits_leave_the_wal_to_the_tidy_checkpoint_which_starts_it_again() {
        let dir = crate::testutil::tmpdir("db-wal");
        let p = dir.join("k.db");
        let c = super::open(&p).unwrap();
        for i in 0..super::WAL_TIDY + 8 {
            c.execute("INSERT INTO layers(diff_id,size,added) VALUES(?1,1,0)", [i.to_string()]).unwrap();
        }
        // No commit checkpointed on its own (below the backstop): each left its frames.
        let (frames, _) = c.wal_checkpoint_v2(None::<&str>, rusqlite::wal::CheckpointMode::PASSIVE).unwrap();
        assert!(frames > super::WAL_TIDY, "{frames}");
        drop(c);
        // Copied but not restarted: the next process's recovery sees the whole WAL again.
        assert!(frames_after_recovery(&p) > super::WAL_TIDY);
        let c = super::open(&p).unwrap();
        super::empty_wal(&c).unwrap();
        drop(c);
        assert_eq!(frames_after_recovery(&p), 1, "started again with the one page written");
        let c = super::open(&p).unwrap();
        let n: i64 = c.query_row("SELECT count(*) FROM layers", [], |r| r.get(0)).unwrap();
        assert_eq!(n, i64::from(super::WAL_TIDY + 8));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
