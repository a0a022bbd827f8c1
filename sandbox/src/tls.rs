//! A certificate authority made at test time, and server certificates it signs for 127.0.0.1 and
//! localhost, so TLS can be tested against a CA no machine trusts.

use std::sync::{Arc, Condvar, Mutex};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

pub const CA_NAME: &str = "Fabrikam Test Root CA";

pub struct TestCa {
    /// The CA certificate, PEM, as a user would put it in caCertFile.
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
    ca_der: rustls::pki_types::CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    server_key_der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> Self {
        Self::named(CA_NAME)
    }

    /// A CA of another name (another organization's, say).
    pub fn named(name: &str) -> Self {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.distinguished_name.push(DnType::CommonName, name);
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
            .with_single_cert(chain.clone(), key)
            .expect("a server config");
        Self {
            ca_pem,
            server_config: Arc::new(config),
            ca_der: ca_cert.der().clone(),
            issuer,
            server_chain: chain,
            server_key_der: server_key.serialize_der(),
        }
    }

    /// A server configuration that requires a client certificate issued by this CA (mutual TLS,
    /// as an Azure DevOps Server or a SonarQube behind a reverse proxy with client-certificate
    /// authentication): a client without one, or with one from another CA, is refused during the
    /// handshake with an alert, as rustls's `WebPkiClientVerifier` (and IIS or nginx) does.
    pub fn requiring_client_certificates(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).expect("the CA as a root");
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .expect("a client verifier");
        let key = rustls::pki_types::PrivateKeyDer::try_from(self.server_key_der.clone()).expect("a PKCS#8 key");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.server_chain.clone(), key)
            .expect("a server config");
        Arc::new(config)
    }

    /// A client certificate this CA issues to `name`, valid from `not_before` to `not_after`
    /// (days from today; negative is in the past).
    pub fn client_certificate(&self, name: &str, not_before: i64, not_after: i64) -> ClientCertificate {
        let key = KeyPair::generate().expect("a client key");
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        set_validity(&mut params, not_before, not_after);
        let cert = params.signed_by(&key, &self.issuer).expect("the client certificate");
        ClientCertificate {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

/// A client certificate and its key, in the forms a user has them.
pub struct ClientCertificate {
    pub cert_pem: String,
    /// The key, PEM, unencrypted PKCS#8.
    pub key_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl ClientCertificate {
    /// The key encrypted with `password` (PBES2: PBKDF2-SHA256 and AES-256-CBC), as
    /// `openssl pkcs12 -nocerts -passout` writes it: `-----BEGIN ENCRYPTED PRIVATE KEY-----`.
    pub fn encrypted_key_pem(&self, password: &str) -> String {
        let info = pkcs8::PrivateKeyInfoRef::try_from(self.key_der.as_slice()).expect("a PKCS#8 key");
        let doc = info.encrypt(password).expect("the key encrypted");
        doc.to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF).expect("PEM").to_string()
    }

    /// A PKCS#12 archive (.pfx) with the key and certificate, protected by `password`: with
    /// `legacy`, 3DES as Windows and OpenSSL 1.x export it, else PBES2 with AES-256.
    pub fn pkcs12(&self, password: &str, legacy: bool) -> Vec<u8> {
        let cert = p12_keystore::Certificate::from_der(&self.cert_der).expect("the certificate");
        let key = p12_keystore::PrivateKey::from_der(&self.key_der).expect("the key");
        let chain = p12_keystore::PrivateKeyChain::new(vec![1u8, 2, 3, 4], key, vec![cert]);
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry("client", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
        let mut writer = store.writer(password);
        if legacy {
            writer = writer.encryption_algorithm(p12_keystore::EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc);
        }
        writer.write().expect("the archive")
    }
}

/// Sets a certificate's validity: `from` and `to` days from today.
fn set_validity(params: &mut CertificateParams, from: i64, to: i64) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (y, m, d) = crate::civil_from_days(now.div_euclid(86_400) + from);
    params.not_before = rcgen::date_time_ymd(y as i32, m as u8, d as u8);
    let (y, m, d) = crate::civil_from_days(now.div_euclid(86_400) + to);
    params.not_after = rcgen::date_time_ymd(y as i32, m as u8, d as u8);
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// A TLS server for a run whose requests all fail on the certificate: its first `requests`
/// connections get real handshakes (so each request sees the certificate and fails on it), and
/// every later one, a diagnostic handshake the client makes after a failure, is dribbled a byte at
/// a time and never ends on its own.
///
/// No handshake starts before all `requests` connections have arrived: on a loaded machine one
/// request's connection can otherwise come after another request has already failed and opened
/// its diagnosis, which would then take the request's real handshake (seen once in CI).
pub struct DribbleDiagnoses {
    addr: std::net::SocketAddr,
    state: Arc<(Mutex<DribbleState>, Condvar)>,
}

#[derive(Default)]
struct DribbleState {
    arrived: usize,
    dribbled: usize,
}

impl DribbleDiagnoses {
    pub fn start(tls: Arc<rustls::ServerConfig>, requests: usize) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new((Mutex::new(DribbleState::default()), Condvar::new()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (tls, state) = (tls.clone(), shared.clone());
                let real = {
                    let mut st = state.0.lock().unwrap();
                    st.arrived += 1;
                    state.1.notify_all();
                    st.arrived <= requests
                };
                std::thread::spawn(move || if real { hold_then_serve(stream, tls, &state, requests) } else { dribble(stream, &state) });
            }
        });
        Self { addr, state }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// How many handshakes were dribbled: the diagnoses that were held.
    pub fn dribbled(&self) -> usize {
        self.state.0.lock().unwrap().dribbled
    }
}

fn hold_then_serve(stream: std::net::TcpStream, tls: Arc<rustls::ServerConfig>, state: &(Mutex<DribbleState>, Condvar), requests: usize) {
    use std::io::Read;
    use std::time::{Duration, Instant};
    {
        // Ten seconds at most: a run that makes fewer requests fails the test on what it printed.
        let give_up = Instant::now() + Duration::from_secs(10);
        let mut st = state.0.lock().unwrap();
        while st.arrived < requests && Instant::now() < give_up {
            st = state.1.wait_timeout(st, Duration::from_millis(50)).unwrap().0;
        }
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    if let Ok(conn) = rustls::ServerConnection::new(tls) {
        // The handshake, then nothing more: the client's request fails on the certificate.
        let mut s = rustls::StreamOwned::new(conn, stream);
        let _ = s.read(&mut [0u8; 1024]);
    }
}

fn dribble(mut stream: std::net::TcpStream, state: &(Mutex<DribbleState>, Condvar)) {
    use std::io::Write;
    state.0.lock().unwrap().dribbled += 1;
    // A ServerHello record header that promises 16 KiB, then a byte every 500 ms.
    let _ = stream.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]);
    loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        if stream.write_all(&[0x02]).is_err() {
            return;
        }
    }
}
