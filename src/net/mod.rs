//! Transport: the HTTP client (timeouts, retries, credentials per origin), proxies, TLS roots and
//! the diagnosis of untrusted certificates, and URLs. It imports nothing above `secret` and
//! `error`: the layers above configure it with plain values and hear from it through an observer.

pub(crate) mod client;
pub(crate) mod proxy;
pub(crate) mod retry;
pub(crate) mod tls;
pub(crate) mod url;

pub(crate) use client::{Auth, Client, Config, Event, MAX_CONNECTIONS_PER_HOST, Method, Observer, Request, Response};
