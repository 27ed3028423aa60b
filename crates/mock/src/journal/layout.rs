//! Where an entry's texts lie in its run of the ring's byte buffer.

/// Where each of an entry's four texts (host, target, User-Agent, X-Forwarded-For) ends in its
/// run of the byte buffer, and which were sent at all (an absent part and an empty one differ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Layout {
    ends: [u32; 4],
    /// Bit i set when part i was present.
    present: u8,
}

pub(super) const HOST: usize = 0;
pub(super) const TARGET: usize = 1;
pub(super) const USER_AGENT: usize = 2;
pub(super) const FORWARDED_FOR: usize = 3;

impl Layout {
    /// The layout of `parts` joined end to end. Parts past 4 GiB in total, which the server's
    /// 64 KiB head limit rules out, are left out.
    pub(super) fn of(parts: [Option<&str>; 4]) -> (Layout, [&str; 4]) {
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

    pub(super) fn len(&self) -> usize {
        self.ends[FORWARDED_FOR] as usize
    }

    pub(super) fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(start..self.ends[i] as usize)
    }
}
