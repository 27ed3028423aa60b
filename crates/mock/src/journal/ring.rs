//! The journal's storage: fixed fields in reused slots, the client's texts in one circular
//! byte buffer.
//!
//! Recording allocates and frees nothing once the ring has grown: the slot and the bytes of
//! the entry it evicts are simply reused. The evicted entry was recorded thousands of requests
//! ago, so freeing its heap blocks would touch cold memory on every request.

use super::byte_ring::ByteRing;
use super::entry::{Entry, Record};
use super::filter::{Filter, Parts};
use crate::fault::Applied;
use metrica_s2s_rules::{lossy, Diagnostic, Kind};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// An entry as the ring keeps it: fixed fields here, texts in the ring's byte buffer.
#[derive(Debug)]
pub(super) struct Slot {
    pub seq: u64,
    received_at_ms: u64,
    kind: Kind,
    method: Cow<'static, str>,
    remote_addr: Option<SocketAddr>,
    status: u16,
    diagnostics: Vec<Diagnostic>,
    layout: Layout,
    /// Where the texts start in the ring's byte buffer.
    text_at: u64,
}

#[derive(Debug)]
pub(super) struct Ring {
    pub slots: VecDeque<Slot>,
    text: ByteRing,
    /// The faults applied, by sequence number, oldest first: beside the slots rather than in
    /// them, as nearly no request has one and a slot is moved on every request.
    faults: VecDeque<(u64, Box<Applied>)>,
    pub capacity: usize,
    pub dropped: u64,
}

impl Ring {
    pub fn new(capacity: usize) -> Ring {
        Ring {
            slots: VecDeque::with_capacity(capacity.min(1 << 16)),
            text: ByteRing::default(),
            faults: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    /// Appends `r` as entry `seq`; returns the evicted slot, for the caller to free after it
    /// lets go of the lock.
    #[inline]
    pub fn push(&mut self, seq: u64, r: Record<'_>) -> Option<Slot> {
        let (layout, texts) = Layout::of([r.host, Some(r.target), r.user_agent, r.forwarded_for]);
        let evicted = if self.slots.len() >= self.capacity {
            self.dropped += 1;
            let old = self.slots.pop_front();
            self.text
                .pop_front(old.as_ref().map_or(0, |o| o.layout.len()));
            if let Some(o) = &old {
                while self.faults.front().is_some_and(|(s, _)| *s <= o.seq) {
                    self.faults.pop_front();
                }
            }
            old
        } else {
            None
        };
        let text_at = self.text.push(&texts);
        if let Some(f) = r.fault {
            self.faults.push_back((seq, f));
        }
        self.slots.push_back(Slot {
            seq,
            received_at_ms: r.received_at_ms,
            kind: r.kind,
            method: r.method,
            remote_addr: r.remote_addr,
            status: r.status,
            diagnostics: r.diagnostics,
            layout,
            text_at,
        });
        evicted
    }

    /// The slot holding entry `seq`.
    pub fn get(&self, seq: u64) -> Option<&Slot> {
        let first = self.slots.front()?.seq;
        let i = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.slots.get(i).filter(|s| s.seq == seq)
    }

    pub fn clear(&mut self) -> usize {
        let n = self.slots.len();
        self.slots.clear();
        self.text.clear();
        self.faults.clear();
        self.dropped = 0;
        n
    }

    fn fault_of(&self, slot: &Slot) -> Option<&Applied> {
        if self.faults.is_empty() {
            return None;
        }
        let i = self
            .faults
            .binary_search_by_key(&slot.seq, |(s, _)| *s)
            .ok()?;
        self.faults.get(i).map(|(_, f)| &**f)
    }

    fn text_of(&self, slot: &Slot) -> Cow<'_, [u8]> {
        self.text.read(slot.text_at, slot.layout.len())
    }

    /// The slot as an [`Entry`] of its own, its parameters decoded once.
    pub fn entry(&self, slot: &Slot) -> Entry {
        let text = self.text_of(slot);
        let part = |i: usize| {
            slot.layout
                .range(i)
                .map(|r| lossy(text.get(r).unwrap_or_default()).into_owned())
        };
        let target = part(TARGET).unwrap_or_default();
        let (tracking_id, params) = Entry::derived_from(&target);
        Entry {
            seq: slot.seq,
            received_at_ms: slot.received_at_ms,
            kind: slot.kind,
            method: slot.method.clone().into_owned(),
            host: part(HOST),
            tracking_id,
            target,
            params,
            remote_addr: slot.remote_addr,
            user_agent: part(USER_AGENT),
            x_forwarded_for: part(FORWARDED_FOR),
            status: slot.status,
            diagnostics: slot.diagnostics.clone(),
            fault: self.fault_of(slot).cloned(),
        }
    }

    pub fn matches(&self, slot: &Slot, filter: &Filter) -> bool {
        let text = self.text_of(slot);
        let target = slot
            .layout
            .range(TARGET)
            .and_then(|r| text.get(r))
            .unwrap_or_default();
        filter.matches(&Parts {
            seq: slot.seq,
            kind: slot.kind,
            status: slot.status,
            target,
            diagnostics: &slot.diagnostics,
            fault: self.fault_of(slot),
        })
    }
}

/// Where each of an entry's four texts (host, target, User-Agent, X-Forwarded-For) ends in its
/// run of the byte buffer, and which were sent at all (an absent part and an empty one differ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Layout {
    ends: [u32; 4],
    /// Bit i set when part i was present.
    present: u8,
}

