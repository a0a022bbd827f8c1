//! Every bad setting with the exact message a user sees, in task mode and in the CLI.

use std::time::Duration;

use super::fields::{Problem, SettingsError};
use super::*;
use crate::pipeline::AgentEnv;

fn task(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let mut all: Vec<(String, String)> = vec![
        ("INPUT_SONARURL".into(), "https://sonar.example.com".into()),
        ("INPUT_SONARTOKEN".into(), "squ_0123456789abcdef".into()),
        ("SYSTEM_COLLECTIONURI".into(), "https://dev.azure.com/org/".into()),
        ("SYSTEM_TEAMPROJECT".into(), "proj".into()),
        ("BUILD_REPOSITORY_ID".into(), "repo".into()),
        ("SYSTEM_PULLREQUEST_PULLREQUESTID".into(), "7".into()),
        ("SYSTEM_ACCESSTOKEN".into(), "jobtoken".into()),
    ];
    for (k, v) in pairs {
        all.retain(|(key, _)| key != k);
        all.push((k.to_string(), v.to_string()));
    }
    RawSettings::from_task_env(&AgentEnv::from_pairs(all)).validate()
}

fn only_problem(pairs: &[(&str, &str)]) -> Problem {
    let err = task(pairs).expect_err("settings should be rejected");
    assert_eq!(err.problems.len(), 1, "{err}");
    err.problems.into_iter().next().unwrap()
}

#[test]
fn defaults_are_the_documented_ones() {
    let s = task(&[]).unwrap();
    assert_eq!(s.mode, Mode::Publish);
    assert_eq!(s.sonar.url, "https://sonar.example.com");
    assert_eq!(s.sonar.polling_timeout, Duration::from_secs(300));
    assert!(s.fail_on_quality_gate_error && s.decoration.post_status && s.decoration.post_inline_comments);
    assert_eq!(s.decoration.inline_filter.cap, 25);
    assert_eq!((s.decoration.status_genre.as_str(), s.decoration.status_name.as_str()), ("SonarQube", "quality gate"));
    let pr = s.target.pull_request().unwrap();
    assert!(matches!(pr.credential, Some(Credential::JobToken(_))));
    assert_eq!(pr.id, 7);
}

#[test]
fn pat_overrides_job_token_and_urls_are_trimmed() {
    let s = task(&[("INPUT_AZUREDEVOPSPAT", " pat123 "), ("INPUT_SONARURL", "  https://sq.example.com:9000/sonar/  ")]).unwrap();
    assert!(matches!(&s.target.pull_request().unwrap().credential, Some(Credential::Pat(p)) if p.expose() == "pat123"));
    assert_eq!(s.sonar.url, "https://sq.example.com:9000/sonar");
}

#[test]
fn service_connection_supplies_url_and_token() {
    let s = task(&[
        ("INPUT_SONARURL", ""),
        ("INPUT_SONARTOKEN", ""),
        ("INPUT_SONARQUBESERVICE", "AAAAAAAA-1111-2222-3333-444455556666"),
        ("ENDPOINT_URL_aaaaaaaa-1111-2222-3333-444455556666", "https://sq.corp/"),
        ("ENDPOINT_AUTH_PARAMETER_aaaaaaaa-1111-2222-3333-444455556666_USERNAME", "squ_fromconn"),
    ])
    .unwrap();
    assert_eq!(s.sonar.url, "https://sq.corp");
    assert_eq!(token(&s), "squ_fromconn");
    assert_eq!(s.sonar.credential_from, "the service connection AAAAAAAA-1111-2222-3333-444455556666 in sonarQubeService");
    assert_eq!(s.names.sonar_token, s.sonar.credential_from);
}

fn token(s: &Settings) -> &str {
    match &s.sonar.credential {
        SonarCredential::Token(t) => t.expose(),
        SonarCredential::Login { .. } => panic!("a login, not a token"),
    }
}

const CONN: &str = "aaaaaaaa-1111-2222-3333-444455556666";

/// Without sonarUrl and sonarToken: a `sonarqube` connection, as the agent exports it.
fn with_connection(input: &str, extra: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let mut pairs = vec![("INPUT_SONARURL", ""), ("INPUT_SONARTOKEN", ""), (input, CONN)];
    pairs.extend_from_slice(extra);
    task(&pairs)
}

