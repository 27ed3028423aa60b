//! device_ip: one address of the user's device, in a form every parser reads the same way.

use super::view::{Found, Scope};
use crate::catalogue::Code;
use crate::diagnostic::Draft;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

pub(super) fn check(scope: &Scope<'_, '_>, out: &mut Found) {
    let Some((view, text)) = scope.data("device_ip") else {
        return;
    };
    let span = view.value_span();
    for d in check_value(text) {
        out.push(d.span(span));
    }
}

/// Every finding for one device_ip value.
pub(crate) fn check_value(text: &str) -> Vec<Draft> {
    let v = text.as_bytes();
    // Plain dotted-decimal, nearly every value: std's parser takes nothing else (no port,
    // list, brackets, prefix or zero-led octet), so none of the shape checks below can fire.
    if let Ok(a) = text.parse::<Ipv4Addr>() {
        return classify(IpAddr::V4(a), v);
    }
    let draft = |code| Draft::new(code).value(v);
    let separated = text.bytes().any(|b| b == b',' || b.is_ascii_whitespace());
    let parts: Vec<&str> = if separated {
        text.split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        Vec::new()
    };
    if parts.len() >= 2 {
        return vec![draft(Code::IpList)
            .arg("count", parts.len().to_string())
            .quoted("first", first_public(&parts).as_bytes())];
    }
    if let Some(rest) = text.strip_prefix('[') {
        if let Some((inner, after)) = rest.split_once(']') {
            if let Ok(addr) = inner.parse::<Ipv6Addr>() {
                if let Some(port) = after.strip_prefix(':') {
                    return vec![draft(Code::IpWithPort)
                        .arg("port", shown_port(port))
                        .arg("address", addr.to_string())];
                }
                if after.is_empty() {
                    return vec![draft(Code::IpBracketed).arg("address", addr.to_string())];
                }
            }
        }
        return vec![draft(Code::IpInvalid)];
    }
    if let Some((addr, zone)) = text.split_once('%') {
        if addr.parse::<Ipv6Addr>().is_ok() {
            return vec![draft(Code::IpZone).quoted("zone", zone.as_bytes())];
        }
    }
    if text.contains('/') {
        return match text.parse::<IpNet>() {
            Ok(net) => vec![network(net, v)],
            Err(_) => vec![draft(Code::IpInvalid)],
        };
    }
    if let Some((addr, port)) = text.split_once(':') {
        if !port.contains(':') {
            if let Ok(a) = addr.parse::<Ipv4Addr>() {
                return vec![draft(Code::IpWithPort)
                    .arg("port", shown_port(port))
                    .arg("address", a.to_string())];
            }
        }
    }
    if let Some(fixed) = without_leading_zeros(text) {
        return vec![draft(Code::IpLeadingZeros).arg("fixed", fixed)];
    }
    match text.parse::<IpAddr>() {
        Ok(addr) => classify(addr, v),
        Err(_) => vec![draft(Code::IpInvalid)],
    }
}

/// A port as sent: bare when it is a number, quoted and escaped when it is anything else.
fn shown_port(port: &str) -> String {
    if !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) {
        port.to_owned()
    } else {
        crate::escape::quote_str(port)
    }
}

fn network(net: IpNet, v: &[u8]) -> Draft {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let size = match host_bits {
        0 => format!(
            "/{}, a single address written as a network",
            net.prefix_len()
        ),
        b if b < 64 => format!("/{}, {} addresses", net.prefix_len(), 1u64 << b),
        _ => format!("/{}", net.prefix_len()),
    };
    let note = match range_name(net.network(), documentation_ranges()) {
        Some(r) => format!(": {r}, the AppMetrica documentation's example value"),
        None => String::new(),
    };
    Draft::new(Code::IpNetwork)
        .value(v)
        .arg("size", size)
        .arg("note", note)
}

