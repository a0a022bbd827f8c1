//! The client certificate this task presents to a server that asks for one (mutual TLS): read from
//! PEM files (the key plain or encrypted) or a PKCS#12 archive, as the agent hands them to tasks
//! (`Agent.ClientCert`, `Agent.ClientCertKey`, `Agent.ClientCertArchive`,
//! `Agent.ClientCertPassword`), and refused before the first request when it cannot work.

use std::path::{Path, PathBuf};

use crate::error::TransportError;
use crate::secret::Secret;

/// Where the certificate and its key are, and the names the user knows each file by.
#[derive(Clone, Debug)]
pub(crate) struct ClientCertConfig {
    /// The certificate: PEM (with its chain, if any), or a PKCS#12 archive given alone.
    pub(crate) cert: Option<PathBuf>,
    /// The private key, PEM: PKCS#8 (plain or encrypted with the password), PKCS#1 or SEC1.
    pub(crate) key: Option<PathBuf>,
    /// A PKCS#12 archive (.pfx/.p12) with the key and the chain. The agent sets it beside the PEM
    /// files; it is read when the PEM key cannot be used, or when it is all there is.
    pub(crate) archive: Option<PathBuf>,
    /// The key's and the archive's password: the agent's documentation asks for the same one on both.
    pub(crate) password: Option<Secret>,
    pub(crate) names: ClientCertNames,
}

/// How the user knows each part, for messages (`Agent.ClientCert` in a pipeline, `--client-cert`
/// on the command line).
#[derive(Clone, Debug)]
pub(crate) struct ClientCertNames {
    pub(crate) cert: String,
    pub(crate) key: String,
    pub(crate) password: String,
}

/// A certificate chain (leaf first) and its key, ready for ureq.
pub(crate) struct ClientIdentity {
    pub(crate) chain: Vec<ureq::tls::Certificate<'static>>,
    pub(crate) key: ureq::tls::PrivateKey<'static>,
    /// Where it came from, for messages: the file a user would renew.
    pub(crate) source: String,
    /// The leaf's end of validity, Unix seconds.
    pub(crate) not_after: Option<i64>,
}

impl ClientCertConfig {
    /// Reads the certificate and key, and refuses a certificate that has expired or is not yet
    /// valid (`now`, Unix seconds): a server would refuse it with a bare alert.
    pub(crate) fn load(&self, now: i64) -> Result<ClientIdentity, TransportError> {
        let mut identity = self.read()?;
        if let Some(leaf) = identity.chain.first()
            && let Some((not_before, not_after)) = validity(leaf.der())
        {
            identity.not_after = Some(not_after);
            let date = crate::text::long_date;
            if now > not_after {
                return Err(self.error(format!(
                    "the client certificate in {} expired on {}; renew it, and configure the agent with the new one (config --sslclientcert … or the files at the same paths)",
                    identity.source,
                    date(not_after)
                )));
            }
            if now < not_before {
                return Err(self.error(format!(
                    "the client certificate in {} is not valid before {}; check the machine's clock, or use a certificate valid today",
                    identity.source,
                    date(not_before)
                )));
            }
        }
        Ok(identity)
    }

    fn error(&self, detail: String) -> TransportError {
        TransportError::ClientCert { detail }
    }

    fn read(&self) -> Result<ClientIdentity, TransportError> {
        let password = self.password.as_ref().map(Secret::expose).unwrap_or("");
        match (&self.cert, &self.key, &self.archive) {
            (Some(cert), Some(key), archive) => {
                let chain = self.pem_chain(cert)?;
                match self.pem_key(key, password) {
                    Ok(k) => Ok(ClientIdentity { chain, key: k, source: cert.display().to_string(), not_after: None }),
                    // The agent gives the archive too: it holds the same key, in a form this can read.
                    Err(why) => match archive {
                        Some(archive) => self.archive(archive, password).map_err(|e| {
                            self.error(format!(
                                "{why}; and the archive {}, tried instead, could not be used either: {e}",
                                archive.display()
                            ))
                        }),
                        None => Err(self.error(why)),
                    },
                }
            }
            (_, _, Some(archive)) => self.archive(archive, password).map_err(|e| self.error(e)),
            (Some(cert), None, None) if is_pkcs12(cert) => self.archive(cert, password).map_err(|e| self.error(e)),
            (Some(cert), None, None) => Err(self.error(format!(
                "{} ({}) is a PEM certificate but no key was given; give its private key in {}, or give a PKCS#12 archive (.pfx) instead",
                self.names.cert,
                cert.display(),
                self.names.key
            ))),
            (None, Some(_), None) => {
                Err(self.error(format!("{} was given without a certificate; give the certificate in {}", self.names.key, self.names.cert)))
            }
            (None, None, None) => Err(self.error("no client certificate was given".to_string())),
        }
    }

