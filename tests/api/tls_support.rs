//! TLS for the tests: a throwaway certificate authority (its certificate in a PEM file, to
//! give as `MTGATE_TLS_CA_FILE`), HTTPS servers and TLS fronts with certificates it signed.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;

use crate::common::TempDir;

/// A certificate authority made for one test, its certificate in a PEM file.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: TempDir,
}

impl TestCa {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "mtgate test CA");
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = TempDir::new("tls-ca");
        std::fs::write(dir.path().join("ca.pem"), issuer.pem()).unwrap();
        Self { issuer, dir }
    }

    /// The path to give as `MTGATE_TLS_CA_FILE`.
    pub fn file(&self) -> String {
        self.dir.path().join("ca.pem").display().to_string()
    }

    /// Serves `app` over HTTPS on a loopback port, with a certificate for 127.0.0.1 signed
    /// by this CA; the base URL.
    pub async fn serve(&self, app: Router) -> String {
        let listener = self.listener().await;
        let address = listener.tcp.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("https://{address}")
    }

    /// A TLS front, as a sidecar proxy would be: takes TLS on a loopback port (a certificate
    /// for 127.0.0.1 signed by this CA) and relays the plain bytes to `backend` once it is
    /// set (connections before that are closed). Its base URL, and the count of connections
    /// it relayed.
    pub async fn front(&self, backend: Arc<OnceLock<SocketAddr>>) -> (String, Arc<AtomicUsize>) {
        let mut listener = self.listener().await;
        let address = listener.tcp.local_addr().unwrap();
        let relayed = Arc::new(AtomicUsize::new(0));
        let count = relayed.clone();
        tokio::spawn(async move {
            loop {
                let (mut tls, _) = axum::serve::Listener::accept(&mut listener).await;
                let Some(&to) = backend.get() else {
                    continue;
                };
                let count = count.clone();
                tokio::spawn(async move {
                    if let Ok(mut plain) = TcpStream::connect(to).await {
                        count.fetch_add(1, Ordering::SeqCst);
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        });
        (format!("https://{address}"), relayed)
    }

    /// A loopback TLS listener with a certificate for 127.0.0.1 signed by this CA.
    async fn listener(&self) -> TlsListener {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        let certificate = params.signed_by(&key, &*self.issuer).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![certificate.der().clone()], key)
            .unwrap();
        TlsListener {
            tcp: TcpListener::bind("127.0.0.1:0").await.unwrap(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }
}

/// TCP accepts followed by a TLS handshake, one connection at a time (enough for a test).
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, address)) = self.tcp.accept().await else {
                continue;
            };
            // A client refusing the certificate ends its handshake with an alert: that is
            // what some tests expect, so the listener waits for the next connection.
            let handshake = self.acceptor.accept(tcp);
            if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(5), handshake).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
