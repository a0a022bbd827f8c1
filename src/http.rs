//! The one HTTP client both services share: how it is built (timeouts, TLS roots, no redirects),
//! how credentials are attached (only to the origin they belong to), and how transient failures are
//! retried (bounded, with backoff that honours `Retry-After`).
//!
//! Statuses are read as values (`http_status_as_error(false)`), so SonarQube's and Azure DevOps'
//! error bodies reach the code that explains them. Redirects are not followed: ureq would drop the
//! credential anyway, and a redirect here almost always means a wrong base URL or a sign-in page.

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
    /// The most time all retries and rate-limit pauses of one run may spend waiting.
    pub retry_budget: Duration,
    pub max_body_bytes: u64,
    /// PEM files trusted besides the system's roots and the bundled Mozilla roots.
    pub ca_cert_files: Vec<std::path::PathBuf>,
    /// Certificate checks off: only ever from the agent operator's own setting.
    pub skip_cert_validation: bool,
    pub proxy: Option<crate::proxy::ProxyConfig>,
    /// Whether any URL is https: only then are the system's roots read (it costs a few ms).
    pub needs_tls: bool,
}

impl HttpConfig {
    pub fn from_settings(settings: &crate::settings::Settings) -> Self {
        let https = |u: &str| u.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("https://"));
        Self {
            ca_cert_files: settings.ca_cert_files.clone(),
            skip_cert_validation: settings.skip_cert_validation,
            proxy: settings.proxy.clone(),
            needs_tls: https(&settings.sonar.url) || settings.azdo.collection_url.as_deref().is_some_and(https),
            ..Self::default()
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(90),
            max_retries: 3,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            retry_budget: Duration::from_secs(120),
            max_body_bytes: 64 * 1024 * 1024,
            ca_cert_files: Vec::new(),
            skip_cert_validation: false,
            proxy: None,
            needs_tls: false,
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
        "TLS to {url} failed: {detail}. If the server uses a certificate from a private CA, give that CA's certificate (PEM) in caCertFile (--ca-cert-file), or install it in the agent machine's trust store (or the agent's --sslcacert)"
    )]
    Tls { url: String, detail: String },
    #[error("{url} answered more than {limit} bytes; that is not a response this task expects")]
    TooLarge { url: String, limit: u64 },
    #[error("the CA file {path} could not be used: {detail}")]
    CaFile { path: String, detail: String },
    #[error("{detail}")]
    Proxy { detail: String },
    #[error("request to {url} failed: {detail}")]
    Other { url: String, detail: String },
}

/// The shared client.
pub struct HttpClient {
    direct: ureq::Agent,
    /// One agent per proxy server, chosen per request by the proxy rules.
    proxied: Vec<(crate::proxy::ProxyServer, ureq::Agent)>,
    config: HttpConfig,
    log: Arc<Log>,
    /// Waiting already spent on retries and rate limits, against `retry_budget`.
    waited: std::sync::Mutex<Duration>,
    /// Azure DevOps' rate limiter asked to hold back until then (Retry-After on a delayed success,
    /// or X-RateLimit-Remaining 0 with X-RateLimit-Reset): every request waits for it.
    hold_until: std::sync::Mutex<Option<Instant>>,
}

