//! Client certificates (mutual TLS): both fakes require one from a test CA, as an Azure DevOps
//! Server or a SonarQube behind a client-certificate proxy does, and the task presents what the
//! agent hands it (`Agent.ClientCert`, `Agent.ClientCertKey`, `Agent.ClientCertArchive`,
//! `Agent.ClientCertPassword`) or what the CLI's flags give.

use sandbox::sonar::Flavour;
use sandbox::tls::{ClientCertificate, TestCa};

use crate::util::*;

const PASSWORD: &str = "C3rt\"Pass\\word;x";

/// Both services behind mutual TLS, a passing PR analysis, the CA trusted through the agent's
/// `Agent.CAInfo`.
fn mtls_scenario() -> (sandbox::Sandbox, TaskEnv, TestCa) {
    let ca = TestCa::new();
    let sb = sandbox::Sandbox::start_mutual_tls(Flavour::Server108, &ca);
    sb.azdo_state().add_pull_request(PR, &[(1, OLD_COMMIT), (2, SOURCE_COMMIT)]);
    let mut env = TaskEnv::new(&sb);
    passing_pr(&sb, &env);
    let ca_file = env.dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    env.set("AGENT_CAINFO", &ca_file.display().to_string());
    env.secrets.push(PASSWORD.into());
    (sb, env, ca)
}

/// Writes the agent's three files as its documentation prepares them (the key encrypted with the
/// archive's password) and sets the agent's variables, the password as a secret variable.
fn agent_files(env: &mut TaskEnv, cert: &ClientCertificate, password: &str) -> (String, String, String) {
    let dir = env.dir.path().to_path_buf();
    let (c, k, a) = (dir.join("client-cert.pem"), dir.join("client-cert-key.pem"), dir.join("client-cert-archive.pfx"));
    std::fs::write(&c, &cert.cert_pem).unwrap();
    std::fs::write(&k, cert.encrypted_key_pem(PASSWORD)).unwrap();
    std::fs::write(&a, cert.pkcs12(PASSWORD, false)).unwrap();
    let [c, k, a] = [c, k, a].map(|p| p.display().to_string());
    env.set("AGENT_CLIENTCERT", &c).set("AGENT_CLIENTCERTKEY", &k).set("AGENT_CLIENTCERTARCHIVE", &a);
    env.set("SECRET_AGENT_CLIENTCERTPASSWORD", password);
    (c, k, a)
}

fn posted_status(sb: &sandbox::Sandbox) -> usize {
    sb.azdo_state().pull_request(PR).statuses.len()
}

#[test]
fn the_agents_client_certificate_is_presented_to_both_services() {
    let (sb, mut env, ca) = mtls_scenario();
    let cert = ca.client_certificate("build-agent-01", -1, 365);
    let (cert_path, _, _) = agent_files(&mut env, &cert, PASSWORD);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert_eq!(posted_status(&sb), 1, "Azure DevOps (behind mutual TLS) got the status");
    assert!(sb.sonar_server.requests().iter().any(|r| r.path() == "/api/qualitygates/project_status"));
    let presented = format!("Presenting the client certificate in {} to servers that ask for one (valid until ", host_paths(&cert_path));
    assert!(host_paths(&run.stdout).contains(&presented), "{}", run.all());
    // The password is handed to the masker (escaped as the agent reads it) before anything else.
    assert!(run.stdout.lines().any(|l| l == "##vso[task.setsecret]C3rt\"Pass\\word%3Bx"), "{}", run.stdout);
}

#[test]
fn a_pkcs12_archive_alone_works_in_aes_and_in_legacy_3des() {
    for legacy in [false, true] {
        let (sb, mut env, ca) = mtls_scenario();
        let archive = env.dir.path().join("agent.pfx");
        std::fs::write(&archive, ca.client_certificate("build-agent-02", -1, 365).pkcs12(PASSWORD, legacy)).unwrap();
        env.set("AGENT_CLIENTCERTARCHIVE", &archive.display().to_string()).set("SECRET_AGENT_CLIENTCERTPASSWORD", PASSWORD);
        let run = env.run();
        assert_eq!(run.result(), "Succeeded", "legacy {legacy}: {}", run.all());
        assert_eq!(posted_status(&sb), 1);
    }
}

#[test]
fn a_plain_pem_key_needs_no_password() {
    let (sb, mut env, ca) = mtls_scenario();
    let cert = ca.client_certificate("build-agent-03", -1, 365);
    let (c, k) = (env.dir.path().join("c.pem"), env.dir.path().join("k.pem"));
    std::fs::write(&c, &cert.cert_pem).unwrap();
    std::fs::write(&k, &cert.key_pem).unwrap();
    env.set("AGENT_CLIENTCERT", &c.display().to_string()).set("AGENT_CLIENTCERTKEY", &k.display().to_string());
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert_eq!(posted_status(&sb), 1);
}

