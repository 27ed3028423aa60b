//! What must hold for any input whatever: the fuzz targets (`fuzz/`) and the regression test
//! over their findings (`tests/fuzz_regressions.rs`) both check exactly this.
#![allow(dead_code)] // each fuzz target uses one half of this file

use metrica_s2s_rules::{
    is_unsafe_char, parse_input, tracking_segment, Context, Kind, Settings, Span, Validator,
};

fn inside(s: Span, len: usize) {
    assert!(
        s.start <= s.end && s.end <= len,
        "span {s:?} outside {len} bytes"
    );
}

/// The parser never panics, and every span it returns lies inside the input, in order.
pub fn parse(data: &[u8]) {
    let Ok(req) = parse_input(data) else { return };
    let len = data.len();
    for s in [req.method, req.host, req.query, req.fragment]
        .into_iter()
        .flatten()
    {
        inside(s, len);
    }
    inside(req.path, len);
    let mut last = 0;
    for p in &req.params {
        inside(p.key, len);
        assert!(p.key.start >= last, "parameters out of order");
        last = p.key.end;
        if let Some(v) = p.value {
            inside(v, len);
            assert!(v.start >= p.key.end, "value before its key");
            last = v.end;
        }
    }
    let _ = req.tracking_id();
    let _ = req.tracking_number();
    let _ = tracking_segment(req.bytes(req.path));
}

/// Every rule runs without panicking, and every message and hint stays printable: the quoting
/// of hostile values holds. The first byte picks the context (kind and "now").
pub fn validate(data: &[u8], validator: &mut Validator) {
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let settings = Settings::default();
    let mut ctx = Context::new(1_795_860_000 + u64::from(pick) * 3_600, &settings);
    ctx.kind = Some(if pick & 1 == 0 {
        Kind::Click
    } else {
        Kind::Impression
    });
    let diagnostics = match parse_input(input) {
        Ok(req) => validator.validate(&req, &ctx),
        Err(d) => vec![d],
    };
    for d in &diagnostics {
        for text in [&d.message, &d.hint] {
            assert!(
                !text.chars().any(is_unsafe_char),
                "{}: unescaped character in {text:?}",
                d.code.as_str()
            );
        }
    }
}
