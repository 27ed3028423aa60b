//! Every occurrence of a fixed set of literals in a short text, compared without ASCII case.
//!
//! The set is large (the crawler list gives some 1,500 prefixes) and the texts short (a UA).
//! A multi-literal automaton pays a table lookup per byte that must wait for the lookup
//! before it, whatever the CPU could do in parallel. Here each position is tested on its own:
//! its next four bytes, case-folded, are looked up in a bit set of the literals' first four
//! bytes, and only the few positions that pass (a handful in a real UA) are compared with the
//! literals that start that way. The tests hold the result to aho-corasick's overlapping
//! search over the same literals.

use hashbrown::HashMap;

type Hasher = foldhash::fast::FixedState;

/// Bits in each set of first bytes: 8 KiB, small enough to stay in cache.
const GRAM_BITS: usize = 1 << 16;

/// A set of `GRAM_BITS` bits; of fixed size, so that indexing it needs no bounds check.
type Bits = [u64; GRAM_BITS / 64];

/// Where literal `literal` occurs: `text[start..end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Occurrence {
    pub literal: usize,
    pub start: usize,
    pub end: usize,
}

pub(super) struct LiteralSet {
    /// Lowercase.
    literals: Vec<Box<[u8]>>,
    /// A bit per hash of the folded first four bytes of the literals of four bytes or more.
    quads: Box<Bits>,
    /// Those literals by their folded first four bytes.
    by_quad: HashMap<u32, Box<[usize]>, Hasher>,
    /// A bit per folded first two bytes of the literals of two and three bytes.
    pairs: Box<Bits>,
    /// Those literals by their folded first byte.
    short: Box<[Box<[usize]>]>,
}

/// Bytes with ASCII case folded away. Other bytes may fold together too (`@` with `` ` ``):
/// harmless, as every position that passes is compared exactly.
fn fold(b: u8) -> u32 {
    u32::from(b | 0x20)
}

/// Where a folded four-byte gram's bit is.
fn quad_bit(quad: u32) -> usize {
    (quad.wrapping_mul(0x9E37_79B1) >> 16) as usize % GRAM_BITS
}

fn test(bits: &Bits, bit: usize) -> bool {
    bits[bit / 64 % bits.len()] & (1 << (bit % 64)) != 0
}

fn set(bits: &mut Bits, bit: usize) {
    bits[bit / 64 % bits.len()] |= 1 << (bit % 64);
}

impl LiteralSet {
    /// The set of `literals`; a literal shorter than two bytes is never found.
    pub(super) fn new(literals: &[Vec<u8>]) -> LiteralSet {
        let literals: Vec<Box<[u8]>> = literals
            .iter()
            .map(|l| l.to_ascii_lowercase().into_boxed_slice())
            .collect();
        let mut quads = Box::new([0; GRAM_BITS / 64]);
        let mut pairs = Box::new([0; GRAM_BITS / 64]);
        let mut by_quad: HashMap<u32, Vec<usize>, Hasher> = HashMap::default();
        let mut short = vec![Vec::new(); 256];
        for (i, l) in literals.iter().enumerate() {
            match *l.as_ref() {
                [a, b, c, d, ..] => {
                    let quad = fold(a) | fold(b) << 8 | fold(c) << 16 | fold(d) << 24;
                    set(&mut quads, quad_bit(quad));
                    by_quad.entry(quad).or_default().push(i);
                }
                [a, b, ..] => {
                    set(&mut pairs, (fold(a) | fold(b) << 8) as usize);
                    short[fold(a) as usize].push(i);
                }
                _ => {}
            }
        }
        LiteralSet {
            literals,
            quads,
            by_quad: by_quad
                .into_iter()
                .map(|(quad, lits)| (quad, lits.into_boxed_slice()))
                .collect(),
            pairs,
            short: short.into_iter().map(Vec::into_boxed_slice).collect(),
        }
    }

    /// Every occurrence in `text`, overlapping ones included, into `found` (emptied first):
    /// in the order their ends come, and at one end the longer first, as an overlapping
    /// Aho-Corasick search reports them.
    pub(super) fn find_all(&self, text: &[u8], found: &mut Vec<Occurrence>) {
        found.clear();
        // The last four bytes read, folded, the latest in the high byte.
        let mut quad = 0u32;
        for (end, &b) in text.iter().enumerate() {
            quad = quad >> 8 | fold(b) << 24;
            if end >= 1 && test(&self.pairs, (quad >> 16) as usize) {
                let start = end - 1;
                let candidates = &self.short[fold(text[start]) as usize];
                self.compare(text, start, candidates, found);
            }
            if end >= 3 && test(&self.quads, quad_bit(quad)) {
                if let Some(candidates) = self.by_quad.get(&quad) {
                    self.compare(text, end - 3, candidates, found);
                }
            }
        }
        found.sort_unstable_by_key(|o| (o.end, o.start));
    }

    fn compare(
        &self,
        text: &[u8],
        start: usize,
        candidates: &[usize],
        found: &mut Vec<Occurrence>,
    ) {
        for &literal in candidates {
            let l = &self.literals[literal];
            let end = start + l.len();
            if text
                .get(start..end)
                .is_some_and(|t| t.eq_ignore_ascii_case(l))
            {
                found.push(Occurrence {
                    literal,
                    start,
                    end,
                });
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::{LiteralSet, Occurrence};
    use aho_corasick::{AhoCorasick, MatchKind};

    /// The reference: aho-corasick's overlapping search over the same literals, without case.
    pub(in crate::ua_class) fn reference(literals: &[Vec<u8>]) -> AhoCorasick {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(literals)
            .expect("builds")
    }

    /// What the reference finds in `text`, in its order.
    pub(in crate::ua_class) fn found_by(reference: &AhoCorasick, text: &[u8]) -> Vec<Occurrence> {
        reference
            .find_overlapping_iter(text)
            .map(|m| Occurrence {
                literal: m.pattern().as_usize(),
                start: m.start(),
                end: m.end(),
            })
            .collect()
    }

    fn oracle(literals: &[Vec<u8>], text: &[u8]) -> Vec<Occurrence> {
        found_by(&reference(literals), text)
    }

    fn lits(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn finds_overlapping_and_short_literals_without_case() {
        let l = lits(&["googlebot", "bot", "${", "Bot/", "x11", "oglebo"]);
        let set = LiteralSet::new(&l);
        let text = b"Mozilla/5.0 (X11) GoogleBot/2.1 ${jndi}";
        let mut found = Vec::new();
        set.find_all(text, &mut found);
        assert_eq!(found, oracle(&l, text));
        assert_eq!(found.len(), 6, "{found:?}");
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_aho_corasick(
            words in proptest::collection::vec("[a-cA-C@`$ {]{2,6}", 1..12),
            text in "[a-cA-C@`$ {]{0,40}",
        ) {
            let l: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
            let mut dedup = l.clone();
            dedup.sort_by_key(|w| w.to_ascii_lowercase());
            dedup.dedup_by_key(|w| w.to_ascii_lowercase());
            let set = LiteralSet::new(&dedup);
            let mut found = Vec::new();
            set.find_all(text.as_bytes(), &mut found);
            proptest::prop_assert_eq!(found, oracle(&dedup, text.as_bytes()));
        }
    }
}