const HOST: usize = 0;
const TARGET: usize = 1;
const USER_AGENT: usize = 2;
const FORWARDED_FOR: usize = 3;

impl Layout {
    /// The layout of `parts` joined end to end. Parts past 4 GiB in total, which the server's
    /// 64 KiB head limit rules out, are left out.
    fn of(parts: [Option<&str>; 4]) -> (Layout, [&str; 4]) {
        let mut layout = Layout::default();
        let mut kept = [""; 4];
        let mut end = 0u32;
        for (i, part) in parts.iter().enumerate() {
            if let Some(p) = part {
                if let Some(e) = u32::try_from(p.len()).ok().and_then(|n| end.checked_add(n)) {
                    end = e;
                    kept[i] = p;
                }
                layout.present |= 1 << i;
            }
            layout.ends[i] = end;
        }
        (layout, kept)
    }

    fn len(&self) -> usize {
        self.ends[FORWARDED_FOR] as usize
    }

    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(start..self.ends[i] as usize)
    }
}

#[cfg(test)]
mod tests {
    use crate::journal::entry::Record;
    use crate::journal::ring::Ring;

    /// Host, target, User-Agent, X-Forwarded-For.
    type Parts<'a> = (Option<&'a str>, &'a str, Option<&'a str>, Option<&'a str>);

    #[test]
    fn absent_and_empty_parts_differ() {
        let mut ring = Ring::new(4);
        let cases: &[Parts<'_>] = &[
            (None, "/serve/1?a=b", None, None),
            (Some("h"), "", Some(""), Some("1.2.3.4, 5.6.7.8")),
            (Some(""), "/é\u{1b}", None, Some("x")),
        ];
        for (i, &(host, target, ua, xff)) in cases.iter().enumerate() {
            ring.push(
                i as u64 + 1,
                Record {
                    host,
                    user_agent: ua,
                    forwarded_for: xff,
                    ..Record::click(target, 204)
                },
            );
            let e = ring.entry(ring.get(i as u64 + 1).expect("kept"));
            assert_eq!(
                (
                    e.host.as_deref(),
                    e.target.as_str(),
                    e.user_agent.as_deref(),
                    e.x_forwarded_for.as_deref()
                ),
                (host, target, ua, xff)
            );
        }
    }
}
