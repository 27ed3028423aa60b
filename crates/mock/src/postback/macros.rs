//! The postback macros AppMetrica documents (its postback specification page), and what to
//! say about a template macro that is not one of them.
//!
//! Any parameter of the tracking URL is a macro too, so an undocumented name is not an error:
//! it is filled when the click carried a parameter of that name, and is empty otherwise. A
//! name close to a documented one is almost surely a typo, and a template that passes here
//! with it would arrive empty in production.

/// Every system macro of the postback specification page, in its order.
pub(crate) const DOCUMENTED: &[&str] = &[
    // Clicks, installs, events.
    "adwords_link_id",
    "click_id",
    "match_type",
    "attributed_touch_type",
    "transaction_id",
    "click_user_agent",
    "click_datetime",
    "click_timestamp",
    "click_timezone",
    "click_ipv6",
    "conversion_datetime",
    "conversion_timestamp",
    "conversion_timezone",
    "conversion_event_name",
    "conversion_event_json",
    "install_datetime",
    "install_timestamp",
    "install_timezone",
    "install_ipv6",
    "start_datetime",
    "start_timestamp",
    "start_timezone",
    "session_id",
    // Device.
    "adwords_rdid",
    "appmetrica_device_id",
    "profile_id",
    "limit_ad_tracking",
    "google_aid",
    "ios_ifa",
    "oaid",
    "windows_aid",
    "ios_ifv",
    "device_manufacturer",
    "device_model",
    "device_type",
    "device_locale",
    "os_name",
    "os_version",
    "operator_name",
    "mcc",
    "mnc",
    // App.
    "app_version_name",
    "app_package_name",
    "appmetrica_sdk_version",
    "store_app_id",
    // Revenue: ad revenue, in-app purchases and e-commerce.
    "price",
    "currency",
    "product_id",
    "order_id",
    "inapp_transaction_id",
    "inapp_validated",
    "inapp_receipt",
    "ecom_revenue",
    "ecom_quantity",
    "ecom_product_name",
    "ecom_promocodes",
    "ecom_type",
    "ecom_category_path_1",
    "ecom_category_path_2",
    "ecom_category_path_3",
    "ecom_category_path_4",
    "ecom_category_path_5",
    "ecom_category_path_6",
    "ecom_category_path_7",
    "ecom_category_path_8",
    "ecom_category_path_9",
    "ecom_category_path_10",
];

pub(crate) fn is_documented(name: &str) -> bool {
    DOCUMENTED.contains(&name)
}

/// What to say of template macro `name` when the tracker file loads, or `None` when it is a
/// documented macro or a parameter AppMetrica reads from the tracking URL.
pub(crate) fn unknown(name: &str) -> Option<String> {
    if is_documented(name) || metrica_s2s_rules::is_known_param(name) {
        return None;
    }
    let nearest = DOCUMENTED
        .iter()
        .map(|d| (strsim::damerau_levenshtein(name, d), *d))
        .min()
        .filter(|(distance, _)| *distance <= 3);
    let known_instead = match name {
        "event_timestamp" => Some("conversion_timestamp"),
        "event_datetime" => Some("conversion_datetime"),
        "event_name" => Some("conversion_event_name"),
        "ip" | "device_ipv6" => Some("install_ipv6"),
        "user_agent" => Some("click_user_agent"),
        _ => None,
    };
    let said = metrica_s2s_rules::quote_str(&format!("{{{name}}}"));
    Some(match known_instead.or(nearest.map(|(_, d)| d)) {
        Some(d) => format!(
            "{said} is not a macro AppMetrica documents; did you mean {{{d}}}? As written it is filled only when the click's tracking URL carries a parameter {name}=..., and is empty otherwise"
        ),
        None => format!(
            "{said} is not a macro AppMetrica documents: it is filled only when the click's tracking URL carries a parameter {name}=..., and is empty otherwise"
        ),
    })
}

#[cfg(test)]
mod tests {
    use crate::postback::macros::unknown;

    #[test]
    fn typos_name_the_documented_macro_and_parameters_pass() {
        let typo = unknown("clik_id").expect("a typo");
        assert!(typo.contains("did you mean {click_id}"), "{typo}");
        let invented = unknown("event_timestamp").expect("not documented");
        assert!(
            invented.contains("did you mean {conversion_timestamp}"),
            "{invented}"
        );
        assert!(unknown("sub_id").is_some_and(|m| !m.contains("did you mean")));
        for fine in [
            "click_id",
            "conversion_timestamp",
            "ecom_category_path_10",
            "site_id",
        ] {
            assert_eq!(unknown(fine), None, "{fine}");
        }
    }
}
