//! A certificate authority made at test time, and server certificates it signs for 127.0.0.1 and
//! localhost, so TLS can be tested against a CA no machine trusts.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

pub const CA_NAME: &str = "Fabrikam Test Root CA";

pub struct TestCa {
    /// The CA certificate, PEM, as a user would put it in caCertFile.
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

impl TestCa {
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.distinguished_name.push(DnType::CommonName, CA_NAME);
        ca_params.distinguished_name.push(DnType::OrganizationName, "Fabrikam");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca_cert = ca_params.self_signed(&ca_key).expect("the CA certificate");
        let ca_pem = ca_cert.pem();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("a server key");
        let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "sonarqube.fabrikam.test");
        let server_cert = params.signed_by(&server_key, &issuer).expect("the server certificate");

        let chain = vec![server_cert.der().clone()];
        let key = rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der()).expect("a PKCS#8 key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("a server config");
        Self { ca_pem, server_config: Arc::new(config) }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// A TLS server whose first `real` connections are served normally and every later one gets a
/// handshake dribbled a byte at a time: the requests see the certificate at once, and the
/// diagnostic handshakes a client makes afterwards never end on their own.
pub struct DribbleAfterFirst {
    addr: std::net::SocketAddr,
}

impl DribbleAfterFirst {
    pub fn start(tls: Arc<rustls::ServerConfig>, real: usize) -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let tls = tls.clone();
                std::thread::spawn(move || {
                    if n < real {
                        // A real handshake, then nothing more: the client's request fails on the certificate.
                        if let Ok(conn) = rustls::ServerConnection::new(tls) {
                            let mut s = rustls::StreamOwned::new(conn, stream);
                            let mut buf = [0u8; 1024];
                            let _ = s.read(&mut buf);
                        }
                        return;
                    }
                    // A ServerHello record header that promises 16 KiB, then a byte every 500 ms.
                    let _ = stream.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]);
                    loop {
                        std::thread::sleep(std::time::Duration::from_millis(500));
                        if stream.write_all(&[0x02]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { addr }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}