#[test]
fn an_old_connection_with_a_login_and_password_signs_in_with_both() {
    let s = with_connection(
        "INPUT_SONARQUBESERVICE",
        &[
            ("ENDPOINT_URL_aaaaaaaa-1111-2222-3333-444455556666", "http://sq.corp:9000/"),
            ("ENDPOINT_AUTH_SCHEME_aaaaaaaa-1111-2222-3333-444455556666", "UsernamePassword"),
            ("ENDPOINT_AUTH_PARAMETER_aaaaaaaa-1111-2222-3333-444455556666_USERNAME", "ci-user"),
            ("ENDPOINT_AUTH_PARAMETER_aaaaaaaa-1111-2222-3333-444455556666_PASSWORD", "pa55 word"),
        ],
    )
    .unwrap();
    let SonarCredential::Login { user, password } = &s.sonar.credential else { panic!("expected a login") };
    assert_eq!((user.expose(), password.expose()), ("ci-user", "pa55 word"));
    // The password and the Basic value are masked; the user name is not.
    let raw = RawSettings::from_task_env(&AgentEnv::from_pairs([
        ("INPUT_SONARQUBESERVICE", CONN),
        ("ENDPOINT_URL_aaaaaaaa-1111-2222-3333-444455556666", "http://sq.corp:9000/"),
        ("ENDPOINT_AUTH_PARAMETER_aaaaaaaa-1111-2222-3333-444455556666_USERNAME", "ci-user"),
        ("ENDPOINT_AUTH_PARAMETER_aaaaaaaa-1111-2222-3333-444455556666_PASSWORD", "pa55 word"),
    ]));
    let masked: Vec<String> = raw.secret_candidates().iter().map(|s| s.expose().to_string()).collect();
    assert!(
        masked.contains(&"pa55 word".to_string())
            && masked.contains(&crate::secret::Secret::basic("ci-user", "pa55 word").expose().to_string())
    );
    assert!(!masked.contains(&"ci-user".to_string()), "{masked:?}");
}

#[test]
fn a_sonarqube_cloud_connection_takes_its_token_from_apitoken_and_needs_an_organization() {
    let cloud = [
        ("ENDPOINT_URL_aaaaaaaa-1111-2222-3333-444455556666", "https://sonarcloud.io"),
        ("ENDPOINT_AUTH_SCHEME_aaaaaaaa-1111-2222-3333-444455556666", "Token"),
        ("ENDPOINT_AUTH_PARAMETER_aaaaaaaa-1111-2222-3333-444455556666_APITOKEN", "sqc_token"),
        ("INPUT_SONARORGANIZATION", "fabrikam"),
    ];
    let s = with_connection("INPUT_SONARCLOUDSERVICE", &cloud).unwrap();
    assert_eq!(
        (s.sonar.url.as_str(), token(&s), s.sonar.organization.as_deref()),
        ("https://sonarcloud.io", "sqc_token", Some("fabrikam"))
    );
    let err = with_connection("INPUT_SONARCLOUDSERVICE", &cloud[..3]).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    assert_eq!(err.problems[0].input, "sonarOrganization");
    assert!(err.problems[0].message.starts_with("SonarQube Cloud needs the organization key; set sonarOrganization"), "{err}");
    // The organization Prepare recorded for the same server will do.
    let prepared = r#"{"type":"SonarQube Cloud","data":{"url":"https://sonarcloud.io/","token":"sqc_token","organization":"contoso"}}"#;
    let mut with_prepare = cloud[..3].to_vec();
    with_prepare.push(("SECRET_SONAR_ENDPOINT", prepared));
    let s = with_connection("INPUT_SONARCLOUDSERVICE", &with_prepare).unwrap();
    assert_eq!(s.sonar.organization.as_deref(), Some("contoso"));
    assert_eq!(s.sonar.organization_from.as_deref(), Some("SonarSource's Prepare task (SONAR_ENDPOINT)"));
}

