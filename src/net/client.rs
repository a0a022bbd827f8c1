//! The one HTTP client both services share: how it is built (timeouts, TLS roots, proxies, no
//! redirects), how credentials are attached (only to the origin they belong to), and how transient
//! failures are retried. It knows nothing of settings or of the agent's log: it is configured with
//! a [`Config`] and reports what happens through an [`Observer`].
//!
//! Statuses are read as values (`http_status_as_error(false)`), so SonarQube's and Azure DevOps'
//! error bodies reach the code that explains them. Redirects are not followed: ureq would drop the
//! credential anyway, and a redirect here almost always means a wrong base URL or a sign-in page.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ureq::http;

use super::event::{Event, Observer};
use super::message::{Method, Request, Response};
use super::proxy::{ProxyConfig, ProxyServer};
use super::retry::{self, RetryPolicy};
use super::url::{Origin, without_query};
use crate::error::TransportError;

/// Limits and budgets. Every ureq timeout defaults to unlimited, so each one is set here.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_body_bytes: u64,
    /// PEM files trusted besides the system's roots and the bundled Mozilla roots.
    pub(crate) ca_cert_files: Vec<PathBuf>,
    /// The client certificate for servers that require one (mutual TLS).
    pub(crate) client_cert: Option<super::client_cert::ClientCertConfig>,
    /// Certificate checks off: only ever from the agent operator's own setting.
    pub(crate) skip_cert_validation: bool,
    pub(crate) proxy: Option<ProxyConfig>,
    /// Whether any URL is https: only then are the system's roots read (it costs a few ms).
    pub(crate) needs_tls: bool,
    /// Requests in flight to one origin at most, and so connections open to it: each finished
    /// request hands its connection back to the pool for the next (keep-alive), so a run opens at
    /// most this many TCP connections, and TLS handshakes, per server.
    pub(crate) max_connections_per_host: usize,
    /// How the user knows the network settings, for messages about them.
    pub(crate) names: SettingNames,
}

/// The network settings as the user knows them where they are (a task input or agent setting, a
/// flag or environment variable): the settings layer fills it, so the client's messages name what
/// to change without the client knowing inputs or flags.
#[derive(Clone, Debug)]
pub(crate) struct SettingNames {
    pub(crate) proxy: String,
    /// Where the proxy's user name and password go.
    pub(crate) proxy_credentials: String,
    pub(crate) proxy_bypass: String,
    /// Where to give a private CA's certificate.
    pub(crate) ca_file: String,
    /// Where to give a client certificate (mutual TLS).
    pub(crate) client_cert: String,
    /// The setting that bounds how long the run waits for a server.
    pub(crate) time_limit: String,
}

impl Default for SettingNames {
    fn default() -> Self {
        Self {
            proxy: "the proxy setting".into(),
            proxy_credentials: "the proxy setting".into(),
            proxy_bypass: "the proxy bypass list".into(),
            ca_file: "the CA file setting".into(),
            client_cert: "the client certificate setting".into(),
            time_limit: "the run's time limit".into(),
        }
    }
}

/// Six, as browsers allow per host over HTTP/1.1: enough for the writes and issue pages to overlap,
/// few enough that a run never floods a server or a proxy with handshakes.
pub const MAX_CONNECTIONS_PER_HOST: usize = 6;

impl Default for Config {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(90),
            retry: RetryPolicy::default(),
            max_body_bytes: 64 * 1024 * 1024,
            ca_cert_files: Vec::new(),
            client_cert: None,
            skip_cert_validation: false,
            proxy: None,
            needs_tls: false,
            max_connections_per_host: MAX_CONNECTIONS_PER_HOST,
            names: SettingNames::default(),
        }
    }
}

/// The shared client.
pub(crate) struct Client {
    direct: ureq::Agent,
    /// One agent per proxy server, chosen per request by the proxy rules.
    proxied: Vec<(ProxyServer, ureq::Agent)>,
    config: Config,
    observer: Arc<dyn Observer>,
    /// Where the client certificate presented to servers came from, for messages.
    presented_cert: Option<String>,
    /// Requests in flight, told about when they wait long.
    watch: super::waiting::Watch,
    /// Waiting already spent on retries and rate limits, against `retry.budget`.
    waited: Mutex<Duration>,
    /// A service asked to hold back until then: every request to its origin waits for it (one
    /// service's rate limit never slows the other).
    hold_until: Mutex<std::collections::HashMap<Option<Origin>, Instant>>,
    /// Requests in flight per origin, kept within `max_connections_per_host`.
    in_flight: (Mutex<std::collections::HashMap<Option<Origin>, usize>>, std::sync::Condvar),
}