    fn pem_chain(&self, path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, TransportError> {
        let pem =
            std::fs::read(path).map_err(|e| self.error(format!("{} ({}) could not be read: {e}", self.names.cert, path.display())))?;
        let chain: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if chain.is_empty() {
            return Err(self.error(format!(
                "{} ({}) holds no PEM certificate (-----BEGIN CERTIFICATE-----); export the client certificate in PEM (Base-64) format, or give the PKCS#12 archive (.pfx)",
                self.names.cert,
                path.display()
            )));
        }
        Ok(chain)
    }

    fn pem_key(&self, path: &Path, password: &str) -> Result<ureq::tls::PrivateKey<'static>, String> {
        let unreadable = |why: String| format!("{} ({}) {why}", self.names.key, path.display());
        let pem = std::fs::read(path).map_err(|e| unreadable(format!("could not be read: {e}")))?;
        let text = String::from_utf8_lossy(&pem);
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            if password.is_empty() {
                return Err(unreadable(format!("is encrypted, and no password was given; give it in {}", self.names.password)));
            }
            let section = text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----").map_or("", |at| &text[at..]);
            // DER first: the PEM reader of `der` cannot decode PBES2's nested parameters.
            let der = pkcs8::der::pem::decode_vec(section.as_bytes()).map(|(_, der)| der);
            let encrypted = der
                .map_err(|e| e.to_string())
                .and_then(|der| pkcs8::EncryptedPrivateKeyInfoOwned::try_from(der.as_slice()).map_err(|e| e.to_string()))
                .map_err(|e| unreadable(format!("is not a readable encrypted PKCS#8 key ({e})")))?;
            let plain = encrypted.decrypt(password).map_err(|_| {
                unreadable(format!("could not be decrypted: the password in {} is wrong, or the key uses a cipher this task does not know (it reads PBES2 with AES or 3DES)", self.names.password))
            })?;
            return pkcs8_key(plain.as_bytes()).ok_or_else(|| unreadable("decrypted to something that is not a private key".to_string()));
        }
        if text.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(unreadable(
                "is encrypted in OpenSSL's legacy format, which this task does not read; convert it with `openssl pkcs8 -topk8 -in old.pem -out key.pem` (keeps a password) or give the PKCS#12 archive".to_string(),
            ));
        }
        ureq::tls::parse_pem(&pem)
            .find_map(|item| match item {
                Ok(ureq::tls::PemItem::PrivateKey(k)) => Some(k),
                _ => None,
            })
            .ok_or_else(|| unreadable("holds no PEM private key (-----BEGIN PRIVATE KEY-----)".to_string()))
    }

    /// The key and chain of a PKCS#12 archive.
    fn archive(&self, path: &Path, password: &str) -> Result<ClientIdentity, String> {
        let data = std::fs::read(path).map_err(|e| format!("the archive {} could not be read: {e}", path.display()))?;
        let store =
            p12_keystore::KeyStore::from_pkcs12(&data, password, p12_keystore::Pkcs12ImportPolicy::Relaxed).map_err(|e| match e {
                p12_keystore::error::Error::MacError(_) => format!(
                    "the archive {} does not open with the password in {}: the password is wrong{}",
                    path.display(),
                    self.names.password,
                    if password.is_empty() { " (none was given)" } else { "" }
                ),
                other => format!(
                    "the archive {} is not a PKCS#12 file this task can read ({other}); export it again as .pfx with AES or 3DES",
                    path.display()
                ),
            })?;
        let chain = store.entries().find_map(|(_, entry)| match entry {
            p12_keystore::KeyStoreEntry::PrivateKeyChain(c) if !c.certs().is_empty() => Some(c),
            _ => None,
        });
        let Some(chain) = chain else {
            return Err(format!(
                "the archive {} holds no private key with its certificate; export it again with the private key",
                path.display()
            ));
        };
        let key =
            pkcs8_key(chain.key().as_der()).ok_or_else(|| format!("the archive {}'s private key could not be read", path.display()))?;
        Ok(ClientIdentity {
            chain: chain.certs().iter().map(|c| ureq::tls::Certificate::from_der(c.as_der()).to_owned()).collect(),
            key,
            source: path.display().to_string(),
            not_after: None,
        })
    }
}

/// A PKCS#8 key (DER) for ureq, which names key kinds only through PEM labels.
fn pkcs8_key(der: &[u8]) -> Option<ureq::tls::PrivateKey<'static>> {
    use base64::Engine;
    let pem =
        format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", base64::engine::general_purpose::STANDARD.encode(der));
    ureq::tls::PrivateKey::from_pem(pem.as_bytes()).ok()
}

/// A PKCS#12 archive is DER (a SEQUENCE), a PEM file text.
fn is_pkcs12(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("pfx" | "p12")) || std::fs::read(path).is_ok_and(|d| d.first() == Some(&0x30))
}

/// A certificate's validity, Unix seconds.
pub(crate) fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let v = cert.validity();
    Some((v.not_before.timestamp(), v.not_after.timestamp()))
}
