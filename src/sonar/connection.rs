//! How the task signs in to SonarQube, and the connection shapes it is found in: a service
//! connection as the agent passes it, and what SonarSource's Prepare task leaves for the steps after
//! it. The shapes are SonarSource's (SonarSource/sonar-scanner-azdo, `sonarqube/Endpoint.ts`:
//! `getEndpoint`, `auth`, `toJson`, `toSonarProps`; `helpers/constants.ts`), read the way its own
//! Analyze and Publish tasks read them.

use serde_json::{Map, Value};

use crate::secret::Secret;

/// How the task signs in to SonarQube.
#[derive(Clone, Debug)]
pub(crate) enum SonarCredential {
    /// A user, project or global token: Basic `token:` on Server, Bearer on Cloud.
    Token(Secret),
    /// A login and its password, as old SonarQube service connections hold them: Basic
    /// `login:password`, which SonarSource's tasks send in that case too.
    Login { user: Secret, password: Secret },
}

impl SonarCredential {
    /// The values to register with the masker: the token in every form it takes on the wire, or
    /// the password alone and the `login:password` Basic value.
    pub(crate) fn secret_forms(&self) -> Vec<Secret> {
        match self {
            SonarCredential::Token(token) => token.token_forms().to_vec(),
            SonarCredential::Login { user, password } => vec![password.clone(), Secret::basic(user.expose(), password.expose())],
        }
    }
}

/// A connection's fields as written, before validation: a service connection's URL and
/// authorization parameters, or the Prepare task's record of the connection it used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConnectionFields {
    pub(crate) url: Option<String>,
    /// `apitoken`: SonarQube Cloud connections (scheme Token) keep the token here.
    pub(crate) token: Option<String>,
    /// `username`: SonarQube Server connections keep the token here (the field is labelled Token).
    pub(crate) username: Option<String>,
    /// `password`: empty, unless an old connection holds a login and a password.
    pub(crate) password: Option<String>,
    pub(crate) organization: Option<String>,
    /// The connection is SonarQube Cloud's (its type says so).
    pub(crate) cloud: bool,
}

impl ConnectionFields {
    /// The credential these fields give, chosen as SonarSource's `Endpoint.auth` chooses: the
    /// token when there is one; otherwise a username with a non-empty password is a login;
    /// otherwise the username is the token.
    pub(crate) fn credential(&self) -> Option<SonarCredential> {
        let given = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        match (given(&self.token), given(&self.username), given(&self.password)) {
            (Some(token), _, _) => Some(SonarCredential::Token(Secret::new(token))),
            (None, Some(user), Some(password)) => Some(SonarCredential::Login { user: Secret::new(user), password: Secret::new(password) }),
            (None, Some(user), None) => Some(SonarCredential::Token(Secret::new(user))),
            (None, None, _) => None,
        }
    }
}

/// The variables the Prepare task sets, by the name each major version uses. The endpoint is a
/// secret variable, so a task sees it as `SECRET_<NAME>` (the agent's `Handler.cs`
/// `AddVariablesToEnvironment`); the scanner properties are a plain one.
pub(crate) const PREPARE_ENDPOINT_VARIABLES: [&str; 2] = [
    // SonarQube extension 6 and later, SonarQube Cloud (SonarCloud) extension 2 and later.
    "SONAR_ENDPOINT",
    // SonarQube extension 5 and earlier, SonarCloud extension 1.
    "SONARQUBE_ENDPOINT",
];
pub(crate) const SCANNER_PARAMS_VARIABLE: &str = "SONARQUBE_SCANNER_PARAMS";

/// Why a Prepare variable could not be read. Never holds the value: it carries a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unreadable(pub &'static str);

/// Reads `SONAR_ENDPOINT`: `{"type": "SonarQube Server" | "SonarQube Cloud" (before 2025
/// "SonarQube" | "SonarCloud"), "data": {"url", "token", "username", "password", "organization"}}`.
pub(crate) fn parse_prepare_endpoint(json: &str) -> Result<ConnectionFields, Unreadable> {
    let value: Value = serde_json::from_str(json).map_err(|_| Unreadable("it is not JSON"))?;
    let data = value.get("data").and_then(Value::as_object).ok_or(Unreadable("it has no \"data\" object"))?;
    let kind = value.get("type").and_then(Value::as_str).unwrap_or_default();
    Ok(ConnectionFields {
        url: string(data, "url"),
        token: string(data, "token"),
        username: string(data, "username"),
        password: string(data, "password"),
        organization: string(data, "organization"),
        cloud: kind.to_ascii_lowercase().contains("cloud"),
    })
}

/// Reads `SONARQUBE_SCANNER_PARAMS`, the scanner's properties: `sonar.host.url`, the token as
/// `sonar.token` (Server 10+ and Cloud) or `sonar.login` (older Server), `sonar.password` beside a
/// login, `sonar.organization` on Cloud.
pub(crate) fn parse_scanner_params(json: &str) -> Result<ConnectionFields, Unreadable> {
    let value: Value = serde_json::from_str(json).map_err(|_| Unreadable("it is not JSON"))?;
    let props = value.as_object().ok_or(Unreadable("it is not a JSON object"))?;
    let url = string(props, "sonar.host.url");
    if url.is_none() {
        return Err(Unreadable("it has no sonar.host.url"));
    }
    let organization = string(props, "sonar.organization");
    Ok(ConnectionFields {
        url,
        token: None,
        username: string(props, "sonar.token").or_else(|| string(props, "sonar.login")),
        password: string(props, "sonar.password"),
        cloud: organization.is_some(),
        organization,
    })
}

