//! Every way a job hands the task its SonarQube connection, each exactly as the agent passes it:
//! SonarSource's Prepare task's variables alone (the endpoint arriving as the secret
//! `SECRET_SONAR_ENDPOINT`), a SonarQube Cloud service connection, an old connection with a login
//! and password, and the job's access token arriving only as `SECRET_SYSTEM_ACCESSTOKEN`.

use base64::Engine;
use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};
use sandbox::{JOB_TOKEN, SONAR_TOKEN, Sandbox};

use crate::util::*;

/// A PR build whose analysis finished with one new issue, and a task step that was given no
/// SonarQube URL or token of its own.
fn scenario(flavour: Flavour) -> (Sandbox, TaskEnv) {
    let (sb, mut env) = pr_scenario(flavour);
    let mut a = AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    a.issues = vec![IssueSpec::new("k1", "src/App.java", 12, "CRITICAL", "Fix me")];
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    env.set("INPUT_SONARURL", "").set("INPUT_SONARTOKEN", "");
    (sb, env)
}

/// The run decorated the PR: a status and the summary and inline threads.
fn assert_decorated(sb: &Sandbox, run: &Run) {
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    assert_eq!(pr.statuses.len(), 1, "{}", run.all());
    assert_eq!(pr.threads.len(), 2, "the summary and one inline comment");
}