/// `010.1.2.3` with its plain-decimal reading, when it has a zero-led octet.
fn without_leading_zeros(text: &str) -> Option<String> {
    // Nearly every address has no octet like `01`: settle that without splitting.
    let b = text.as_bytes();
    let zero_led = (0..b.len().saturating_sub(1))
        .any(|i| b[i] == b'0' && b[i + 1].is_ascii_digit() && (i == 0 || b[i - 1] == b'.'));
    if !zero_led {
        return None;
    }
    let octets: Vec<&str> = text.split('.').collect();
    let well_formed = octets.len() == 4
        && octets
            .iter()
            .all(|o| (1..=3).contains(&o.len()) && o.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return None;
    }
    let nums: Option<Vec<String>> = octets
        .iter()
        .map(|o| o.parse::<u8>().ok().map(|n| n.to_string()))
        .collect();
    Some(nums.map_or_else(
        || "a valid dotted-decimal address".to_owned(),
        |n| n.join("."),
    ))
}

fn first_public(parts: &[&str]) -> String {
    let public = parts.iter().find(|p| {
        p.parse::<IpAddr>()
            .is_ok_and(|a| range_name(a, not_public_ranges()).is_none())
    });
    public.unwrap_or(&parts[0]).to_string()
}

fn classify(addr: IpAddr, v: &[u8]) -> Vec<Draft> {
    let mut found = Vec::new();
    let addr = match addr {
        IpAddr::V6(a6) => match a6.to_ipv4_mapped() {
            Some(a4) => {
                found.push(
                    Draft::new(Code::IpMapped)
                        .value(v)
                        .arg("v4", a4.to_string()),
                );
                IpAddr::V4(a4)
            }
            None => addr,
        },
        IpAddr::V4(_) => addr,
    };
    if let Some(r) = range_name(addr, documentation_ranges()) {
        found.push(Draft::new(Code::IpDocumentation).value(v).arg("range", r));
    } else if let Some(r) = range_name(addr, not_public_ranges()) {
        found.push(Draft::new(Code::IpNotPublic).value(v).arg("range", r));
    }
    found
}

type Ranges = Vec<(IpNet, &'static str)>;

fn range_name(addr: IpAddr, ranges: &Ranges) -> Option<&'static str> {
    // Every listed IPv4 range starts with one of these first octets; most public addresses
    // skip the scan.
    if let IpAddr::V4(a) = addr {
        if !matches!(
            a.octets()[0],
            0 | 10 | 100 | 127 | 169 | 172 | 192 | 198 | 203 | 224..=255
        ) {
            return None;
        }
    }
    ranges
        .iter()
        .find(|(n, _)| n.contains(&addr))
        .map(|(_, name)| *name)
}

