//! The one place outgoing HTTP(S) clients are built, so every request mtgate makes trusts the
//! same roots: the built-in Mozilla set plus `MTGATE_TLS_CA_FILE` ([`TlsConfig`]). TLS is
//! rustls on ring; certificate errors surface as ordinary request errors to the callers.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::config::TlsConfig;

/// How long a fetch of `media.url` may take to connect (TLS handshake included).
const MEDIA_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The client requests are forwarded to other replicas with: hyper's, so bodies stream both
/// ways untouched; `http://` or `https://` as each replica's address says.
pub type ReplicaClient = Client<HttpsConnector<HttpConnector>, Body>;

/// The clients of outgoing requests (cheap to clone: each shares its connection pool).
#[derive(Clone, Debug)]
pub struct Outgoing {
    media: reqwest::Client,
    webhooks: reqwest::Client,
    /// Built on first use: only a replica of a cluster forwards.
    replicas: Arc<OnceLock<ReplicaClient>>,
    tls: TlsConfig,
}

impl Outgoing {
    pub fn new(tls: &TlsConfig) -> Result<Self, reqwest::Error> {
        // Fetches on callers' behalf: no redirects (a redirect could lead anywhere), no proxy
        // from the environment, bounded connect time.
        let media = with_roots(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(MEDIA_CONNECT_TIMEOUT)
            .build()?;
        // Deliveries to receivers that callers register: no redirects either (a 3xx is a
        // failed attempt, retried; following it would post signed events to a host nobody
        // registered). The environment's proxy is honoured: receivers are often reached
        // through an egress proxy. Each POST is bounded by MTGATE_WEBHOOK_TIMEOUT.
        let webhooks = with_roots(tls)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            media,
            webhooks,
            replicas: Arc::default(),
            tls: tls.clone(),
        })
    }

    /// Fetches `media.url`.
    pub fn media(&self) -> &reqwest::Client {
        &self.media
    }

    /// Posts webhook deliveries.
    pub fn webhooks(&self) -> &reqwest::Client {
        &self.webhooks
    }

    /// Forwards requests to the replica holding an account.
    pub fn replicas(&self) -> &ReplicaClient {
        self.replicas.get_or_init(|| replica_client(&self.tls))
    }
}

/// hyper's client over rustls with the same roots as the reqwest clients. No proxy from the
/// environment: replicas reach each other directly.
fn replica_client(tls: &TlsConfig) -> ReplicaClient {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // Each was accepted as a trust anchor when the configuration was read.
    roots.add_parsable_certificates(tls.extra_root_ders.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports rustls' default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// A builder on rustls trusting the built-in roots and the configured ones.
fn with_roots(tls: &TlsConfig) -> reqwest::ClientBuilder {
    tls.extra_roots.iter().cloned().fold(
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(true),
        reqwest::ClientBuilder::add_root_certificate,
    )
}

/// Why an outgoing request failed, for callers and logs: the TLS reason when the handshake
/// failed (untrusted, expired, wrong host…), else the kind of failure. Never the URL, never
/// addresses or the server's words.
pub fn describe(error: &reqwest::Error) -> String {
    if let Some(tls) = tls_error(error) {
        return tls_reason(tls);
    }
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "cannot connect".into()
    } else if error.is_body() || error.is_decode() {
        "the response broke off".into()
    } else {
        "request failed".into()
    }
}

/// Why a forward to another replica failed, for the log: the TLS reason when the handshake
/// failed, else hyper's words (which name no URL).
pub fn describe_forward(error: &hyper_util::client::legacy::Error) -> String {
    match tls_error(error) {
        Some(tls) => tls_reason(tls),
        None if error.is_connect() => "cannot connect".into(),
        None => error.to_string(),
    }
}

/// The rustls error somewhere in `error`'s chain. An `io::Error`'s `source()` skips the error
/// it wraps, and the TLS connector wraps rustls' error in an `io::Error` (itself wrapped in
/// another), so an `io::Error` is followed into what it wraps.
fn tls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
}

fn tls_reason(error: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let certificate = match error {
        rustls::Error::InvalidCertificate(c) => c,
        rustls::Error::AlertReceived(alert) => {
            return format!("TLS handshake refused by the server ({alert:?})");
        }
        rustls::Error::NoCertificatesPresented => {
            return "TLS: the server presented no certificate".into();
        }
        _ => return "TLS handshake failed".into(),
    };
    let why = match certificate {
        C::UnknownIssuer => "is not trusted (unknown issuer; see MTGATE_TLS_CA_FILE)",
        C::NotValidForName | C::NotValidForNameContext { .. } => "is not valid for this host",
        C::Expired | C::ExpiredContext { .. } => "has expired",
        C::NotValidYet | C::NotValidYetContext { .. } => "is not valid yet",
        C::Revoked => "is revoked",
        C::BadSignature => "has a bad signature",
        _ => "is not acceptable",
    };
    format!("TLS: the server's certificate {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_problems_are_named_in_plain_words() {
        let reason = |c| tls_reason(&rustls::Error::InvalidCertificate(c));
        assert!(reason(rustls::CertificateError::UnknownIssuer).contains("MTGATE_TLS_CA_FILE"));
        assert!(reason(rustls::CertificateError::NotValidForName).contains("not valid for"));
        assert!(reason(rustls::CertificateError::Expired).contains("expired"));
        assert_eq!(
            tls_reason(&rustls::Error::DecryptError),
            "TLS handshake failed"
        );
    }

    /// A client error whose cause is an `io::Error` wrapping one wrapping a rustls error, as
    /// reqwest's connector reports a failed handshake.
    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_tls_error_wrapped_in_an_io_error_is_found_down_the_chain() {
        let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, unknown.clone());
        let outer = Outer(std::io::Error::other(inner));
        assert_eq!(tls_error(&outer), Some(&unknown));
        let plain = Outer(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(tls_error(&plain), None);
    }
}
