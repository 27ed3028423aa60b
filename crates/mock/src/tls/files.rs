//! The local CA and the mock's certificate, made with rcgen on first use and kept in one
//! directory: `ca.pem` (the CA certificate clients are told to trust), `ca.key`, `cert.pem`
//! (the chain the mock serves: its certificate, then the CA's) and `key.pem`, the keys
//! readable by their owner only. They are reused across runs and made anew when the
//! certificate expires within 30 days or its names differ from the ones wanted.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

/// How long the CA is valid: long, as every client has to be told to trust it.
const CA_DAYS: i64 = 3650;
/// How long the mock's certificate is valid: under the 398 days Apple's clients accept.
const CERT_DAYS: i64 = 397;
/// A certificate expiring sooner than this is made anew.
const RENEW_DAYS: i64 = 30;

/// The names the certificate covers: the eight real hosts, `localhost` and the loopback IPs.
pub(crate) fn names() -> Vec<String> {
    let mut names: Vec<String> = metrica_s2s_rules::REAL_DOMAINS
        .iter()
        .flat_map(|d| [format!("redirect.{d}"), format!("impression.{d}")])
        .collect();
    names.extend(["localhost", "127.0.0.1", "::1"].map(str::to_owned));
    names
}

#[derive(Debug, thiserror::Error)]
pub enum TlsFilesError {
    #[error("cannot use TLS directory {dir}: {source}")]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make the certificates: {0}")]
    Make(#[from] rcgen::Error),
    #[error("refusing TLS {what} {path}: {why}; {fix}")]
    Unsafe {
        what: &'static str,
        path: PathBuf,
        why: String,
        fix: String,
    },
    #[error("no TLS directory: give --tls-dir (this platform has no data directory)")]
    NoDefault,
}

/// Where the files are.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub dir: PathBuf,
}

/// What the mock serves: its chain and key, PEM.
#[derive(Clone, Debug)]
pub(crate) struct Served {
    pub(crate) chain_pem: String,
    pub(crate) key_pem: String,
}

impl TlsFiles {
    /// `dir`, or the platform's data directory (`~/.local/share/metrica-s2s/tls` on Linux);
    /// `METRICA_S2S_TLS_DIR` stands in for a missing `dir`.
    pub fn at(dir: Option<&Path>) -> Result<TlsFiles, TlsFilesError> {
        let dir = match dir {
            Some(d) => d.to_owned(),
            None => match std::env::var_os("METRICA_S2S_TLS_DIR") {
                Some(d) => PathBuf::from(d),
                None => dirs::data_dir()
                    .ok_or(TlsFilesError::NoDefault)?
                    .join("metrica-s2s")
                    .join("tls"),
            },
        };
        Ok(TlsFiles { dir })
    }

