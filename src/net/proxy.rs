//! Which proxy, if any, each request goes through: the agent's proxy (`Agent.ProxyUrl`, its user
//! name and secret password, and `Agent.ProxyBypassList`, a JSON list of regular expressions matched
//! case-insensitively against the whole URL, as task-lib does) in task mode, or `HTTPS_PROXY`,
//! `HTTP_PROXY` and `NO_PROXY` with curl's rules in CLI mode.
//!
//! ureq's own `NO_PROXY` handling differs from curl's (no trimming, no suffix match for a bare
//! domain, no CIDR), so the rules are parsed here and ureq is never left to read the environment.

use std::net::Ipv4Addr;

use super::url::{Origin, decode};
use crate::secret::Secret;

/// Why a proxy setting cannot be used; which setting it is decides which input the message names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProxyError {
    /// The proxy URL itself.
    #[error("{0}")]
    Url(String),
    /// The agent's bypass list.
    #[error("{0}")]
    BypassList(String),
}

/// One proxy server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProxyServer {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
}

impl ProxyServer {
    /// `http://host:port`, without credentials, for messages.
    pub(crate) fn display(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

/// Where requests go.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProxyConfig {
    /// For https:// targets.
    pub(crate) https: Option<ProxyServer>,
    /// For http:// targets.
    pub(crate) http: Option<ProxyServer>,
    pub(crate) bypass: Vec<BypassRule>,
}

#[derive(Clone, Debug)]
pub(crate) enum BypassRule {
    /// An agent bypass entry: a regular expression searched in the URL, case-insensitively.
    Regex(regex_lite::Regex),
    /// `*`: every host.
    Any,
    /// `example.com`, `.example.com` or `*.example.com`: the domain and everything under it.
    Domain(String),
    /// `10.0.0.0/8`.
    Cidr(Ipv4Addr, u8),
    /// `host:port`.
    HostPort(String, u16),
}

impl ProxyConfig {
    /// The proxy for a URL, or `None` to connect directly.
    pub(crate) fn route(&self, url: &str) -> Option<&ProxyServer> {
        let https = url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        let proxy = if https { self.https.as_ref() } else { self.http.as_ref() }?;
        let (host, port) = host_port(url);
        let bypassed = self.bypass.iter().any(|rule| match rule {
            BypassRule::Regex(re) => re.is_match(url),
            BypassRule::Any => true,
            BypassRule::Domain(d) => host == *d || host.ends_with(&format!(".{d}")),
            BypassRule::Cidr(net, bits) => host.parse::<Ipv4Addr>().is_ok_and(|ip| in_cidr(ip, *net, *bits)),
            BypassRule::HostPort(h, p) => host == *h && port == *p,
        });
        (!bypassed).then_some(proxy)
    }

    /// The agent's proxy: one server for every scheme, and the bypass list.
    pub(crate) fn from_agent(
        url: &str,
        username: Option<&str>,
        password: Option<&str>,
        bypass_json: Option<&str>,
    ) -> Result<Self, ProxyError> {
        let mut server = parse_proxy_url(url).map_err(ProxyError::Url)?;
        if let Some(u) = username {
            server.username = Some(u.to_string());
        }
        if let Some(p) = password {
            server.password = Some(Secret::new(p));
        }
        let mut bypass = Vec::new();
        if let Some(json) = bypass_json {
            let list: Vec<String> = serde_json::from_str(json).map_err(|e| {
                ProxyError::BypassList(format!(
                    "is not a JSON list of regular expressions ({e}); the agent writes it from its .proxybypass file, one expression per line"
                ))
            })?;
            for pattern in list.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
                let re = regex_lite::RegexBuilder::new(pattern).case_insensitive(true).build().map_err(|e| {
                    ProxyError::BypassList(format!(
                        "entry '{pattern}' is not a valid regular expression ({e}); fix the agent's .proxybypass file"
                    ))
                })?;
                bypass.push(BypassRule::Regex(re));
            }
        }
        Ok(Self { https: Some(server.clone()), http: Some(server), bypass })
    }

    /// curl's variables: `HTTPS_PROXY` for https targets, `HTTP_PROXY` for http ones, `NO_PROXY`.
    pub(crate) fn from_env_vars(https: Option<&str>, http: Option<&str>, no_proxy: Option<&str>) -> Result<Self, String> {
        Ok(Self {
            https: https.map(parse_proxy_url).transpose()?,
            http: http.map(parse_proxy_url).transpose()?,
            bypass: no_proxy.map(parse_no_proxy).unwrap_or_default(),
        })
    }
}

/// `http://[user:password@]host[:port]`; a bare `host:port` is taken as http.
pub(crate) fn parse_proxy_url(raw: &str) -> Result<ProxyServer, String> {
    let raw = raw.trim();
    let rest = match raw.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "'{scheme}://' proxies are not supported; give an http:// proxy URL, such as http://proxy.corp.example:8080"
            ));
        }
        None => raw,
    };
    let authority = rest.split('/').next().unwrap_or("");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => {
            // Never echo the value: in "http://user:password" (host forgotten) it would be the password.
            (
                h,
                p.parse::<u16>()
                    .map_err(|_| "has a port that is not a number; write the proxy like http://proxy.corp.example:8080".to_string())?,
            )
        }
        None => (hostport, 80),
    };
    if host.is_empty() {
        return Err("has no host name; write it like http://proxy.corp.example:8080".to_string());
    }
    let (username, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((user, pass)) => (Some(decode(user, false)), Some(Secret::new(decode(pass, false)))),
            None => (Some(decode(u, false)), None),
        },
        None => (None, None),
    };
    Ok(ProxyServer { host: host.to_ascii_lowercase(), port, username, password })
}

