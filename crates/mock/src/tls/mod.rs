//! HTTPS: one listener serving both real hosts over TLS (HTTP/2 and HTTP/1.1 by ALPN), with a
//! certificate from a local CA made on first use (`files`).

mod files;

pub(crate) use files::Served;
pub use files::{TlsFiles, TlsFilesError};

use metrica_s2s_rules::{kind_for_host, Kind};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// The rustls configuration of a TLS listener: the mock's chain, `h2` then `http/1.1`.
pub(crate) fn server_config(served: &Served) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = CertificateDer::pem_slice_iter(served.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the certificate chain does not parse: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(served.key_pem.as_bytes())
        .map_err(|e| format!("the key does not parse: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A TLS listener, and the kind its requests are when neither the SNI name nor the Host
/// header names a real host.
#[derive(Debug)]
pub(crate) struct TlsListener {
    pub(crate) listener: tokio::net::TcpListener,
    pub(crate) kind: Kind,
    pub(crate) config: Arc<rustls::ServerConfig>,
}

/// The kind a real host name sent as SNI stands for.
pub(crate) fn sni_kind(server_name: Option<&str>) -> Option<Kind> {
    kind_for_host(server_name?.as_bytes())
}
