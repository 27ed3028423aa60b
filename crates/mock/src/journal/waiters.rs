//! Who waits for which entries.
//!
//! An arriving entry must wake only the waiters it matches, and cheaply: most waits name a
//! click id (the runner's, a partner's test), some a tracking id. Waiters are kept by the one
//! they name, so an arrival looks up its own click id and tracking id and checks only the
//! waiters filed under them, plus the few that name neither.

use super::filter::{tracking_id_in, Filter, Parts};
use foldhash::HashMap;
use metrica_s2s_rules::parse_input;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Debug)]
pub(super) struct Waiter {
    filter: Filter,
    /// Entries from this sequence number on are counted here; older ones were counted by the
    /// waiter's own look at the ring.
    from: u64,
    hits: AtomicUsize,
    notify: Notify,
}

impl Waiter {
    pub(crate) fn new(filter: Filter, from: u64) -> Waiter {
        Waiter {
            filter,
            from,
            hits: AtomicUsize::new(0),
            notify: Notify::new(),
        }
    }

    /// Matching entries that arrived since the waiter was filed.
    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::Acquire)
    }

    pub(crate) async fn woken(&self) {
        self.notify.notified().await;
    }

    pub(crate) fn wake(&self) {
        self.hits.fetch_add(1, Ordering::AcqRel);
        self.notify.notify_one();
    }
}

#[derive(Debug, Default)]
pub(super) struct Waiters {
    by_click_id: HashMap<Vec<u8>, Vec<Arc<Waiter>>>,
    by_tracking_id: HashMap<Vec<u8>, Vec<Arc<Waiter>>>,
    rest: Vec<Arc<Waiter>>,
}

impl Waiters {
    pub(crate) fn add(&mut self, w: Arc<Waiter>) {
        self.bucket(&w.filter).push(w);
    }

    pub(crate) fn remove(&mut self, w: &Arc<Waiter>) {
        let filter = &w.filter;
        let emptied = {
            let bucket = self.bucket(filter);
            bucket.retain(|x| !Arc::ptr_eq(x, w));
            bucket.is_empty()
        };
        if emptied {
            if let Some(c) = &filter.click_id {
                self.by_click_id.remove(c.as_bytes());
            } else if let Some(t) = &filter.tracking_id {
                self.by_tracking_id.remove(t.as_bytes());
            }
        }
    }

    fn bucket(&mut self, filter: &Filter) -> &mut Vec<Arc<Waiter>> {
        if let Some(c) = &filter.click_id {
            self.by_click_id.entry(c.as_bytes().to_vec()).or_default()
        } else if let Some(t) = &filter.tracking_id {
            self.by_tracking_id
                .entry(t.as_bytes().to_vec())
                .or_default()
        } else {
            &mut self.rest
        }
    }

    /// The waiters entry `e` is news to: those whose filter it matches, filed before it came.
    pub(crate) fn matching(&self, e: &Parts<'_>) -> Vec<Arc<Waiter>> {
        let mut found = Vec::new();
        let mut consider = |bucket: Option<&Vec<Arc<Waiter>>>| {
            for w in bucket.into_iter().flatten() {
                if e.seq >= w.from && w.filter.matches(e) {
                    found.push(w.clone());
                }
            }
        };
        if !self.by_click_id.is_empty() {
            if let Ok(request) = parse_input(e.target) {
                if let Some(c) = request.value("click_id") {
                    consider(self.by_click_id.get(c.as_ref()));
                }
            }
        }
        if !self.by_tracking_id.is_empty() {
            if let Some(t) = tracking_id_in(e.target) {
                consider(self.by_tracking_id.get(t));
            }
        }
        consider(Some(&self.rest));
        found
    }
}

#[cfg(test)]
mod tests {
    use crate::journal::filter::{Filter, Parts};
    use crate::journal::waiters::{Waiter, Waiters};
    use metrica_s2s_rules::Kind;
    use std::sync::Arc;

    fn parts(seq: u64, target: &str) -> Parts<'_> {
        Parts {
            seq,
            kind: Kind::Click,
            status: 204,
            target: target.as_bytes(),
            diagnostics: &[],
            fault: None,
        }
    }

    #[test]
    fn an_arrival_finds_only_the_waiters_it_matches() {
        let mut w = Waiters::default();
        let by_click = Arc::new(Waiter::new(
            Filter {
                click_id: Some("a b".into()),
                ..Filter::default()
            },
            1,
        ));
        let by_tracker = Arc::new(Waiter::new(
            Filter {
                tracking_id: Some("7".into()),
                ..Filter::default()
            },
            5,
        ));
        let by_status = Arc::new(Waiter::new(
            Filter {
                status: Some(400),
                ..Filter::default()
            },
            1,
        ));
        for x in [&by_click, &by_tracker, &by_status] {
            w.add(x.clone());
        }
        let found = |w: &Waiters, seq, target| w.matching(&parts(seq, target)).len();
        assert_eq!(
            found(&w, 3, "/serve/1?click_id=a%20b"),
            1,
            "the click id, decoded"
        );
        assert_eq!(found(&w, 3, "/serve/1?click_id=other"), 0);
        assert_eq!(
            found(&w, 3, "/serve/7?click_id=x"),
            0,
            "filed after seq 3: not news"
        );
        assert_eq!(
            found(&w, 6, "/serve/7?click_id=a+b"),
            2,
            "tracker and click id"
        );
        w.remove(&by_click);
        assert_eq!(found(&w, 6, "/serve/7?click_id=a+b"), 1);
        w.remove(&by_tracker);
        w.remove(&by_status);
        assert!(w.by_click_id.is_empty() && w.by_tracking_id.is_empty() && w.rest.is_empty());
    }
}