/// A request's place among its origin's in-flight requests, given back when dropped.
struct Slot<'a> {
    client: &'a Client,
    origin: Option<Origin>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let (counts, freed) = &self.client.in_flight;
        let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.origin) {
            *n = n.saturating_sub(1);
        }
        freed.notify_all();
    }
}

impl Client {
    pub(crate) fn new(config: Config, observer: Arc<dyn Observer>) -> Result<Self, TransportError> {
        // ring, named here: ureq's `rustls` feature would also bring its own copy of the roots.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = ureq::tls::TlsConfig::builder().unversioned_rustls_crypto_provider(provider);
        if config.skip_cert_validation {
            observer.note(&Event::CertificateValidationOff);
            tls = tls.disable_verification(true);
        } else {
            // Always a root set of our own (ureq's default, its Mozilla roots, is not built in);
            // the system's store is read only when some URL is https (it costs a few ms).
            let system = config.needs_tls || !config.ca_cert_files.is_empty();
            tls = tls.root_certs(super::tls::root_certs(&config.ca_cert_files, system, observer.as_ref())?);
        }
        let mut presented_cert = None;
        if let Some(cert) = &config.client_cert {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
            let identity = cert.load(now)?;
            let expires = identity.not_after.map(|t| (crate::text::long_date(t), (t - now).div_euclid(86_400)));
            observer.note(&Event::ClientCertificate { source: &identity.source, expires });
            tls = tls.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&identity.chain, identity.key)));
            presented_cert = Some(identity.source);
        }
        let tls = tls.build();
        let build = |proxy: Option<ureq::Proxy>| {
            let config = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_connect(Some(config.connect_timeout))
                .timeout_global(Some(config.request_timeout))
                .user_agent(concat!("sonar-pr-gate/", env!("CARGO_PKG_VERSION")))
                .tls_config(tls.clone())
                // The proxy is chosen here, deliberately, never by ureq's own env detection with
                // its different NO_PROXY rules.
                .proxy(proxy)
                // ureq's default is 128 KiB each way per connection; a response head (all that must
                // fit) is a few KiB even from Azure DevOps, and bodies stream through.
                .input_buffer_size(32 * 1024)
                .output_buffer_size(32 * 1024)
                // Every connection a capped set of requests opens stays in the pool for the next.
                .max_idle_connections_per_host(config.max_connections_per_host.max(1))
                .max_idle_connections(4 * config.max_connections_per_host.max(1))
                .build();
            // ureq's own resolver aborts the process when the system refuses it a thread.
            ureq::Agent::with_parts(config, ureq::unversioned::transport::DefaultConnector::new(), super::resolve::DeadlineResolver)
        };
        let mut proxied = Vec::new();
        if let Some(p) = &config.proxy {
            for server in [&p.https, &p.http].into_iter().flatten() {
                if proxied.iter().any(|(s, _)| s == server) {
                    continue;
                }
                proxied.push((server.clone(), build(Some(ureq_proxy(server)?))));
            }
        }
        Ok(Self {
            direct: build(None),
            proxied,
            watch: super::waiting::Watch::start(observer.clone(), config.retry.max_retries, config.names.time_limit.clone()),
            config,
            observer,
            presented_cert,
            waited: Mutex::new(Duration::ZERO),
            hold_until: Mutex::new(Default::default()),
            in_flight: (Mutex::new(Default::default()), std::sync::Condvar::new()),
        })
    }

    fn agent_for(&self, url: &str) -> (&ureq::Agent, Option<&ProxyServer>) {
        let route = self.config.proxy.as_ref().and_then(|p| p.route(url));
        match route.and_then(|server| self.proxied.iter().find(|(s, _)| s == server)) {
            Some((server, agent)) => (agent, Some(server)),
            None => (&self.direct, None),
        }
    }

    /// Sends a request. Reads and PATCHes are retried on 429, 5xx and dropped connections; POSTs
    /// only when the server said it did not process them (429) or the connection never opened.
    /// All waiting of a run is bounded by the retry budget, and everything about this request by
    /// its deadline: each attempt gets the time left as its own limit, and no retry or pause runs
    /// past it.
    pub(crate) fn send(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        let policy = &self.config.retry;
        let left = || request.deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let mut attempt = 0;
        let first_sent = Instant::now();
        loop {
            self.wait_for_rate_limit(&request.url, request.deadline);
            if left().is_some_and(|l| l.is_zero()) {
                return Err(TransportError::OutOfTime { url: without_query(&request.url).to_string() });
            }
            let timeout = left().map_or(self.config.request_timeout, |l| l.min(self.config.request_timeout));
            let started = Instant::now();
            let outcome = self.send_once(request, timeout);
            let (result, wait) = match &outcome {
                Ok(resp) => {
                    self.note_rate_limit(resp, &request.url);
                    (resp.status.to_string(), retry::after_status(request.method, resp, attempt, policy))
                }
                Err(err) => (err.to_string(), retry::after_error(request.method, err, attempt, policy)),
            };
            self.observer.note(&Event::Sent { method: request.method, url: &request.url, outcome: result, elapsed: started.elapsed() });
            let Some(wait) = wait.filter(|w| attempt < policy.max_retries && left().is_none_or(|l| w.wait < l) && self.spend(w.wait))
            else {
                return outcome.map_err(|e| self.whole_wait(e, attempt + 1, first_sent.elapsed(), timeout));
            };
            if let Some(asked) = wait.capped_from {
                self.observer.note(&Event::WaitCapped { url: without_query(&request.url), asked, waiting: wait.wait });
            }
            let reason = match &outcome {
                Ok(resp) => format!("HTTP {}", resp.status),
                Err(e) => e.to_string(),
            };
            self.observer.note(&Event::Retrying {
                method: request.method,
                url: without_query(&request.url),
                reason,
                wait: wait.wait,
                attempt: attempt + 2,
                attempts: policy.max_retries + 1,
            });
            std::thread::sleep(wait.wait);
            attempt += 1;
        }
    }

    /// A timeout told as the user lived it: the whole wait over every attempt, each attempt's limit,
    /// and the setting that bounds it all (an attempt cut short by the run's limit says so).
    fn whole_wait(&self, err: TransportError, attempts: u32, waited: Duration, last_limit: Duration) -> TransportError {
        let TransportError::Timeout { url, .. } = err else { return err };
        let each = self.config.request_timeout.as_secs();
        let bound = &self.config.names.time_limit;
        let context = if attempts > 1 {
            format!(" ({attempts} attempts, each waiting up to {each} s; {bound} bounds the whole wait)")
        } else if last_limit < self.config.request_timeout {
            format!(" (all the time {bound} left)")
        } else {
            String::new()
        };
        TransportError::Timeout { url, seconds: waited.as_secs_f64().round() as u64, context }
    }

    /// Takes `wait` from the retry budget; false when the budget is spent.
    fn spend(&self, wait: Duration) -> bool {
        let mut waited = self.waited.lock().unwrap_or_else(|p| p.into_inner());
        if *waited + wait > self.config.retry.budget {
            return false;
        }
        *waited += wait;
        true
    }

    /// Holds back while the service asked to, never past the request's deadline.
    fn wait_for_rate_limit(&self, url: &str, deadline: Option<Instant>) {
        let until = self.hold_until.lock().unwrap_or_else(|p| p.into_inner()).get(&Origin::parse(url)).copied();
        let Some(until) = until.map(|u| deadline.map_or(u, |d| u.min(d))) else { return };
        let now = Instant::now();
        if until > now && self.spend(until - now) {
            std::thread::sleep(until - now);
        }
    }

    /// Azure DevOps announces throttling before it blocks: Retry-After on an answer that still
    /// succeeded, or X-RateLimit-Remaining 0 with X-RateLimit-Reset (Unix seconds). A pause of
    /// more than a minute, or one that is not a number, is capped and said.
    fn note_rate_limit(&self, resp: &Response, url: &str) {
        if resp.status >= 400 {
            return; // Retries handle these, with their own wait.
        }
        let retry_after = resp.header("retry-after").map(|v| retry::parse_retry_after(v).unwrap_or(Duration::MAX)).filter(|d| !d.is_zero());
        let until_reset = || {
            let reset: u64 = resp.header("x-ratelimit-reset")?.trim().parse().ok()?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
            Some(Duration::from_secs(reset.saturating_sub(now)))
        };
        let exhausted = resp.header("x-ratelimit-remaining").is_some_and(|v| v.trim() == "0");
        let Some(asked) = retry_after.or_else(|| if exhausted { until_reset() } else { None }).filter(|p| !p.is_zero()) else { return };
        let pause = asked.min(retry::MAX_REQUESTED_WAIT);
        if asked > pause {
            self.observer.note(&Event::WaitCapped { url: without_query(url), asked, waiting: pause });
        }
        self.observer.note(&Event::SlowDown { resource: resp.header("x-ratelimit-resource").unwrap_or("usage"), wait: pause });
        self.hold_until.lock().unwrap_or_else(|p| p.into_inner()).insert(Origin::parse(url), Instant::now() + pause);
    }

    /// Connecting (name resolution, a proxy's tunnel, TLS) gets 20 s, and a little less than the
    /// whole attempt when that is shorter, so a connection that hangs is told apart from a server
    /// that is slow to answer.
    fn connect_timeout(&self, attempt: Duration) -> Duration {
        if attempt < self.config.connect_timeout { attempt.mul_f64(0.9) } else { self.config.connect_timeout }
    }

    /// Waits for a place among the origin's in-flight requests, until `by` at most; `None` when
    /// the time ran out first.
    fn slot(&self, url: &str, by: Instant) -> Option<Slot<'_>> {
        let origin = Origin::parse(url);
        let (counts, freed) = &self.in_flight;
        let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
        let cap = self.config.max_connections_per_host.max(1);
        while counts.get(&origin).copied().unwrap_or(0) >= cap {
            let left = by.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            counts = freed.wait_timeout(counts, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        *counts.entry(origin.clone()).or_insert(0) += 1;
        Some(Slot { client: self, origin })
    }

    /// One attempt, within `timeout` from the first byte of name resolution to the last of the body
    /// (waiting for a free connection counts too).
    fn send_once(&self, request: &Request<'_>, timeout: Duration) -> Result<Response, TransportError> {
        let url = request.url.as_str();
        let started = Instant::now();
        let _slot = self.slot(url, started + timeout).ok_or_else(|| TransportError::Timeout {
            url: without_query(url).to_string(),
            seconds: timeout.as_secs(),
            context: String::new(),
        })?;
        let timeout = timeout.saturating_sub(started.elapsed()).max(Duration::from_millis(1));
        let origin = Origin::parse(url);
        let path = origin.as_ref().and_then(|o| without_query(url).strip_prefix(&o.to_string())).unwrap_or_else(|| without_query(url));
        let what = format!("{} {}", request.method.as_str(), if path.is_empty() { "/" } else { path });
        let _waiting = self.watch.enter(
            origin.map_or_else(|| without_query(url).to_string(), |o| o.to_string()),
            what,
            started + timeout,
            request.deadline,
        );
        let (agent, proxy) = self.agent_for(url);
        let mut builder = http::Request::builder().method(request.method.as_str()).uri(url);
        builder = builder.header("Accept", "application/json");
        if let Some(auth) = request.auth {
            // The single place a credential leaves the process, and only to its own origin.
            let target = Origin::parse(url);
            if target.is_some() && target == auth.origin {
                builder = builder.header("Authorization", auth.header.expose());
            } else if let Some(owner) = &auth.origin {
                let target = target.map_or_else(|| without_query(url).to_string(), |t| t.to_string());
                self.observer.note(&Event::CredentialWithheld { target, owner });
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
                let req =
                    agent.configure_request(req).timeout_global(Some(timeout)).timeout_connect(Some(self.connect_timeout(timeout))).build();
                agent.run(req)
            }
            // A POST without a body goes with `Content-Length: 0`: ureq sends an empty `()` body
            // chunked, which some servers and proxies do not expect on a body-less POST.
            None if request.method != Method::Get => {
                let req = builder.body(Vec::<u8>::new()).map_err(|e| other(url, e))?;
                let req =
                    agent.configure_request(req).timeout_global(Some(timeout)).timeout_connect(Some(self.connect_timeout(timeout))).build();
                agent.run(req)
            }
            None => {
                let req = builder.body(()).map_err(|e| other(url, e))?;
                let req =
                    agent.configure_request(req).timeout_global(Some(timeout)).timeout_connect(Some(self.connect_timeout(timeout))).build();
                agent.run(req)
            }
        };
        let failed = |e| classify(url, e, timeout, proxy, request.deadline, &self.config.names, self.presented_cert.as_deref());
        let mut response = result.map_err(failed)?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> =
            response.headers().iter().filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))).collect();
        let content_type = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone());
        let body = response.body_mut().with_config().limit(self.config.max_body_bytes).read_to_vec().map_err(failed)?;
        Ok(Response { status, content_type, headers, body })
    }
}

