//! One reusable database connection per thread. Opening costs half a millisecond (files,
//! locks, pragmas, the schema parsed again by the first statement) and a `run` asked for a
//! connection nine times across its processes; now each process opens one and hands it
//! back after each use. A handle taken while another is out opens a second connection, as
//! before. A connection goes back only outside a transaction, and is reused only while the
//! database file is the one it opened (`system reset` moves the store away). Owns nothing
//! but that slot; the schema and opening stay in `db`.

use super::db::{DbError, open};
use rusqlite::Connection;
use std::cell::RefCell;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The pooled connection: the database file's path and identity (device, inode).
struct Slot {
    path: PathBuf,
    file: (u64, u64),
    conn: Connection,
}

/// Connections this process has open (pooled or out).
static OPEN: AtomicUsize = AtomicUsize::new(0);

impl Drop for Slot {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

thread_local! {
    static SLOT: RefCell<Option<Slot>> = const { RefCell::new(None) };
}

/// A connection to the database at `path`, the thread's pooled one when it is free.
pub struct Pooled {
    slot: Option<Slot>,
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The connection to `path`: the pooled one if free and still the same file, else a new one.
pub fn take(path: &Path) -> Result<Pooled, DbError> {
    let pooled = SLOT.with(|s| s.borrow_mut().take());
    if let Some(slot) = pooled
        && slot.path == path
        && identity(path) == Some(slot.file)
    {
        return Ok(Pooled { slot: Some(slot) });
    }
    let conn = open(path)?;
    OPEN.fetch_add(1, Ordering::Relaxed);
    let file = identity(path).unwrap_or_default();
    Ok(Pooled { slot: Some(Slot { path: path.to_path_buf(), file, conn }) })
}

/// Before a fork whose child will use the database: closes the pooled connection and says
/// whether none is left open. SQLite's per-process lock state must not cross a fork with a
/// connection open (its child then fails with "locking protocol").
pub fn close_all() -> bool {
    drop(SLOT.with(|s| s.borrow_mut().take()));
    OPEN.load(Ordering::Relaxed) == 0
}

impl std::ops::Deref for Pooled {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Present from construction until drop.
        &self.slot.as_ref().expect("pooled connection").conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.slot.as_mut().expect("pooled connection").conn
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else { return };
        if !slot.conn.is_autocommit() {
            return;
        }
        // Thread-local storage is gone while the thread exits: the connection just closes.
        let _ = SLOT.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.is_none() {
                *s = Some(slot);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marks connection `c` (a temporary table only it sees).
    fn mark(c: &Connection) {
        c.execute_batch("CREATE TEMP TABLE IF NOT EXISTS mark (x INTEGER)").unwrap();
    }

    fn marked(c: &Connection) -> bool {
        c.query_row("SELECT count(*) FROM temp.sqlite_master WHERE name = 'mark'", [], |r| r.get::<_, i64>(0)).unwrap()
            == 1
    }

    #[test]
    fn a_returned_connection_is_reused_and_a_moved_database_is_not() {
        let dir = std::env::temp_dir().join(format!("kiste-dbpool-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("k.db");
        let first = take(&p).unwrap();
        mark(&first);
        drop(first);
        let again = take(&p).unwrap();
        assert!(marked(&again), "the returned connection is reused");
        // While one is out, a second handle is another connection.
        let second = take(&p).unwrap();
        assert!(!marked(&second));
        drop(second);
        drop(again);
        // The pool keeps the one returned first.
        assert!(!marked(&take(&p).unwrap()));
        let pooled = take(&p).unwrap();
        mark(&pooled);
        drop(pooled);
        // The store moved away (system reset) and a new database made: a new connection.
        std::fs::rename(&p, dir.join("old.db")).unwrap();
        assert!(!marked(&take(&p).unwrap()));
        // Inside a transaction it is not handed back.
        let mut tx_conn = take(&p).unwrap();
        mark(&tx_conn);
        let tx = tx_conn.transaction().unwrap();
        std::mem::forget(tx);
        drop(tx_conn);
        assert!(!marked(&take(&p).unwrap()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
