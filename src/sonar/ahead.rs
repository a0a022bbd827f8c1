//! Answers read before they are needed: what no finished analysis changes (the server's metric
//! names, the gate each project uses) is asked beside the first poll of the analyses, so the
//! reads after the analysis do not wait for it. The first call that needs an answer takes it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::error::Error;
use crate::parallel::Pending;

type MetricNames = Result<BTreeMap<String, String>, Error>;
/// A project's gate by name: `Ok(None)` when the server would not say.
type GateName = Result<Option<String>, Error>;

/// Reads under way, shared by a client's clones.
#[derive(Default)]
pub(crate) struct Ahead {
    metric_names: Mutex<Option<Pending<'static, MetricNames>>>,
    gates: Mutex<Vec<(String, Pending<'static, GateName>)>>,
}

impl Ahead {
    pub(crate) fn put_metric_names(&self, read: Pending<'static, MetricNames>) {
        *self.metric_names.lock().unwrap_or_else(|p| p.into_inner()) = Some(read);
    }

    pub(crate) fn put_gate(&self, project_key: &str, read: Pending<'static, GateName>) {
        self.gates.lock().unwrap_or_else(|p| p.into_inner()).push((project_key.to_string(), read));
    }

    /// The metric names read ahead, awaited; `None` when none were read or the read failed (the
    /// caller reads them again, so a failure is reported as the caller's own).
    pub(crate) fn metric_names(&self) -> Option<BTreeMap<String, String>> {
        let read = self.metric_names.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        read.wait().ok()
    }

    /// `project_key`'s gate read ahead, awaited; `None` as for `metric_names`.
    pub(crate) fn gate(&self, project_key: &str) -> Option<Option<String>> {
        let read = {
            let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
            let at = gates.iter().position(|(key, _)| key == project_key)?;
            gates.swap_remove(at).1
        };
        read.wait().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_is_taken_once_and_a_failed_read_is_no_answer() {
        let ahead = Ahead::default();
        assert_eq!(ahead.metric_names(), None);
        ahead.put_metric_names(Pending::ready(Ok(BTreeMap::from([("coverage".to_string(), "Coverage".to_string())]))));
        assert_eq!(ahead.metric_names().unwrap()["coverage"], "Coverage");
        assert_eq!(ahead.metric_names(), None, "taken once");
        ahead.put_gate("shop", Pending::ready(Ok(Some("Sonar way".into()))));
        ahead.put_gate("api", Pending::ready(Ok(None)));
        ahead.put_gate("web", Pending::ready(Err(Error::Api { service: crate::error::Service::SonarQube, message: "down".into() })));
        assert_eq!(ahead.gate("other"), None);
        assert_eq!(ahead.gate("api"), Some(None), "the server would not say: an answer all the same");
        assert_eq!(ahead.gate("web"), None, "a failed read is read again by the caller");
        assert_eq!(ahead.gate("shop"), Some(Some("Sonar way".into())));
        assert_eq!(ahead.gate("shop"), None, "taken once");
    }
}
