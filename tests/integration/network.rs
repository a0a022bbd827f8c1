//! The network between the agent and the services: a real forward proxy on 127.0.0.1 (with and
//! without credentials, with a bypass list, refusing non-443 tunnels, asking for NTLM), and curl's
//! NO_PROXY rules in CLI mode.

use sandbox::proxy::{ForwardProxy, ProxyOptions};
use sandbox::sonar::Flavour;

use crate::util::*;

fn port_of(url: &str) -> String {
    url.trim_end_matches('/').rsplit(':').next().unwrap().split('/').next().unwrap().to_string()
}

#[test]
fn the_agents_proxy_carries_every_request() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let proxy = ForwardProxy::start(ProxyOptions::default());
    env.set("AGENT_PROXYURL", &proxy.url());
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let targets: std::collections::BTreeSet<String> = proxy.tunnels().into_iter().map(|t| t.target).collect();
    let sonar = format!("127.0.0.1:{}", port_of(&sb.sonar_url()));
    let azdo = format!("127.0.0.1:{}", port_of(&sb.azdo_server.url()));
    assert_eq!(targets, [sonar, azdo].into_iter().collect(), "both services through the proxy");
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1);
}

#[test]
fn proxy_credentials_are_sent_and_kept_secret() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let proxy = ForwardProxy::start(ProxyOptions { credentials: Some(("svc-build".into(), "Pr0xy;Secr3t".into())), ..Default::default() });
    env.set("AGENT_PROXYURL", &proxy.url()).set("AGENT_PROXYUSERNAME", "svc-build").set("SECRET_AGENT_PROXYPASSWORD", "Pr0xy;Secr3t");
    env.secrets.push("Pr0xy;Secr3t".into());
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.lines().any(|l| l == "##vso[task.setsecret]Pr0xy%3BSecr3t"), "the password is registered, escaped");
    let tunnels = proxy.tunnels();
    assert!(!tunnels.is_empty() && tunnels.iter().all(|t| t.status == 200), "{tunnels:?}");
    assert!(tunnels.iter().all(|t| t.proxy_authorization.as_deref().is_some_and(|a| a.starts_with("Basic "))));

    // Without the password: a clear 407 message.
    env.remove("SECRET_AGENT_PROXYPASSWORD");
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = &run.first_error();
    assert!(err.contains(&format!("the proxy {} asks for credentials (HTTP 407)", proxy.url())), "{err}");
}

#[test]
fn the_bypass_list_sends_matching_hosts_directly() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let proxy = ForwardProxy::start(ProxyOptions::default());
    let sonar_port = port_of(&sb.sonar_url());
    env.set("AGENT_PROXYURL", &proxy.url()).set("AGENT_PROXYBYPASSLIST", &format!(r#"["127\\.0\\.0\\.1:{sonar_port}"]"#));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let targets: Vec<String> = proxy.tunnels().into_iter().map(|t| t.target).collect();
    assert!(!targets.is_empty());
    assert!(targets.iter().all(|t| !t.ends_with(&format!(":{sonar_port}"))), "SonarQube went direct: {targets:?}");
}

#[test]
fn a_proxy_that_tunnels_only_to_443_is_explained() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let proxy = ForwardProxy::start(ProxyOptions { only_port_443: true, ..Default::default() });
    env.set("AGENT_PROXYURL", &proxy.url());
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = &run.first_error();
    assert!(err.contains(&format!("the proxy {} refused to open a tunnel to http://127.0.0.1:", proxy.url())), "{err}");
    assert!(
        err.contains(
            "many proxies only allow tunnels to port 443: use the server's https:// URL, or add the host to the proxy bypass list"
        ),
        "{err}"
    );
}

#[test]
fn a_windows_authentication_proxy_is_explained() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let proxy = ForwardProxy::start(ProxyOptions { windows_auth_only: true, ..Default::default() });
    env.set("AGENT_PROXYURL", &proxy.url()).set("AGENT_PROXYUSERNAME", "CORP\\build").set("SECRET_AGENT_PROXYPASSWORD", "w1ndows");
    env.secrets.push("w1ndows".into());
    let run = env.run();
    let err = &run.first_error();
    assert!(err.contains("A proxy that accepts only NTLM or Negotiate (Windows integrated) authentication is not supported"), "{err}");
    assert!(err.contains("cntlm or px"));
}

