//! The one HTTP client both services share: how it is built (timeouts, TLS roots, no redirects),
//! how credentials are attached (only to the origin they belong to), and how transient failures are
//! retried (bounded, with backoff that honours `Retry-After`).
//!
//! Statuses are read as values (`http_status_as_error(false)`), so SonarQube's and Azure DevOps'
//! error bodies reach the code that explains them. Redirects are not followed: ureq would drop the
//! credential anyway, and a redirect here almost always means a wrong base URL or a sign-in page.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use ureq::http;

use crate::pipeline::Log;
use crate::secret::Secret;

/// Limits and budgets. Every ureq timeout defaults to unlimited, so each one is set here.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub first_backoff: Duration,
    /// The longest single wait, whatever `Retry-After` asks for.
    pub max_backoff: Duration,
    pub max_body_bytes: u64,
    pub ca_cert_file: Option<std::path::PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(90),
            max_retries: 3,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_body_bytes: 64 * 1024 * 1024,
            ca_cert_file: None,
        }
    }
}

/// A credential bound to the one origin (scheme, host, port) it may be sent to.
#[derive(Clone, Debug)]
pub struct Auth {
    origin: String,
    header: Secret,
}

impl Auth {
    /// `Authorization: Basic base64(user:password)`.
    pub fn basic(base_url: &str, user: &str, password: &Secret) -> Self {
        let value = basic_value(user, password);
        Self { origin: origin_of(base_url), header: Secret::new(format!("Basic {}", value.expose())) }
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(base_url: &str, token: &Secret) -> Self {
        Self { origin: origin_of(base_url), header: Secret::new(format!("Bearer {}", token.expose())) }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// The base64 part of a Basic header, which the agent does not know to mask by itself.
pub fn basic_value(user: &str, password: &Secret) -> Secret {
    Secret::new(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose())))
}

/// `scheme://host[:port]`, lower-cased, for comparing where a request goes with where a credential
/// belongs.
pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// A request to send.
pub struct Request<'a> {
    pub method: Method,
    pub url: String,
    pub auth: Option<&'a Auth>,
    pub headers: Vec<(&'static str, String)>,
    pub json_body: Option<Vec<u8>>,
}

impl<'a> Request<'a> {
    pub fn get(url: impl Into<String>, auth: Option<&'a Auth>) -> Self {
        Self { method: Method::Get, url: url.into(), auth, headers: Vec::new(), json_body: None }
    }

