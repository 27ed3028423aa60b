//! A growable circular byte buffer: the journal's texts, oldest first.
//!
//! Appending writes after the newest bytes and dropping the oldest moves a cursor, so the
//! request path neither allocates nor frees once the buffer has grown to its working size.

use std::borrow::Cow;

/// Bytes are addressed by position: how many bytes were ever appended before them. A position
/// stays valid for as long as its bytes are held, however the buffer wraps or grows.
#[derive(Debug, Default)]
pub(crate) struct ByteRing {
    buf: Vec<u8>,
    /// Where the oldest byte is.
    head: usize,
    len: usize,
    /// Bytes ever dropped from the front: the position of the oldest byte held.
    dropped: u64,
}

impl ByteRing {
    /// Appends `parts` end to end and returns the position of the first byte. The buffer
    /// grows by doubling, but not past `most` unless one push needs more.
    pub(crate) fn push(&mut self, parts: &[&str], most: usize) -> u64 {
        let start = self.dropped + self.len as u64;
        let n: usize = parts.iter().map(|p| p.len()).sum();
        if self.len + n > self.buf.len() {
            self.grow(self.len + n, most);
        }
        // One division per push, not per part: the journal pushes four parts per request.
        let cap = self.buf.len();
        let mut at = (self.head + self.len) % cap.max(1);
        for part in parts.iter().map(|p| p.as_bytes()) {
            if let Some(room) = self.buf.get_mut(at..at + part.len()) {
                room.copy_from_slice(part);
                at += part.len();
            } else {
                let first = cap - at;
                self.buf[at..].copy_from_slice(&part[..first]);
                self.buf[..part.len() - first].copy_from_slice(&part[first..]);
                at = part.len() - first;
            }
        }
        self.len += n;
        start
    }

    /// Forgets the `n` oldest bytes (all of them if fewer).
    pub(crate) fn pop_front(&mut self, n: usize) {
        let n = n.min(self.len);
        if !self.buf.is_empty() {
            self.head = (self.head + n) % self.buf.len();
        }
        self.len -= n;
        self.dropped += n as u64;
    }

    pub(crate) fn clear(&mut self) {
        self.pop_front(self.len);
    }

    /// `n` bytes from position `at`; borrowed unless they wrap around. Positions no longer
    /// held read as the oldest bytes held, never out of bounds.
    pub(crate) fn read(&self, at: u64, n: usize) -> Cow<'_, [u8]> {
        let from = usize::try_from(at.saturating_sub(self.dropped)).unwrap_or(usize::MAX);
        self.read_from_oldest(from, n)
    }

    fn read_from_oldest(&self, from: usize, n: usize) -> Cow<'_, [u8]> {
        let from = from.min(self.len);
        let n = n.min(self.len - from);
        let cap = self.buf.len();
        if cap == 0 {
            return Cow::Borrowed(&[]);
        }
        let at = (self.head + from) % cap;
        if at + n <= cap {
            Cow::Borrowed(&self.buf[at..at + n])
        } else {
            let mut out = Vec::with_capacity(n);
            out.extend_from_slice(&self.buf[at..]);
            out.extend_from_slice(&self.buf[..n - (cap - at)]);
            Cow::Owned(out)
        }
    }

    /// At least doubles (up to `most`), keeping the bytes in order from index 0.
    fn grow(&mut self, needed: usize, most: usize) {
        let cap = needed.max((self.buf.len() * 2).max(4096).min(most));
        let mut buf = Vec::with_capacity(cap);
        buf.extend_from_slice(&self.read_from_oldest(0, self.len));
        buf.resize(cap, 0);
        self.buf = buf;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use crate::journal::byte_ring::ByteRing;

    #[test]
    fn keeps_bytes_in_order_across_wraps_and_growth() {
        let mut ring = ByteRing::default();
        let mut model: std::collections::VecDeque<u8> = Default::default();
        let mut seed = 7u32;
        let mut most = 0;
        for round in 0..2_000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let text = format!("{round}-{}", "x".repeat((seed >> 16) as usize % 300));
            let at = ring.push(&[&text, "|"], usize::MAX);
            assert_eq!(ring.read(at, text.len()).as_ref(), text.as_bytes());
            model.extend(text.bytes().chain(*b"|"));
            let drop = (seed >> 8) as usize % (text.len() + 2);
            ring.pop_front(drop);
            model.drain(..drop.min(model.len()));
            assert_eq!(ring.len, model.len());
            most = most.max(model.len());
            let from = (seed as usize) % (model.len() + 1);
            let n = (seed >> 4) as usize % (model.len() - from + 1);
            let want: Vec<u8> = model.range(from..from + n).copied().collect();
            let at = ring.dropped + from as u64;
            assert_eq!(ring.read(at, n).as_ref(), &want[..], "round {round}");
        }
        assert!(
            ring.buf.len() <= 2 * most,
            "bounded by what it held at most"
        );
        ring.clear();
        assert_eq!(ring.read(0, 10).as_ref(), b"");
    }
}
