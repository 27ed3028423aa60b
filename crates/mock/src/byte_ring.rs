//! A growable circular byte buffer: the journal's texts, oldest first.
//!
//! Appending writes after the newest bytes and dropping the oldest moves a cursor, so the
//! request path neither allocates nor frees once the buffer has grown to its working size.

use std::borrow::Cow;

#[derive(Debug, Default)]
pub(crate) struct ByteRing {
    buf: Vec<u8>,
    /// Where the oldest byte is.
    head: usize,
    len: usize,
}

impl ByteRing {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `parts` end to end.
    pub(crate) fn push(&mut self, parts: &[&str]) {
        let n: usize = parts.iter().map(|p| p.len()).sum();
        if self.len + n > self.buf.len() {
            self.grow(self.len + n);
        }
        for part in parts {
            let cap = self.buf.len();
            let at = (self.head + self.len) % cap.max(1);
            let first = part.len().min(cap - at);
            self.buf[at..at + first].copy_from_slice(&part.as_bytes()[..first]);
            self.buf[..part.len() - first].copy_from_slice(&part.as_bytes()[first..]);
            self.len += part.len();
        }
    }

    /// Forgets the `n` oldest bytes (all of them if fewer).
    pub(crate) fn pop_front(&mut self, n: usize) {
        let n = n.min(self.len);
        if !self.buf.is_empty() {
            self.head = (self.head + n) % self.buf.len();
        }
        self.len -= n;
    }

    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// `n` bytes starting `from` bytes after the oldest; borrowed unless they wrap around.
    pub(crate) fn read(&self, from: usize, n: usize) -> Cow<'_, [u8]> {
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

    /// At least doubles, keeping the bytes in order from index 0.
    fn grow(&mut self, needed: usize) {
        let cap = needed.max(self.buf.len() * 2).max(4096);
        let mut buf = Vec::with_capacity(cap);
        buf.extend_from_slice(&self.read(0, self.len));
        buf.resize(cap, 0);
        self.buf = buf;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_in_order_across_wraps_and_growth() {
        let mut ring = ByteRing::default();
        let mut model: std::collections::VecDeque<u8> = Default::default();
        let mut seed = 7u32;
        let mut most = 0;
        for round in 0..2_000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let text = format!("{round}-{}", "x".repeat((seed >> 16) as usize % 300));
            ring.push(&[&text, "|"]);
            model.extend(text.bytes().chain(*b"|"));
            let drop = (seed >> 8) as usize % (text.len() + 2);
            ring.pop_front(drop);
            model.drain(..drop.min(model.len()));
            assert_eq!(ring.len(), model.len());
            most = most.max(model.len());
            let from = (seed as usize) % (model.len() + 1);
            let n = (seed >> 4) as usize % (model.len() - from + 1);
            let want: Vec<u8> = model.range(from..from + n).copied().collect();
            assert_eq!(ring.read(from, n).as_ref(), &want[..], "round {round}");
        }
        assert!(
            ring.buf.len() <= 2 * most,
            "bounded by what it held at most"
        );
        ring.clear();
        assert_eq!(ring.read(0, 10).as_ref(), b"");
    }
}