#[test]
fn both_kinds_of_connection_at_once_is_a_problem() {
    let p = only_problem(&[
        ("INPUT_SONARURL", ""),
        ("INPUT_SONARTOKEN", ""),
        ("INPUT_SONARQUBESERVICE", CONN),
        ("INPUT_SONARCLOUDSERVICE", CONN),
    ]);
    assert_eq!(p.input, "sonarCloudService");
    assert_eq!(
        p.message,
        "both sonarQubeService and sonarCloudService name a service connection; keep one: sonarQubeService for SonarQube Server, sonarCloudService for SonarQube Cloud"
    );
}

#[test]
fn with_nothing_given_prepare_tasks_variables_are_used_and_named() {
    let zero = |extra: &[(&str, &str)]| {
        let mut pairs = vec![("INPUT_SONARURL", ""), ("INPUT_SONARTOKEN", "")];
        pairs.extend_from_slice(extra);
        task(&pairs)
    };
    let endpoint = r#"{"type":"SonarQube Server","data":{"url":"https://sq.corp/","username":"squ_prep"}}"#;
    let params = r#"{"sonar.host.url":"https://other.corp","sonar.token":"squ_params","sonar.pullrequest.key":"7"}"#;
    let s = zero(&[("SECRET_SONAR_ENDPOINT", endpoint), ("SONARQUBE_SCANNER_PARAMS", params)]).unwrap();
    assert_eq!((s.sonar.url.as_str(), token(&s)), ("https://sq.corp", "squ_prep"));
    assert_eq!(s.sonar.url_from, "SonarSource's Prepare task (SONAR_ENDPOINT)");
    // Without the secret (a script step never sees it), the scanner properties.
    let s = zero(&[("SONARQUBE_SCANNER_PARAMS", params)]).unwrap();
    assert_eq!((s.sonar.url.as_str(), token(&s)), ("https://other.corp", "squ_params"));
    assert_eq!(s.sonar.credential_from, "SonarSource's Prepare task (SONARQUBE_SCANNER_PARAMS)");
    // Earlier majors' name.
    let s = zero(&[("SECRET_SONARQUBE_ENDPOINT", endpoint)]).unwrap();
    assert_eq!(s.sonar.url_from, "SonarSource's Prepare task (SONARQUBE_ENDPOINT)");
    // An explicit URL or token turns it off: a token is never sent to a server it was not given for.
    let err = zero(&[("INPUT_SONARURL", "https://mine.corp"), ("SECRET_SONAR_ENDPOINT", endpoint)]).unwrap_err();
    assert_eq!(err.problems[0].input, "sonarToken");
    // Unreadable: named, never shown.
    let err = zero(&[("SECRET_SONAR_ENDPOINT", "squ_leaked_value")]).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    assert_eq!(err.problems[0].input, "SONAR_ENDPOINT");
    assert!(
        err.problems[0].message.starts_with("SONAR_ENDPOINT cannot be read (it is not JSON). SonarSource's Prepare task sets it"),
        "{err}"
    );
    assert!(!err.to_string().contains("squ_leaked_value"));
    // A URL with a credential in it is refused without echoing it, pointing at the token.
    let err = zero(&[(
        "SECRET_SONAR_ENDPOINT",
        r#"{"type":"SonarQube Server","data":{"url":"https://admin:hunter2@sq.corp","username":"squ_x"}}"#,
    )])
    .unwrap_err();
    assert_eq!(err.problems[0].input, "SONAR_ENDPOINT");
    assert!(err.problems[0].message.contains("give the credential in sonarToken") && !err.to_string().contains("hunter2"), "{err}");
    // A connection Prepare used without a token.
    let err = zero(&[("SECRET_SONAR_ENDPOINT", r#"{"type":"SonarQube Server","data":{"url":"https://sq.corp"}}"#)]).unwrap_err();
    assert_eq!(
        err.problems[0].message,
        "SonarSource's Prepare task (SONAR_ENDPOINT) holds no token; edit the service connection chosen in SonarSource's Prepare task, or give this task sonarUrl and sonarToken"
    );
}

#[test]
fn not_a_pr_build_is_not_an_error() {
    let s = task(&[("SYSTEM_PULLREQUEST_PULLREQUESTID", ""), ("BUILD_REASON", "IndividualCI")]).unwrap();
    let Target::NoPullRequest { reason, access } = &s.target else { panic!("not a PR build") };
    assert_eq!(reason, "this build was not triggered by a pull request (Build.Reason is IndividualCI)");
    // The credential can still be checked: the collection URL and the job token are known.
    let access = access.as_ref().expect("collection and credential");
    assert_eq!(access.repository.collection_url, "https://dev.azure.com/org");
    assert!(matches!(access.credential, Credential::JobToken(_)));
}

#[test]
fn all_problems_are_reported_at_once() {
    let err = task(&[("INPUT_SONARURL", "ftp://x"), ("INPUT_POLLINGTIMEOUTSEC", "abc"), ("INPUT_POSTSTATUS", "yes")]).unwrap_err();
    let inputs: Vec<_> = err.problems.iter().map(|p| p.input.as_str()).collect();
    assert_eq!(inputs, ["sonarUrl", "pollingTimeoutSec", "postStatus"]);
    assert!(err.to_string().starts_with("3 settings need fixing:\n  - sonarUrl:"));
}

/// Each bad value with the exact message a user sees.
#[test]
fn bad_settings_each_have_a_clear_message() {
    // (environment overrides, input named in the message, the message)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[("INPUT_MODE", "dryrun")],
            "mode",
            "'dryrun' is not a mode; use publish (post the result), check (preflight checks only, writes nothing) or refresh (post SonarQube's current result again, e.g. from SonarQube's webhook)",
        ),
        (
            &[("INPUT_SONARURL", "")],
            "sonarUrl",
            "the SonarQube URL is missing; set sonarUrl (for example https://sonarqube.example.com) and sonarToken, choose a service connection in sonarQubeService (SonarQube Server) or sonarCloudService (SonarQube Cloud), or run SonarSource's Prepare task before this one in the same job",
        ),
        (
            &[("INPUT_SONARURL", "sonar.example.com")],
            "sonarUrl",
            "'sonar.example.com' has no scheme; write it with one, for example https://sonar.example.com",
        ),
        (&[("INPUT_SONARURL", "ftp://sonar.example.com")], "sonarUrl", "'ftp://' is not supported; use an https:// (or http://) URL"),
        (
            &[("INPUT_SONARURL", "https://admin:hunter2@sonar.example.com")],
            "sonarUrl",
            "the URL contains a user name or password; remove the part before '@' and give the credential in sonarToken",
        ),
        (
            &[("INPUT_SONARURL", "https://sonar.example.com/?id=x")],
            "sonarUrl",
            "'https://sonar.example.com/?id=x' has a query or fragment; give only the base URL, such as https://sonar.example.com",
        ),
        (
            &[("INPUT_SONARURL", "https://sonar.example.com/#/dashboard")],
            "sonarUrl",
            "'https://sonar.example.com/#/dashboard' has a query or fragment; give only the base URL, such as https://sonar.example.com",
        ),
        (&[("INPUT_SONARURL", "https://")], "sonarUrl", "'https://' has no host name; write it like https://sonarqube.example.com"),
        (
            &[("INPUT_SONARURL", "https://sonar.example.com:90x0")],
            "sonarUrl",
            "'90x0' is not a port number; write the URL like https://host:9000",
        ),
        (
            &[("INPUT_SONARURL", "https://sonar example.com")],
            "sonarUrl",
            "the URL contains spaces; remove them (a path with spaces must be percent-encoded as %20)",
        ),
        (
            &[("INPUT_SONARTOKEN", "")],
            "sonarToken",
            "the SonarQube token is missing; set sonarToken to a secret variable, e.g. $(SONAR_TOKEN), or use a SonarQube service connection",
        ),
        (
            &[("INPUT_SONARTOKEN", "Bearer squ_abc")],
            "sonarToken",
            "the token contains spaces; it must be the bare token, without a 'Bearer ' or 'Basic ' prefix",
        ),
        (&[("INPUT_SONARTOKEN", "squ_abc\ndef")], "sonarToken", "the token spans several lines; paste it again as a single line"),
        (
            &[("INPUT_SONARTOKEN", "$(SONAR_TOKEN)")],
            "sonarToken",
            "the value is the unexpanded macro $(SONAR_TOKEN): no variable SONAR_TOKEN is defined for this job; define SONAR_TOKEN as a secret variable of the pipeline (or link the variable group that has it)",
        ),
        (
            &[("INPUT_SONARURL", "$(SONAR_HOST_URL)")],
            "sonarUrl",
            "the value is the unexpanded macro $(SONAR_HOST_URL): no variable SONAR_HOST_URL is defined for this job; define SONAR_HOST_URL in the pipeline (or link the variable group that has it), or write the value itself",
        ),
        (
            &[("INPUT_REPORTTASKFILE", "/agent/_work/1/s/$(APP_DIR)/.scannerwork/report-task.txt")],
            "reportTaskFile",
            "the value is the unexpanded macro $(APP_DIR): no variable APP_DIR is defined for this job; define APP_DIR in the pipeline (or link the variable group that has it), or write the value itself",
        ),
        (
            &[("INPUT_POLLINGTIMEOUTSEC", "$(timeout)")],
            "pollingTimeoutSec",
            "the value is the unexpanded macro $(timeout): no variable timeout is defined for this job; define timeout in the pipeline (or link the variable group that has it), or write the value itself",
        ),
        (
            &[("INPUT_SONARQUBESERVICE", "0000aaaa-1111-2222-3333-444455556666")],
            "sonarQubeService",
            "service connection '0000aaaa-1111-2222-3333-444455556666' is not available to this job; check that it exists, that it is of type SonarQube Server, and that this pipeline is allowed to use it (Project settings > Service connections > Security)",
        ),
        (
            &[("INPUT_SONARORGANIZATION", "my org")],
            "sonarOrganization",
            "'my org' is not an organization key; use the key shown in SonarQube Cloud's URL (letters, digits, - and _)",
        ),
        (&[("INPUT_POLLINGTIMEOUTSEC", "5m")], "pollingTimeoutSec", "'5m' is not a whole number; use a number from 1 to 21600, like 300"),
        (&[("INPUT_POLLINGTIMEOUTSEC", "0")], "pollingTimeoutSec", "0 is out of range; use a number from 1 to 21600"),
        (&[("INPUT_POLLINGTIMEOUTSEC", "-5")], "pollingTimeoutSec", "-5 is out of range; use a number from 1 to 21600"),
        (
            &[("INPUT_POLLINGTIMEOUTSEC", "99999999999999999999999")],
            "pollingTimeoutSec",
            "99999999999999999999999 is out of range; use a number from 1 to 21600",
        ),
        (&[("INPUT_POLLINGTIMEOUTSEC", "100000")], "pollingTimeoutSec", "100000 is out of range; use a number from 1 to 21600"),
        (&[("INPUT_MAXINLINECOMMENTS", "2500")], "maxInlineComments", "2500 is out of range; use a number from 0 to 500"),
        (&[("INPUT_MAXINLINECOMMENTS", "many")], "maxInlineComments", "'many' is not a whole number; use a number from 0 to 500, like 25"),
        (&[("INPUT_FAILONQUALITYGATEERROR", "ture")], "failOnQualityGateError", "'ture' is not a boolean; use true or false"),
        (
            &[("INPUT_INLINEMINSEVERITY", "severe")],
            "inlineMinSeverity",
            "'severe' is not a severity; use none, info, low, medium, high or blocker (SonarQube 10.2 and later), or info, minor, major, critical or blocker (earlier servers)",
        ),
        (
            &[("INPUT_INLINESOFTWAREQUALITIES", "security,bugs")],
            "inlineSoftwareQualities",
            "'bugs' is not a software quality; use a comma-separated list of reliability, security and maintainability, like security,reliability",
        ),
        (
            &[("INPUT_SUMMARYWHEN", "sometimes")],
            "summaryWhen",
            "'sometimes' is not a choice; use always (the default) or failing (a summary only when the pull request does not pass)",
        ),
        (&[("INPUT_POSTINLINECOMMENTS", "1")], "postInlineComments", "'1' is not a boolean; use true or false"),
        (&[("INPUT_POSTSUMMARYCOMMENT", "no")], "postSummaryComment", "'no' is not a boolean; use true or false"),
        (
            &[("INPUT_STATUSGENRE", "sonar/qube")],
            "statusGenre",
            "'sonar/qube' contains '/', which a branch policy reads as the separator between genre and name; drop the '/'",
        ),
        (&[("INPUT_STATUSNAME", "a\nb")], "statusName", "spans several lines; use a single line"),
        (
            &[("INPUT_CACERTFILE", "/nonexistent/ca.pem")],
            "caCertFile",
            "'/nonexistent/ca.pem' is not a readable file; give the path of a PEM file with your CA certificates (for example $(Agent.TempDirectory)/corp-ca.pem from a secure file)",
        ),
        (
            &[("INPUT_AZUREDEVOPSPAT", "abc def")],
            "azureDevOpsPat",
            "the token contains spaces; it must be the bare token, without a 'Bearer ' or 'Basic ' prefix",
        ),
        (
            &[("SYSTEM_ACCESSTOKEN", "")],
            "azureDevOpsPat",
            "no Azure DevOps credential to post with; the job's access token was not found; map it with `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` or set azureDevOpsPat",
        ),
        (
            &[("SYSTEM_PULLREQUEST_PULLREQUESTID", "abc")],
            "System.PullRequest.PullRequestId",
            "'abc' is not a pull request id; it must be a positive whole number, like 42",
        ),
        (
            &[("SYSTEM_PULLREQUEST_SOURCECOMMITID", "main")],
            "System.PullRequest.SourceCommitId",
            "'main' is not a commit id; give the full hexadecimal id of the pull request's source commit",
        ),
        (
            &[("SYSTEM_COLLECTIONURI", "dev.azure.com/org")],
            "System.CollectionUri",
            "'dev.azure.com/org' has no scheme; write it with one, for example https://dev.azure.com/org",
        ),
        (
            &[("SYSTEM_TEAMPROJECT", "")],
            "System.TeamProject",
            "is needed to post to pull request 7; the agent sets it on every build; run the task in an Azure Pipelines job",
        ),
    ];
    assert!(cases.len() >= 25);
    for (pairs, input, message) in cases {
        let p = only_problem(pairs);
        assert_eq!((p.input.as_str(), p.message.as_str()), (*input, *message), "for {pairs:?}");
    }
}

#[test]
fn token_and_service_connection_together_are_rejected() {
    let p = only_problem(&[
        ("INPUT_SONARQUBESERVICE", "aaaaaaaa-1111-2222-3333-444455556666"),
        ("ENDPOINT_URL_aaaaaaaa-1111-2222-3333-444455556666", "https://sq.corp/"),
        ("ENDPOINT_AUTH_PARAMETER_aaaaaaaa-1111-2222-3333-444455556666_USERNAME", "squ_fromconn"),
    ]);
    assert_eq!(p.input, "sonarToken");
    assert!(p.message.starts_with("both sonarToken and sonarQubeService give a SonarQube token"));
}

#[test]
fn cli_messages_name_flags_and_never_echo_credentials() {
    let raw = RawSettings { origin: Some(Origin::Cli), sonar_url: Some("https://user:topsecret@sq".into()), ..RawSettings::default() };
    let err = raw.validate().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("--sonar-url (or SONAR_HOST_URL): the URL contains a user name or password"), "{text}");
    assert!(text.contains("SONAR_TOKEN: the SonarQube token is missing; export SONAR_TOKEN=<token>"), "{text}");
    assert!(!text.contains("topsecret"));
}

