//! URLs: one parser for where a request goes (scheme, host, port), percent-encoding for the values
//! this task puts into URLs, and decoding for the ones it reads (report-task links, proxy
//! credentials, Azure DevOps' X-TFS-ServiceError header).

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use ureq::http::Uri;

/// RFC 3986's unreserved characters stay as they are; everything else is encoded, so a project
/// key, branch name or project name is safe in a query value or a path segment.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub(crate) fn encode(value: &str) -> String {
    utf8_percent_encode(value, NOT_UNRESERVED).to_string()
}

/// Decodes `%XX` (a malformed escape is kept as it is). `plus_is_space` reads `+` as a space, as
/// form encoding (Java's URLEncoder, which the scanners use) writes it.
pub(crate) fn decode(value: &str, plus_is_space: bool) -> String {
    if plus_is_space {
        percent_decode_str(&value.replace('+', " ")).decode_utf8_lossy().into_owned()
    } else {
        percent_decode_str(value).decode_utf8_lossy().into_owned()
    }
}

/// Where a URL points: scheme, host and port, lower-cased. Credentials are bound to one origin and
/// proxies chosen by host and port, so this is what those decisions compare.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an absolute http(s) URL; `None` for anything else.
    pub(crate) fn parse(url: &str) -> Option<Self> {
        let uri = Uri::try_from(url).ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        Some(Self { scheme, host, port: uri.port_u16().unwrap_or(default) })
    }

    /// Host name or IP address, IPv6 without brackets.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn is_https(&self) -> bool {
        self.scheme == "https"
    }
}

impl fmt::Display for Origin {
    /// `scheme://host[:port]`, the port only when it is not the scheme's default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let default = if self.is_https() { 443 } else { 80 };
        if self.port == default { write!(f, "{}://{host}", self.scheme) } else { write!(f, "{}://{host}:{}", self.scheme, self.port) }
    }
}

/// A URL without the `user:password@` part of its authority, and that part when there was one
/// (a credential: the caller registers it as a secret before anything prints the URL).
pub(crate) fn strip_userinfo(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_string(), None) };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => (format!("{scheme}://{}", &rest[at + 1..]), Some(rest[..at].to_string())),
        None => (url.to_string(), None),
    }
}

/// A URL that may be a link target and a status's `targetUrl`: absolute http(s), one line, no
/// control characters or spaces, no credentials. `javascript:`, `data:`, a multi-line value and
/// the like are `None`.
pub(crate) fn link_target(url: &str) -> Option<String> {
    let url = url.trim();
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) || crate::text::has_controls(url) {
        return None;
    }
    Origin::parse(url)?;
    Some(strip_userinfo(url).0)
}

/// Whether a URL is https, by its scheme alone (cheap, for deciding whether TLS roots are needed).
pub(crate) fn is_https(url: &str) -> bool {
    url.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("https://"))
}

/// A URL without its query: for messages and retry lines, where query values add only noise.
pub(crate) fn without_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let o = |u: &str| Origin::parse(u).unwrap();
        assert_eq!(o("https://Dev.Azure.com/org/_apis/x?y=1").to_string(), "https://dev.azure.com");
        assert_eq!(o("http://127.0.0.1:9000/sonar").to_string(), "http://127.0.0.1:9000");
        assert_eq!(o("https://sq.example.com"), o("https://sq.example.com:443/x"));
        assert_ne!(o("https://sq.example.com"), o("https://sq.example.com.evil.io"));
        assert_ne!(o("https://sq.example.com"), o("http://sq.example.com"));
        assert_eq!(o("http://[::1]:8080/").host(), "::1");
        assert_eq!(o("http://[::1]:8080/").to_string(), "http://[::1]:8080");
        assert_eq!(o("https://user:pw@host/").host(), "host");
        assert_eq!(Origin::parse("ftp://host/"), None);
        assert_eq!(Origin::parse("no scheme"), None);
    }

    #[test]
    fn known_values() {
        assert_eq!(encode("my:proj feature/x&y"), "my%3Aproj%20feature%2Fx%26y");
        assert_eq!(decode("a%3Ab+c%zz%", true), "a:b c%zz%");
        assert_eq!(decode("a+b", false), "a+b");
        assert_eq!(without_query("https://h/p?x=1"), "https://h/p");
    }

    #[test]
    fn credentials_are_taken_out_of_urls() {
        assert_eq!(
            strip_userinfo("https://user:pa%40ss@sq.example/x?y=a@b"),
            ("https://sq.example/x?y=a@b".to_string(), Some("user:pa%40ss".to_string()))
        );
        assert_eq!(strip_userinfo("https://sq.example/a@b"), ("https://sq.example/a@b".to_string(), None));
        assert_eq!(strip_userinfo("not a url"), ("not a url".to_string(), None));
    }

    #[test]
    fn only_plain_http_urls_are_link_targets() {
        assert_eq!(link_target("https://sonar.example.com/"), Some("https://sonar.example.com/".to_string()));
        assert_eq!(link_target("https://u:p@sonar.example.com"), Some("https://sonar.example.com".to_string()));
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "https://a.example/\nx",
            "https://a.example/\u{202e}x",
            "//a.example",
            "sonar.example.com",
            "https://a b",
        ] {
            assert_eq!(link_target(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn decode_undoes_encode(text in "\\PC*") {
            prop_assert_eq!(decode(&encode(&text), false), text.clone());
            prop_assert_eq!(decode(&encode(&text), true), text);
        }
    }
}