fn ranges(table: &[(&str, &'static str)]) -> Ranges {
    table
        .iter()
        .filter_map(|(net, name)| net.parse().ok().map(|n| (n, *name)))
        .collect()
}

fn documentation_ranges() -> &'static Ranges {
    static R: OnceLock<Ranges> = OnceLock::new();
    R.get_or_init(|| {
        ranges(&[
            ("192.0.2.0/24", "RFC 5737 documentation range 192.0.2.0/24"),
            (
                "198.51.100.0/24",
                "RFC 5737 documentation range 198.51.100.0/24",
            ),
            (
                "203.0.113.0/24",
                "RFC 5737 documentation range 203.0.113.0/24",
            ),
            (
                "2001:db8::/32",
                "RFC 3849 documentation range 2001:db8::/32",
            ),
        ])
    })
}

/// Addresses a device on the internet never has. Order matters: the first match names it.
fn not_public_ranges() -> &'static Ranges {
    static R: OnceLock<Ranges> = OnceLock::new();
    R.get_or_init(|| {
        ranges(&[
            ("0.0.0.0/32", "unspecified (0.0.0.0)"),
            ("0.0.0.0/8", "\"this network\" (0.0.0.0/8)"),
            ("10.0.0.0/8", "private (RFC 1918, 10.0.0.0/8)"),
            (
                "100.64.0.0/10",
                "carrier-grade NAT (RFC 6598, 100.64.0.0/10)",
            ),
            ("127.0.0.0/8", "loopback (127.0.0.0/8)"),
            ("169.254.0.0/16", "link-local (169.254.0.0/16)"),
            ("172.16.0.0/12", "private (RFC 1918, 172.16.0.0/12)"),
            ("192.0.0.0/24", "IETF protocol assignment (192.0.0.0/24)"),
            ("192.168.0.0/16", "private (RFC 1918, 192.168.0.0/16)"),
            ("198.18.0.0/15", "benchmarking (RFC 2544, 198.18.0.0/15)"),
            ("224.0.0.0/4", "multicast (224.0.0.0/4)"),
            ("255.255.255.255/32", "broadcast (255.255.255.255)"),
            ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
            ("::/128", "unspecified (::)"),
            ("::1/128", "loopback (::1)"),
            ("100::/64", "discard-only (100::/64)"),
            ("2001:2::/48", "benchmarking (2001:2::/48)"),
            ("fc00::/7", "unique-local (fc00::/7)"),
            ("fe80::/10", "link-local (fe80::/10)"),
            ("fec0::/10", "site-local, deprecated (fec0::/10)"),
            ("ff00::/8", "multicast (ff00::/8)"),
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(v: &str) -> Vec<Code> {
        check_value(v)
            .into_iter()
            .map(|d| d.finish().code)
            .collect()
    }

    #[test]
    fn clean_public_addresses() {
        for v in ["5.255.232.147", "8.8.8.8", "2a02:6b8::2:242", "1.1.1.1"] {
            assert_eq!(codes(v), vec![], "{v}");
        }
    }

    #[test]
    fn malformed_addresses() {
        assert_eq!(codes("203.0.113.7:51234"), vec![Code::IpWithPort]);
        assert_eq!(codes("[2001:db8::1]:443"), vec![Code::IpWithPort]);
        assert_eq!(codes("[2001:db8::1]"), vec![Code::IpBracketed]);
        assert_eq!(codes("203.0.113.7, 10.0.0.1"), vec![Code::IpList]);
        assert_eq!(codes("203.0.113.7,10.0.0.1"), vec![Code::IpList]);
        assert_eq!(codes("010.1.2.3"), vec![Code::IpLeadingZeros]);
        assert_eq!(codes("fe80::1%eth0"), vec![Code::IpZone]);
        assert_eq!(codes("192.0.2.0/24"), vec![Code::IpNetwork]);
        for bad in [
            "203.0.113",
            "localhost",
            "1.2.3.256",
            "::g",
            "[::1",
            "1.2.3.4/99",
        ] {
            assert_eq!(codes(bad), vec![Code::IpInvalid], "{bad}");
        }
    }

    #[test]
    fn address_classes() {
        assert_eq!(codes("10.0.0.12"), vec![Code::IpNotPublic]);
        assert_eq!(codes("100.64.1.1"), vec![Code::IpNotPublic]);
        assert_eq!(codes("::1"), vec![Code::IpNotPublic]);
        assert_eq!(codes("fd00::1"), vec![Code::IpNotPublic]);
        assert_eq!(codes("255.255.255.255"), vec![Code::IpNotPublic]);
        assert_eq!(codes("198.51.100.23"), vec![Code::IpDocumentation]);
        assert_eq!(codes("2001:db8::7"), vec![Code::IpDocumentation]);
        assert_eq!(codes("::ffff:5.255.232.147"), vec![Code::IpMapped]);
        assert_eq!(
            codes("::ffff:192.168.1.1"),
            vec![Code::IpMapped, Code::IpNotPublic]
        );
    }

    #[test]
    fn list_hint_names_the_first_public_address() {
        let d = check_value("10.0.0.1, 203.0.113.7").remove(0).finish();
        assert!(d.hint.contains("\"203.0.113.7\""), "{}", d.hint);
    }
}
