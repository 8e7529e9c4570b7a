//! HTTPS for `loa serve` (`[http] tls_cert` and `tls_key`): the one file that touches
//! rustls. The certificate chain and key are read from PEM files once, at start; a file
//! that is missing or holds no certificate or key stops the start with the file named.
//! The ring provider is used (see [`acceptor`] for why), TLS 1.2 and 1.3, HTTP/1.1
//! offered by ALPN.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// The first byte of a TLS record carrying a handshake: how a TLS client's first bytes
/// are told from a plain HTTP request on the same port.
pub const HANDSHAKE: u8 = 0x16;

/// Reads the PEM files and builds the acceptor; the error names the file and the key.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!(
                "http.tls_cert {}: cannot read a PEM certificate chain: {e}",
                files.cert.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "http.tls_cert {}: holds no certificate (expected -----BEGIN CERTIFICATE-----)",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        format!(
            "http.tls_key {}: cannot read a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            files.key.display()
        )
    })?;
    // rustls 0.23.48 deprecates the ring provider because it offers no post-quantum key
    // exchange. Kept on purpose: aws-lc-rs (the other provider) needs cmake and a long C
    // build on the small commune PCs loa is built for, and the console's traffic stays on
    // a district LAN; X25519 with TLS 1.3 is what browsers there negotiate today.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "http.tls_cert {} and http.tls_key {} do not make a usable pair: {e}",
                files.cert.display(),
                files.key.display()
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
