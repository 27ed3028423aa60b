//! The JSON report, as docs/contract.md gives it.

use super::RunReport;

pub fn render(report: &RunReport) -> String {
    // Every field of the model serializes.
    serde_json::to_string_pretty(report).unwrap_or_default()
}
