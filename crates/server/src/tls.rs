//! TLS with rustls: the server's certificate and key, and optionally the certificate
//! authority whose client certificates it accepts (`tls-auth-clients`). docs/security.md says
//! how to set it up.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use crate::ServerError;

/// `tls-auth-clients`: whether clients must show a certificate signed by the CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate asked for.
    No,
    /// Asked for and checked if given; a client without one is still served.
    Optional,
    /// Required (Redis's default when a CA is configured).
    Yes,
}

impl ClientAuth {
    pub fn parse(s: &str) -> Option<ClientAuth> {
        match s.to_ascii_lowercase().as_str() {
            "no" => Some(ClientAuth::No),
            "optional" => Some(ClientAuth::Optional),
            "yes" => Some(ClientAuth::Yes),
            _ => None,
        }
    }
}

/// Where the TLS port's certificate, key and client CA come from.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub ca_cert_file: Option<PathBuf>,
    pub auth_clients: ClientAuth,
}

fn err(what: &str, path: &Path, e: impl std::fmt::Display) -> ServerError {
    ServerError::Tls(format!("{what} {}: {e}", path.display()))
}

/// Reads the files and builds the acceptor; every problem names its file.
pub fn acceptor(s: &TlsSettings) -> Result<TlsAcceptor, ServerError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&s.cert_file)
        .map_err(|e| err("tls-cert-file", &s.cert_file, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| err("tls-cert-file", &s.cert_file, e))?;
    if certs.is_empty() {
        return Err(err("tls-cert-file", &s.cert_file, "no certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(&s.key_file)
        .map_err(|e| err("tls-key-file", &s.key_file, e))?;
    // ring builds with a C compiler alone (aws-lc-rs needs more tooling); it lacks the
    // post-quantum key exchanges, hence rustls's deprecation note.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let builder = match (&s.ca_cert_file, s.auth_clients) {
        (Some(ca), auth) if auth != ClientAuth::No => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in
                CertificateDer::pem_file_iter(ca).map_err(|e| err("tls-ca-cert-file", ca, e))?
            {
                let cert = cert.map_err(|e| err("tls-ca-cert-file", ca, e))?;
                roots
                    .add(cert)
                    .map_err(|e| err("tls-ca-cert-file", ca, e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            );
            let verifier = if auth == ClientAuth::Optional {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|e| err("tls-ca-cert-file", ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
        (None, ClientAuth::Yes | ClientAuth::Optional) => {
            return Err(ServerError::Tls(
                "tls-auth-clients yes or optional needs tls-ca-cert-file (the CA that signs \
                 client certificates); or set tls-auth-clients no"
                    .into(),
            ))
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| err("tls-key-file", &s.key_file, e))?;
    config.alpn_protocols.clear();
    Ok(TlsAcceptor::from(Arc::new(config)))
}
