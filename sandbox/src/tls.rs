//! A certificate authority made at test time, and server certificates it signs for 127.0.0.1 and
//! localhost, so TLS can be tested against a CA no machine trusts.

use std::sync::{Arc, Condvar, Mutex};

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
