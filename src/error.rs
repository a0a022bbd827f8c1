//! The library's errors, at the bottom of the layers so every module can return them. Each variant
//! carries the full message a user sees (what is wrong and how to fix it) and decides the CLI exit
//! code; none ever holds a secret.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    SonarQube,
    AzureDevOps,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::SonarQube => "SonarQube",
            Service::AzureDevOps => "Azure DevOps",
        })
    }
}

/// A failure below HTTP: nothing came back that could be read as a response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    #[error("the host name {host} could not be resolved (for {url}): the agent's DNS does not know it")]
    HostNotFound { url: String, host: String },
    #[error("{origin} refused the connection (for {url}): nothing accepts connections on that port")]
    Refused { url: String, origin: String },
    #[error("could not connect to {url}; check the URL, that the server is up, and any firewall or proxy between the agent and it")]
    Connect { url: String },
    #[error("{url} was not asked: the time this step may take had run out")]
    OutOfTime { url: String },
    /// `seconds` is the whole wait, over every attempt; `context` says how it was spent and which
    /// setting bounds it (empty for a single attempt with its own limit).
    #[error(
        "{url} did not answer within {seconds} s{context}; the server may be overloaded, or a proxy or firewall may be dropping the traffic"
    )]
    Timeout { url: String, seconds: u64, context: String },
    #[error(
        "TLS to {url} failed: {detail}. If the server uses a certificate from a private CA, give that CA's certificate (PEM) in {ca_setting}, or install it in the machine's trust store"
    )]
    Tls { url: String, detail: String, ca_setting: String },
    #[error("{url} answered more than {limit} bytes; that is not a response this task expects")]
    TooLarge { url: String, limit: u64 },
    #[error("the CA file {path} could not be used: {detail}")]
    CaFile { path: String, detail: String },
    #[error("{detail}")]
    Proxy { detail: String },
    /// The client certificate (mutual TLS) cannot be used: named with its setting.
    #[error("{detail}")]
    ClientCert { detail: String },
    #[error("request to {url} failed: {detail}")]
    Other { url: String, detail: String },
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The scanner's report-task.txt could not be found or read.
    #[error("{0}")]
    ReportTask(String),
    /// Nothing usable came back from a service.
    #[error("{service}: {source}")]
    Transport {
        service: Service,
        #[source]
        source: TransportError,
    },
    /// The service refused the credential or its permissions.
    #[error("{service}: {message}")]
    Credentials { service: Service, message: String },
    /// The service answered with an error that is not about credentials (unknown project, PR…).
    #[error("{service}: {message}")]
    Api { service: Service, message: String },
    /// The service failed or was overloaded (5xx, 429) even after the retries; a write that got
    /// this may or may not have been applied.
    #[error("{service}: {message}")]
    Unavailable { service: Service, message: String },
    /// The network settings cannot be used (a CA file or client certificate that cannot be read,
    /// an expired client certificate): found before the first request, about no one service.
    #[error("{0}")]
    NetworkSetup(TransportError),
    /// The address does not resolve or refuses connections: not transient for a pipeline step.
    #[error("{service}: {message}")]
    Unreachable { service: Service, message: String },
    /// A SonarQube webhook payload given to `refresh` that is refused: unreadable, unsigned or
    /// signed with another secret.
    #[error("{0}")]
    Webhook(String),
}

/// CLI exit codes, documented in `--help` and README.
pub(crate) mod exit_code {
    /// The quality gate passed (or there was nothing to fail on).
    pub(crate) const PASSED: i32 = 0;
    /// The quality gate failed, or the analysis failed or timed out.
    pub(crate) const GATE_FAILED: i32 = 1;
    /// A setting is wrong or the scanner's report file is missing.
    pub(crate) const CONFIGURATION: i32 = 2;
    /// A service could not be reached or refused the credentials.
    pub(crate) const UNREACHABLE_OR_CREDENTIALS: i32 = 3;
}

impl Error {
    /// A transport failure of `service`, whose address came from `input` (the task input, flag or
    /// variable that gave it): a name that does not resolve or a port that refuses connections is
    /// told with the likely fix.
    pub(crate) fn transport(service: Service, source: TransportError, input: &str) -> Error {
        match &source {
            TransportError::HostNotFound { host, url } => Error::Unreachable {
                service,
                message: format!(
                    "the host name {host} does not resolve ({url}; the address comes from {input}). Check it for a typo; if it is the name of a server on a private network, this agent cannot see it: run the job on a self-hosted agent inside that network (Microsoft-hosted agents reach only public names)"
                ),
            },
            TransportError::Refused { origin, url } => Error::Unreachable {
                service,
                message: format!(
                    "{origin} refused the connection ({url}; the address comes from {input}): nothing accepts connections on that port. Check the port and the scheme (an http:// URL where the server answers only https://, or the reverse), and that the server is running"
                ),
            },
            _ => Error::Transport { service, source },
        }
    }

    /// Whether a write that failed this way may have been applied by the server anyway (the
    /// connection dropped or timed out after sending, or the server erred): check before repeating.
    pub(crate) fn write_may_have_applied(&self) -> bool {
        matches!(self, Error::Unavailable { .. } | Error::Transport { .. })
    }

    /// The message without the service's name in front, for a place that names the service
    /// already (a check titled "SonarQube server not reachable").
    pub(crate) fn detail(&self) -> String {
        match self {
            Error::ReportTask(m) | Error::Webhook(m) => m.clone(),
            Error::Transport { source, .. } | Error::NetworkSetup(source) => source.to_string(),
            Error::Credentials { message, .. }
            | Error::Api { message, .. }
            | Error::Unavailable { message, .. }
            | Error::Unreachable { message, .. } => message.clone(),
        }
    }

    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            Error::ReportTask(_) | Error::NetworkSetup(_) | Error::Webhook(_) => exit_code::CONFIGURATION,
            Error::Transport { .. }
            | Error::Credentials { .. }
            | Error::Api { .. }
            | Error::Unavailable { .. }
            | Error::Unreachable { .. } => exit_code::UNREACHABLE_OR_CREDENTIALS,
        }
    }
}