#[test]
fn without_a_client_certificate_the_message_says_the_server_requires_one() {
    let (sb, env, _ca) = mtls_scenario();
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = run.first_error();
    assert!(
        err.contains(&format!(
            "localhost ended the TLS handshake (CertificateRequired) for {}/api/system/status: it requires a client certificate (mutual TLS) and this task has none; give one in the agent's client certificate (config --sslclientcert, --sslclientcertkey, --sslclientcertarchive and --sslclientcertpassword; read as Agent.ClientCert*)",
            sb.sonar_url()
        )),
        "{err}"
    );
    assert_eq!(posted_status(&sb), 0);
}

#[test]
fn a_wrong_password_names_the_password_setting_for_the_key_and_the_archive() {
    let (sb, mut env, ca) = mtls_scenario();
    let cert = ca.client_certificate("build-agent-04", -1, 365);
    let (_, key, archive) = agent_files(&mut env, &cert, "not-the-password");
    env.secrets.push("not-the-password".into());
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = host_paths(&run.first_error());
    assert_eq!(
        err,
        format!(
            "Agent.ClientCertKey (the agent's --sslclientcertkey) ({}) could not be decrypted: the password in Agent.ClientCertPassword (the agent's --sslclientcertpassword) is wrong, or the key uses a cipher this task does not know (it reads PBES2 with AES or 3DES); and the archive {}, tried instead, could not be used either: the archive {} does not open with the password in Agent.ClientCertPassword (the agent's --sslclientcertpassword): the password is wrong",
            host_paths(&key),
            host_paths(&archive),
            host_paths(&archive)
        )
    );
    assert!(sb.sonar_server.requests().is_empty() && sb.azdo_server.requests().is_empty(), "nothing is sent");
}

#[test]
fn an_expired_certificate_is_refused_before_any_request() {
    let (sb, mut env, ca) = mtls_scenario();
    let cert = ca.client_certificate("build-agent-05", -400, -3);
    let (cert_path, _, _) = agent_files(&mut env, &cert, PASSWORD);
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = host_paths(&run.first_error());
    let prefix = format!("the client certificate in {} expired on ", host_paths(&cert_path));
    assert!(err.starts_with(&prefix), "{err}");
    assert!(
        err.ends_with("; renew it, and configure the agent with the new one (config --sslclientcert … or the files at the same paths)"),
        "{err}"
    );
    assert!(sb.sonar_server.requests().is_empty() && sb.azdo_server.requests().is_empty(), "nothing is sent");
}

#[test]
fn a_certificate_expiring_soon_is_warned_about_and_still_used() {
    let (sb, mut env, ca) = mtls_scenario();
    let cert = ca.client_certificate("build-agent-06", -300, 5);
    let (cert_path, _, _) = agent_files(&mut env, &cert, PASSWORD);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let warning = run.issues("warning").into_iter().map(|w| host_paths(&w)).find(|w| w.starts_with("the client certificate in"));
    let warning = warning.unwrap_or_else(|| panic!("no expiry warning:\n{}", run.all()));
    assert!(warning.starts_with(&format!("the client certificate in {} expires on ", host_paths(&cert_path))), "{warning}");
    assert!(warning.contains("(in 4 days)") || warning.contains("(in 5 days)"), "{warning}");
    assert_eq!(posted_status(&sb), 1);
}

#[test]
fn a_certificate_the_server_does_not_trust_is_refused_with_the_setting_named() {
    let (sb, mut env, _ca) = mtls_scenario();
    let stranger = TestCa::named("Contoso Issuing CA").client_certificate("someone-else", -1, 365);
    let (cert_path, _, _) = agent_files(&mut env, &stranger, PASSWORD);
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = host_paths(&run.first_error());
    assert!(
        err.contains(&format!(
            "localhost refused the client certificate in {} (UnknownCA) for {}/api/system/status: it does not trust the authority that issued the certificate.",
            host_paths(&cert_path),
            sb.sonar_url()
        )),
        "{err}"
    );
    assert!(
        err.contains(
            "Ask the server's administrators which certificates it accepts, and fix the agent's client certificate (config --sslclientcert"
        ),
        "{err}"
    );
    assert_eq!(posted_status(&sb), 0);
}

