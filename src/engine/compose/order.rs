//! Runs one piece of work per service, each in its own thread, a service's work only once the
//! work of the services it waits for has succeeded (`up` waits for dependencies, `down` for
//! dependents): independent services proceed in parallel. Knows nothing of containers.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

/// How one node's work ended.
#[derive(Debug, Clone)]
pub enum Outcome<E> {
    Done,
    Failed(E),
    /// Not run: the node it waited for (named) failed or was skipped.
    Skipped(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Waiting,
    Done,
    NotDone,
}

/// Runs `work(node)` for every node of `waits_for` (node -> the nodes it waits for; nodes
/// not in the map are not waited for) and returns each node's outcome.
pub fn run<E, F>(waits_for: &BTreeMap<String, Vec<String>>, work: F) -> BTreeMap<String, Outcome<E>>
where
    E: Send,
    F: Fn(&str) -> Result<(), E> + Sync,
{
    let marks: Mutex<BTreeMap<&str, Mark>> =
        Mutex::new(waits_for.keys().map(|k| (k.as_str(), Mark::Waiting)).collect());
    let changed = Condvar::new();
    let (marks, changed, work) = (&marks, &changed, &work);
    std::thread::scope(|scope| {
        let handles: Vec<_> = waits_for
            .iter()
            .map(|(node, deps)| {
                let deps: Vec<&str> = deps.iter().map(String::as_str).filter(|d| waits_for.contains_key(*d)).collect();
                scope.spawn(move || {
                    let outcome = match wait_for(marks, changed, &deps) {
                        Some(bad) => Outcome::Skipped(bad.to_string()),
                        None => match work(node) {
                            Ok(()) => Outcome::Done,
                            Err(e) => Outcome::Failed(e),
                        },
                    };
                    let mark = if outcome.is_done() { Mark::Done } else { Mark::NotDone };
                    if let Ok(mut m) = marks.lock() {
                        m.insert(node.as_str(), mark);
                    }
                    changed.notify_all();
                    (node.clone(), outcome)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    })
}

impl<E> Outcome<E> {
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Done)
    }
}

/// Waits until every one of `deps` has finished; returns the first that did not succeed.
fn wait_for<'a>(marks: &Mutex<BTreeMap<&str, Mark>>, changed: &Condvar, deps: &[&'a str]) -> Option<&'a str> {
    let Ok(mut m) = marks.lock() else { return deps.first().copied() };
    loop {
        if let Some(bad) = deps.iter().find(|d| m.get(**d) == Some(&Mark::NotDone)) {
            return Some(bad);
        }
        if deps.iter().all(|d| m.get(*d) == Some(&Mark::Done)) {
            return None;
        }
        m = match changed.wait(m) {
            Ok(m) => m,
            Err(_) => return deps.first().copied(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        edges.iter().map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[test]
    fn dependencies_first_independent_ones_together() {
        let g = graph(&[("db", &[]), ("cache", &[]), ("web", &["db", "cache"]), ("other", &["gone"])]);
        let log = Mutex::new(Vec::new());
        let t0 = Instant::now();
        let out = run(&g, |n: &str| -> Result<(), String> {
            std::thread::sleep(Duration::from_millis(100));
            log.lock().unwrap().push(n.to_string());
            Ok(())
        });
        // db, cache and other in parallel, then web: two rounds, not four.
        assert!(t0.elapsed() < Duration::from_millis(350), "{:?}", t0.elapsed());
        assert_eq!(log.lock().unwrap().last().map(String::as_str), Some("web"));
        assert!(out.values().all(Outcome::is_done));
    }

    #[test]
    fn a_failure_skips_what_waits_for_it() {
        let g = graph(&[("init", &[]), ("db", &["init"]), ("web", &["db"]), ("side", &[])]);
        let out = run(&g, |n: &str| if n == "init" { Err(format!("{n} broke")) } else { Ok(()) });
        assert!(matches!(&out["init"], Outcome::Failed(e) if e == "init broke"));
        assert!(matches!(&out["db"], Outcome::Skipped(d) if d == "init"));
        assert!(matches!(&out["web"], Outcome::Skipped(d) if d == "db"));
        assert!(matches!(out["side"], Outcome::Done));
    }
}
