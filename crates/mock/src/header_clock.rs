//! The header-read timeout, kept per connection at the cost of a store per request.
//!
//! hyper's own `header_read_timeout` arms a timer before every request head on a keep-alive
//! connection and drops it once the head is in: a visible share of the mock's work on a clean
//! click, for a timer that almost never fires. Here each connection notes the tick of a coarse shared
//! clock at which it began waiting for a head (when it opened, and when it answered a
//! request), or that it is busy with one; one task per server advances the clock and closes
//! the connections that have waited longer than the timeout. A timeout so fires up to one
//! tick late: an eighth of the timeout, at most a second.
//!
//! The timeout covers what hyper's did: from connection or the previous answer until a whole
//! request head has arrived, idle keep-alive time included. A request being answered (an
//! admin long-poll, say) is never cut.

use crate::lock::lock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// The shared clock and every open connection's [`HeadWait`].
#[derive(Debug)]
pub(crate) struct HeaderClock {
    ticks: Arc<AtomicU64>,
    tick: Duration,
    /// Ticks a connection may wait for a head: the timeout, rounded up.
    limit: u64,
    connections: Mutex<Vec<Weak<HeadWait>>>,
}

/// One connection's wait for its next request head.
#[derive(Debug)]
pub(crate) struct HeadWait {
    ticks: Arc<AtomicU64>,
    /// The tick at which the wait began, plus one; 0 while a request is being answered.
    since: AtomicU64,
    /// Signalled when the connection has waited too long.
    expired: Notify,
}

impl HeaderClock {
    pub(crate) fn new(timeout: Duration) -> HeaderClock {
        let tick = (timeout / 8).clamp(Duration::from_millis(10), Duration::from_secs(1));
        HeaderClock {
            ticks: Arc::new(AtomicU64::new(0)),
            tick,
            limit: timeout.as_nanos().div_ceil(tick.as_nanos().max(1)) as u64,
            connections: Mutex::new(Vec::new()),
        }
    }

    /// The wait of a connection just opened: it waits for its first head from now.
    pub(crate) fn connection(&self) -> Arc<HeadWait> {
        let wait = Arc::new(HeadWait {
            ticks: self.ticks.clone(),
            since: AtomicU64::new(0),
            expired: Notify::new(),
        });
        wait.waiting();
        lock(&self.connections).push(Arc::downgrade(&wait));
        wait
    }

    /// Advances the clock every tick and signals connections that waited too long.
    pub(crate) async fn watch(&self) {
        let mut ticks = tokio::time::interval(self.tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.advance();
        }
    }

    /// One tick: signals every connection whose wait is over the limit, forgets closed ones.
    fn advance(&self) {
        let now = self.ticks.fetch_add(1, Ordering::Relaxed) + 2;
        lock(&self.connections).retain(|weak| {
            let Some(wait) = weak.upgrade() else {
                return false;
            };
            let since = wait.since.load(Ordering::Relaxed);
            if since != 0 && now - since > self.limit {
                wait.expired.notify_one();
            }
            true
        });
    }

    #[cfg(test)]
    fn open(&self) -> usize {
        lock(&self.connections).len()
    }
}

impl HeadWait {
    /// The connection waits for a request head from now on.
    pub(crate) fn waiting(&self) {
        let now = self.ticks.load(Ordering::Relaxed) + 1;
        self.since.store(now, Ordering::Relaxed);
    }

    /// A request head is in: no timeout until its answer is made.
    pub(crate) fn busy(&self) {
        self.since.store(0, Ordering::Relaxed);
    }

    #[cfg(test)]
    pub(crate) fn is_waiting(&self) -> bool {
        self.since.load(Ordering::Relaxed) != 0
    }

    /// Resolves once the connection has waited too long for a head.
    pub(crate) async fn expired(&self) {
        self.expired.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn is_expired(wait: &HeadWait) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        let expired = pin!(wait.expired());
        matches!(expired.poll(&mut cx), Poll::Ready(()))
    }

    #[test]
    fn a_connection_waiting_past_the_limit_is_signalled() {
        // 1 s: ticks of 125 ms, so the 9th tick after the wait began is past the limit.
        let clock = HeaderClock::new(Duration::from_secs(1));
        assert_eq!((clock.tick, clock.limit), (Duration::from_millis(125), 8));
        let wait = clock.connection();
        for _ in 0..8 {
            clock.advance();
        }
        assert!(!is_expired(&wait), "8 ticks: not yet");
        clock.advance();
        assert!(is_expired(&wait), "9 ticks: over");
    }

    #[test]
    fn answering_a_request_restarts_the_wait_and_a_busy_connection_is_never_cut() {
        let clock = HeaderClock::new(Duration::from_secs(1));
        let wait = clock.connection();
        for _ in 0..6 {
            clock.advance();
        }
        wait.busy();
        for _ in 0..100 {
            clock.advance();
        }
        assert!(!is_expired(&wait), "busy: a long-poll is not a slow head");
        wait.waiting();
        for _ in 0..8 {
            clock.advance();
        }
        assert!(!is_expired(&wait), "the wait began again at the answer");
        clock.advance();
        assert!(is_expired(&wait));
    }

    #[test]
    fn closed_connections_are_forgotten() {
        let clock = HeaderClock::new(Duration::from_secs(10));
        let wait = clock.connection();
        let _other = clock.connection();
        assert_eq!(clock.open(), 2);
        drop(wait);
        clock.advance();
        assert_eq!(clock.open(), 1);
    }

    #[test]
    fn ticks_stay_between_ten_milliseconds_and_a_second() {
        let tick = |t| HeaderClock::new(t).tick;
        assert_eq!(tick(Duration::from_secs(10)), Duration::from_secs(1));
        assert_eq!(tick(Duration::from_secs(2)), Duration::from_millis(250));
        assert_eq!(tick(Duration::from_millis(20)), Duration::from_millis(10));
        assert_eq!(HeaderClock::new(Duration::from_millis(20)).limit, 2);
        assert_eq!(HeaderClock::new(Duration::from_secs(10)).limit, 10);
    }
}