/// Every SonarQube request carried exactly this Authorization header.
fn assert_sonar_auth(sb: &Sandbox, expected: &str) {
    let requests = sb.sonar_server.requests();
    let authenticated: Vec<_> = requests.iter().filter(|r| r.path() != "/api/server/version" && r.path() != "/api/system/status").collect();
    assert!(!authenticated.is_empty());
    for r in authenticated {
        assert_eq!(r.header("authorization"), Some(expected), "{}", r.endpoint());
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// The line that says where each setting came from.
fn sources_line(run: &Run) -> String {
    run.stdout.lines().find(|l| l.starts_with("SonarQube at ")).unwrap_or_else(|| panic!("no sources line:\n{}", run.stdout)).to_string()
}

#[test]
fn sonarqube_server_prepare_variables_alone_are_enough() {
    let (sb, mut env) = scenario(Flavour::Server2025);
    // What SonarQubePrepare@7/8 leaves (prepare-task.ts): the endpoint as a secret variable, which
    // a Node-handler task only sees with the SECRET_ prefix, and the scanner properties.
    let endpoint = format!(r#"{{"type":"SonarQube Server","data":{{"url":"{}/","username":"{SONAR_TOKEN}"}}}}"#, sb.sonar_url());
    let params = format!(
        r#"{{"sonar.host.url":"{}/","sonar.token":"{SONAR_TOKEN}","sonar.pullrequest.key":"7","sonar.scanner.metadataFilePath":"/x"}}"#,
        sb.sonar_url()
    );
    env.set("SECRET_SONAR_ENDPOINT", &endpoint)
        .set("SONARQUBE_SCANNER_PARAMS", &params)
        .set("VSTS_SECRET_VARIABLES", r#"["SONAR_ENDPOINT"]"#);
    let run = env.run();
    assert_decorated(&sb, &run);
    assert_sonar_auth(&sb, &basic(SONAR_TOKEN, ""));
    assert_eq!(
        sources_line(&run),
        format!(
            "SonarQube at {}: URL from SonarSource's Prepare task (SONAR_ENDPOINT); token from SonarSource's Prepare task (SONAR_ENDPOINT)",
            sb.sonar_url()
        )
    );
}

#[test]
fn sonarqube_cloud_prepare_variables_give_the_organization_and_a_bearer_token() {
    let (sb, mut env) = scenario(Flavour::Cloud);
    let endpoint =
        format!(r#"{{"type":"SonarQube Cloud","data":{{"url":"{}","token":"{SONAR_TOKEN}","organization":"fabrikam"}}}}"#, sb.sonar_url());
    env.set("SECRET_SONAR_ENDPOINT", &endpoint);
    let run = env.run();
    assert_decorated(&sb, &run);
    assert_sonar_auth(&sb, &format!("Bearer {SONAR_TOKEN}"));
    assert!(
        sources_line(&run).ends_with("; organization fabrikam from SonarSource's Prepare task (SONAR_ENDPOINT)"),
        "{}",
        sources_line(&run)
    );
    let issues = sb.sonar_server.requests().into_iter().find(|r| r.path() == "/api/issues/search").unwrap();
    assert_eq!(issues.query("organization").as_deref(), Some("fabrikam"));
}

#[test]
fn scanner_properties_alone_as_a_script_step_or_an_older_prepare_leaves_them() {
    let (sb, mut env) = scenario(Flavour::Server99);
    // SonarQube before 10 gets the token as sonar.login (Endpoint.toSonarProps).
    let params = format!(r#"{{"sonar.host.url":"{}","sonar.login":"{SONAR_TOKEN}"}}"#, sb.sonar_url());
    env.set("SONARQUBE_SCANNER_PARAMS", &params);
    let run = env.run();
    assert_decorated(&sb, &run);
    assert!(sources_line(&run).contains("URL from SonarSource's Prepare task (SONARQUBE_SCANNER_PARAMS)"));
}

#[test]
fn a_sonarqube_cloud_service_connection_is_read_from_apitoken_whatever_the_ids_case() {
    let (sb, mut env) = scenario(Flavour::Cloud);
    // The input holds the id as the server sent it; the agent names the variables by the
    // lower-case "D" form, with the Token scheme of the sonarcloud connection type.
    let id = "7c0e1a52-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
    env.set("INPUT_SONARCLOUDSERVICE", &id.to_uppercase())
        .set(&format!("ENDPOINT_URL_{id}"), &format!("{}/", sb.sonar_url()))
        .set(&format!("ENDPOINT_AUTH_{id}"), &format!(r#"{{"parameters":{{"apitoken":"{SONAR_TOKEN}"}},"scheme":"Token"}}"#))
        .set(&format!("ENDPOINT_AUTH_SCHEME_{id}"), "Token")
        .set(&format!("ENDPOINT_AUTH_PARAMETER_{id}_APITOKEN"), SONAR_TOKEN)
        .set(&format!("ENDPOINT_DATA_{id}"), r#"{"region":"global"}"#)
        .set(&format!("ENDPOINT_DATA_{id}_REGION"), "global")
        .set("INPUT_SONARORGANIZATION", "fabrikam");
    let run = env.run();
    assert_decorated(&sb, &run);
    assert_sonar_auth(&sb, &format!("Bearer {SONAR_TOKEN}"));
    assert!(sources_line(&run).contains(&format!("token from the service connection {} in sonarCloudService", id.to_uppercase())));

    // Without an organization anywhere: said before any request.
    let (sb, mut env) = scenario(Flavour::Cloud);
    env.set("INPUT_SONARCLOUDSERVICE", id)
        .set(&format!("ENDPOINT_URL_{id}"), &sb.sonar_url())
        .set(&format!("ENDPOINT_AUTH_PARAMETER_{id}_APITOKEN"), SONAR_TOKEN);
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert_eq!(
        run.issues("error"),
        [
            "sonarOrganization: SonarQube Cloud needs the organization key; set sonarOrganization to the key shown in SonarQube Cloud's URL (sonarcloud.io/organizations/<key>)"
        ]
    );
    assert!(sb.sonar_server.requests().is_empty());
}

#[test]
fn an_old_connection_with_a_login_and_password_signs_in_with_both() {
    let (sb, mut env) = scenario(Flavour::Server99);
    let password = "correct horse battery staple";
    sb.sonar_state().valid_logins.push(("ci-bot".into(), password.into()));
    let id = "5a3b1c2d-1111-2222-3333-444455556666";
    env.set("INPUT_SONARQUBESERVICE", id)
        .set(&format!("ENDPOINT_URL_{id}"), &format!("{}/", sb.sonar_url()))
        .set(&format!("ENDPOINT_AUTH_SCHEME_{id}"), "UsernamePassword")
        .set(&format!("ENDPOINT_AUTH_PARAMETER_{id}_USERNAME"), "ci-bot")
        .set(&format!("ENDPOINT_AUTH_PARAMETER_{id}_PASSWORD"), password);
    env.secrets.push(password.into());
    env.secrets.push(base64::engine::general_purpose::STANDARD.encode(format!("ci-bot:{password}")));
    let run = env.run();
    assert_decorated(&sb, &run);
    assert_sonar_auth(&sb, &basic("ci-bot", password));
    assert!(sources_line(&run).contains(&format!("login and password from the service connection {id} in sonarQubeService")));
}

#[test]
fn the_job_token_as_a_secret_variable_alone_is_used() {
    let (sb, mut env) = scenario(Flavour::Server2025);
    env.set("INPUT_SONARURL", &sb.sonar_url()).set("INPUT_SONARTOKEN", SONAR_TOKEN);
    env.remove("ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN").set("SECRET_SYSTEM_ACCESSTOKEN", JOB_TOKEN);
    let run = env.run();
    assert_decorated(&sb, &run);
    let writes: Vec<_> = sb.azdo_server.requests().into_iter().filter(|r| r.method != "GET").collect();
    assert!(!writes.is_empty());
    for w in writes {
        assert_eq!(w.header("authorization"), Some(format!("Bearer {JOB_TOKEN}").as_str()), "{}", w.endpoint());
    }
}

/// A login and password connection chosen in Prepare, after SonarSource's Analyze task has run:
/// its `sanitizeScannerParams` deleted `sonar.password`, so the user name stays alone in
/// `sonar.token`. That name is no secret (masking "ci-bot" would hide it in every line); the
/// password, a multi-line one here, is masked line by line, as the agent masks.
#[test]
fn a_prepare_login_left_alone_in_sonar_token_is_not_masked_and_a_multi_line_password_is_masked_per_line() {
    let (sb, mut env) = scenario(Flavour::Server2025);
    let password = "first line of the password\nsecond line of it";
    sb.sonar_state().valid_logins.push(("ci-bot".into(), password.into()));
    let endpoint = serde_json::json!({"type": "SonarQube Server", "data": {"url": format!("{}/", sb.sonar_url()), "username": "ci-bot", "password": password}});
    let params = format!(r#"{{"sonar.host.url":"{}/","sonar.token":"ci-bot","sonar.pullrequest.key":"7"}}"#, sb.sonar_url());
    env.set("SECRET_SONAR_ENDPOINT", &endpoint.to_string())
        .set("SONARQUBE_SCANNER_PARAMS", &params)
        .set("VSTS_SECRET_VARIABLES", r#"["SONAR_ENDPOINT"]"#);
    env.secrets.extend(["first line of the password".to_string(), "second line of it".to_string()]);
    let run = env.run();
    assert_decorated(&sb, &run);
    assert_sonar_auth(&sb, &basic("ci-bot", password));
    let registered: Vec<&str> = run.stdout.lines().filter_map(|l| l.strip_prefix("##vso[task.setsecret]")).collect();
    assert!(!registered.contains(&"ci-bot"), "{registered:?}");
    assert!(registered.contains(&"first line of the password") && registered.contains(&"second line of it"), "{registered:?}");
}

/// sonarUrl beside a service connection: the connection's token goes only to the connection's own
/// host. Another host stops the run before any request, naming both and the opt-in; with
/// `allowTokenToSonarUrl` (the same server at an internal address) the token goes there.
#[test]
fn a_connections_token_goes_to_another_host_only_when_allowed() {
    let (sb, mut env) = scenario(Flavour::Server2025);
    let id = "9d8c7b6a-1111-2222-3333-444455556666";
    env.set("INPUT_SONARQUBESERVICE", id)
        .set(&format!("ENDPOINT_URL_{id}"), "https://sonarqube.fabrikam.example/")
        .set(&format!("ENDPOINT_AUTH_SCHEME_{id}"), "UsernamePassword")
        .set(&format!("ENDPOINT_AUTH_PARAMETER_{id}_USERNAME"), SONAR_TOKEN)
        .set("INPUT_SONARURL", &sb.sonar_url());
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let origin = sb.sonar_url();
    assert_eq!(
        run.issues("error"),
        [format!(
            "sonarUrl: sonarUrl ({origin}) would send the token of the service connection {id} in sonarQubeService to another host than the connection's own (https://sonarqube.fabrikam.example); the token goes only where its connection points. Clear sonarUrl to use the connection's URL, or, if {origin} is the same server reached by another address, set allowTokenToSonarUrl to true"
        )]
    );
    assert!(sb.sonar_server.requests().is_empty(), "no request, so no token, went to {origin}");

    env.set("INPUT_ALLOWTOKENTOSONARURL", "true");
    let run = env.run();
    assert_decorated(&sb, &run);
    assert_sonar_auth(&sb, &basic(SONAR_TOKEN, ""));
}