#[test]
fn the_cli_takes_a_pfx_or_a_pem_pair_and_the_password_from_its_variable() {
    let (sb, env, ca) = mtls_scenario();
    let cert = ca.client_certificate("laptop", -1, 365);
    let dir = env.dir.path();
    let (pfx, c, k, ca_file) = (dir.join("me.pfx"), dir.join("me.pem"), dir.join("me-key.pem"), dir.join("ca.pem"));
    std::fs::write(&pfx, cert.pkcs12(PASSWORD, false)).unwrap();
    std::fs::write(&c, &cert.cert_pem).unwrap();
    std::fs::write(&k, cert.encrypted_key_pem(PASSWORD)).unwrap();
    let coll = sb.collection_url();
    let (pfx, c, k, ca_file) = (pfx.display().to_string(), c.display().to_string(), k.display().to_string(), ca_file.display().to_string());
    let base = [
        "check",
        "--collection-url",
        &coll,
        "--project",
        "Fabrikam Web",
        "--repository",
        "web",
        "--pull-request",
        "7",
        "--ca-cert-file",
        &ca_file,
    ];
    let vars = [
        ("SONAR_HOST_URL", sb.sonar_url()),
        ("SONAR_TOKEN", sandbox::SONAR_TOKEN.to_string()),
        ("AZURE_DEVOPS_EXT_PAT", sandbox::PAT.to_string()),
        ("SONAR_PR_GATE_CLIENT_CERT_PASSWORD", PASSWORD.to_string()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for extra in [vec!["--client-cert", pfx.as_str()], vec!["--client-cert", c.as_str(), "--client-key", k.as_str()]] {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let run = run_cli(&args, &vars, &env.sources());
        assert_eq!(run.status, 0, "{extra:?}: {}", run.all());
        assert!(run.stdout.contains("[pass] Pull request readable: #7"), "{}", run.all());
        assert!(!run.all().contains(PASSWORD));
    }
    // Without the password: the flag's and the variable's names, exit status 2 (configuration).
    let no_password: Vec<(&str, &str)> = vars.iter().copied().filter(|(k, _)| *k != "SONAR_PR_GATE_CLIENT_CERT_PASSWORD").collect();
    let args: Vec<&str> = base.iter().copied().chain(["--client-cert", pfx.as_str()]).collect();
    let run = run_cli(&args, &no_password, &env.sources());
    assert_eq!(run.status, 2, "{}", run.all());
    assert!(
        host_paths(&run.all()).contains(&format!(
            "the archive {} does not open with the password in SONAR_PR_GATE_CLIENT_CERT_PASSWORD: the password is wrong (none was given)",
            host_paths(&pfx)
        )),
        "{}",
        run.all()
    );
}

/// The files made exactly as the agent's documentation tells operators to make them, by OpenSSL
/// itself (docs/design/clientcert.md in microsoft/azure-pipelines-agent): the archive from the
/// PEM pair, then the password-protected key and the certificate extracted from the archive.
#[test]
fn files_made_by_openssl_as_the_agents_documentation_says_are_read() {
    let (sb, mut env, ca) = mtls_scenario();
    let cert = ca.client_certificate("build-agent-07", -1, 365);
    let dir = env.dir.path().to_path_buf();
    let path = |name: &str| dir.join(name).display().to_string();
    std::fs::write(path("plain-cert.pem"), &cert.cert_pem).unwrap();
    std::fs::write(path("plain-key.pem"), &cert.key_pem).unwrap();
    let pass = format!("pass:{PASSWORD}");
    let steps: [Vec<String>; 3] = [
        [
            "pkcs12",
            "-export",
            "-out",
            &path("client-cert-archive.pfx"),
            "-passout",
            &pass,
            "-inkey",
            &path("plain-key.pem"),
            "-in",
            &path("plain-cert.pem"),
            "-certfile",
            &path("ca.pem"),
        ]
        .map(String::from)
        .to_vec(),
        ["pkcs12", "-in", &path("client-cert-archive.pfx"), "-passin", &pass, "-nokeys", "-clcerts", "-out", &path("client-cert.pem")]
            .map(String::from)
            .to_vec(),
        [
            "pkcs12",
            "-in",
            &path("client-cert-archive.pfx"),
            "-passin",
            &pass,
            "-nocerts",
            "-out",
            &path("client-cert-key.pem"),
            "-passout",
            &pass,
        ]
        .map(String::from)
        .to_vec(),
    ];
    for args in &steps {
        match std::process::Command::new("openssl").args(args).output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)),
            Err(e) => return skipped(&format!("openssl cannot be run here ({e})")),
        }
    }
    assert!(std::fs::read_to_string(path("client-cert-key.pem")).unwrap().contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    // The PEM pair alone, then the archive alone: each is read by itself.
    env.set("SECRET_AGENT_CLIENTCERTPASSWORD", PASSWORD);
    env.set("AGENT_CLIENTCERT", &path("client-cert.pem")).set("AGENT_CLIENTCERTKEY", &path("client-cert-key.pem"));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "the PEM pair: {}", run.all());
    env.remove("AGENT_CLIENTCERT").remove("AGENT_CLIENTCERTKEY").set("AGENT_CLIENTCERTARCHIVE", &path("client-cert-archive.pfx"));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "the archive: {}", run.all());
    assert_eq!(posted_status(&sb), 2);
}
