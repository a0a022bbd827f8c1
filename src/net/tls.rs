//! TLS: the roots this task trusts (the system's store, the bundled Mozilla roots and the
//! operator's CA files), and, when a server's certificate is not trusted, which authority issued
//! it. The diagnosis runs after the request has failed: a second TLS handshake that checks nothing
//! and sends nothing reads the certificate the server presents, so the message can name the CA.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::event::{Event, Observer};
use crate::error::TransportError;

/// Builds the trust roots: the bundled Mozilla roots, the system's store (where corporate CAs are
/// usually installed; read when `system`), and every certificate of each PEM file. ureq skips
/// unparsable certificates silently, so the whole set is built here and a file that yields no
/// certificate is an error.
pub(crate) fn root_certs(
    files: &[std::path::PathBuf],
    system: bool,
    observer: &dyn Observer,
) -> Result<ureq::tls::RootCerts, TransportError> {
    let mut certs: Vec<ureq::tls::Certificate<'static>> =
        webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()).collect();
    if !system {
        return Ok(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    let system = rustls_native_certs::load_native_certs();
    if !system.errors.is_empty() {
        let errors: Vec<String> = system.errors.iter().map(|e| e.to_string()).collect();
        observer.note(&Event::SystemCertificatesUnreadable { errors: &errors });
    }
    certs.extend(system.certs.iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()));
    for path in files {
        let ca_err = |detail: String| TransportError::CaFile { path: path.display().to_string(), detail };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        let before = certs.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(cert)) = item {
                certs.push(cert);
            }
        }
        if certs.len() == before {
            return Err(ca_err(
                "it holds no PEM certificate (-----BEGIN CERTIFICATE-----); export the CA certificate in PEM (Base-64) format".to_string(),
            ));
        }
        observer.note(&Event::TrustedCertificates { count: certs.len() - before, path });
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

/// The issuer (`CN=…, O=…`) of the certificate `host:port` presents, if it can be read within
/// `timeout` (name resolution, connection and the whole handshake together: a server that
/// dribbles its handshake a byte at a time is given up on).
pub(crate) fn presented_issuer(host: &str, port: u16, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let captured = Arc::new(Mutex::new(None));
    let verifier = Arc::new(Capture { captured: captured.clone(), provider: provider.clone() });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).ok()?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).ok()?;
    let left = || deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero());
    let addr = super::resolve::first_address(host, port, left()?)?.ok()?;
    let mut tcp = TcpStream::connect_timeout(&addr, left()?).ok()?;
    while conn.is_handshaking() && captured.lock().ok()?.is_none() {
        // The verifier refuses on purpose once it has the certificate, which ends the handshake
        // with an error.
        if conn.complete_io(&mut ReadWrite { tcp: &mut tcp, deadline }).is_err() {
            break;
        }
    }
    let der = captured.lock().ok()?.take()?;
    issuer_name(&der)
}

/// The socket, where every read and write gets only the time left before the deadline.
struct ReadWrite<'a> {
    tcp: &'a mut TcpStream,
    deadline: Instant,
}

impl ReadWrite<'_> {
    fn time_left(&self) -> std::io::Result<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::TimedOut, "the diagnosis ran out of time"))
    }
}

impl Read for ReadWrite<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.tcp.set_read_timeout(Some(self.time_left()?))?;
        self.tcp.read(buf)
    }
}

impl Write for ReadWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tcp.set_write_timeout(Some(self.time_left()?))?;
        self.tcp.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.tcp.flush()
    }
}

/// Records the server's certificate and accepts nothing beyond the handshake: the connection is
/// dropped right after, without a byte of application data.
#[derive(Debug)]
struct Capture {
    captured: Arc<Mutex<Option<Vec<u8>>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut slot) = self.captured.lock() {
            *slot = Some(end_entity.to_vec());
        }
        // Refuse, so the handshake ends here: the certificate is all this needs.
        Err(rustls::Error::General("certificate captured for diagnosis".into()))
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("diagnosis only".into()))
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("diagnosis only".into()))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// One DER element: (tag, content, rest).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        rest = &rest[n..];
        len
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The issuer of an X.509 certificate as `CN=…, O=…` (common name and organization).
pub(crate) fn issuer_name(der: &[u8]) -> Option<String> {
    let (_, cert, _) = tlv(der)?;
    let (_, tbs, _) = tlv(cert)?;
    let mut rest = tbs;
    let (tag, _, r) = tlv(rest)?;
    if tag == 0xA0 {
        rest = r; // version
    }
    let (_, _, r) = tlv(rest)?; // serial number
    let (_, _, r) = tlv(r)?; // signature algorithm
    let (_, mut name, _) = tlv(r)?; // issuer
    let mut parts = Vec::new();
    while let Some((_, set, next)) = tlv(name) {
        let (_, attr, _) = tlv(set)?;
        let (_, oid, value) = tlv(attr)?;
        let (_, value, _) = tlv(value)?;
        let label = match oid {
            [0x55, 0x04, 0x03] => Some("CN"),
            [0x55, 0x04, 0x0A] => Some("O"),
            _ => None,
        };
        if let Some(label) = label {
            parts.push(format!("{label}={}", String::from_utf8_lossy(value)));
        }
        name = next;
    }
    parts.sort_by_key(|p| !p.starts_with("CN="));
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_issuer_of_a_real_certificate() {
        // The first bundled Mozilla root is self-issued: its issuer is its own name.
        let root = &webpki_root_certs::TLS_SERVER_ROOT_CERTS[0];
        let issuer = issuer_name(root.as_ref()).expect("an issuer");
        assert!(issuer.contains("CN=") || issuer.contains("O="), "{issuer}");
        assert_eq!(issuer_name(&[0x30, 0x03, 0x01]), None, "truncated input is no panic");
    }
}