/// A value rejected as an unexpanded macro is never registered as a secret: masking it would
/// hide the missing variable's name here and in every later step of the job.
#[test]
fn a_macro_is_named_and_never_registered_as_a_secret() {
    let env = AgentEnv::from_pairs([
        ("INPUT_SONARURL", "https://sonar.example.com"),
        ("INPUT_SONARTOKEN", "$(SONAR_TOKEN)"),
        ("INPUT_AZUREDEVOPSPAT", " $(ADO_PAT) "),
    ]);
    let raw = RawSettings::from_task_env(&env);
    let secrets: Vec<String> = raw.secret_candidates().iter().map(|s| s.expose().to_string()).collect();
    assert!(secrets.iter().all(|s| !s.contains("$(")), "{secrets:?}");
    let err = raw.validate().unwrap_err();
    let inputs: Vec<_> = err.problems.iter().map(|p| (p.input.as_str(), p.message.contains("unexpanded macro"))).collect();
    assert_eq!(inputs, [("sonarToken", true), ("azureDevOpsPat", true)]);
}

#[test]
fn cli_macro_messages_name_the_variable_and_the_flag() {
    let raw = RawSettings {
        origin: Some(Origin::Cli),
        sonar_url: Some("https://sq".into()),
        sonar_token: Some("$(SONAR_TOKEN)".into()),
        ..RawSettings::default()
    };
    let p = raw.validate().unwrap_err().problems.remove(0);
    assert_eq!(
        (p.input.as_str(), p.message.as_str()),
        (
            "SONAR_TOKEN",
            "the value is the unexpanded macro $(SONAR_TOKEN): no variable SONAR_TOKEN is defined for this job; define the pipeline variable SONAR_TOKEN (or link its variable group), or give SONAR_TOKEN the value itself"
        )
    );
}