/// curl's `NO_PROXY`: comma-separated, trimmed, case-insensitive; `*`, domains (with or without a
/// leading `.` or `*.`, always matching subdomains), IPv4 CIDR blocks, and `host:port`.
pub(crate) fn parse_no_proxy(value: &str) -> Vec<BypassRule> {
    value
        .split([',', ' '])
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .map(|e| {
            if e == "*" {
                return BypassRule::Any;
            }
            if let Some((net, bits)) = e.split_once('/')
                && let (Ok(net), Ok(bits)) = (net.parse::<Ipv4Addr>(), bits.parse::<u8>())
                && bits <= 32
            {
                return BypassRule::Cidr(net, bits);
            }
            if let Some((h, p)) = e.rsplit_once(':')
                && let Ok(port) = p.parse::<u16>()
                && !h.contains(':')
            {
                return BypassRule::HostPort(h.trim_start_matches("*.").trim_start_matches('.').to_string(), port);
            }
            BypassRule::Domain(e.trim_start_matches("*.").trim_start_matches('.').to_string())
        })
        .collect()
}

fn in_cidr(ip: Ipv4Addr, net: Ipv4Addr, bits: u8) -> bool {
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
    u32::from(ip) & mask == u32::from(net) & mask
}

/// Host (lower-case, IPv6 without brackets) and port of a URL.
fn host_port(url: &str) -> (String, u16) {
    Origin::parse(url).map_or_else(|| (String::new(), 0), |o| (o.host().to_string(), o.port()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env_config(no_proxy: &str) -> ProxyConfig {
        ProxyConfig::from_env_vars(Some("http://proxy:3128"), Some("http://proxy:3128"), Some(no_proxy)).unwrap()
    }

    #[test]
    fn no_proxy_follows_curl_not_ureq() {
        let c = env_config(" localhost , .corp.example, example.com ,10.0.0.0/8, sonar.internal:9000");
        let direct = |u: &str| c.route(u).is_none();
        // Trimmed entries (ureq does not trim).
        assert!(direct("http://localhost:9000/api"));
        // A bare domain covers its subdomains (ureq's does not).
        assert!(direct("https://sonar.example.com/"));
        assert!(direct("https://example.com/"));
        assert!(!direct("https://notexample.com/"));
        assert!(direct("https://a.b.corp.example/"));
        // CIDR (ureq has none).
        assert!(direct("http://10.1.2.3:9000/"));
        assert!(!direct("http://11.1.2.3:9000/"));
        // host:port matches only that port.
        assert!(direct("http://sonar.internal:9000/"));
        assert!(!direct("http://sonar.internal:9001/"));
        assert!(!direct("https://dev.azure.com/org"));
    }

    #[test]
    fn agent_bypass_is_a_case_insensitive_regex_on_the_url() {
        let c = ProxyConfig::from_agent(
            "http://proxy.corp:8080",
            Some("svc"),
            Some("p@ss"),
            Some(r#"["sonar\\.corp\\.example", "^https://.*\\.INTERNAL/"]"#),
        )
        .unwrap();
        assert!(c.route("https://SONAR.corp.example/api").is_none());
        assert!(c.route("https://build.internal/x").is_none());
        let p = c.route("https://dev.azure.com/org").unwrap();
        assert_eq!((p.host.as_str(), p.port, p.username.as_deref()), ("proxy.corp", 8080, Some("svc")));
        assert_eq!(c.route("http://sonar.example:9000/").map(|p| p.port), Some(8080), "the agent's proxy serves http too");
    }

    #[test]
    fn bad_proxy_settings_are_explained() {
        assert!(
            ProxyConfig::from_agent("http://p:1", None, None, Some("not json"))
                .unwrap_err()
                .to_string()
                .starts_with("is not a JSON list of regular expressions")
        );
        assert!(
            ProxyConfig::from_agent("http://p:1", None, None, Some(r#"["(unclosed"]"#))
                .unwrap_err()
                .to_string()
                .starts_with("entry '(unclosed' is not a valid regular expression")
        );
        assert!(parse_proxy_url("socks5://p:1080").unwrap_err().contains("'socks5://' proxies are not supported"));
        assert!(parse_proxy_url("http://p:port").unwrap_err().contains("has a port that is not a number"));
        // A forgotten host makes the password look like a port: it is never echoed.
        assert!(!parse_proxy_url("http://svc:hunter2").unwrap_err().contains("hunter2"));
    }

    #[test]
    fn credentials_in_the_url_are_decoded_once() {
        let p = parse_proxy_url("http://us%40er:p%3Ass@proxy:3128").unwrap();
        assert_eq!((p.username.as_deref(), p.password.as_ref().map(Secret::expose)), (Some("us@er"), Some("p:ss")));
    }

    proptest! {
        /// A domain rule matches exactly the domain and its subdomains, whatever the names.
        #[test]
        fn domain_rules_match_suffixes_on_label_boundaries(label in "[a-z]{1,8}", domain in "[a-z]{1,8}\\.[a-z]{2,3}") {
            let c = env_config(&domain);
            let sub = format!("https://{label}.{domain}/");
            let glued = format!("https://{label}{domain}/");
            let exact = format!("https://{domain}/");
            prop_assert!(c.route(&sub).is_none());
            prop_assert!(c.route(&exact).is_none());
            prop_assert!(c.route(&glued).is_some());
        }
    }
}
