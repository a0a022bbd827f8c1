//! What goes over the wire and comes back, as values: a request (with the credential bound to
//! its origin), its method, and a response read whole. No I/O here; the client sends them.

use std::time::Instant;

use super::url::Origin;
use crate::secret::Secret;

/// A credential bound to the one origin (scheme, host, port) it may be sent to.
#[derive(Clone, Debug)]
pub(crate) struct Auth {
    pub(super) origin: Option<Origin>,
    pub(super) header: Secret,
}

impl Auth {
    /// `Authorization: Basic base64(user:password)`.
    pub(crate) fn basic(base_url: &str, user: &Secret, password: &Secret) -> Self {
        let value = Secret::basic(user.expose(), password.expose());
        Self { origin: Origin::parse(base_url), header: Secret::new(format!("Basic {}", value.expose())) }
    }

    /// `Authorization: Bearer <token>`.
    pub(crate) fn bearer(base_url: &str, token: &Secret) -> Self {
        Self { origin: Origin::parse(base_url), header: Secret::new(format!("Bearer {}", token.expose())) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// A request to send.
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) auth: Option<&'a Auth>,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) json_body: Option<Vec<u8>>,
    /// When this request, its retries and every wait for it must be over: connecting, name
    /// resolution, a slow body and a server's requested pause included.
    pub(crate) deadline: Option<Instant>,
}

impl<'a> Request<'a> {
    pub(crate) fn get(url: impl Into<String>, auth: Option<&'a Auth>) -> Self {
        Self { method: Method::Get, url: url.into(), auth, headers: Vec::new(), json_body: None, deadline: None }
    }

    /// A POST without a body: its parameters are in the URL (SonarQube's web services read them
    /// from the query string as from a form).
    pub(crate) fn post(url: impl Into<String>, auth: Option<&'a Auth>) -> Self {
        Self { method: Method::Post, ..Self::get(url, auth) }
    }

    pub(crate) fn until(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    pub(crate) fn with_json<T: serde::Serialize + ?Sized>(mut self, method: Method, body: &T) -> Self {
        self.method = method;
        // Our request types are plain structs with string keys: serializing them cannot fail.
        self.json_body = Some(serde_json::to_vec(body).expect("request bodies always serialize"));
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A response, fully read.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub(crate) fn is_json(&self) -> bool {
        self.content_type.as_deref().is_some_and(|c| c.to_ascii_lowercase().contains("json"))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}
