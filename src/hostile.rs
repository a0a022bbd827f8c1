//! Property tests over hostile answers: whatever bytes a server sends as a body, every model that
//! reads it and every function that explains it ends in a value or an error, never a panic.

use proptest::prelude::*;

use crate::azdo::failure::{Context, CredentialKind, explain};

/// Bodies that are almost JSON: the shapes the models read, with hostile values spliced in.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("null".to_string()),
        Just("1e400".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("\"\\u0000\\u202e<img src=x>\"".to_string()),
        Just("[[[[[[[[]]]]]]]]".to_string()),
        Just("{\"$value\":{}}".to_string()),
        "\"[^\"\\\\]{0,20}\"",
        any::<i64>().prop_map(|n| n.to_string()),
    ];
    let key = prop_oneof![
        Just("paging"),
        Just("total"),
        Just("issues"),
        Just("key"),
        Just("line"),
        Just("textRange"),
        Just("status"),
        Just("conditions"),
        Just("projectStatus"),
        Just("task"),
        Just("value"),
        Just("comments"),
        Just("properties"),
        Just("changeEntries"),
        Just("nextSkip"),
        Just("lineDiffBlocks"),
        Just("analyses"),
        Just("revision"),
        Just("message"),
    ];
    let object = prop::collection::vec((key, value), 0..8)
        .prop_map(|fields| format!("{{{}}}", fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(",")));
    prop_oneof![
        object.clone().prop_map(String::into_bytes),
        object.prop_map(|o| format!("{{\"value\":[{o}],\"projectStatus\":{o},\"task\":{o},\"issues\":[{o}]}}").into_bytes()),
        prop::collection::vec(any::<u8>(), 0..200),
    ]
}

fn ctx() -> Context {
    Context {
        action: "read".into(),
        organization: "o".into(),
        project: "p".into(),
        repository: "r".into(),
        pull_request: Some(1),
        kind: CredentialKind::Pat,
    }
}

proptest! {
    #[test]
    fn no_answer_panics_the_readers(body in bodies(), status in 100u16..600, header in "\\PC{0,40}") {
        // Every model the task reads, and what it does with each (the json_models fuzz target's body).
        crate::probe::read_server_answer(&body);
        let headers = vec![("X-TFS-ServiceError".into(), header.clone()), ("Location".into(), header.clone())];
        let answer = crate::net::Response { status, content_type: Some("application/json".into()), headers, body: body.clone() };
        let explained = explain(&answer, &ctx(), &crate::settings::InputNames::task().azdo()).to_string();
        // Server text stays on one line: line breaks in messages are ours (list items).
        prop_assert!(!explained.contains('\n'), "{explained:?}");
        let resp = crate::net::Response { status, content_type: Some(header.clone()), headers: vec![("Retry-After".into(), header.clone())], body: body.clone() };
        prop_assert!(!crate::sonar::client::error_messages(&resp).unwrap_or_default().contains('\n'));
        let _ = crate::net::retry::after_status(crate::net::Method::Get, &resp, 3, &crate::net::retry::RetryPolicy::default());
        let _ = crate::net::tls::issuer_name(&body);
    }
}
