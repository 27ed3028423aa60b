//! An entry's client-sent text (host, target, User-Agent, X-Forwarded-For) in one allocation.
//!
//! The journal keeps thousands of entries and frees the oldest on every request: each block
//! it frees is cold by then, so one block per entry instead of up to four is a visible share of
//! a request.

/// The four texts, end to end, with where each ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryText {
    joined: Box<str>,
    /// End offsets of host, target, user agent and forwarded-for in `joined`.
    ends: [u32; 4],
    /// Bit i set when part i was present (an absent part and an empty one differ).
    present: u8,
}

const HOST: usize = 0;
const TARGET: usize = 1;
const USER_AGENT: usize = 2;
const FORWARDED_FOR: usize = 3;

impl EntryText {
    /// Parts longer than 4 GiB in total are cut, which the server's 64 KiB head limit rules out.
    pub fn new(
        host: Option<&str>,
        target: &str,
        user_agent: Option<&str>,
        forwarded_for: Option<&str>,
    ) -> EntryText {
        let parts = [host, Some(target), user_agent, forwarded_for];
        let len = parts.iter().flatten().map(|p| p.len()).sum();
        let mut joined = String::with_capacity(len);
        let mut ends = [0u32; 4];
        let mut present = 0u8;
        for (i, part) in parts.iter().enumerate() {
            if let Some(p) = part {
                if u32::try_from(joined.len() + p.len()).is_ok() {
                    joined.push_str(p);
                }
                present |= 1 << i;
            }
            ends[i] = u32::try_from(joined.len()).unwrap_or(u32::MAX);
        }
        EntryText {
            joined: joined.into_boxed_str(),
            ends,
            present,
        }
    }

    fn part(&self, i: usize) -> Option<&str> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.joined.get(start..self.ends[i] as usize)
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
