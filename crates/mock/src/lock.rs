//! Locking shared state whose every update leaves it consistent.

use std::sync::{Mutex, MutexGuard};

/// A poisoned lock only means another thread panicked while holding it; every structure the
/// mock guards this way stays usable, so the mock goes on serving rather than panic too.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
