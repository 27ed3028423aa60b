//! Hashed device ids: a tracking URL may carry `google_aid_sha1`, `ios_ifa_md5` and their kin
//! instead of the raw id, and AppMetrica matches them to the device's raw id. AppMetrica does
//! not say how the id is written before hashing, so the id as reported, in lower case and in
//! upper case are all tried; hex digests compare without case.

use super::attribution::DeviceIds;
use md5::Md5;
use sha1::{Digest, Sha1};

/// Every digest a touch may carry for the device's raw ids, lowercase hex.
pub(crate) fn digests_of(ids: &DeviceIds<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for id in [ids.google_aid, ids.ios_ifa, ids.oaid, ids.windows_aid]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|id| !id.is_empty())
    {
        let mut spellings = vec![
            id.to_owned(),
            id.to_ascii_lowercase(),
            id.to_ascii_uppercase(),
        ];
        spellings.dedup();
        for s in spellings {
            for d in [
                hex(&Md5::digest(s.as_bytes())),
                hex(&Sha1::digest(s.as_bytes())),
            ] {
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use crate::postback::attribution::DeviceIds;
    use crate::postback::hashed::digests_of;

    #[test]
    fn digests_of_each_spelling() {
        let ids = DeviceIds {
            google_aid: Some("38400000-8cf0-11bd-b23e-10b96e40000d"),
            ..DeviceIds::default()
        };
        let d = digests_of(&ids);
        // `printf %s 38400000-8cf0-11bd-b23e-10b96e40000d | md5sum` and `| sha1sum`.
        assert!(
            d.contains(&"5756ae9022b2ea1e47d84fead75220c8".to_owned()),
            "{d:?}"
        );
        assert!(
            d.contains(&"4dfaa92388699ac6539885aef1719293879985bf".to_owned()),
            "{d:?}"
        );
    }
}