/// Where SonarSource's Prepare task told the scanner to write report-task.txt
/// (`sonar.scanner.metadataFilePath` in `SONARQUBE_SCANNER_PARAMS`): SonarQubePrepare@4 writes it
/// under `$(Agent.TempDirectory)/sonar/$(Build.BuildNumber)/<guid>/` and names it nowhere else
/// (sonar-scanner-azdo, `src/common/sonarqube-v4/prepare-task.ts`, `reportPath()`).
pub(crate) fn metadata_file_path(json: &str) -> Option<String> {
    let value: Value = serde_json::from_str(json).ok()?;
    string(value.as_object()?, "sonar.scanner.metadataFilePath")
}

/// A non-empty string member; anything else (absent, null, a number) counts as not given.
fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposed(c: Option<SonarCredential>) -> Option<(String, Option<String>)> {
        c.map(|c| match c {
            SonarCredential::Token(t) => (t.expose().to_string(), None),
            SonarCredential::Login { user, password } => (user.expose().to_string(), Some(password.expose().to_string())),
        })
    }

    #[test]
    fn prepare_4s_metadata_file_path_is_read_from_the_scanner_params() {
        let params = r#"{"sonar.host.url":"https://sq","sonar.scanner.metadataFilePath":"/a/_temp/sonar/20261203.4/g/report-task.txt"}"#;
        assert_eq!(metadata_file_path(params).as_deref(), Some("/a/_temp/sonar/20261203.4/g/report-task.txt"));
        assert_eq!(metadata_file_path(r#"{"sonar.host.url":"https://sq"}"#), None);
        assert_eq!(metadata_file_path("not json"), None);
    }

    #[test]
    fn credentials_are_chosen_as_sonarsource_chooses_them() {
        let f = |token: Option<&str>, user: Option<&str>, pw: Option<&str>| {
            let s = |v: Option<&str>| v.map(str::to_string);
            exposed(ConnectionFields { token: s(token), username: s(user), password: s(pw), ..Default::default() }.credential())
        };
        assert_eq!(f(Some("sqc"), Some("u"), Some("p")), Some(("sqc".into(), None)));
        assert_eq!(f(None, Some("admin"), Some("s3cret")), Some(("admin".into(), Some("s3cret".into()))));
        assert_eq!(f(None, Some("squ_1"), Some("")), Some(("squ_1".into(), None)));
        assert_eq!(f(None, Some("squ_1"), None), Some(("squ_1".into(), None)));
        assert_eq!(f(Some("  "), None, Some("p")), None);
    }

    #[test]
    fn the_endpoint_of_every_major_version_is_read() {
        let current = r#"{"type":"SonarQube Server","data":{"url":"https://sq.example.com","username":"squ_abc"}}"#;
        let fields = parse_prepare_endpoint(current).unwrap();
        assert_eq!(fields.url.as_deref(), Some("https://sq.example.com"));
        assert!(!fields.cloud);
        assert!(matches!(fields.credential(), Some(SonarCredential::Token(t)) if t.expose() == "squ_abc"));
        let cloud = r#"{"type":"SonarQube Cloud","data":{"url":"https://sonarcloud.io","token":"sqc","organization":"fabrikam"}}"#;
        let fields = parse_prepare_endpoint(cloud).unwrap();
        assert!(fields.cloud);
        assert_eq!(fields.organization.as_deref(), Some("fabrikam"));
        let old = r#"{"type":"SonarCloud","data":{"url":"https://sonarcloud.io","token":"t","organization":"o"}}"#;
        assert!(parse_prepare_endpoint(old).unwrap().cloud);
        let login = r#"{"type":"SonarQube","data":{"url":"http://sq","username":"admin","password":"pw"}}"#;
        assert!(matches!(parse_prepare_endpoint(login).unwrap().credential(), Some(SonarCredential::Login { .. })));
    }

    #[test]
    fn unreadable_values_are_named_without_their_content() {
        for bad in ["squ_secret", r#"{"type":"SonarQube"}"#, r#"{"data":"squ_secret"}"#, "[1,2]"] {
            let e = parse_prepare_endpoint(bad).unwrap_err();
            assert!(!e.0.contains("squ_secret"), "{e:?}");
        }
        assert_eq!(parse_scanner_params(r#"{"sonar.token":"x"}"#), Err(Unreadable("it has no sonar.host.url")));
    }

    #[test]
    fn scanner_params_give_url_token_login_and_organization() {
        let p = parse_scanner_params(
            r#"{"sonar.host.url":"https://sonarcloud.io","sonar.token":"sqc","sonar.organization":"fab","sonar.pullrequest.key":"7"}"#,
        )
        .unwrap();
        assert_eq!((p.url.as_deref(), p.organization.as_deref(), p.cloud), (Some("https://sonarcloud.io"), Some("fab"), true));
        assert!(matches!(p.credential(), Some(SonarCredential::Token(t)) if t.expose() == "sqc"));
        let old = parse_scanner_params(r#"{"sonar.host.url":"http://sq","sonar.login":"admin","sonar.password":"pw"}"#).unwrap();
        assert!(matches!(old.credential(), Some(SonarCredential::Login { user, .. }) if user.expose() == "admin"));
    }
}
