//! An entry's client-sent text (host, target, User-Agent, X-Forwarded-For) in one allocation.
//!
//! The journal keeps thousands of entries and frees the oldest on every request: each block
//! it frees is cold by then, so one block per entry instead of up to four is a visible share of
//! a request.

/// The four texts, end to end, with where each ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryText {
    joined: Box<str>,
    layout: Layout,
}

/// Where each of the four texts ends in the joined text, and which were sent at all (an absent
/// part and an empty one differ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    /// End offsets of host, target, user agent and forwarded-for.
    ends: [u32; 4],
    /// Bit i set when part i was present.
    present: u8,
}

const HOST: usize = 0;
const TARGET: usize = 1;
const USER_AGENT: usize = 2;
const FORWARDED_FOR: usize = 3;

impl Layout {
    /// The layout of `parts` (host, target, user agent, forwarded-for) joined end to end.
    /// Parts past 4 GiB in total, which the server's 64 KiB head limit rules out, are left out.
    pub(crate) fn of(parts: [Option<&str>; 4]) -> (Layout, [&str; 4]) {
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

    /// Bytes of the joined text.
    pub(crate) fn len(&self) -> usize {
        self.ends[FORWARDED_FOR] as usize
    }

    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(start..self.ends[i] as usize)
    }

    /// The target's bytes within the joined text.
    pub(crate) fn target(&self) -> std::ops::Range<usize> {
        self.range(TARGET).unwrap_or(0..0)
    }
}

impl EntryText {
    pub fn new(
        host: Option<&str>,
        target: &str,
        user_agent: Option<&str>,
        forwarded_for: Option<&str>,
    ) -> EntryText {
        let (layout, kept) = Layout::of([host, Some(target), user_agent, forwarded_for]);
        EntryText {
            joined: kept.concat().into_boxed_str(),
            layout,
        }
    }

    /// Text kept elsewhere (the journal's ring) with its layout.
    pub(crate) fn from_joined(joined: String, layout: Layout) -> EntryText {
        EntryText {
            joined: joined.into_boxed_str(),
            layout,
        }
    }

    fn part(&self, i: usize) -> Option<&str> {
        self.joined.get(self.layout.range(i)?)
    }

    pub fn host(&self) -> Option<&str> {
        self.part(HOST)
    }

    pub fn target(&self) -> &str {
        self.part(TARGET).unwrap_or_default()
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.part(USER_AGENT)
    }

    pub fn forwarded_for(&self) -> Option<&str> {
        self.part(FORWARDED_FOR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Host, target, user agent, forwarded-for.
    type Parts<'a> = (Option<&'a str>, &'a str, Option<&'a str>, Option<&'a str>);

    #[test]
    fn parts_come_back_as_given() {
        let cases: &[Parts<'_>] = &[
            (None, "/serve/1?a=b", None, None),
            (Some("h"), "", Some(""), Some("1.2.3.4, 5.6.7.8")),
            (Some(""), "/é\u{1b}", None, Some("x")),
            (None, "", None, None),
        ];
        for &(host, target, ua, xff) in cases {
            let t = EntryText::new(host, target, ua, xff);
            assert_eq!(
                (t.host(), t.target(), t.user_agent(), t.forwarded_for()),
                (host, target, ua, xff)
            );
        }
    }
}
