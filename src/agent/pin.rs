//! Trusting the district server by the SHA-256 of its certificate, as the issue asks: a
//! district server on HTTPS usually has a certificate of its own making that no system
//! trusts. `loa station enroll` prints the fingerprint of `http.tls_cert`; `loa agent enroll
//! --fingerprint` keeps it, and from then on the node talks only to a server presenting
//! exactly that certificate (the TLS handshake's signatures are still checked with it).
//! Without a fingerprint the node trusts the system's certificate authorities.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// The fingerprint of a certificate: SHA-256 of its DER bytes, 64 hex digits.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The fingerprint of the first (leaf) certificate of a PEM file.
pub fn fingerprint_of_pem(path: &Path) -> Result<String, String> {
    let cert = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .next()
        .ok_or_else(|| format!("{}: holds no certificate", path.display()))?
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(fingerprint(cert.as_ref()))
}

/// Reads a fingerprint as given (hex, colons allowed, any case).
pub fn parse(text: &str) -> Result<String, String> {
    let hex: String = text
        .trim()
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(format!(
            "'{text}' is not a certificate fingerprint (64 hex digits, as `loa station enroll` prints it)"
        ))
    }
}

/// Accepts only the certificate with the pinned fingerprint.
#[derive(Debug)]
struct Pinned {
    /// The fingerprint, lower-case hex.
    fingerprint: String,
    /// The provider's signature algorithms, to check the handshake.
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = fingerprint(end_entity.as_ref());
        if got == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate has fingerprint {got}, not the {} this machine enrolled with",
                self.fingerprint
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A TLS client configuration that trusts only the certificate with `fingerprint`.
pub fn client_config(fingerprint: &str) -> Result<rustls::ClientConfig, String> {
    // ring: see crate::web::tls for why the deprecated provider is kept.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Pinned {
        fingerprint: parse(fingerprint)?,
        algorithms: provider.signature_verification_algorithms,
    });
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_reads_with_or_without_colons_in_any_case() {
        let hex = "ab".repeat(32);
        assert_eq!(parse(&hex.to_uppercase()), Ok(hex.clone()));
        let colons = hex
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(parse(&colons), Ok(hex));
        assert!(parse("abc").unwrap_err().contains("64 hex digits"));
    }

    #[test]
    fn only_the_pinned_certificate_is_accepted() {
        let cert = CertificateDer::from(vec![1u8, 2, 3]);
        let pinned = Pinned {
            fingerprint: fingerprint(&[1, 2, 3]),
            #[allow(deprecated)]
            algorithms: rustls::crypto::ring::default_provider().signature_verification_algorithms,
        };
        let name = ServerName::try_from("localhost").unwrap();
        assert!(pinned
            .verify_server_cert(&cert, &[], &name, &[], UnixTime::now())
            .is_ok());
        let other = CertificateDer::from(vec![9u8]);
        let e = pinned
            .verify_server_cert(&other, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        assert!(e.to_string().contains("not the"), "{e}");
    }
}
