//! `MTGATE_TLS_CA_FILE`: trust roots for outgoing HTTPS (`media.url` fetches, webhook
//! deliveries, forwarding to replicas at `https://` addresses) besides the built-in Mozilla
//! set, for servers behind an internal CA. Read and checked once at startup, so a bad bundle
//! stops mtgate instead of failing every delivery.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::ConfigError;

pub const VAR: &str = "MTGATE_TLS_CA_FILE";

/// Validated trust settings for outgoing HTTPS.
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// The bundle's path, when one is configured.
    pub ca_file: Option<PathBuf>,
    /// Its certificates, each already accepted as a trust anchor.
    pub extra_roots: Vec<reqwest::Certificate>,
    /// The same certificates as DER, for the clients built on rustls directly.
    pub extra_root_ders: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_file", &self.ca_file)
            .field("extra_roots", &self.extra_roots.len())
            .finish()
    }
}

impl TlsConfig {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let Some(path) = get(VAR).map(|v| PathBuf::from(v.trim())) else {
            return Ok(Self::default());
        };
        let (extra_roots, extra_root_ders) =
            load(&path).map_err(|reason| ConfigError::new(VAR, reason))?;
        Ok(Self {
            ca_file: Some(path),
            extra_roots,
            extra_root_ders,
        })
    }
}

/// The certificates of a PEM bundle (for reqwest, and as DER), or why it cannot be used
/// (never its contents).
type Roots = (Vec<reqwest::Certificate>, Vec<CertificateDer<'static>>);

fn load(path: &Path) -> Result<Roots, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    // Read once as DER; reqwest's certificates are made from the same bytes.
    let ders = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("{shown} is not PEM: a CERTIFICATE block does not decode"))?;
    if ders.is_empty() {
        return Err(format!(
            "{shown} holds no PEM certificate (-----BEGIN CERTIFICATE----- blocks expected)"
        ));
    }
    let mut certificates = Vec::with_capacity(ders.len());
    for (i, der) in ders.iter().enumerate() {
        let unusable = || {
            format!(
                "{shown}: certificate {} is not a usable X.509 CA certificate",
                i + 1
            )
        };
        let certificate = reqwest::Certificate::from_der(der).map_err(|_| unusable())?;
        usable_root(&certificate).map_err(|()| unusable())?;
        certificates.push(certificate);
    }
    Ok((certificates, ders))
}

/// Whether the TLS stack accepts `certificate` as a trust anchor: a client trusting only it
/// builds (the same check every outgoing client makes when it is built).
fn usable_root(certificate: &reqwest::Certificate) -> Result<(), ()> {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(certificate.clone())
        .build()
        .map(drop)
        .map_err(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, contents: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mtgate-tls-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    fn with(path: &Path) -> Result<TlsConfig, ConfigError> {
        let value = path.display().to_string();
        TlsConfig::from_lookup(&move |name| (name == VAR).then(|| value.clone()))
    }

    #[test]
    fn unset_means_only_the_built_in_roots() {
        let tls = TlsConfig::from_lookup(&|_| None).unwrap();
        assert!(tls.ca_file.is_none());
        assert!(tls.extra_roots.is_empty());
    }

    #[test]
    fn a_bundle_of_two_certificates_gives_two_roots() {
        let bundle = format!("# internal CAs\n{}\n{}", ca_pem(), ca_pem());
        let path = file("cas.pem", bundle.as_bytes());
        let tls = with(&path).unwrap();
        assert_eq!(tls.ca_file.as_deref(), Some(path.as_path()));
        assert_eq!(tls.extra_roots.len(), 2);
        assert_eq!(tls.extra_root_ders.len(), 2);
    }

    #[test]
    fn a_missing_file_is_refused_naming_the_variable() {
        let missing = std::env::temp_dir().join("mtgate-tls-no-such-dir/ca.pem");
        let err = with(&missing).unwrap_err();
        assert_eq!(err.var, VAR);
        assert!(err.reason.contains("cannot read"), "{err}");
    }

    #[test]
    fn files_without_a_usable_pem_certificate_are_refused_naming_the_variable() {
        let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let broken = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n";
        let not_x509 = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        for (name, contents) in [
            ("empty.pem", String::new()),
            ("text.pem", "just some text\n".to_string()),
            ("key.pem", key),
            ("broken.pem", broken.to_string()),
            ("der.pem", not_x509.to_string()),
        ] {
            let err = with(&file(name, contents.as_bytes())).unwrap_err();
            assert_eq!(err.var, VAR, "{name}");
            assert!(
                err.to_string().starts_with("MTGATE_TLS_CA_FILE: "),
                "{name}: {err}"
            );
        }
    }
}
