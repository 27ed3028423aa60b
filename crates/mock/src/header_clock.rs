//! The clock behind the header-read timeout, cheap enough to arm for every request.
//!
//! hyper arms its header-read timer afresh before every request head on a keep-alive
//! connection and drops it once the head is in. With tokio's timer that is an entry put
//! into and taken out of the timer wheel each time: about 1,300 instructions a request under
//! callgrind, 6% of all the mock's work on a clean click, for a timer that almost never
//! fires. Here each connection has one slot that a request's timer writes its deadline
//! into, and one task for the whole server looks over the slots a few times per timeout
//! and wakes the connections whose deadline has passed. A timeout so fires up to one tick
//! late: an eighth of the timeout, at most a second.

use hyper::rt::{Sleep, Timer};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Every connection's slot, looked over by [`HeaderClock::watch`].
#[derive(Debug, Default)]
pub(crate) struct HeaderClock {
    slots: Mutex<Vec<Weak<Slot>>>,
}

/// A connection's armed deadline, if any, and the task to wake when it passes.
#[derive(Debug, Default)]
struct Slot {
    armed: Mutex<Armed>,
}

#[derive(Debug, Default)]
struct Armed {
    deadline: Option<Instant>,
    /// Kept when the deadline is disarmed: the next request's timer has the same task.
    waker: Option<Waker>,
}

impl HeaderClock {
    /// The timer for one new connection's hyper builder.
    pub(crate) fn connection(&self) -> ConnectionTimer {
        let slot = Arc::new(Slot::default());
        lock(&self.slots).push(Arc::downgrade(&slot));
        ConnectionTimer { slot }
    }

    /// How often [`HeaderClock::watch`] looks: often enough that a timeout fires at most an
    /// eighth late, never more than a second.
    pub(crate) fn tick_for(timeout: Duration) -> Duration {
        (timeout / 8).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// Wakes connections whose deadline has passed, every `tick`, until dropped.
    pub(crate) async fn watch(&self, tick: Duration) {
        let mut ticks = tokio::time::interval(tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.wake_expired(Instant::now());
        }
    }

    /// Wakes every connection whose deadline is at or before `now`, and forgets closed ones.
    fn wake_expired(&self, now: Instant) {
        lock(&self.slots).retain(|weak| {
            let Some(slot) = weak.upgrade() else {
                return false;
            };
            let armed = lock(&slot.armed);
            if let (Some(deadline), Some(waker)) = (armed.deadline, &armed.waker) {
                if deadline <= now {
                    waker.wake_by_ref();
                }
            }
            true
        });
    }

    #[cfg(test)]
    fn connections(&self) -> usize {
        lock(&self.slots).len()
    }
}

/// One connection's timer, handed to hyper.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionTimer {
    slot: Arc<Slot>,
}

impl Timer for ConnectionTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(Deadline {
            slot: self.slot.clone(),
            at: deadline,
        })
    }
}

/// Resolves once `at` has passed; armed in its connection's slot while it waits.
#[derive(Debug)]
struct Deadline {
    slot: Arc<Slot>,
    at: Instant,
}

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        let mut armed = lock(&self.slot.armed);
        armed.deadline = Some(self.at);
        // The connection's task rarely changes: its waker is cloned once, not per request.
        if !armed
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            armed.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Sleep for Deadline {}

impl Drop for Deadline {
    fn drop(&mut self) {
        let mut armed = lock(&self.slot.armed);
        // Only this deadline's own arming: a newer one may have replaced it.
        if armed.deadline == Some(self.at) {
            armed.deadline = None;
        }
    }
}

/// A panic elsewhere while a slot was locked leaves plain data behind: keep going.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(sleep: &mut Pin<Box<dyn Sleep>>, waker: &Waker) -> Poll<()> {
        sleep.as_mut().poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_passed_deadline_wakes_its_connection_once_checked() {
        let clock = HeaderClock::default();
        let timer = clock.connection();
        let count = Arc::new(CountingWaker::default());
        let waker = Waker::from(count.clone());
        let start = Instant::now();
        let mut sleep = timer.sleep_until(start + Duration::from_secs(10));
        assert!(poll(&mut sleep, &waker).is_pending());

        clock.wake_expired(start + Duration::from_secs(9));
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "not yet due");
        clock.wake_expired(start + Duration::from_secs(10));
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "due");

        let mut passed = timer.sleep_until(Instant::now());
        assert!(poll(&mut passed, &waker).is_ready());
    }

    #[test]
    fn a_dropped_deadline_wakes_nobody_and_closed_connections_are_forgotten() {
        let clock = HeaderClock::default();
        let timer = clock.connection();
        let count = Arc::new(CountingWaker::default());
        let waker = Waker::from(count.clone());
        let start = Instant::now();
        let mut sleep = timer.sleep_until(start + Duration::from_secs(1));
        assert!(poll(&mut sleep, &waker).is_pending());
        // The head arrived: hyper drops the timer.
        drop(sleep);
        clock.wake_expired(start + Duration::from_secs(60));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);

        assert_eq!(clock.connections(), 1);
        drop(timer);
        clock.wake_expired(start);
        assert_eq!(
            clock.connections(),
            0,
            "the closed connection's slot is gone"
        );
    }

    #[test]
    fn a_replaced_deadline_does_not_disarm_its_successor() {
        let clock = HeaderClock::default();
        let timer = clock.connection();
        let count = Arc::new(CountingWaker::default());
        let waker = Waker::from(count.clone());
        let start = Instant::now();
        let mut first = timer.sleep_until(start + Duration::from_secs(1));
        assert!(poll(&mut first, &waker).is_pending());
        let mut second = timer.sleep_until(start + Duration::from_secs(2));
        assert!(poll(&mut second, &waker).is_pending());
        drop(first);
        clock.wake_expired(start + Duration::from_secs(2));
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the second still fires");
    }

    #[test]
    fn ticks_stay_between_ten_milliseconds_and_a_second() {
        assert_eq!(
            HeaderClock::tick_for(Duration::from_secs(10)),
            Duration::from_secs(1)
        );
        assert_eq!(
            HeaderClock::tick_for(Duration::from_secs(2)),
            Duration::from_millis(250)
        );
        assert_eq!(
            HeaderClock::tick_for(Duration::from_millis(20)),
            Duration::from_millis(10)
        );
    }
}
