//! docs/contract.md against the real binary: every documented flag exists with its documented
//! default and every flag is documented, every admin route answers, the exec driver's
//! environment is the documented one, every stable code is in the catalogue, and the numbers
//! other pages give for a flag's default are the binary's.

use std::collections::BTreeSet;
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod support;
use support::{bin, read_response, start};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn contract() -> String {
    std::fs::read_to_string(root().join("docs/contract.md")).expect("docs/contract.md")
}

/// The section of `text` under the heading `heading`, up to the next heading of its level or
/// above.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("docs/contract.md has no {heading:?}"));
    let body = &text[start + heading.len() + 2..];
    let end = body
        .lines()
        .scan(0, |at, l| {
            let here = *at;
            *at += l.len() + 1;
            Some((here, l))
        })
        .find(|(_, l)| {
            let hashes = l.chars().take_while(|c| *c == '#').count();
            hashes > 0 && hashes <= level && l.chars().nth(hashes) == Some(' ')
        })
        .map_or(body.len(), |(at, _)| at);
    &body[..end]
}

/// The rows of the first table in `text` whose header starts with `first_column`, as cells
/// with their backticks removed.
fn table(text: &str, first_column: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if !inside {
            inside = line.starts_with(&format!("| {first_column} |"));
            continue;
        }
        if !line.starts_with('|') {
            break;
        }
        if line.starts_with("|---") {
            continue;
        }
        rows.push(
            line.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect(),
        );
    }
    rows
}