fn ureq_proxy(server: &ProxyServer) -> Result<ureq::Proxy, TransportError> {
    let mut b = ureq::Proxy::builder(ureq::ProxyProtocol::Http).host(&server.host).port(server.port);
    if let Some(u) = &server.username {
        b = b.username(u);
    }
    if let Some(pw) = &server.password {
        // The single place the proxy password leaves our types.
        b = b.password(pw.expose());
    }
    b.build().map_err(|e| TransportError::Proxy { detail: format!("the proxy {} cannot be used: {e}", server.display()) })
}

fn other(url: &str, e: impl std::fmt::Display) -> TransportError {
    TransportError::Other { url: without_query(url).to_string(), detail: e.to_string() }
}

/// The HTTP status a proxy answered a CONNECT with. ureq reports it only inside its message
/// (`proxy server responded 407/Proxy Authentication Required`), so this is the one place that
/// reads it back.
fn proxy_status(reason: &str) -> Option<u16> {
    reason.strip_prefix("proxy server responded ")?.split('/').next()?.parse().ok()
}

/// A rustls error, whether ureq returned it as itself or wrapped in an I/O error from the stream.
fn rustls_error(err: &ureq::Error) -> Option<&rustls::Error> {
    match err {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(e) => e.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

fn classify(
    url: &str,
    err: ureq::Error,
    timeout: Duration,
    proxy: Option<&ProxyServer>,
    deadline: Option<Instant>,
    names: &SettingNames,
    presented_cert: Option<&str>,
) -> TransportError {
    if let Some(tls) = rustls_error(&err) {
        if let Some(refused) = client_cert_refused(url, tls, names, presented_cert) {
            return refused;
        }
        return tls_error(url, tls, proxy.is_some(), deadline, &names.ca_file);
    }
    let url = without_query(url).to_string();
    let seconds = timeout.as_secs_f64().ceil() as u64;
    let origin = Origin::parse(&url);
    let refused = |url: String| match proxy {
        Some(p) => TransportError::Proxy {
            detail: format!(
                "the proxy {} refused the connection (for {url}); check {}: the proxy is not running there, or the address is wrong",
                p.display(),
                names.proxy
            ),
        },
        None => TransportError::Refused { origin: origin.as_ref().map_or_else(|| url.clone(), |o| o.to_string()), url },
    };
    // Through a proxy the name looked up first is the proxy's: when that is what does not resolve,
    // the proxy setting is to blame, and no retry will help.
    let proxy_unresolved = |p: &ProxyServer| super::resolve::resolves(&p.host, p.port, Duration::from_secs(5)) == Some(false);
    match err {
        ureq::Error::HostNotFound | ureq::Error::Io(_) if proxy.is_some_and(proxy_unresolved) => TransportError::Proxy {
            detail: format!(
                "the proxy {} cannot be reached: its host name {} does not resolve; check {} (for {url})",
                proxy.map(|p| p.display()).unwrap_or_default(),
                proxy.map(|p| p.host.as_str()).unwrap_or_default(),
                names.proxy
            ),
        },
        ureq::Error::ConnectProxyFailed(reason) => proxy_error(&url, &reason, proxy, names),
        ureq::Error::HostNotFound => host_not_found(url, origin.as_ref()),
        ureq::Error::ConnectionFailed if proxy.is_some() => TransportError::Proxy {
            detail: format!(
                "could not connect to the proxy {} (for {url}); check {}",
                proxy.map(|p| p.display()).unwrap_or_default(),
                names.proxy
            ),
        },
        ureq::Error::ConnectionFailed => TransportError::Connect { url },
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) if proxy.is_some() => TransportError::Proxy {
            detail: format!(
                "the proxy {} did not open a tunnel to {} within {seconds} s (for {url}); check {}: the proxy does not answer, or cannot reach the server",
                proxy.map(|p| p.display()).unwrap_or_default(),
                origin.as_ref().map_or_else(|| url.clone(), |o| o.to_string()),
                names.proxy
            ),
        },
        ureq::Error::Timeout(_) => TransportError::Timeout { url, seconds, context: String::new() },
        ureq::Error::BodyExceedsLimit(limit) => TransportError::TooLarge { url, limit },
        ureq::Error::Tls(detail) => TransportError::Tls { url, detail: detail.to_string(), ca_setting: names.ca_file.clone() },
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => refused(url),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => TransportError::Timeout { url, seconds, context: String::new() },
        // A name that does not resolve comes back as a plain I/O error; asking the resolver once
        // more (briefly) tells it from other failures without reading the message.
        ureq::Error::Io(_)
            if proxy.is_none()
                && origin.as_ref().is_some_and(|o| super::resolve::resolves(o.host(), o.port(), Duration::from_secs(5)) == Some(false)) =>
        {
            host_not_found(url, origin.as_ref())
        }
        other => TransportError::Other { url, detail: other.to_string() },
    }
}

fn host_not_found(url: String, origin: Option<&Origin>) -> TransportError {
    TransportError::HostNotFound { host: origin.map_or_else(|| url.clone(), |o| o.host().to_string()), url }
}

fn proxy_error(url: &str, reason: &str, proxy: Option<&ProxyServer>, names: &SettingNames) -> TransportError {
    let proxy = proxy.map_or_else(|| "the proxy".to_string(), |p| format!("the proxy {}", p.display()));
    let target = Origin::parse(url).map_or_else(|| url.to_string(), |o| o.to_string());
    let detail = match proxy_status(reason) {
        Some(407) => format!(
            "{proxy} asks for credentials (HTTP 407) to reach {target}. Give the proxy a user name and password ({}). A proxy that accepts only NTLM or Negotiate (Windows integrated) authentication is not supported: use a proxy account with Basic authentication, or a local relay such as cntlm or px",
            names.proxy_credentials
        ),
        None => format!("{proxy} did not answer the request to open a tunnel to {target}; check the proxy address"),
        Some(_) => {
            let bypass = &names.proxy_bypass;
            let port_hint = if url.starts_with("http://") {
                format!(
                    " This task opens a CONNECT tunnel for every target, and many proxies only allow tunnels to port 443: use the server's https:// URL, or add the host to the proxy bypass list ({bypass})"
                )
            } else {
                format!(" Ask the proxy's administrator to allow it, or add the host to the proxy bypass list ({bypass})")
            };
            format!("{proxy} refused to open a tunnel to {target} ({reason}).{port_hint}")
        }
    };
    TransportError::Proxy { detail }
}

/// A server that ends the handshake over the client certificate (mutual TLS): it asked for one and
/// got none, or refused the one presented. TLS 1.3 servers say so with an alert the client reads
/// with the response; TLS 1.2 servers during the handshake (often as a bare handshake failure).
fn client_cert_refused(url: &str, err: &rustls::Error, names: &SettingNames, presented: Option<&str>) -> Option<TransportError> {
    use rustls::AlertDescription as A;
    let rustls::Error::AlertReceived(alert) = err else { return None };
    let url = without_query(url).to_string();
    let host = Origin::parse(&url).map_or_else(|| url.clone(), |o| o.host().to_string());
    let about_certificate = matches!(
        alert,
        A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::AccessDenied
    );
    let detail = match presented {
        None if about_certificate || *alert == A::HandshakeFailure => format!(
            "{host} ended the TLS handshake ({alert:?}) for {url}: it requires a client certificate (mutual TLS) and this task has none; give one in {}",
            names.client_cert
        ),
        Some(source) if about_certificate || *alert == A::DecryptError => {
            let why = match alert {
                A::DecryptError => {
                    "it could not verify the certificate's signature (a certificate whose issuer has the name of one it trusts, but is another)"
                }
                A::CertificateExpired => "it says the certificate has expired",
                A::CertificateRevoked => "it says the certificate was revoked",
                A::UnknownCA => "it does not trust the authority that issued the certificate",
                A::CertificateRequired => "it received no certificate it could use",
                _ => "it did not accept the certificate",
            };
            format!(
                "{host} refused the client certificate in {source} ({alert:?}) for {url}: {why}. Ask the server's administrators which certificates it accepts, and fix {}",
                names.client_cert
            )
        }
        _ => return None,
    };
    Some(TransportError::ClientCert { detail })
}

/// A TLS failure in words: for a certificate from an authority the agent does not trust, which
/// host presented it and who issued it (read from a second, data-free handshake).
fn tls_error(url: &str, err: &rustls::Error, proxied: bool, deadline: Option<Instant>, ca_setting: &str) -> TransportError {
    let url = without_query(url).to_string();
    let unknown_issuer = matches!(err, rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer));
    let Some(origin) = Origin::parse(&url).filter(|_| unknown_issuer) else {
        return TransportError::Tls { url, detail: err.to_string(), ca_setting: ca_setting.to_string() };
    };
    let host = origin.host();
    // The diagnosis gets ten seconds at most, and never past the request's deadline.
    let limit = deadline.map_or(Duration::from_secs(10), |d| d.saturating_duration_since(Instant::now()).min(Duration::from_secs(10)));
    let issuer = if proxied || limit.is_zero() { None } else { super::tls::presented_issuer(host, origin.port(), limit) };
    let detail = match issuer {
        Some(i) => format!("the certificate {host} presented is issued by '{i}', an authority this agent does not trust (UnknownIssuer)"),
        None => format!("the certificate {host} presented is issued by an authority this agent does not trust (UnknownIssuer)"),
    };
    TransportError::Tls { url, detail, ca_setting: ca_setting.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxys_answer_to_connect_is_read_as_a_number() {
        assert_eq!(proxy_status("proxy server responded 407/Proxy Authentication Required"), Some(407));
        assert_eq!(proxy_status("proxy server responded 403/Forbidden"), Some(403));
        assert_eq!(proxy_status("proxy server did not respond"), None);
    }

    #[test]
    fn a_credential_is_bound_to_its_origin() {
        use crate::net::message::Auth;
        use crate::secret::Secret;
        let auth = Auth::bearer("https://dev.azure.com/org/", &Secret::new("t"));
        assert_eq!(auth.origin, Origin::parse("https://dev.azure.com:443/other"));
        assert_ne!(auth.origin, Origin::parse("https://dev.azure.com.evil.io/"));
    }

    struct Quiet;
    impl Observer for Quiet {
        fn note(&self, _: &Event<'_>) {}
    }

    /// A request that timed out on every attempt is told with the whole wait, not the last
    /// attempt's limit (a user once read "did not answer within 24 s" after five minutes), and
    /// with the setting that bounds it.
    #[test]
    fn a_timeout_is_told_with_the_whole_wait_and_its_bound() {
        let mut config = Config::default();
        config.names.time_limit = "pollingTimeoutSec".into();
        let client = Client::new(config, Arc::new(Quiet)).unwrap();
        let timeout = |s| TransportError::Timeout { url: "http://sq/api/server/version".into(), seconds: s, context: String::new() };
        let told = client.whole_wait(timeout(24), 4, Duration::from_millis(301_200), Duration::from_secs(24)).to_string();
        assert_eq!(
            told,
            "http://sq/api/server/version did not answer within 301 s (4 attempts, each waiting up to 90 s; pollingTimeoutSec bounds the whole wait); the server may be overloaded, or a proxy or firewall may be dropping the traffic"
        );
        let told = client.whole_wait(timeout(3), 1, Duration::from_millis(3_050), Duration::from_secs(3)).to_string();
        assert!(
            told.starts_with("http://sq/api/server/version did not answer within 3 s (all the time pollingTimeoutSec left); "),
            "{told}"
        );
        let told = client.whole_wait(timeout(90), 1, Duration::from_secs(90), Duration::from_secs(90)).to_string();
        assert!(told.starts_with("http://sq/api/server/version did not answer within 90 s; "), "{told}");
    }
}
