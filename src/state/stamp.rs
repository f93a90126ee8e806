//! Moments to the nanosecond, as Podman keeps them (a container's created, started and
//! finished, a volume's creation): stored as nanoseconds since the epoch in INTEGER columns. Stores
//! written before kept whole seconds there; a value too small to be nanoseconds of this
//! era reads as seconds. Knows nothing of records beyond the column's value.

use chrono::{DateTime, Utc};
use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// Below this a stored value is seconds (10^13 s is year 318857; 10^13 ns is 1970-04-26).
const SECONDS_BELOW: i64 = 10_000_000_000_000;
const NANOS: i64 = 1_000_000_000;

/// A moment, in nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(i64);

impl Stamp {
    pub fn now() -> Stamp {
        Stamp(Utc::now().timestamp_nanos_opt().unwrap_or(0))
    }

    pub fn from_secs(secs: i64) -> Stamp {
        Stamp(secs.saturating_mul(NANOS))
    }

    /// Whole seconds since the epoch (Podman's `StartedAt`/`ExitedAt` in `ps` JSON).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(NANOS)
    }

    pub fn nanos(self) -> i64 {
        self.0
    }

    /// How long ago this was (zero for a moment in the future).
    pub fn elapsed(self) -> std::time::Duration {
        std::time::Duration::from_nanos(Stamp::now().0.saturating_sub(self.0).max(0) as u64)
    }

    pub fn datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// RFC 3339 with the nanoseconds, UTC as `Z` (Go's RFC3339Nano, inspect's times).
    pub fn rfc3339(self) -> String {
        crate::util::go_rfc3339(&self.datetime().fixed_offset())
    }

    /// `2006-01-02 15:04:05.999999999 +0000 UTC`, as Go prints a time (`ps`'s CreatedAt).
    pub fn go_string(self) -> String {
        crate::util::go_time_string(&self.datetime().fixed_offset())
    }

    /// "5 minutes ago", as Podman prints ages.
    pub fn ago(self) -> String {
        crate::util::human_age(self.datetime())
    }
}

/// Go's zero time in RFC 3339, what Podman shows for a moment that has not happened.
pub const ZERO_RFC3339: &str = "0001-01-01T00:00:00Z";

/// `t` in RFC 3339, or Go's zero time.
pub fn rfc3339(t: Option<Stamp>) -> String {
    t.map_or_else(|| ZERO_RFC3339.to_string(), Stamp::rfc3339)
}

impl ToSql for Stamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0))
    }
}

impl FromSql for Stamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let v = i64::column_result(value)?;
        Ok(if v.abs() < SECONDS_BELOW { Stamp::from_secs(v) } else { Stamp(v) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_seconds_and_new_nanoseconds_both_read() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let read = |v: i64| conn.query_row("SELECT ?1", [v], |r| r.get::<_, Stamp>(0)).unwrap();
        assert_eq!(read(1_796_073_590), Stamp(1_796_073_590 * NANOS));
        assert_eq!(read(1_796_073_590_123_456_789), Stamp(1_796_073_590_123_456_789));
        let back: i64 = conn.query_row("SELECT ?1", [Stamp(5 * NANOS + 7)], |r| r.get(0)).unwrap();
        assert_eq!(back, 5 * NANOS + 7);
    }

    #[test]
    fn printed_as_go_prints_times() {
        let t = Stamp(1_796_073_590_123_456_000);
        assert_eq!(t.rfc3339(), "2026-11-30T21:19:50.123456Z");
        assert_eq!(t.go_string(), "2026-11-30 21:19:50.123456 +0000 UTC");
        assert_eq!(Stamp::from_secs(1_796_073_590).go_string(), "2026-11-30 21:19:50 +0000 UTC");
        assert_eq!(Stamp::from_secs(1_796_073_590).rfc3339(), "2026-11-30T21:19:50Z");
        assert_eq!(t.secs(), 1_796_073_590);
        assert_eq!(rfc3339(None), "0001-01-01T00:00:00Z");
    }
}
