//! SonarQube's webhook as it is sent: the JSON document POSTed when an analysis has been processed,
//! and again when a change to an issue (accepted, marked false positive, a severity changed) turns
//! a quality gate's status (SonarQube docs, "Webhooks"; `WebhookPayloadFactoryImpl.java` writes it,
//! `WebhookQGChangeEventListener.java` sends the second kind, without `taskId` and `status`), and
//! its signature: the hex HMAC-SHA256 of the body with the webhook's secret, in the header
//! `X-Sonar-Webhook-HMAC-SHA256` (`WebhookCallerImpl.java`).

use serde::Deserialize;

/// The most a payload may weigh: SonarQube's are a few kilobytes (a gate's conditions and the
/// analysis's `sonar.analysis.*` properties).
pub(crate) const MAX_PAYLOAD_BYTES: usize = 1 << 20;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookPayload {
    /// The compute engine task: absent when an issue change sent the webhook.
    #[serde(default)]
    pub(crate) task_id: Option<String>,
    /// The task's status (`SUCCESS`, `FAILED`, `CANCELED`): absent with `task_id`.
    #[serde(default)]
    pub(crate) status: Option<String>,
    /// When the analysis ran (`2026-11-18T10:46:28+0100`, the server's clock).
    #[serde(default)]
    pub(crate) analysed_at: Option<String>,
    /// The analysed commit, when the scanner knew it (for a pull request build, the merge commit the
    /// agent checked out).
    #[serde(default)]
    pub(crate) revision: Option<String>,
    #[serde(default)]
    pub(crate) project: Option<WebhookProject>,
    /// Absent on servers without branches (Community Build without the branch plugin).
    #[serde(default)]
    pub(crate) branch: Option<WebhookBranch>,
    #[serde(default)]
    pub(crate) quality_gate: Option<WebhookGate>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct WebhookProject {
    #[serde(default)]
    pub(crate) key: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookBranch {
    /// A branch's name, or a pull request's key (its Azure DevOps id).
    #[serde(default)]
    pub(crate) name: String,
    /// `BRANCH` or `PULL_REQUEST` (`LONG`/`SHORT` before 7.8).
    #[serde(default, rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) is_main: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct WebhookGate {
    #[serde(default)]
    pub(crate) status: Option<String>,
}

impl WebhookPayload {
    /// What happened, in words for the log (every value from the payload made safe to print).
    pub(crate) fn event_words(&self) -> String {
        let visible = |s: &str| crate::text::visible(s).to_string();
        let gate =
            self.quality_gate.as_ref().and_then(|g| g.status.as_deref()).map_or("no gate".into(), |s| format!("gate {}", visible(s)));
        let project = self.project.as_ref().map_or(String::new(), |p| visible(&p.key));
        match &self.task_id {
            Some(task) => format!("SonarQube's webhook: analysis task {} of '{project}' processed, {gate}", visible(task)),
            None => format!("SonarQube's webhook: a change to an issue of '{project}' turned its quality gate ({gate})"),
        }
    }
}

/// Reads a payload; the error says what is wrong with it, in words for the log.
pub(crate) fn parse(body: &[u8]) -> Result<WebhookPayload, String> {
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(format!("it is {} bytes; SonarQube's payloads are a few kilobytes", body.len()));
    }
    serde_json::from_slice::<WebhookPayload>(body).map_err(|e| format!("it is not the JSON document SonarQube sends ({e})"))
}

/// Whether `signature` (hex, as SonarQube writes it) is the HMAC-SHA256 of `body` with `secret`,
/// compared in constant time.
pub(crate) fn signature_matches(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(tag) = hex_bytes(signature.trim()) else { return false };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    ring::hmac::verify(&key, body, &tag).is_ok()
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    const RFC4231_TAG: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body_with_the_secret() {
        let body = b"what do ya want for nothing?";
        assert!(signature_matches(b"Jefe", body, RFC4231_TAG));
        assert!(signature_matches(b"Jefe", body, &RFC4231_TAG.to_uppercase()));
        assert!(!signature_matches(b"jefe", body, RFC4231_TAG), "another secret");
        assert!(!signature_matches(b"Jefe", b"what do ya want for nothing?!", RFC4231_TAG), "another body");
        assert!(!signature_matches(b"Jefe", body, ""), "no signature");
        assert!(!signature_matches(b"Jefe", body, &RFC4231_TAG[..62]), "cut short");
        assert!(!signature_matches(b"Jefe", body, "é".repeat(32).as_str()), "not hex");
    }

    #[test]
    fn both_kinds_of_payload_are_read() {
        let analysis = br#"{"serverUrl":"https://sonar.example.com","taskId":"AVh21JS2JepAEhwQ-b3u","status":"SUCCESS","analysedAt":"2026-11-18T10:46:28+0100","revision":"c739069ec7105e01303e8b3065a81141aad9f129","changedAt":"2026-11-18T10:46:28+0100","project":{"key":"shop","name":"Shop","url":"https://sonar.example.com/dashboard?id=shop"},"branch":{"name":"42","type":"PULL_REQUEST","isMain":false,"url":"https://sonar.example.com/dashboard?id=shop&pullRequest=42"},"qualityGate":{"name":"Sonar way","status":"ERROR","conditions":[]},"properties":{}}"#;
        let p = parse(analysis).unwrap();
        assert_eq!((p.task_id.as_deref(), p.project.unwrap().key.as_str()), (Some("AVh21JS2JepAEhwQ-b3u"), "shop"));
        assert_eq!(p.branch.unwrap().kind, "PULL_REQUEST");
        let issue_change = br#"{"serverUrl":"https://sonar.example.com","analysedAt":"2026-11-18T10:46:28+0100","changedAt":"2026-11-18T11:02:00+0100","project":{"key":"shop","name":"Shop"},"branch":{"name":"main","type":"BRANCH","isMain":true},"qualityGate":{"status":"OK"},"properties":{}}"#;
        let p = parse(issue_change).unwrap();
        assert!(p.task_id.is_none() && p.branch.unwrap().is_main);
        assert!(parse(b"<html>").unwrap_err().starts_with("it is not the JSON document SonarQube sends"));
        assert!(parse(&vec![b' '; MAX_PAYLOAD_BYTES + 1]).unwrap_err().contains("bytes"));
    }
}