impl HttpClient {
    pub fn new(config: HttpConfig, log: Arc<Log>) -> Result<Self, TransportError> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if config.skip_cert_validation {
            log.warning("certificate validation is OFF because the agent is configured with --sslskipcertvalidation (Agent.SkipCertValidation): connections can be intercepted and tokens stolen. Give the agent the CA instead (--sslcacert) and turn this off");
            tls = tls.disable_verification(true);
        } else if config.needs_tls || !config.ca_cert_files.is_empty() {
            tls = tls.root_certs(root_certs(&config.ca_cert_files, &log)?);
        }
        let tls = tls.build();
        let build = |proxy: Option<ureq::Proxy>| {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_connect(Some(config.connect_timeout))
                .timeout_global(Some(config.request_timeout))
                .user_agent(concat!("sonar-pr-gate/", env!("CARGO_PKG_VERSION")))
                .tls_config(tls.clone())
                // The proxy is chosen here, deliberately, never by ureq's own env detection with
                // its different NO_PROXY rules.
                .proxy(proxy)
                .build()
                .new_agent()
        };
        let mut proxied = Vec::new();
        if let Some(p) = &config.proxy {
            for server in [&p.https, &p.http].into_iter().flatten() {
                if proxied.iter().any(|(s, _)| s == server) {
                    continue;
                }
                let mut b = ureq::Proxy::builder(ureq::ProxyProtocol::Http).host(&server.host).port(server.port);
                if let Some(u) = &server.username {
                    b = b.username(u);
                }
                if let Some(pw) = &server.password {
                    // The single place the proxy password leaves our types.
                    b = b.password(pw.expose());
                }
                let proxy = b
                    .build()
                    .map_err(|e| TransportError::Proxy { detail: format!("the proxy {} cannot be used: {e}", server.display()) })?;
                proxied.push((server.clone(), build(Some(proxy))));
            }
        }
        Ok(Self {
            direct: build(None),
            proxied,
            config,
            log,
            waited: std::sync::Mutex::new(Duration::ZERO),
            hold_until: std::sync::Mutex::new(None),
        })
    }

    fn agent_for(&self, url: &str) -> (&ureq::Agent, Option<&crate::proxy::ProxyServer>) {
        let route = self.config.proxy.as_ref().and_then(|p| p.route(url));
        match route.and_then(|server| self.proxied.iter().find(|(s, _)| s == server)) {
            Some((server, agent)) => (agent, Some(server)),
            None => (&self.direct, None),
        }
    }

    /// Sends a request. Reads and PATCHes are retried on 429, 5xx and dropped connections; POSTs
    /// only when the server said it did not process them (429) or the connection never opened.
    /// All waiting of a run is bounded by `retry_budget`.
    pub fn send(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        let mut attempt = 0;
        loop {
            self.wait_for_rate_limit();
            let started = Instant::now();
            let outcome = self.send_once(request);
            if let Ok(resp) = &outcome {
                self.note_rate_limit(resp);
            }
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
                Some(wait) if attempt < self.config.max_retries && self.spend(wait) => {
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

    /// Takes `wait` from the retry budget; false when the budget is spent.
    fn spend(&self, wait: Duration) -> bool {
        let mut waited = self.waited.lock().unwrap_or_else(|p| p.into_inner());
        if *waited + wait > self.config.retry_budget {
            return false;
        }
        *waited += wait;
        true
    }

    fn wait_for_rate_limit(&self) {
        let until = *self.hold_until.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = until {
            let now = Instant::now();
            if until > now && self.spend(until - now) {
                std::thread::sleep(until - now);
            }
        }
    }

    /// Azure DevOps announces throttling before it blocks: Retry-After on an answer that still
    /// succeeded, or X-RateLimit-Remaining 0 with X-RateLimit-Reset (Unix seconds).
    fn note_rate_limit(&self, resp: &Response) {
        if resp.status >= 400 {
            return; // Retries handle these, with their own wait.
        }
        let retry_after = resp
            .header("retry-after")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64);
        let until_reset = || {
            let reset: u64 = resp.header("x-ratelimit-reset")?.trim().parse().ok()?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
            Some(Duration::from_secs(reset.saturating_sub(now)))
        };
        let exhausted = resp.header("x-ratelimit-remaining").is_some_and(|v| v.trim() == "0");
        let pause = retry_after.or_else(|| if exhausted { until_reset() } else { None });
        if let Some(pause) = pause.map(|p| p.min(self.config.max_backoff)).filter(|p| !p.is_zero()) {
            self.log.info(&format!(
                "Azure DevOps asks this pipeline to slow down (rate limit: {}); waiting {:.1} s before the next request",
                resp.header("x-ratelimit-resource").unwrap_or("usage"),
                pause.as_secs_f64()
            ));
            *self.hold_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + pause);
        }
    }

    fn send_once(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        let url = request.url.as_str();
        let (agent, proxy) = self.agent_for(url);
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
                agent.run(req)
            }
            None => {
                let req = builder.body(()).map_err(|e| other(url, e))?;
                agent.run(req)
            }
        };
        let mut response = result.map_err(|e| classify(url, e, &self.config, proxy))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> =
            response.headers().iter().filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))).collect();
        let content_type = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone());
        let body = response
            .body_mut()
            .with_config()
            .limit(self.config.max_body_bytes)
            .read_to_vec()
            .map_err(|e| classify(url, e, &self.config, proxy))?;
        Ok(Response { status, content_type, headers, body })
    }
}

