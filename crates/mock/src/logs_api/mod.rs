//! The Logs API's exports as AppMetrica shapes them, so that reconciliation scripts can be
//! tested against the mock: `GET /logs/v1/export/{postbacks,clicks,installations}.{json,csv}`
//! with `application_id`, `date_since`, `date_until` and `fields`; only the fields asked, in
//! their order, every value a string; `limit`, `use_utf8_bom`, `date_dimension` and an
//! equality filter on any field. Served under the admin API's access rules.

mod fields;

use crate::problem::problem;
use crate::state::SharedState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use fields::Export;
use indexmap::IndexMap;
use metrica_s2s_rules::calendar::parse_rfc3339;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// The parameters that are not filters.
const PARAMETERS: &[&str] = &[
    "application_id",
    "date_since",
    "date_until",
    "fields",
    "limit",
    "use_utf8_bom",
    "date_dimension",
];

/// A request, checked.
struct Asked {
    export: Export,
    format: Format,
    application_id: String,
    since: i64,
    until: i64,
    fields: Vec<&'static str>,
    limit: Option<usize>,
    bom: bool,
    receive: bool,
    filters: Vec<(&'static str, String)>,
}

/// `GET /logs/v1/export/<name>.<format>`.
pub(crate) async fn export(
    State(state): State<SharedState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let asked = match asked(&file, query.as_deref().unwrap_or("")) {
        Ok(a) => a,
        Err((status, detail)) => {
            return problem(
                status,
                "logs-api",
                "Logs API request refused",
                &detail,
                &[],
                None,
            )
        }
    };
    let time_field = asked.export.time_field(asked.receive);
    let rows = asked
        .export
        .rows(&state)
        .into_iter()
        .filter(|r| r.get("application_id") == Some(&asked.application_id))
        .filter(|r| {
            r.get(time_field)
                .and_then(|t| t.parse::<i64>().ok())
                .is_some_and(|t| (asked.since..=asked.until).contains(&t))
        })
        .filter(|r| {
            asked
                .filters
                .iter()
                .all(|(f, want)| r.get(f).is_some_and(|v| v == want))
        })
        .take(asked.limit.unwrap_or(usize::MAX));
    let picked = rows.map(|r| {
        asked
            .fields
            .iter()
            .map(|f| (*f, r.get(f).cloned().unwrap_or_default()))
            .collect::<IndexMap<&str, String>>()
    });
    match asked.format {
        Format::Json => {
            /// Serialised as it is, so each row keeps the order of the fields asked.
            #[derive(serde::Serialize)]
            struct Data {
                data: Vec<IndexMap<&'static str, String>>,
            }
            let body = serde_json::to_string(&Data {
                data: picked.collect(),
            })
            .unwrap_or_default();
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Format::Csv => match csv_text(&asked.fields, picked, asked.bom) {
            Ok(text) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response(),
            Err(e) => problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "logs-api",
                "Logs API export failed",
                &e.to_string(),
                &[],
                None,
            ),
        },
    }
}

/// A header row, then a row per record; the csv crate quotes what needs quoting (a receiver's
/// answer may hold commas, quotes and newlines).
fn csv_text(
    fields: &[&str],
    rows: impl Iterator<Item = IndexMap<&'static str, String>>,
    bom: bool,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(fields)?;
    for row in rows {
        w.write_record(row.values())?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn bad(detail: String) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, detail)
}

fn asked(file: &str, query: &str) -> Result<Asked, (StatusCode, String)> {
    let (name, format) = file.rsplit_once('.').ok_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            format!(
                "no export {}: ask for postbacks, clicks or installations, as .json or .csv",
                metrica_s2s_rules::quote_str(file)
            ),
        )
    })?;
    let export = Export::parse(name).ok_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            format!(
                "no export {}: the mock serves postbacks, clicks and installations",
                metrica_s2s_rules::quote_str(name)
            ),
        )
    })?;
    let format = match format {
        "json" => Format::Json,
        "csv" => Format::Csv,
        other => {
            return Err((
                StatusCode::NOT_FOUND,
                format!(
                    "format {}: ask for .json or .csv",
                    metrica_s2s_rules::quote_str(other)
                ),
            ))
        }
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.as_str());
    let required = |k: &str| {
        get(k).filter(|v| !v.is_empty()).ok_or_else(|| {
            bad(format!(
                "{k} is required (application_id, date_since, date_until and fields always are)"
            ))
        })
    };
    let known = export.fields();
    let field = |name: &str| known.iter().copied().find(|f| *f == name);
    let application_id = required("application_id")?;
    if application_id.parse::<u64>().is_err() {
        return Err(bad(format!(
            "application_id {} is not an application id (a number)",
            metrica_s2s_rules::quote_str(application_id)
        )));
    }
    let since = when(required("date_since")?, "date_since", false)?;
    let until = when(required("date_until")?, "date_until", true)?;
    let fields = required("fields")?
        .split(',')
        .map(str::trim)
        .map(|f| {
            field(f).ok_or_else(|| {
                bad(format!(
                    "unknown field {} for the {name} export; its fields are: {}",
                    metrica_s2s_rules::quote_str(f),
                    known.join(",")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let limit = get("limit")
        .map(|l| {
            l.parse::<usize>().map_err(|_| {
                bad(format!(
                    "limit {} is not a number of rows",
                    metrica_s2s_rules::quote_str(l)
                ))
            })
        })
        .transpose()?;
    let receive = match get("date_dimension") {
        None | Some("default") => false,
        Some("receive") if export != Export::Postbacks => true,
        Some(other) => {
            return Err(bad(format!(
                "date_dimension {}: give default or receive (clicks and installations only)",
                metrica_s2s_rules::quote_str(other)
            )))
        }
    };
    let mut filters = Vec::new();
    for (k, v) in &params {
        if PARAMETERS.contains(&k.as_str()) {
            continue;
        }
        let f = field(k).ok_or_else(|| {
            bad(format!(
                "unknown parameter or field {} for the {name} export",
                metrica_s2s_rules::quote_str(k)
            ))
        })?;
        filters.push((f, v.clone()));
    }
    Ok(Asked {
        export,
        format,
        application_id: application_id.to_owned(),
        since,
        until,
        fields,
        limit,
        bom: get("use_utf8_bom") == Some("true"),
        receive,
        filters,
    })
}

/// Unix seconds of `yyyy-mm-dd` or `yyyy-mm-dd hh:mm:ss` (UTC); a bare date as an upper
/// bound means the end of that day.
fn when(text: &str, name: &str, upper: bool) -> Result<i64, (StatusCode, String)> {
    let full = match text.len() {
        10 if upper => format!("{text}T23:59:59Z"),
        10 => format!("{text}T00:00:00Z"),
        _ => format!("{}Z", text.replacen(' ', "T", 1)),
    };
    parse_rfc3339(&full)
        .map(|ms| ms.div_euclid(1000))
        .ok_or_else(|| {
            bad(format!(
                "{name} {} is not a time such as 2026-11-28 or 2026-11-28 10:00:00",
                metrica_s2s_rules::quote_str(text)
            ))
        })
}

#[cfg(test)]
mod tests {
    use crate::logs_api::{asked, when};

    #[test]
    fn fields_are_checked_and_kept_in_order() {
        let a = asked(
            "postbacks.csv",
            "application_id=1&date_since=2026-12-01&date_until=2026-12-31&fields=response_code,notifying_status,click_id&notifying_status=sent",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(a.fields, ["response_code", "notifying_status", "click_id"]);
        assert_eq!(a.filters, [("notifying_status", "sent".to_owned())]);
        let (status, detail) = asked(
            "postbacks.json",
            "application_id=1&date_since=2026-12-01&date_until=2026-12-31&fields=click_id,clik_id",
        )
        .err()
        .expect("refused");
        assert_eq!(status.as_u16(), 400);
        assert!(detail.contains("unknown field \"clik_id\""), "{detail}");
        assert!(asked("postbacks.json", "fields=click_id").is_err());
        assert!(asked("sessions.json", "").is_err());
    }

    #[test]
    fn dates_with_and_without_a_time() {
        assert_eq!(when("2026-11-28", "d", false).ok(), Some(1_795_824_000));
        assert_eq!(when("2026-11-28", "d", true).ok(), Some(1_795_910_399));
        assert_eq!(
            when("2026-11-28 10:00:00", "d", false).ok(),
            Some(1_795_860_000)
        );
        assert!(when("28.11.2026", "d", false).is_err());
    }
}