    pub fn with_json(mut self, method: Method, body: &serde_json::Value) -> Self {
        self.method = method;
        self.json_body = Some(serde_json::to_vec(body).expect("a JSON value always serializes"));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A response, fully read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn is_json(&self) -> bool {
        self.content_type.as_deref().is_some_and(|c| c.to_ascii_lowercase().contains("json"))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// A failure below HTTP: nothing came back that could be read as a response.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("could not resolve the host name of {url}; check the URL and the agent's DNS")]
    HostNotFound { url: String },
    #[error("could not connect to {url}; check the URL, that the server is up, and any firewall or proxy between the agent and it")]
    Connect { url: String },
    #[error("{url} did not answer within {seconds} s; the server may be overloaded, or a proxy or firewall may be dropping the traffic")]
    Timeout { url: String, seconds: u64 },
    #[error(
        "TLS to {url} failed: {detail}. If the server uses a certificate from a private CA, give the CA's PEM file in caCertFile (--ca-cert-file)"
    )]
    Tls { url: String, detail: String },
    #[error("{url} answered more than {limit} bytes; that is not a response this task expects")]
    TooLarge { url: String, limit: u64 },
    #[error("the CA file {path} could not be used: {detail}")]
    CaFile { path: String, detail: String },
    #[error("request to {url} failed: {detail}")]
    Other { url: String, detail: String },
}

/// The shared client.
pub struct HttpClient {
    agent: ureq::Agent,
    config: HttpConfig,
    log: Arc<Log>,
}

impl HttpClient {
    pub fn new(config: HttpConfig, log: Arc<Log>) -> Result<Self, TransportError> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(path) = &config.ca_cert_file {
            tls = tls.root_certs(root_certs_with(path)?);
        }
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.request_timeout))
            .user_agent(concat!("sonar-pr-gate/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            // The proxy is chosen deliberately (the agent's settings or the env, in one place),
            // never by ureq's own env detection with its different NO_PROXY rules.
            .proxy(None)
            .build();
        Ok(Self { agent: agent_config.new_agent(), config, log })
    }

    /// Sends a request. Reads are retried on 429, 5xx and dropped connections; writes only when
    /// the server said it did not process them (429) or the connection never opened.
    pub fn send(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let outcome = self.send_once(request);
            let elapsed = started.elapsed().as_millis();
            let retry_wait = match &outcome {
                Ok(resp) => {
                    self.log.debug(&format!("{} {} -> {} ({elapsed} ms)", request.method.as_str(), request.url, resp.status));
                    retry_after_status(request.method, resp, attempt, &self.config)
                }
                Err(err) => {
                    self.log.debug(&format!("{} {} -> {err} ({elapsed} ms)", request.method.as_str(), request.url));
                    retry_after_error(request.method, err, attempt, &self.config)
                }
            };
            match retry_wait {
                Some(wait) if attempt < self.config.max_retries => {
                    let reason = match &outcome {
                        Ok(resp) => format!("HTTP {}", resp.status),
                        Err(e) => e.to_string(),
                    };
                    self.log.info(&format!(
                        "{} {} failed ({reason}); retrying in {:.1} s (attempt {} of {})",
                        request.method.as_str(),
                        strip_query(&request.url),
                        wait.as_secs_f64(),
                        attempt + 2,
                        self.config.max_retries + 1
                    ));
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                _ => return outcome,
            }
        }
    }

    fn send_once(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        let url = request.url.as_str();
        let mut builder = http::Request::builder().method(request.method.as_str()).uri(url);
        builder = builder.header("Accept", "application/json");
        if let Some(auth) = request.auth {
            // The single place a credential leaves the process, and only to its own origin.
            if origin_of(url) == auth.origin {
                builder = builder.header("Authorization", auth.header.expose());
            } else {
                self.log.warning(&format!("not sending credentials to {}: they belong to {}", origin_of(url), auth.origin));
            }
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, value.as_str());
        }
        let result = match &request.json_body {
            Some(body) => {
                let content_type = if request.method == Method::Patch && body.first() == Some(&b'[') {
                    "application/json-patch+json"
                } else {
                    "application/json"
                };
                let req = builder.header("Content-Type", content_type).body(body.clone()).map_err(|e| other(url, e))?;
                self.agent.run(req)
            }
            None => {
                let req = builder.body(()).map_err(|e| other(url, e))?;
                self.agent.run(req)
            }
        };
        let mut response = result.map_err(|e| classify(url, e, &self.config))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> =
            response.headers().iter().filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))).collect();
        let content_type = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone());
        let body = response
            .body_mut()
            .with_config()
            .limit(self.config.max_body_bytes)
            .read_to_vec()
            .map_err(|e| classify(url, e, &self.config))?;
        Ok(Response { status, content_type, headers, body })
    }
}

/// Builds the root set: the bundled Mozilla roots plus every certificate in the file. A file that
/// yields no certificate is an error, because ureq would otherwise skip it silently.
fn root_certs_with(path: &Path) -> Result<ureq::tls::RootCerts, TransportError> {
    let ca_err = |detail: String| TransportError::CaFile { path: path.display().to_string(), detail };
    let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
    let mut certs: Vec<ureq::tls::Certificate<'static>> =
        webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()).collect();
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
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