/// Builds the trust roots: the system's store (where corporate CAs are usually installed), the
/// bundled Mozilla roots, and every certificate of each PEM file. ureq replaces its defaults with a
/// custom set and skips unparsable certificates silently, so the whole set is built here and a
/// file that yields no certificate is an error.
fn root_certs(files: &[std::path::PathBuf], log: &Log) -> Result<ureq::tls::RootCerts, TransportError> {
    let mut certs: Vec<ureq::tls::Certificate<'static>> =
        webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()).collect();
    let system = rustls_native_certs::load_native_certs();
    if !system.errors.is_empty() {
        log.debug(&format!(
            "some system certificates could not be read: {:?}",
            system.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
        ));
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
        log.debug(&format!("trusting {} certificate(s) from {}", certs.len() - before, path.display()));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

fn other(url: &str, e: impl std::fmt::Display) -> TransportError {
    TransportError::Other { url: strip_query(url), detail: e.to_string() }
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

fn classify(url: &str, err: ureq::Error, config: &HttpConfig, proxy: Option<&crate::proxy::ProxyServer>) -> TransportError {
    let url = strip_query(url);
    match err {
        ureq::Error::ConnectProxyFailed(reason) => {
            let proxy = proxy.map_or_else(|| "the proxy".to_string(), |p| format!("the proxy {}", p.display()));
            let target = crate::http::origin_of(&url);
            let detail = if reason.contains("407") {
                format!(
                    "{proxy} asks for credentials (HTTP 407) to reach {target}. Give the agent's proxy a user name and password (or user:password@ in HTTPS_PROXY). A proxy that accepts only NTLM or Negotiate (Windows integrated) authentication is not supported: use a proxy account with Basic authentication, or a local relay such as cntlm or px"
                )
            } else if reason.contains("did not respond") {
                format!("{proxy} did not answer the request to open a tunnel to {target}; check the proxy address")
            } else {
                let port_hint = if url.starts_with("http://") {
                    " This task opens a CONNECT tunnel for every target, and many proxies only allow tunnels to port 443: use the server's https:// URL, or add the host to the proxy bypass list (Agent.ProxyBypassList, NO_PROXY)"
                } else {
                    " Ask the proxy's administrator to allow it, or add the host to the proxy bypass list (Agent.ProxyBypassList, NO_PROXY)"
                };
                format!("{proxy} refused to open a tunnel to {target} ({reason}).{port_hint}")
            };
            TransportError::Proxy { detail }
        }
        ureq::Error::HostNotFound => TransportError::HostNotFound { url },
        ureq::Error::ConnectionFailed if proxy.is_some() => TransportError::Proxy {
            detail: format!(
                "could not connect to the proxy {} (for {url}); check Agent.ProxyUrl / HTTPS_PROXY",
                proxy.map(|p| p.display()).unwrap_or_default()
            ),
        },
        ureq::Error::ConnectionFailed => TransportError::Connect { url },
        ureq::Error::Timeout(_) => TransportError::Timeout { url, seconds: config.request_timeout.as_secs() },
        ureq::Error::BodyExceedsLimit(limit) => TransportError::TooLarge { url, limit },
        ureq::Error::Tls(detail) => tls_error(url, detail.to_string(), proxy.is_some()),
        ureq::Error::Rustls(e) => tls_error(url, e.to_string(), proxy.is_some()),
        ureq::Error::Io(e) if e.to_string().contains("certificate") => tls_error(url, e.to_string(), proxy.is_some()),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => TransportError::Connect { url },
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            TransportError::Timeout { url, seconds: config.request_timeout.as_secs() }
        }
        other => TransportError::Other { url, detail: other.to_string() },
    }
}

/// A TLS failure in words: for a certificate from an authority the agent does not trust, which
/// host presented it and who issued it (read from a second, data-free handshake).
fn tls_error(url: String, detail: String, proxied: bool) -> TransportError {
    let unknown_issuer = detail.contains("UnknownIssuer") || detail.to_ascii_lowercase().contains("unknown issuer");
    if !unknown_issuer {
        return TransportError::Tls { url, detail };
    }
    let origin = origin_of(&url);
    let authority = origin.split("://").nth(1).unwrap_or("").to_string();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h.trim_matches(['[', ']']).to_string(), p.parse().unwrap_or(443)),
        _ => (authority.clone(), 443),
    };
    let issuer = if proxied { None } else { crate::tls_diagnosis::presented_issuer(&host, port, Duration::from_secs(10)) };
    let detail = match issuer {
        Some(i) => format!("the certificate {host} presented is issued by '{i}', an authority this agent does not trust (UnknownIssuer)"),
        None => format!("the certificate {host} presented is issued by an authority this agent does not trust (UnknownIssuer)"),
    };
    TransportError::Tls { url, detail }
}

/// How long to wait before retrying after a response, if it should be retried at all.
fn retry_after_status(method: Method, resp: &Response, attempt: u32, config: &HttpConfig) -> Option<Duration> {
    let retryable = match resp.status {
        429 => true,
        // A 5xx on a POST may have been applied and a second one would duplicate it; reads and
        // this task's PATCHes (set a status, replace a comment's text) are safe to repeat.
        500 | 502 | 503 | 504 => method != Method::Post,
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
        TransportError::Timeout { .. } | TransportError::Other { .. } if method != Method::Post => Some(backoff(attempt, config)),
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
        assert_eq!(retry_after_status(Method::Patch, &resp(503), 0, &c), Some(Duration::from_secs(2)));
        assert_eq!(retry_after_status(Method::Post, &resp(429), 0, &c), Some(Duration::from_secs(2)));
        assert_eq!(retry_after_status(Method::Get, &resp(404), 0, &c), None);
    }
}
