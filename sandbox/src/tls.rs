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
