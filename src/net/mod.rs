//! Transport: the HTTP client (timeouts, retries, credentials per origin), proxies, TLS roots and
//! the diagnosis of untrusted certificates, and URLs. It imports nothing above `secret` and
//! `error`: the layers above configure it with plain values and hear from it through an observer.

pub(crate) mod client;
pub(crate) mod client_cert;
pub(crate) mod event;
pub(crate) mod message;
pub(crate) mod proxy;
pub(crate) mod resolve;
pub(crate) mod retry;
pub(crate) mod tls;
pub(crate) mod url;
pub(crate) mod waiting;

pub(crate) use client::{Client, Config, MAX_CONNECTIONS_PER_HOST, SettingNames};
pub(crate) use event::{Event, Observer};
pub(crate) use message::{Auth, Method, Request, Response};