    /// Makes what is missing or stale (see [`TlsFiles::ensure`]) and returns the CA
    /// certificate's path: what `metrica-s2s ca` prints.
    pub fn prepare(&self) -> Result<PathBuf, TlsFilesError> {
        self.ensure()?;
        Ok(self.ca_cert())
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn ca_key(&self) -> PathBuf {
        self.dir.join("ca.key")
    }

    fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    /// The CA's certificate, made when missing, expiring or unreadable.
    pub(crate) fn ensure_ca(&self) -> Result<(String, KeyPair), TlsFilesError> {
        create_private_dir(&self.dir)?;
        guard::directory(&self.dir)?;
        for key in [self.ca_key(), self.key()] {
            guard::key(&key)?;
        }
        if let (Ok(cert), Ok(key)) = (
            std::fs::read_to_string(self.ca_cert()),
            std::fs::read_to_string(self.ca_key()),
        ) {
            if let (Ok(k), Some(until)) = (KeyPair::from_pem(&key), not_after(&cert)) {
                if until > OffsetDateTime::now_utc() + Duration::days(RENEW_DAYS) {
                    return Ok((cert, k));
                }
            }
        }
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params
            .distinguished_name
            .push(DnType::CommonName, "metrica-s2s local CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "metrica-s2s (local testing only)");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(CA_DAYS);
        let cert = params.self_signed(&key)?.pem();
        write(&self.ca_key(), &key.serialize_pem(), true)?;
        write(&self.ca_cert(), &cert, false)?;
        // A new CA: the old certificate is not signed by it.
        let _ = std::fs::remove_file(self.cert());
        Ok((cert, key))
    }

    /// The chain and key the mock serves, made when missing, expiring, for other names, or
    /// not signed by the current CA.
    pub(crate) fn ensure(&self) -> Result<Served, TlsFilesError> {
        let (ca_pem, ca_key) = self.ensure_ca()?;
        let wanted = names();
        if let (Ok(chain), Ok(key)) = (
            std::fs::read_to_string(self.cert()),
            std::fs::read_to_string(self.key()),
        ) {
            let current = chain.ends_with(&ca_pem)
                && not_after(&chain)
                    .is_some_and(|t| t > OffsetDateTime::now_utc() + Duration::days(RENEW_DAYS))
                && sans(&chain).is_some_and(|s| s == wanted);
            if current && KeyPair::from_pem(&key).is_ok() {
                return Ok(Served {
                    chain_pem: chain,
                    key_pem: key,
                });
            }
        }
        let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(wanted)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "metrica-s2s mock");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(CERT_DAYS);
        let leaf = params.signed_by(&key, &issuer)?.pem();
        let chain = format!("{leaf}{ca_pem}");
        write(&self.key(), &key.serialize_pem(), true)?;
        write(&self.cert(), &chain, false)?;
        Ok(Served {
            chain_pem: chain,
            key_pem: key.serialize_pem(),
        })
    }
}

/// The first certificate's expiry.
fn not_after(pem: &str) -> Option<OffsetDateTime> {
    let der = first_der(pem)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    Some(cert.validity().not_after.to_datetime())
}

/// The first certificate's subject alternative names, as `names` writes them.
fn sans(pem: &str) -> Option<Vec<String>> {
    let der = first_der(pem)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    let ext = cert.subject_alternative_name().ok()??;
    ext.value
        .general_names
        .iter()
        .map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
            x509_parser::extensions::GeneralName::IPAddress(b) => match b.len() {
                4 => <[u8; 4]>::try_from(*b)
                    .ok()
                    .map(|a| std::net::IpAddr::from(a).to_string()),
                16 => <[u8; 16]>::try_from(*b)
                    .ok()
                    .map(|a| std::net::IpAddr::from(a).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn first_der(pem: &str) -> Option<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()?
        .ok()
        .map(|c| c.to_vec())
}

fn create_private_dir(dir: &Path) -> Result<(), TlsFilesError> {
    let err = |source| TlsFilesError::Dir {
        dir: dir.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(err)
}

/// Writes `text` to `path` through a new file of a fresh name, created exclusively (a file or
/// link someone planted is never opened) with its mode set at creation, then renamed into
/// place (which replaces a link, never writes through it).
fn write(path: &Path, text: &str, private: bool) -> Result<(), TlsFilesError> {
    let err = |source| TlsFilesError::Write {
        path: path.to_owned(),
        source,
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{:x}.tmp",
        std::process::id(),
        fastrand::u64(..)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(if private { 0o600 } else { 0o644 })
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    #[cfg(not(unix))]
    let _ = private;
    let written = (|| {
        use std::io::Write;
        let mut f = options.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

/// What the directory and the keys must be before they are trusted: the local CA's key signs
/// certificates every client of the machine trusts, so anyone who can read it, or plant one,
/// can impersonate AppMetrica's hosts to them.
mod guard {
    use crate::tls::files::TlsFilesError;
    use std::path::Path;

    /// Owned by this user, and writable by no one else.
    pub(super) fn directory(dir: &Path) -> Result<(), TlsFilesError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(dir).map_err(|source| TlsFilesError::Dir {
                dir: dir.to_owned(),
                source,
            })?;
            let me = rustix::process::geteuid().as_raw();
            let unsafe_ = |why: String, fix: String| TlsFilesError::Unsafe {
                what: "directory",
                path: dir.to_owned(),
                why,
                fix,
            };
            if meta.uid() != me {
                return Err(unsafe_(
                    format!("it is owned by user {}, not by you (user {me}), who would trust what they put there", meta.uid()),
                    "give --tls-dir a directory of your own (or unset METRICA_S2S_TLS_DIR): it is made on first use".into(),
                ));
            }
            if meta.mode() & 0o022 != 0 {
                return Err(unsafe_(
                    format!(
                        "others can write to it (mode {:o}), so they could plant or replace the CA",
                        meta.mode() & 0o777
                    ),
                    format!(
                        "run `chmod 700 {}`, or give --tls-dir a new directory",
                        dir.display()
                    ),
                ));
            }
        }
        #[cfg(not(unix))]
        let _ = dir;
        Ok(())
    }

    /// When it exists: a plain file of this user's, readable by no one else.
    pub(super) fn key(path: &Path) -> Result<(), TlsFilesError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let Ok(meta) = std::fs::symlink_metadata(path) else {
                return Ok(());
            };
            let me = rustix::process::geteuid().as_raw();
            let unsafe_ = |why: String, fix: String| TlsFilesError::Unsafe {
                what: "key",
                path: path.to_owned(),
                why,
                fix,
            };
            if !meta.file_type().is_file() {
                return Err(unsafe_(
                    "it is not a plain file (a link?)".into(),
                    format!("remove it (`rm {}`): a new one is made", path.display()),
                ));
            }
            if meta.uid() != me {
                return Err(unsafe_(
                    format!("it is owned by user {}, not by you (user {me})", meta.uid()),
                    format!("remove it (`rm {}`): a new one is made", path.display()),
                ));
            }
            if meta.mode() & 0o077 != 0 {
                return Err(unsafe_(
                    format!("others can read or write it (mode {:o}): whoever read it can make certificates your clients trust", meta.mode() & 0o777),
                    format!("treat it as leaked: remove the directory's files and trust the new CA (`metrica-s2s ca`), or if no one else could have read it, `chmod 600 {}`", path.display()),
                ));
            }
        }
        #[cfg(not(unix))]
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::tls::files::{names, not_after, sans, TlsFiles};

    #[test]
    fn files_are_made_once_reused_and_keys_kept_private() {
        let dir = tempfile::tempdir().expect("dir");
        let files = TlsFiles::at(Some(dir.path())).expect("files");
        let first = files.ensure().expect("made");
        assert_eq!(sans(&first.chain_pem), Some(names()));
        assert_eq!(names().len(), 11);
        let again = files.ensure().expect("reused");
        assert_eq!(first.chain_pem, again.chain_pem, "reused across runs");
        assert!(not_after(&again.chain_pem).is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for key in ["ca.key", "key.pem"] {
                let mode = std::fs::metadata(dir.path().join(key))
                    .expect("key")
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{key}");
            }
        }
        // A certificate for other names is made anew, by the same CA.
        let ca = std::fs::read_to_string(files.ca_cert()).expect("ca");
        std::fs::write(dir.path().join("cert.pem"), "not a certificate").expect("write");
        let renewed = files.ensure().expect("renewed");
        assert_ne!(renewed.chain_pem, first.chain_pem);
        assert!(renewed.chain_pem.ends_with(&ca));
    }
}
