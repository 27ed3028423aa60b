//! Engine cost per request, beside a bare `form_urlencoded` decode of the same query measured
//! in the same run: compare the `validate/*` times with `bare/*` rather than with absolute
//! numbers, since the machine is shared.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use metrica_s2s_rules::{parse_input, Context, Settings, Validator};

const NOW: u64 = 1_795_860_000;
const CLEAN: &str = "https://redirect.appmetrica.yandex.com/serve/1234567890123456789?click_id=c-8f14e45f&device_ip=5.255.232.147&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20Chrome%2F120.0.6099.144%20Mobile%20Safari%2F537.36&click_timestamp=1795859880";
const BUGGY: &str = "GET /serve/1234567890123456789?device_ip=10.0.0.5:443&device_ua=okhttp/4.12.0&click_timestamp=1795859880123&google_aid={GAID} HTTP/1.1";

fn bench(c: &mut Criterion) {
    let settings = Settings::default();
    let ctx = Context::new(NOW, &settings);
    let mut validator = Validator::new(settings.ua_cache_entries);
    for (name, input) in [("clean", CLEAN), ("buggy", BUGGY)] {
        c.bench_function(&format!("bare/{name}"), |b| {
            b.iter(|| {
                let q = input.split_once('?').map_or("", |(_, q)| q);
                form_urlencoded::parse(black_box(q.as_bytes())).count()
            })
        });
        c.bench_function(&format!("validate/{name}"), |b| {
            b.iter(|| match parse_input(black_box(input.as_bytes())) {
                Ok(req) => validator.validate(&req, &ctx).len(),
                Err(_) => 1,
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