fn other(url: &str, e: impl std::fmt::Display) -> TransportError {
    TransportError::Other { url: strip_query(url), detail: e.to_string() }
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

fn classify(url: &str, err: ureq::Error, config: &HttpConfig) -> TransportError {
    let url = strip_query(url);
    match err {
        ureq::Error::HostNotFound => TransportError::HostNotFound { url },
        ureq::Error::ConnectionFailed => TransportError::Connect { url },
        ureq::Error::Timeout(_) => TransportError::Timeout { url, seconds: config.request_timeout.as_secs() },
        ureq::Error::BodyExceedsLimit(limit) => TransportError::TooLarge { url, limit },
        ureq::Error::Tls(detail) => TransportError::Tls { url, detail: detail.to_string() },
        ureq::Error::Rustls(e) => TransportError::Tls { url, detail: e.to_string() },
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => TransportError::Connect { url },
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            TransportError::Timeout { url, seconds: config.request_timeout.as_secs() }
        }
        other => TransportError::Other { url, detail: other.to_string() },
    }
}

/// How long to wait before retrying after a response, if it should be retried at all.
fn retry_after_status(method: Method, resp: &Response, attempt: u32, config: &HttpConfig) -> Option<Duration> {
    let retryable = match resp.status {
        429 => true,
        // A 5xx on a write may have been applied; only reads are repeated blindly.
        500 | 502 | 503 | 504 => method == Method::Get,
        _ => false,
    };
    if !retryable {
        return None;
    }
    let asked = resp
        .header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    Some(asked.unwrap_or_else(|| backoff(attempt, config)).min(config.max_backoff))
}

fn retry_after_error(method: Method, err: &TransportError, attempt: u32, config: &HttpConfig) -> Option<Duration> {
    match err {
        // A refused connection never reached the server: safe to repeat even for a write.
        TransportError::Connect { .. } => Some(backoff(attempt, config)),
        TransportError::Timeout { .. } | TransportError::Other { .. } if method == Method::Get => Some(backoff(attempt, config)),
        _ => None,
    }
}

/// Exponential backoff with up to 25% jitter, so parallel jobs do not retry in lockstep.
pub fn backoff(attempt: u32, config: &HttpConfig) -> Duration {
    let base = config.first_backoff.saturating_mul(1 << attempt.min(10));
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let jitter = base.mul_f64(f64::from(nanos % 250) / 1000.0);
    (base + jitter).min(config.max_backoff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(origin_of("https://Dev.Azure.com/org/_apis/x?y=1"), "https://dev.azure.com");
        assert_eq!(origin_of("http://127.0.0.1:9000/sonar"), "http://127.0.0.1:9000");
        assert_ne!(origin_of("https://sq.example.com"), origin_of("https://sq.example.com.evil.io"));
    }

    #[test]
    fn basic_values_are_plain_base64() {
        assert_eq!(basic_value("", &Secret::new("pat")).expose(), "OnBhdA==");
        assert_eq!(basic_value("squ_x", &Secret::new("")).expose(), "c3F1X3g6");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let c = HttpConfig { first_backoff: Duration::from_millis(100), max_backoff: Duration::from_millis(350), ..HttpConfig::default() };
        let b0 = backoff(0, &c);
        assert!(b0 >= Duration::from_millis(100) && b0 <= Duration::from_millis(125));
        assert!(backoff(1, &c) >= Duration::from_millis(200));
        assert_eq!(backoff(5, &c), Duration::from_millis(350));
    }

    #[test]
    fn writes_are_not_retried_after_a_server_error() {
        let resp = |status| Response { status, content_type: None, headers: vec![("Retry-After".into(), "2".into())], body: vec![] };
        let c = HttpConfig::default();
        assert_eq!(retry_after_status(Method::Get, &resp(503), 0, &c), Some(Duration::from_secs(2)));
        assert_eq!(retry_after_status(Method::Post, &resp(503), 0, &c), None);
        assert_eq!(retry_after_status(Method::Post, &resp(429), 0, &c), Some(Duration::from_secs(2)));
        assert_eq!(retry_after_status(Method::Get, &resp(404), 0, &c), None);
    }
}
