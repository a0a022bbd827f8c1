//! `check --integration NAME`: a PAT checked for the scopes an integration's vendor documents,
//! against the fake Azure DevOps, which answers 401 for a scope the PAT lacks and reports each
//! identity's access level.

use sandbox::azdo::{Credential, CredentialBehaviour};
use sandbox::sonar::Flavour;

use crate::util::*;

const SCOPED_PAT: &str = "scopedpat0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

/// A PAT of "Integration Bot" with these scopes (None: every scope).
fn pat_with(sb: &sandbox::Sandbox, scopes: Option<Vec<&'static str>>, access: Option<(&'static str, &'static str)>) {
    let mut st = sb.azdo_state();
    st.credentials.push(Credential {
        scheme: "Basic",
        token: SCOPED_PAT.into(),
        behaviour: CredentialBehaviour::Valid,
        identity_id: "5e1f0c3a-0000-4000-8000-00000000beef".into(),
        display_name: "Integration Bot".into(),
    });
    if let Some(scopes) = scopes {
        st.pat_scopes.insert(SCOPED_PAT.into(), scopes);
    }
    if let Some(level) = access {
        st.access_levels.insert("5e1f0c3a-0000-4000-8000-00000000beef".into(), level);
    }
}

fn doctor(sb: &sandbox::Sandbox, env: &TaskEnv, extra: &[&str]) -> Run {
    let coll = sb.collection_url();
    let mut args = vec!["check", "--collection-url", coll.as_str()];
    args.extend_from_slice(extra);
    let run = run_cli(&args, &[("AZURE_DEVOPS_EXT_PAT", SCOPED_PAT)], &env.sources());
    assert_no_secrets(&run, &[SCOPED_PAT.to_string()], env.dir.path());
    run
}

fn line<'a>(run: &'a Run, prefix: &str) -> &'a str {
    run.stdout.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line '{prefix}':\n{}", run.all()))
}

#[test]
fn a_snyk_pat_without_analytics_and_graph_is_told_what_to_tick() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    pat_with(&sb, Some(vec!["vso.code_write", "vso.project", "vso.release", "vso.memberentitlementmanagement"]), None);
    let run = doctor(&sb, &env, &["--integration", "snyk", "--project", "Fabrikam Web"]);
    assert_eq!(run.status, 2, "{}", run.all());
    let coll = sb.collection_url();
    let coll = coll.trim_end_matches('/');
    assert_eq!(
        line(&run, "[pass] Azure DevOps credential"),
        format!("[pass] Azure DevOps credential accepted: a PAT acting as Integration Bot on {coll}")
    );
    assert!(
        line(&run, "[warn] Code (Read & write)")
            .starts_with("[warn] Code (Read & write): its read part is granted (GET …/_apis/git/repositories answered 200)")
    );
    assert_eq!(line(&run, "[pass] Project and Team (Read)"), "[pass] Project and Team (Read): granted: GET …/_apis/projects answered 200");
    assert_eq!(
        line(&run, "[FAIL] Graph (Read)"),
        format!(
            "[FAIL] Graph (Read) missing: the PAT was refused (401) on GET {coll}/_apis/graph/descriptors/5e1f0c3a-0000-4000-8000-00000000beef?api-version=5.0-preview.1: it lacks this scope. Fix: edit the PAT (User settings > Personal access tokens > Edit) and tick Graph (Read), or create a PAT with it"
        )
    );
    assert!(line(&run, "[FAIL] Analytics (Read) missing").contains("/_odata/v4.0-preview/Projects"));
    assert_eq!(line(&run, "[pass] Release (Read)"), "[pass] Release (Read): granted: GET …/_apis/release/definitions answered 200");
    assert_eq!(
        line(&run, "[pass] Member Entitlement Management"),
        "[pass] Member Entitlement Management (Read): granted: GET …/_apis/userentitlements/5e1f0c3a-0000-4000-8000-00000000beef answered 200"
    );
    assert_eq!(line(&run, "[pass] Access level"), "[pass] Access level: Basic: not Stakeholder");
    assert!(run.stdout.contains("What Snyk (Azure Repos integration and Snyk Essentials) documents: docs.snyk.io"), "{}", run.stdout);
    assert!(run.stderr.contains("error: scope checks failed: "), "{}", run.stderr);
    // Only reads: nothing was written.
    assert!(sb.azdo_server.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn a_stakeholder_is_told_the_integration_needs_basic() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    pat_with(&sb, None, Some(("Stakeholder", "stakeholder")));
    let run = doctor(&sb, &env, &["--integration", "sonarqube"]);
    assert_eq!(run.status, 2, "{}", run.all());
    assert_eq!(
        line(&run, "[FAIL] Access level"),
        "[FAIL] Access level: Stakeholder: the PAT's owner has Stakeholder access, which cannot read code in private projects; SonarQube Server pull request decoration needs Basic. Fix: Organization settings > Users > Change access level > Basic (or use an account that has it)"
    );
}

#[test]
fn this_tasks_own_pat_passes_and_its_write_scopes_are_named_not_tried() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    pat_with(&sb, Some(vec!["vso.code", "vso.code_status", "vso.threads_full", "vso.memberentitlementmanagement"]), None);
    let run = doctor(&sb, &env, &["--integration", "sonar-pr-gate"]);
    assert_eq!(run.status, 0, "{}", run.all());
    assert_eq!(line(&run, "[pass] Code (Read)"), "[pass] Code (Read): granted: GET …/_apis/git/repositories answered 200");
    assert_eq!(
        line(&run, "[skip] Code (Status)"),
        "[skip] Code (Status): not probed: only writes use it, and this check writes nothing; make sure the PAT shows Code (Status)"
    );
    assert!(run.stdout.lines().last().unwrap().starts_with("sonar-pr-gate: scope checks passed: "), "{}", run.stdout);
}

#[test]
fn without_a_project_the_project_reads_are_skipped_and_json_is_all_of_stdout() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    pat_with(&sb, None, None);
    let run = doctor(&sb, &env, &["--integration", "harness-sei", "--format", "json"]);
    assert_eq!(run.status, 0, "{}", run.all());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", run.stdout));
    assert_eq!(v["integration"], "harness-sei");
    let checks = v["checks"].as_array().unwrap();
    let build = checks.iter().find(|c| c["name"] == "Build (Read)").unwrap();
    assert_eq!(
        (&build["state"], &build["detail"]),
        (&"skip".into(), &"not checked: it reads a project's resources; give --project".into())
    );
    let caveat = checks.iter().find(|c| c["id"] == "azdo.integration").unwrap();
    assert_eq!(caveat["state"], "warn");
    assert!(caveat["detail"].as_str().unwrap().contains("stopped accepting those on 2026-12-01"));
}

#[test]
fn an_unknown_integration_or_a_missing_collection_url_is_a_configuration_error() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let run = run_cli(&["check", "--integration", "gitlab"], &[("AZURE_DEVOPS_EXT_PAT", SCOPED_PAT)], &env.sources());
    assert_eq!(run.status, 2, "{}", run.all());
    assert!(
        run.stderr.contains("--integration: 'gitlab' is not an integration this check knows; use one of: sonar-pr-gate, sonarqube, sonarcloud, snyk, harness-sei"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--collection-url: is needed to check a PAT"), "{}", run.stderr);
    assert!(sb.azdo_server.requests().is_empty());
}