fn help(command: &str) -> String {
    let out = Command::new(bin())
        .args([command, "--help"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{command} --help");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Each long flag of a `--help` text, with the value of its `[default: ...]`.
fn flags_in_help(help: &str) -> Vec<(String, Option<String>)> {
    help.lines()
        .map(str::trim_start)
        .filter_map(|l| {
            l.strip_prefix("--")
                .or_else(|| l.split_once(", --").map(|(_, r)| r))
        })
        .map(|l| {
            let flag = format!("--{}", l.split([' ', ',']).next().unwrap_or_default());
            let default = l
                .split_once("[default: ")
                .and_then(|(_, r)| r.split_once(']'))
                .map(|(d, _)| d.to_owned());
            (flag, default)
        })
        .filter(|(f, _)| f != "--help" && f != "--version")
        .collect()
}

const COMMANDS: [&str; 5] = ["serve", "lint", "explain", "conform", "ca"];

#[test]
fn every_flag_is_documented_with_the_default_the_binary_has() {
    let text = contract();
    for command in COMMANDS {
        let rows = table(
            section(&text, &format!("## `metrica-s2s {command}`")),
            "flag",
        );
        assert!(!rows.is_empty(), "{command}: no flags table");
        let documented: BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        let actual = flags_in_help(&help(command));
        let in_help: BTreeSet<&str> = actual.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            documented, in_help,
            "{command}: the flags of docs/contract.md and of --help differ"
        );
        for row in &rows {
            let (_, default) = actual
                .iter()
                .find(|(f, _)| *f == row[0])
                .expect("in --help");
            if row[1] != "—" {
                assert_eq!(
                    default.as_deref(),
                    Some(row[1].as_str()),
                    "{command} {}: the documented default is not the binary's",
                    row[0]
                );
            }
        }
    }
}

#[test]
fn every_documented_admin_route_answers() {
    let rows = table(&contract(), "method");
    assert!(rows.len() > 15, "{rows:?}");
    let server = start(&[]);
    for row in rows {
        let (method, path) = (&row[0], &row[1]);
        let target = path
            .replace("{seq}", "1")
            .replace("{code}", "ip-with-port")
            .replace("{id}", "1");
        let body = match method.as_str() {
            "PUT" => "[]",
            "POST" => "{}",
            _ => "",
        };
        let mut s = TcpStream::connect(server.click).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        write!(
            s,
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            server.click,
            body.len()
        )
        .expect("write");
        let (status, answer) =
            read_response(&mut BufReader::new(s)).unwrap_or_else(|| panic!("{method} {path}"));
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            status != 405 && !answer.contains("unknown-endpoint"),
            "{method} {path}: no such route ({status} {answer})"
        );
    }
}

#[test]
fn the_exec_drivers_environment_is_the_documented_one() {
    let documented: BTreeSet<String> = table(&contract(), "variable")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(documented.len() >= 12, "{documented:?}");
    let dir = tempfile::tempdir().expect("dir");
    let seen = dir.path().join("env.txt");
    let correct = root().join("fixtures/partners/correct.sh");
    let partner = dir.path().join("partner.toml");
    std::fs::write(
        &partner,
        format!(
            "[partner]\nname = \"env\"\n[driver]\nkind = \"exec\"\ncommand = \"env | grep '^S2S_' | cut -d= -f1 | sort -u > '{}'; sh '{}'\"\n",
            seen.display(),
            correct.display()
        ),
    )
    .expect("partner file");
    let out = Command::new(bin())
        .args(["conform", "--partner"])
        .arg(&partner)
        .args(["--only", "android-click-gaid-ipv4"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let given: BTreeSet<String> = std::fs::read_to_string(&seen)
        .expect("the command ran")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(given, documented);
}

#[test]
fn every_stable_code_is_in_the_catalogue() {
    let text = contract();
    let list = section(&text, "## Stable diagnostic codes");
    let codes: Vec<&str> = list
        .split([',', '\n', '.'])
        .map(str::trim)
        .filter(|c| {
            c.contains('-')
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .collect();
    assert!(codes.len() > 60, "{codes:?}");
    for code in codes {
        assert!(
            metrica_s2s_rules::Code::from_name(code).is_some(),
            "{code} is promised stable but is not in the catalogue"
        );
    }
}

/// Where another page gives a number for a flag, as in "within 10 s (`--header-read-timeout`)"
/// or "(`--jobs`, default 8)", it is the default the binary has.
#[test]
fn numbers_other_pages_give_for_a_default_are_the_binarys() {
    let mut defaults = std::collections::HashMap::new();
    for command in COMMANDS {
        for (flag, default) in flags_in_help(&help(command)) {
            if let Some(d) = default.filter(|d| d.bytes().all(|b| b.is_ascii_digit())) {
                defaults.insert(flag, d);
            }
        }
    }
    let mut pages = vec![root().join("README.md")];
    for e in std::fs::read_dir(root().join("docs")).expect("docs") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(p);
        }
    }
    let mut checked = 0;
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("page");
        for (at, _) in text.match_indices("(`--") {
            let flag: String = text[at + 2..]
                .chars()
                .take_while(|c| *c == '-' || c.is_ascii_alphanumeric())
                .collect();
            let Some(default) = defaults.get(&flag) else {
                continue;
            };
            let before = &text[text[..at].rfind(['.', '\n']).map_or(0, |i| i + 1)..at];
            let after = &text[at..];
            let after = &after[..after.find(')').unwrap_or(after.len())];
            let stated = after
                .split_once("default ")
                .map(|(_, r)| r)
                .or_else(|| {
                    let words: Vec<&str> = before.split(' ').collect();
                    let i = words
                        .iter()
                        .rposition(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
                    Some(before[before.len() - words[i..].join(" ").len()..].trim_end())
                })
                .and_then(number);
            if let Some(n) = stated {
                assert_eq!(
                    &n,
                    default,
                    "{}: {flag} is said to default to {n}, but the binary's default is {default}",
                    page.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "only {checked} stated defaults found");
}

/// The number at the start of `text`, as a page writes it: `500,000`, `16 MiB`, `10 s`.
fn number(text: &str) -> Option<String> {
    let digits: String = text
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '_')
        .filter(char::is_ascii_digit)
        .collect();
    let n: u64 = digits.parse().ok()?;
    let unit = text[text
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '_'))
        .unwrap_or(text.len())..]
        .trim_start();
    let scale = match unit.split([' ', ')', ',', ';']).next().unwrap_or_default() {
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => 1,
    };
    Some((n * scale).to_string())
}

/// Under sudo, `ca` says the CA it made is root's, and where it is.
#[test]
fn ca_under_sudo_says_whose_ca_it_is_and_where() {
    let home = tempfile::tempdir().expect("dir");
    let out = Command::new(bin())
        .arg("ca")
        .env("XDG_DATA_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("METRICA_S2S_TLS_DIR")
        .env("SUDO_USER", "alice")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let path = String::from_utf8(out.stdout).expect("utf-8");
    let path = path.lines().next().expect("the path first");
    let note = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        note.contains("running under sudo") && note.contains(path) && note.contains("alice"),
        "{note}"
    );
    let plain = Command::new(bin())
        .args(["ca", "--tls-dir"])
        .arg(home.path().join("own"))
        .env("SUDO_USER", "alice")
        .output()
        .expect("runs");
    assert!(
        plain.stderr.is_empty(),
        "an explicit directory needs no note"
    );
}