#[test]
fn a_bad_bypass_list_names_the_variable() {
    let (_sb, mut env) = pr_scenario(Flavour::Server108);
    env.set("AGENT_PROXYURL", "http://proxy.corp:8080").set("AGENT_PROXYBYPASSLIST", r#"["(unclosed"]"#);
    let run = env.run();
    assert!(
        run.first_error().starts_with("Agent.ProxyBypassList: entry '(unclosed' is not a valid regular expression"),
        "{:?}",
        run.issues("error")
    );
}

#[test]
fn cli_mode_reads_curls_variables_with_curls_no_proxy_rules() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let proxy = ForwardProxy::start(ProxyOptions::default());
    let collection = sb.collection_url();
    let sonar = sb.sonar_url();
    let proxy_url = proxy.url();
    let vars = [
        ("SONAR_TOKEN", sandbox::SONAR_TOKEN),
        ("AZURE_DEVOPS_EXT_PAT", sandbox::PAT),
        ("HTTP_PROXY", proxy_url.as_str()),
        // A space after the comma: ureq would not trim it; curl (and we) do.
        ("NO_PROXY", "localhost, 127.0.0.1"),
    ];
    let args = [
        "publish",
        "--sonar-url",
        &sonar,
        "--collection-url",
        &collection,
        "--project",
        "Fabrikam Web",
        "--repository",
        "web",
        "--pull-request",
        "7",
    ];
    let run = run_cli(&args, &vars, &env.sources());
    assert_eq!(run.status, 0, "{}", run.all());
    assert!(proxy.tunnels().is_empty(), "127.0.0.1 is in NO_PROXY: {:?}", proxy.tunnels());

    let vars = [("SONAR_TOKEN", sandbox::SONAR_TOKEN), ("AZURE_DEVOPS_EXT_PAT", sandbox::PAT), ("HTTP_PROXY", proxy_url.as_str())];
    let run = run_cli(&args, &vars, &env.sources());
    assert_eq!(run.status, 0, "{}", run.all());
    assert!(!proxy.tunnels().is_empty(), "without NO_PROXY everything goes through the proxy");
}

/// SonarQube behind TLS with a certificate from a CA made for this test.
fn tls_scenario() -> (sandbox::Sandbox, TaskEnv, sandbox::Server, sandbox::tls::TestCa) {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let ca = sandbox::tls::TestCa::new();
    let tls_server = sandbox::Server::start_tls(sb.sonar.clone(), ca.server_config.clone());
    env.set("INPUT_SONARURL", &format!("https://localhost:{}", tls_server.port()));
    (sb, env, tls_server, ca)
}

#[test]
fn an_untrusted_certificate_names_the_host_the_issuer_and_the_fix() {
    let (_sb, env, server, _ca) = tls_scenario();
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = &run.first_error();
    assert!(
        err.starts_with(&format!(
            "SonarQube: TLS to https://localhost:{}/api/system/status failed: the certificate localhost presented is issued by 'CN={}, O=Fabrikam', an authority this agent does not trust (UnknownIssuer).",
            server.port(),
            sandbox::tls::CA_NAME
        )),
        "{err}"
    );
    assert!(err.contains("give that CA's certificate (PEM) in caCertFile"), "{err}");
}

#[test]
fn the_ca_from_ca_cert_file_or_the_agent_is_trusted() {
    let (sb, mut env, _server, ca) = tls_scenario();
    let pem = env.dir.path().join("corp-ca.pem");
    std::fs::write(&pem, &ca.ca_pem).unwrap();
    env.set("INPUT_CACERTFILE", &pem.display().to_string());
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1);

    env.set("INPUT_CACERTFILE", "").set("AGENT_CAINFO", &pem.display().to_string());
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "the agent's --sslcacert bundle: {}", run.all());
}

#[test]
fn a_ca_file_without_certificates_is_an_error_not_silently_ignored() {
    let (_sb, mut env, _server, _ca) = tls_scenario();
    let pem = env.dir.path().join("not-a-ca.pem");
    std::fs::write(&pem, "this is a DER file renamed to .pem, or a key\n").unwrap();
    env.set("INPUT_CACERTFILE", &pem.display().to_string());
    let run = env.run();
    let err = &run.first_error();
    assert!(
        err.contains(&format!(
            "the CA file {} could not be used: it holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            pem.display()
        )),
        "{err}"
    );
}

#[test]
fn the_agents_skip_cert_validation_is_honoured_loudly() {
    let (_sb, mut env, _server, _ca) = tls_scenario();
    env.set("AGENT_SKIPCERTVALIDATION", "True");
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(
        run.issues("warning")
            .iter()
            .any(|w| w.starts_with("certificate validation is OFF because the agent is configured with --sslskipcertvalidation"))
    );
}
