//! `metrica-s2s ca`: the local CA's certificate path on the first line (made if missing), then
//! how to make clients trust it.

use crate::exit;
use clap::Args;
use metrica_s2s_mock::TlsFiles;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct CaArgs {
    /// Where the CA and the mock's certificate live [default: the platform's data directory,
    /// e.g. ~/.local/share/metrica-s2s/tls; METRICA_S2S_TLS_DIR overrides it].
    #[arg(long, value_name = "DIR")]
    tls_dir: Option<PathBuf>,
}

pub fn run(args: CaArgs) -> anyhow::Result<u8> {
    let files = TlsFiles::at(args.tls_dir.as_deref())?;
    let ca = files.prepare()?;
    if let Some(note) = sudo_note(args.tls_dir.as_deref(), &ca) {
        eprintln!("{note}");
    }
    let p = ca.display();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{p}")?;
    writeln!(
        out,
        "
This is the local CA that signs the certificate `metrica-s2s serve --tls-listen` serves (for
the eight AppMetrica S2S host names, localhost, 127.0.0.1 and ::1). Trust it only on machines
you test on: anyone with its key (in the same directory, readable by you only) can make
certificates your clients would accept.

  curl             curl --cacert {p} https://redirect.appmetrica.yandex.com/serve/...
  Python requests  export REQUESTS_CA_BUNDLE={p}
                   (replaces the whole trust store for requests: real https sites then fail;
                   for both, append it to a copy of certifi's bundle and point at that)
  Node.js          export NODE_EXTRA_CA_CERTS={p}
  Java             keytool -importcert -noprompt -alias metrica-s2s -file {p} \\
                       -keystore \"$JAVA_HOME/lib/security/cacerts\" -storepass changeit
  Go, OpenSSL      export SSL_CERT_FILE={p}   (replaces the system roots for that process)
  Debian, Ubuntu   sudo cp {p} /usr/local/share/ca-certificates/metrica-s2s.crt && sudo update-ca-certificates
  Fedora, RHEL     sudo cp {p} /etc/pki/ca-trust/source/anchors/metrica-s2s.pem && sudo update-ca-trust
  macOS            sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {p}

Then send the real host names to the mock, e.g. in /etc/hosts:
  127.0.0.1 redirect.appmetrica.yandex.com impression.appmetrica.yandex.com
and run `metrica-s2s serve --tls-listen 127.0.0.1:443` (port 443 may need root, or
`sudo setcap cap_net_bind_service=+ep $(command -v metrica-s2s)`)."
    )?;
    out.flush()?;
    Ok(exit::SUCCESS)
}

/// Under `sudo`, the default TLS directory is root's, not the invoking user's: a CA made or
/// used there is not the one `metrica-s2s ca` shows that user without sudo. Said on stderr,
/// with the exact place, whenever the default is used under sudo.
pub fn sudo_note(tls_dir: Option<&Path>, ca: &Path) -> Option<String> {
    let user = std::env::var("SUDO_USER").ok().filter(|u| !u.is_empty())?;
    if tls_dir.is_some() || std::env::var_os("METRICA_S2S_TLS_DIR").is_some() {
        return None;
    }
    Some(format!(
        "note: running under sudo, so the local CA is root's, at {}; {user}'s own `metrica-s2s ca` (without sudo) names another one. To share one CA, give both the same --tls-dir (or METRICA_S2S_TLS_DIR).",
        ca.display()
    ))
}
