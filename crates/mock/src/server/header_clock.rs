//! The header-read timeout, kept per connection at the cost of two atomic operations per
//! request.
//!
//! hyper's own `header_read_timeout` arms a timer before every request head on a keep-alive
//! connection and drops it once the head is in: a visible share of the mock's work on a clean
//! click, for a timer that almost never fires. Here each connection counts the requests it is
//! answering and notes the tick of a coarse shared clock at which that count last fell to zero
//! (or the connection opened); one task per server advances the clock and closes the
//! connections that have been idle longer than the timeout. A timeout so fires up to one tick
//! late: an eighth of the timeout, at most a second.
//!
//! The timeout covers what hyper's did: from connection or the last answer until a whole
//! request head has arrived, idle keep-alive time included. A request being answered (an admin
//! long-poll, an event stream, a delayed answer) is never cut, and over HTTP/2 another stream's
//! finishing does not restart the clock while one is still being answered.
//!
//! At shutdown, a connection whose only requests left are event streams is closed at once:
//! streams end by themselves at shutdown, but only when their client reads, and one that stopped
//! reading would otherwise hold the shutdown for its whole grace period.

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
    /// The tick at which the connection last had no request to answer, plus one.
    since: AtomicU64,
    /// Requests being answered now: one at a time over HTTP/1.1, any number over HTTP/2.
    in_flight: AtomicU64,
    /// Of those, event streams (which end at shutdown only if their client reads).
    streams: AtomicU64,
    /// Signalled when the connection has waited too long.
    expired: Notify,
}

/// A request being answered; the connection's wait for a head begins again when the last one
/// is dropped (its answer written out, or given up).
#[derive(Debug)]
pub(crate) struct InFlight {
    wait: Arc<HeadWait>,
    stream: bool,
}

impl InFlight {
    /// This answer is an event stream: see [`HeadWait::only_streams_left`].
    pub(crate) fn is_stream(&mut self) {
        if !self.stream {
            self.stream = true;
            self.wait.streams.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.stream {
            self.wait.streams.fetch_sub(1, Ordering::Relaxed);
        }
        if self.wait.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            let now = self.wait.ticks.load(Ordering::Relaxed) + 1;
            self.wait.since.store(now, Ordering::Relaxed);
        }
    }
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
            since: AtomicU64::new(self.ticks.load(Ordering::Relaxed) + 1),
            in_flight: AtomicU64::new(0),
            streams: AtomicU64::new(0),
            expired: Notify::new(),
        });
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
            let idle = wait.in_flight.load(Ordering::Acquire) == 0;
            let since = wait.since.load(Ordering::Relaxed);
            if idle && now.saturating_sub(since) > self.limit {
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
    /// A request head is in: no timeout until the returned guard is dropped.
    pub(crate) fn busy(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight {
            wait: self.clone(),
            stream: false,
        }
    }

    #[cfg(test)]
    pub(crate) fn is_waiting(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Resolves once every request the connection is answering is an event stream (or there
    /// is none): polled, as it is only awaited during shutdown.
    pub(crate) async fn only_streams_left(&self) {
        loop {
            let streams = self.streams.load(Ordering::Relaxed);
            if self.in_flight.load(Ordering::Acquire) <= streams {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Resolves once the connection has waited too long for a head.
    pub(crate) async fn expired(&self) {
        self.expired.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use crate::server::header_clock::*;
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
        let answering = wait.busy();
        for _ in 0..100 {
            clock.advance();
        }
        assert!(!is_expired(&wait), "busy: a long-poll is not a slow head");
        drop(answering);
        for _ in 0..8 {
            clock.advance();
        }
        assert!(!is_expired(&wait), "the wait began again at the answer");
        clock.advance();
        assert!(is_expired(&wait));
    }

    #[test]
    fn over_http2_one_stream_finishing_does_not_expose_another_to_the_timeout() {
        let clock = HeaderClock::new(Duration::from_secs(1));
        let wait = clock.connection();
        let long_poll = wait.busy();
        let health = wait.busy();
        drop(health);
        for _ in 0..100 {
            clock.advance();
        }
        assert!(!is_expired(&wait), "the long poll is still being answered");
        drop(long_poll);
        for _ in 0..8 {
            clock.advance();
        }
        assert!(!is_expired(&wait), "idle from the long poll's end");
        clock.advance();
        assert!(is_expired(&wait));
    }

    #[tokio::test]
    async fn at_shutdown_a_connection_holding_only_event_streams_is_let_go() {
        let clock = HeaderClock::new(Duration::from_secs(1));
        let wait = clock.connection();
        let mut events = wait.busy();
        events.is_stream();
        let request = wait.busy();
        let only_streams = wait.only_streams_left();
        tokio::pin!(only_streams);
        assert!(
            tokio::time::timeout(Duration::from_millis(60), &mut only_streams)
                .await
                .is_err(),
            "a request is still being answered"
        );
        drop(request);
        tokio::time::timeout(Duration::from_secs(1), only_streams)
            .await
            .expect("only the stream is left");
        drop(events);
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
