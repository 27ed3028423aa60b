//! The cold User-Agent path: `classify_ua` on every one of the 17,816 uap-core UAs in turn,
//! so no verdict is remembered from one call to the next. Beside it, in the same run, a bare
//! pass that only scans each UA's bytes once, as the floor any classifier pays.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use metrica_s2s_rules::classify_ua;

fn corpus() -> Vec<String> {
    let tsv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/user-agents/uap-core.tsv"
    );
    std::fs::read_to_string(tsv)
        .expect("uap-core corpus")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit('\t').next())
        .map(str::to_owned)
        .collect()
}

fn bench(c: &mut Criterion) {
    let uas = corpus();
    let mut group = c.benchmark_group("ua");
    group.throughput(Throughput::Elements(uas.len() as u64));
    group.bench_function("bare-scan/all-uap-core", |b| {
        b.iter(|| {
            uas.iter()
                .map(|ua| {
                    black_box(ua.as_bytes())
                        .iter()
                        .filter(|&&b| b == b'/')
                        .count()
                })
                .sum::<usize>()
        })
    });
    group.bench_function("classify/all-uap-core", |b| {
        b.iter(|| {
            uas.iter()
                .filter(|ua| classify_ua(black_box(ua)).platform.is_some())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
