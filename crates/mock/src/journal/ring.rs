//! The journal's storage: fixed fields in reused slots, the client's texts in one circular
//! byte buffer.
//!
//! Recording allocates and frees nothing once the ring has grown: the slot and the bytes of
//! the entry it evicts are simply reused. The evicted entry was recorded thousands of requests
//! ago, so freeing its heap blocks would touch cold memory on every request.
//!
//! The ring is bounded twice: in entries, and in bytes (texts and diagnostics), so a flood of
//! legal but long requests cannot grow it past its byte budget.

use super::byte_ring::ByteRing;
use super::entry::{Entry, Record};
use super::filter::{Filter, Parts};
use super::layout::{Layout, FORWARDED_FOR, HOST, TARGET, USER_AGENT};
use crate::fault::Applied;
use metrica_s2s_rules::{lossy, Diagnostic, Kind};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// An entry's fixed fields, as kept and as copied out.
#[derive(Clone, Debug)]
struct Fixed {
    received_at_ms: u64,
    kind: Kind,
    method: Cow<'static, str>,
    remote_addr: Option<SocketAddr>,
    status: u16,
}

/// An entry as the ring keeps it: fixed fields here, texts in the ring's byte buffer.
#[derive(Debug)]
pub(super) struct Slot {
    pub seq: u64,
    fixed: Fixed,
    diagnostics: Vec<Diagnostic>,
    layout: Layout,
    /// Where the texts start in the ring's byte buffer.
    text_at: u64,
    /// What the entry costs the ring in bytes, roughly: its texts, its diagnostics and itself
    /// (a request head is at most 64 KiB, so its weight fits).
    weight: u32,
}

fn weight(text: usize, diagnostics: &[Diagnostic]) -> usize {
    std::mem::size_of::<Slot>()
        + text
        + diagnostics
            .iter()
            .map(|d| {
                std::mem::size_of::<Diagnostic>()
                    + d.message.len()
                    + d.hint.len()
                    + d.param.as_ref().map_or(0, String::len)
            })
            .sum::<usize>()
}

#[derive(Debug)]
pub(super) struct Ring {
    pub slots: VecDeque<Slot>,
    text: ByteRing,
    /// The faults applied, by sequence number, oldest first: beside the slots rather than in
    /// them, as nearly no request has one and a slot is moved on every request.
    faults: VecDeque<(u64, Box<Applied>)>,
    pub capacity: usize,
    /// The byte budget, and what the kept entries weigh now.
    pub max_bytes: usize,
    pub bytes: usize,
    pub dropped: u64,
}

impl Ring {
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Ring {
        Ring {
            slots: VecDeque::with_capacity(capacity.min(1 << 16)),
            text: ByteRing::default(),
            faults: VecDeque::new(),
            capacity: capacity.max(1),
            max_bytes,
            bytes: 0,
            dropped: 0,
        }
    }

    /// Appends `r` as entry `seq`; returns the first slot evicted, for the caller to free after
    /// it lets go of the lock (more than one is evicted only when a long entry needs the room).
    #[inline]
    pub(crate) fn push(&mut self, seq: u64, r: Record<'_>) -> Option<Slot> {
        let (layout, texts) = Layout::of([r.host, Some(r.target), r.user_agent, r.forwarded_for]);
        let w = weight(layout.len(), &r.diagnostics);
        let mut evicted = None;
        while !self.slots.is_empty()
            && (self.slots.len() >= self.capacity || self.bytes + w > self.max_bytes)
        {
            let old = self.pop_oldest();
            if evicted.is_none() {
                evicted = old;
            }
        }
        let text_at = self.text.push(&texts, self.max_bytes);
        if let Some(f) = r.fault {
            self.faults.push_back((seq, f));
        }
        self.bytes += w;
        self.slots.push_back(Slot {
            seq,
            fixed: Fixed {
                received_at_ms: r.received_at_ms,
                kind: r.kind,
                method: r.method,
                remote_addr: r.remote_addr,
                status: r.status,
            },
            diagnostics: r.diagnostics,
            layout,
            text_at,
            weight: u32::try_from(w).unwrap_or(u32::MAX),
        });
        evicted
    }

