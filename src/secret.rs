//! A secret value (token, PAT, password, derived header) that cannot be printed by accident, and
//! the forms derived from it that travel on the wire and so must be masked too.
//!
//! `Debug` and `Display` show `***`; the value itself is reachable only through `expose`, which
//! is called where a header is built and where the secret is registered with the agent's masker.

use std::fmt;

use base64::Engine;

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call sites: the HTTP client's auth header, the log's secret registry and
    /// the client certificate's decryption.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `base64(user:password)`, the part of a Basic header the agent does not know to mask.
    pub(crate) fn basic(user: &str, password: &str) -> Secret {
        Secret(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
    }

    /// The value and the Basic forms a token takes on the wire: as the password (`:token`, Azure
    /// DevOps PATs) and as the user name (`token:`, SonarQube tokens).
    pub(crate) fn token_forms(&self) -> [Secret; 3] {
        [self.clone(), Secret::basic("", &self.0), Secret::basic(&self.0, "")]
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_values_are_plain_base64() {
        assert_eq!(Secret::basic("", "pat").expose(), "OnBhdA==");
        assert_eq!(Secret::basic("squ_x", "").expose(), "c3F1X3g6");
        let forms = Secret::new("t").token_forms();
        assert_eq!(forms.iter().map(Secret::expose).collect::<Vec<_>>(), ["t", "OnQ=", "dDo="]);
    }

    #[test]
    fn never_printed() {
        assert_eq!(format!("{} {:?}", Secret::new("x"), Secret::new("x")), "*** Secret(***)");
    }
}
