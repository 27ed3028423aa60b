//! A self-contained HTML report for certification reviewers: a summary, then each scenario
//! with what the device was, what was expected and what arrived. maud escapes every
//! interpolated value, so hostile UAs and messages render as text, and the rules'
//! `visible` shows control characters as escapes instead of letting a NUL or CR vanish from
//! the page. There are no external assets and no scripts.

use super::{RunReport, ScenarioReport};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use metrica_s2s_rules::visible;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#222}\
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
.passed,.flaky{color:#176617}.failed{color:#b00020}.error,.errored,.failed-recommended{color:#9a5b00}.accepted,.not-run{color:#666}code,pre{font:12px/1.4 ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}\
section{border-top:2px solid #ddd;margin-top:1.5rem}.diag{margin:.4rem 0 .8rem}.muted{color:#666}";

pub fn render(r: &RunReport) -> String {
    let verdict = r.verdict().as_str();
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { "metrica-s2s conform: " (visible(&r.partner.name)) " — " (verdict) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "S2S conformance: " (visible(&r.partner.name)) " — " span class=(verdict.to_lowercase()) { (verdict) } }
                p class="muted" {
                    "metrica-s2s " (r.tool.version) ", suite " code { (visible(&r.suite.id)) } " (" (visible(&r.suite.title)) "), sha256 " code { (r.suite.sha256) }
                    ", " (r.duration_ms) " ms."
                }
                p { (r.summary.total) " scenarios: " (r.summary.outcomes_text()) "; " (r.summary.warnings) " warning(s). Exit code " (r.exit_code) "." }
                p class="muted" { "Gate: " (r.gate.fail_on) " scenarios fail the run"
                    @if r.gate.retries > 0 { ", " (r.gate.retries) " retries" }
                    @if let Some(b) = &r.gate.baseline { ", baseline " code { (visible(&b.file)) } " (" (b.used) " of " (b.entries) " entries used)" }
                    "." }
                @if let Some(b) = &r.gate.baseline {
                    @for (_, p) in b.problems() {
                        p class="failed" { "Baseline " code { (visible(&b.file)) } " line " (p.line) ": " code { (visible(&p.scenario)) }
                            @if let Some(c) = &p.code { " " code { (c) } }
                            ": " (visible(&p.why)) }
                    }
                }
                table {
                    tr { th { "scenario" } th { "event" } th { "required" } th { "outcome" } th { "errors" } th { "warnings" } }
                    @for s in &r.scenarios {
                        tr {
                            td { a href={ "#" (visible(&s.id)) } { (visible(&s.id)) } }
                            td { (s.event.as_str()) }
                            td { (if s.required { "yes" } else { "no" }) }
                            td class=(s.outcome.as_str()) { (s.outcome.as_str()) }
                            td { (s.error_codes()) }
                            td { (s.warning_codes()) }
                        }
                    }
                }
                @for s in &r.scenarios { (scenario(s)) }
                @if !r.unmatched.is_empty() {
                    section {
                        h2 { "Requests that matched no scenario" }
                        @for u in &r.unmatched {
                            p { "#" (u.request.seq) " " code { (visible(&u.request.target)) }
                                @if let Some(id) = &u.resembles { " — resembles " a href={ "#" (visible(id)) } { (visible(id)) } } }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}

fn scenario(s: &ScenarioReport) -> Markup {
    html! {
        section id=(visible(&s.id)) {
            h2 { (visible(&s.title)) " " span class=(s.outcome.as_str()) { "(" (s.outcome.as_str()) ")" } }
            p class="muted" { code { (visible(&s.id)) } ", " (s.event.as_str()) ", tracking id " code { (s.tracking_id) } ", click id " code { (visible(&s.click_id)) } ", " (s.duration_ms) " ms" }
            h3 { "Sent: what the device did" }
            table {
                tr { th { "User-Agent" } td { pre { (visible(&s.device.ua)) } } }
                tr { th { "IP" } td { code { (s.device.ip) } } }
                @if let Some(id) = &s.device.google_aid { tr { th { "google_aid" } td { code { (visible(id)) } } } }
                @if let Some(id) = &s.device.ios_ifa { tr { th { "ios_ifa" } td { code { (visible(id)) } } } }
                tr { th { "event time" } td { (s.event_time) " (" (metrica_s2s_rules::calendar::format_utc(s.event_time as i64)) ")" } }
            }
            @if let Some(e) = &s.error { p class="error" { (visible(e)) } }
            @for a in &s.accepted_by {
                p class="muted" { "Accepted by the baseline"
                    @if let Some(c) = &a.code { " (" code { (c) } ")" }
                    ": " (visible(&a.reason))
                    @if let Some(u) = &a.until { " (until " (u) ")" } }
            }
            @for (i, a) in s.earlier_attempts.iter().enumerate() {
                p class="muted" { "Attempt " (i + 1) ": " (a.status.as_str()) " " (a.codes) " " (visible(&a.message)) }
            }
            h3 { "Findings" }
            @if s.diagnostics.is_empty() { p { "No findings." } }
            @for f in &s.diagnostics {
                div class="diag" {
                    strong class=(if f.is_error() { "failed" } else { "muted" }) { (f.diagnostic.severity.as_str()) " " code { (f.diagnostic.code.as_str()) } }
                    @if let Some(p) = &f.diagnostic.param { " on " code { (p) } }
                    ": " (visible(&f.diagnostic.message))
                    br;
                    span class="muted" { "Fix: " (visible(&f.diagnostic.hint)) }
                    @if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                        table { tr { th { "expected" } td { pre { (visible(e)) } } } tr { th { "arrived" } td { pre { (visible(a)) } } } }
                    }
                }
            }
            h3 { "Arrived at the mock" }
            @if s.requests.is_empty() { p { "Nothing." } }
            @for e in &s.requests {
                details open {
                    summary { "Request #" (e.seq) " — " (e.kind.as_str()) ", HTTP " (e.status) }
                    pre { (visible(&e.target)) }
                    table {
                        @for (k, v) in &e.params { tr { th { (visible(k)) } td { pre { (visible(v)) } } } }
                        tr { th { "sender's User-Agent" } td { pre { (visible(e.user_agent.as_deref().unwrap_or("-"))) } } }
                    }
                }
            }
            @for d in &s.postbacks {
                h3 { "Postback to the partner's receiver" }
                p { (d.method.as_str()) " " code { (visible(&d.url)) } }
                @if let Some(body) = &d.body { pre { (visible(body)) } }
                table {
                    tr { th { "attempt" } th { "answer" } th { "ms" } }
                    @for (i, a) in d.attempts.iter().enumerate() {
                        tr {
                            td { (i + 1) @if a.repeat { " (repeat)" } }
                            td {
                                @if let Some(st) = a.status { "HTTP " (st) }
                                @if let Some(e) = &a.error { (visible(e)) }
                                @if let Some(t) = &a.answer { pre { (visible(t)) } }
                            }
                            td { (a.duration_ms) }
                        }
                    }
                }
            }
        }
    }
}