/// The names messages use agree with the settings' own names, in both front ends.
#[test]
fn input_names_agree_with_the_fields() {
    for (origin, names) in [(Origin::Task, InputNames::task()), (Origin::Cli, InputNames::cli())] {
        assert_eq!(names.sonar_url, Field::SonarUrl.name(origin));
        assert!(names.sonar_token.starts_with(Field::SonarToken.name(origin)), "{origin:?}");
        assert_eq!(names.polling_timeout, Field::PollingTimeoutSec.name(origin));
        assert_eq!(names.report_task_file, Field::ReportTaskFile.name(origin));
        assert_eq!(names.pat, Field::AzureDevOpsPat.name(origin));
        assert_eq!(names.collection_url, Field::CollectionUrl.name(origin));
        assert!(names.report_task_example.starts_with(&names.report_task_file.replace(" (or SONAR_HOST_URL)", "")));
    }
}

#[test]
fn the_noise_filters_read_the_servers_words_of_either_model() {
    let s = task(&[]).unwrap();
    assert_eq!(s.decoration.inline_filter, crate::decide::InlineFilter { cap: 25, min_severity: None, qualities: None });
    assert_eq!(s.decoration.summary_when, crate::decide::SummaryWhen::Always);
    let s = task(&[
        ("INPUT_INLINEMINSEVERITY", "High"),
        ("INPUT_INLINESOFTWAREQUALITIES", " security, Reliability "),
        ("INPUT_SUMMARYWHEN", "failing"),
    ])
    .unwrap();
    assert_eq!(
        s.decoration.inline_filter.min_severity,
        Some(crate::sonar::present::Severity::Critical),
        "High is the 10.2+ word for Critical"
    );
    assert_eq!(s.decoration.inline_filter.qualities.as_deref(), Some(&["SECURITY".to_string(), "RELIABILITY".to_string()][..]));
    assert_eq!(s.decoration.summary_when, crate::decide::SummaryWhen::Failing);
    assert_eq!(
        task(&[("INPUT_INLINEMINSEVERITY", "major")]).unwrap().decoration.inline_filter.min_severity,
        Some(crate::sonar::present::Severity::Major)
    );
}

#[test]
fn azure_devops_services_is_known_from_the_agent_or_the_url() {
    let on_services = |pairs: &[(&str, &str)]| match task(pairs).unwrap().target {
        Target::PullRequest(t) => t.on_services,
        other => panic!("{other:?}"),
    };
    // dev.azure.com and *.visualstudio.com are Services whatever the agent says.
    assert!(on_services(&[]));
    assert!(on_services(&[("SYSTEM_COLLECTIONURI", "https://fabrikam.visualstudio.com/")]));
    // A server's own URL: only the agent's System.ServerType says (Hosted on Services).
    let server = ("SYSTEM_COLLECTIONURI", "https://tfs.fabrikam.local/DefaultCollection/");
    assert!(!on_services(&[server]));
    assert!(!on_services(&[server, ("SYSTEM_SERVERTYPE", "OnPremises")]));
    assert!(on_services(&[server, ("SYSTEM_SERVERTYPE", "hosted")]));
}
