//! Local fakes of SonarQube and Azure DevOps for the tests and the demo: real HTTP servers on
//! 127.0.0.1 that answer like the services do, record every request and inject faults.

pub mod azdo;
pub mod demo;
pub mod proxy;
pub mod server;
pub mod sonar;
pub mod tls;
pub mod try_it;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use server::{Fault, FaultRule, RecordedRequest, Server};

/// The collection path of the fake organization.
pub const COLLECTION: &str = "/fabrikam";
pub const SONAR_TOKEN: &str = "squ_3f1c9a7e5b2d4c6a8e0f1a3b5c7d9e1f2a4b6c8d";
pub const JOB_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.job-access-token.c2lnbmF0dXJl";
pub const PAT: &str = "pat4k2m9q7w1e5r8t3y6u0i2o4p6a8s1d3f5g7h9j2k4l6z8x1c3v";
pub const BUILD_SERVICE_ID: &str = "8c4f1a2b-0000-4000-8000-00000000b5e1";

/// Both fakes, started together.
pub struct Sandbox {
    pub sonar: Arc<sonar::FakeSonar>,
    pub azdo: Arc<azdo::FakeAzdo>,
    pub sonar_server: Server,
    pub azdo_server: Server,
}

impl Sandbox {
    /// A SonarQube of the given flavour that knows `SONAR_TOKEN`, and an organization whose job
    /// token and PAT both work.
    pub fn start(flavour: sonar::Flavour) -> Self {
        let sonar = Arc::new(sonar::FakeSonar::new(flavour));
        sonar.state.lock().unwrap().valid_tokens.push(SONAR_TOKEN.to_string());
        let azdo = Arc::new(azdo::FakeAzdo::new(COLLECTION));
        {
            let mut st = azdo.state.lock().unwrap();
            st.credentials.push(azdo::Credential {
                scheme: "Bearer",
                token: JOB_TOKEN.into(),
                behaviour: azdo::CredentialBehaviour::Valid,
                identity_id: BUILD_SERVICE_ID.into(),
                display_name: "Fabrikam Web Build Service (fabrikam)".into(),
            });
            st.credentials.push(azdo::Credential {
                scheme: "Basic",
                token: PAT.into(),
                behaviour: azdo::CredentialBehaviour::Valid,
                identity_id: "1d3e5f7a-0000-4000-8000-0000000000aa".into(),
                display_name: "SonarQube Bot".into(),
            });
        }
        let sonar_server = Server::start(sonar.clone());
        let azdo_server = Server::start(azdo.clone());
        Self { sonar, azdo, sonar_server, azdo_server }
    }

    /// The same fakes over TLS, with certificates of this test CA (give its `ca_pem` to the task
    /// as `caCertFile`): every connection costs a real handshake, as on the real services.
    pub fn start_tls(flavour: sonar::Flavour, ca: &tls::TestCa) -> Self {
        let plain = Self::start(flavour);
        let (sonar, azdo) = (plain.sonar.clone(), plain.azdo.clone());
        let sonar_server = Server::start_tls(sonar.clone(), ca.server_config.clone());
        let azdo_server = Server::start_tls(azdo.clone(), ca.server_config.clone());
        Self { sonar, azdo, sonar_server, azdo_server }
    }

    /// The same fakes over TLS, each requiring a client certificate from this test CA (mutual TLS).
    pub fn start_mutual_tls(flavour: sonar::Flavour, ca: &tls::TestCa) -> Self {
        let plain = Self::start(flavour);
        let (sonar, azdo) = (plain.sonar.clone(), plain.azdo.clone());
        let config = ca.requiring_client_certificates();
        let sonar_server = Server::start_tls(sonar.clone(), config.clone());
        let azdo_server = Server::start_tls(azdo.clone(), config);
        Self { sonar, azdo, sonar_server, azdo_server }
    }

    pub fn sonar_url(&self) -> String {
        self.sonar_server.url()
    }

    pub fn collection_url(&self) -> String {
        format!("{}{COLLECTION}/", self.azdo_server.url())
    }

    pub fn sonar_state(&self) -> std::sync::MutexGuard<'_, sonar::SonarState> {
        self.sonar.state.lock().unwrap()
    }

    pub fn azdo_state(&self) -> std::sync::MutexGuard<'_, azdo::AzdoState> {
        self.azdo.state.lock().unwrap()
    }
}

/// Requests counted per endpoint ("GET /api/ce/task"), with numeric ids folded to `{id}`.
pub fn count_by_endpoint(requests: &[RecordedRequest]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in requests {
        let path: Vec<String> = r
            .path()
            .split('/')
            .map(|s| if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) { "{id}".to_string() } else { s.to_string() })
            .collect();
        *counts.entry(format!("{} {}", r.method, path.join("/"))).or_default() += 1;
    }
    counts
}

/// A time as SonarQube writes one (`2026-12-03T16:09:58+0000`).
pub fn sonar_time(at: std::time::SystemTime) -> String {
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000", t / 3600, t % 3600 / 60, t % 60)
}

/// Now, as Azure DevOps writes a time (`2026-12-03T16:09:58.123Z`).
pub fn iso_now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", t / 3600, t % 3600 / 60, t % 60, now.subsec_millis())
}

/// The calendar date (year, month, day) of a day since 1970-01-01 (Howard Hinnant's algorithm),
/// for the dates the fakes and tests write: certificate validity, the agent's pipeline start time.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
