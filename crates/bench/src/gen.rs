//! A synthetic day of S2S access: realistic clicks and impressions, about a fifth of them
//! carrying one of the bugs partners really ship. Deterministic (a fixed-seed xorshift), so
//! every run measures the same input.

use std::io::{BufWriter, Write};
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// How the log's User-Agents are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum UaDraw {
    /// 2,000 mobile UAs, a few of them dominating: a cache's best case.
    Skewed,
    /// Every uap-core UA, each as likely: most lines bring a UA the caches have not seen,
    /// as a day of real ad traffic's long tail of app versions and models does.
    Uniform,
}

/// UAs from the uap-core corpus: real strings, as a log would repeat them.
pub fn ua_pool(tsv: &Path, draw: UaDraw) -> std::io::Result<Vec<String>> {
    let text = std::fs::read_to_string(tsv)?;
    let all = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit('\t').next());
    let pool: Vec<String> = match draw {
        UaDraw::Skewed => all
            .filter(|ua| ua.contains("Android") || ua.contains("iPhone"))
            .take(2000)
            .map(str::to_owned)
            .collect(),
        UaDraw::Uniform => all.map(str::to_owned).collect(),
    };
    if pool.is_empty() {
        return Err(std::io::Error::other("no mobile UAs in the corpus"));
    }
    Ok(pool)
}

/// Percent-encoded as most senders do: as the one encoder does, but `(` and `)` kept raw
/// (legal in a query, and what real logs carry).
fn enc(s: &str) -> String {
    const LOGGED: &percent_encoding::AsciiSet =
        &metrica_s2s_rules::COMPONENT.remove(b'(').remove(b')');
    percent_encoding::utf8_percent_encode(s, LOGGED).to_string()
}

/// Writes `lines` URLs; returns how many carry a bug.
pub fn write_log(
    path: &Path,
    lines: usize,
    now: u64,
    uas: &[String],
    draw: UaDraw,
) -> std::io::Result<usize> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let encoded: Vec<String> = uas.iter().map(|u| enc(u)).collect();
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let mut buggy = 0;
    for i in 0..lines {
        let r = rng.below(encoded.len() as u64);
        let ua_i = match draw {
            // Zipf-like: a few UAs dominate.
            UaDraw::Skewed => (r * r / encoded.len() as u64) as usize,
            UaDraw::Uniform => r as usize,
        };
        let mut ua = encoded[ua_i].clone();
        let mut ip = format!(
            "{}.{}.{}.{}",
            1 + rng.below(222),
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        );
        if rng.below(10) == 0 {
            ip = format!("2a02:6b8:{:x}::{:x}", rng.below(0xffff), rng.below(0xffff));
        }
        // Servers call S2S within seconds of the click; a few queue for minutes or hours.
        let delay = match rng.below(100) {
            0 => 3600 + rng.below(10 * 3600),
            1..=9 => 300 + rng.below(3000),
            _ => 1 + rng.below(300),
        };
        let mut ts = (now - delay).to_string();
        let host = if rng.below(5) == 0 {
            "impression"
        } else {
            "redirect"
        };
        let mut click_key = "click_id";
        let mut extra = String::new();
        if rng.below(5) == 0 {
            buggy += 1;
            match rng.below(10) {
                0 => ip.push_str(":51234"),
                1 => ts.push_str("123"),
                2 => ua = uas[ua_i].clone(),
                3 => ua = enc(&ua),
                4 => ua = "okhttp%2F4.12.0".into(),
                5 => ip = "10.0.3.7".into(),
                6 => ua = "%7Buser_agent%7D".into(),
                7 => ts = (now - 2 * 86_400).to_string(),
                8 => click_key = "clickid",
                _ => extra = "&google_aid=not-a-uuid".into(),
            }
        }
        writeln!(
            out,
            "https://{host}.appmetrica.yandex.com/serve/1234567890123456789?{click_key}=c{i}&device_ip={ip}&device_ua={ua}&click_timestamp={ts}{extra}"
        )?;
    }
    out.flush()?;
    Ok(buggy)
}