    fn pop_oldest(&mut self) -> Option<Slot> {
        let old = self.slots.pop_front()?;
        self.dropped += 1;
        self.bytes = self.bytes.saturating_sub(old.weight as usize);
        self.text.pop_front(old.layout.len());
        while self.faults.front().is_some_and(|(s, _)| *s <= old.seq) {
            self.faults.pop_front();
        }
        Some(old)
    }

    /// The slot holding entry `seq`.
    pub(crate) fn get(&self, seq: u64) -> Option<&Slot> {
        let i = self.index_of(seq)?;
        self.slots.get(i).filter(|s| s.seq == seq)
    }

    /// Where entry `seq` is, or would be: the oldest's index when `seq` is older than it.
    pub(crate) fn index_of(&self, seq: u64) -> Option<usize> {
        let first = self.slots.front()?.seq;
        Some(usize::try_from(seq.saturating_sub(first)).unwrap_or(usize::MAX))
    }

    pub(crate) fn clear(&mut self) -> usize {
        let n = self.slots.len();
        self.slots.clear();
        self.text.clear();
        self.faults.clear();
        self.bytes = 0;
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

    /// The slot copied out as it is kept: a copy of bytes, to be decoded into an [`Entry`]
    /// once the lock is released.
    pub(crate) fn copy(&self, slot: &Slot) -> Raw {
        Raw {
            seq: slot.seq,
            fixed: slot.fixed.clone(),
            diagnostics: slot.diagnostics.clone(),
            layout: slot.layout,
            text: self.text_of(slot).into_owned(),
            fault: self.fault_of(slot).cloned(),
        }
    }

    /// The parts of `slot` a filter reads.
    pub(crate) fn parts<'a>(&'a self, slot: &'a Slot, text: &'a [u8]) -> Parts<'a> {
        let target = slot
            .layout
            .range(TARGET)
            .and_then(|r| text.get(r))
            .unwrap_or_default();
        Parts {
            seq: slot.seq,
            kind: slot.fixed.kind,
            status: slot.fixed.status,
            target,
            diagnostics: &slot.diagnostics,
            fault: self.fault_of(slot),
        }
    }

    pub(crate) fn matches(&self, slot: &Slot, filter: &Filter) -> bool {
        let text = self.text_of(slot);
        filter.matches(&self.parts(slot, &text))
    }
}

/// An entry copied out of the ring, not yet decoded.
#[derive(Debug)]
pub(crate) struct Raw {
    seq: u64,
    fixed: Fixed,
    diagnostics: Vec<Diagnostic>,
    layout: Layout,
    text: Vec<u8>,
    fault: Option<Applied>,
}

impl Raw {
    /// About what the copy holds in memory.
    pub(crate) fn bytes(&self) -> usize {
        weight(self.text.len(), &self.diagnostics)
    }

    /// The entry, its parameters decoded once.
    pub(crate) fn entry(&self) -> Entry {
        let part = |i: usize| {
            self.layout
                .range(i)
                .map(|r| lossy(self.text.get(r).unwrap_or_default()).into_owned())
        };
        let target = part(TARGET).unwrap_or_default();
        let (host, user_agent, x_forwarded_for) =
            (part(HOST), part(USER_AGENT), part(FORWARDED_FOR));
        let (tracking_id, params) = Entry::derived_from(&target);
        let f = &self.fixed;
        Entry {
            seq: self.seq,
            received_at_ms: f.received_at_ms,
            kind: f.kind,
            method: f.method.clone().into_owned(),
            host,
            tracking_id,
            target,
            params,
            remote_addr: f.remote_addr,
            user_agent,
            x_forwarded_for,
            status: f.status,
            diagnostics: self.diagnostics.clone(),
            fault: self.fault.clone(),
        }
    }
}

/// Written as the entry it holds: the journal file's writer decodes it, off the request path.
impl Serialize for Raw {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entry().serialize(s)
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
        let mut ring = Ring::new(4, 1 << 20);
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
            let e = ring.copy(ring.get(i as u64 + 1).expect("kept")).entry();
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
