//! Name resolution with the request's deadline, on any agent: the HTTP client's resolver and the
//! one the certificate diagnosis and the error messages use.
//!
//! The system's resolver (`getaddrinfo`) has no timeout, so a lookup runs on a thread of its own
//! and the caller waits for it only until its deadline (a DNS server that never answers would
//! otherwise hold the run forever). ureq's own resolver starts that thread with `thread::spawn`,
//! which panics when the system refuses a thread (a container's pids limit): with `pids.max` 1 the
//! run ended in `failed to spawn thread`, killed by SIGABRT (the release build aborts on a
//! panic), without `task.complete`, status or build summary (issue 26). Here the
//! thread comes from `parallel`, so a refused thread means the lookup runs on the calling thread
//! instead: no deadline of its own then (nothing can interrupt `getaddrinfo`), but the request's
//! global deadline still bounds everything after it, and an address literal (every URL on
//! 127.0.0.1, most on-premises servers' IPs) needs no lookup at all.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// The addresses of `host:port` (`[v6]:port` for an IPv6 literal): `None` when the resolver gave
/// no answer within `timeout`, an error when it said the name does not exist.
pub(crate) fn lookup(host_port: &str, timeout: Option<Duration>) -> Option<std::io::Result<Vec<SocketAddr>>> {
    if let Ok(literal) = host_port.parse::<SocketAddr>() {
        return Some(Ok(vec![literal]));
    }
    let target = host_port.to_string();
    let pending = crate::parallel::start_detached(move || target.to_socket_addrs().map(Iterator::collect));
    match timeout {
        Some(timeout) => pending.wait_timeout(timeout),
        None => Some(pending.wait()),
    }
}

/// The first address of `host:port` (a bare IPv6 address is bracketed), within `timeout`.
pub(crate) fn first_address(host: &str, port: u16, timeout: Duration) -> Option<Result<SocketAddr, ()>> {
    let host_port = if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    lookup(&host_port, Some(timeout)).map(|r| r.map_err(|_| ()).and_then(|a| a.first().copied().ok_or(())))
}

/// Whether the name resolves: `Some(false)` when the resolver says it does not exist, `None` when
/// it gave no answer in time.
pub(crate) fn resolves(host: &str, port: u16, timeout: Duration) -> Option<bool> {
    first_address(host, port, timeout).map(|r| r.is_ok())
}

/// The HTTP client's resolver: [`lookup`] with the time the request has left.
#[derive(Debug, Default)]
pub(crate) struct DeadlineResolver;

impl Resolver for DeadlineResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host_port = match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority)) => DefaultResolver::host_and_port(scheme, authority),
            _ => None,
        }
        .ok_or_else(|| ureq::Error::BadUri(uri.to_string()))?;
        let left = (!timeout.after.is_not_happening()).then(|| *timeout.after);
        let addresses = lookup(&host_port, left).ok_or(ureq::Error::Timeout(timeout.reason))??;
        let mut result = self.empty();
        // Sixteen addresses at most, as ureq keeps: the rest are dropped, not a panic.
        for address in config.ip_family().keep_wanted(addresses.into_iter()) {
            if result.try_push(address).is_err() {
                break;
            }
        }
        if result.is_empty() { Err(ureq::Error::HostNotFound) } else { Ok(result) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_literal_needs_no_lookup_and_a_deadline_of_zero_still_answers_it() {
        let v4 = lookup("127.0.0.1:9000", Some(Duration::ZERO)).unwrap().unwrap();
        assert_eq!(v4, vec!["127.0.0.1:9000".parse().unwrap()]);
        let v6 = lookup("[::1]:443", Some(Duration::ZERO)).unwrap().unwrap();
        assert_eq!(v6, vec!["[::1]:443".parse().unwrap()]);
    }

    #[test]
    fn the_resolver_names_a_host_it_cannot_read_from_the_url() {
        let config = ureq::config::Config::default();
        let uri: ureq::http::Uri = "/relative".parse().unwrap();
        let err = DeadlineResolver.resolve(&uri, &config, NextTimeout::default()).unwrap_err();
        assert!(matches!(err, ureq::Error::BadUri(_)), "{err}");
        let uri: ureq::http::Uri = "https://127.0.0.1:8443/api".parse().unwrap();
        let found = DeadlineResolver.resolve(&uri, &config, NextTimeout::default()).unwrap();
        assert_eq!(&found[..], &["127.0.0.1:8443".parse::<SocketAddr>().unwrap()]);
    }
}
