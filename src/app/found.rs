//! Analyses found on the server instead of through report-task.txt: when the analysis ran in an
//! earlier stage or another job, `projectKey` names the projects, and each one's analysis of this
//! build is chosen among the server's tasks (`decide::found`), then waited for like any other.

use std::path::PathBuf;

use crate::decide;
use crate::error::Error;
use crate::pipeline::Log;
use crate::settings::Settings;
use crate::sonar::SonarClient;
use crate::sonar::model::CeTask;
use crate::sonar::report_task::ReportTask;

/// Each `projectKey` project's analysis of this build, with the task as read (the first poll).
/// The project's queue and latest analysis (`api/ce/component`, 'Browse') are read first; its
/// tasks since the run started (`api/ce/activity`, which SonarQube keeps to project
/// administrators) only when those do not have it.
pub(super) fn find_on_server(settings: &Settings, sonar: &SonarClient, log: &Log) -> Result<Vec<(ReportTask, CeTask)>, Error> {
    let started = settings.pipeline_started;
    let pull_request = settings.target.pull_request().map(|t| t.id);
    let names = settings.names.sonar();
    let mut found = Vec::new();
    for key in &settings.sonar.project_keys {
        let component = sonar.ce_component(key)?;
        let mut tasks: Vec<CeTask> = component.queue;
        tasks.extend(component.current);
        let mut chosen = decide::found::choose_task(key, &tasks, pull_request, started);
        if let (Err(_), Some(start)) = (&chosen, started) {
            let since = crate::pipeline::time::sonar_date_time(start.checked_sub(decide::provenance::CLOCK_SKEW).unwrap_or(start));
            match sonar.ce_activity(key, &since)? {
                Some(activity) => {
                    tasks.extend(activity);
                    chosen = decide::found::choose_task(key, &tasks, pull_request, started);
                }
                None => log.info(&format!(
                    "the token may not list the past analysis tasks of '{key}' (SonarQube's api/ce/activity asks for 'Administer' on the project): only its queue and its latest analysis were searched"
                )),
            }
        }
        let chosen = chosen.map_err(|why| {
            Error::ReportTask(format!(
                "{why}. To use a report instead, publish the analysis step's report-task.txt as a pipeline artifact, download it in this job and name it in {}",
                names.report_task_file
            ))
        })?;
        log.info(&chosen.why);
        found.push((report_of(settings, key, &chosen.task), chosen.task));
    }
    Ok(found)
}

/// What a report-task.txt would have said of a task found on the server.
fn report_of(settings: &Settings, key: &str, task: &CeTask) -> ReportTask {
    ReportTask {
        path: PathBuf::from(format!("(no report-task.txt: task {} found on SonarQube by project key)", task.id)),
        project_key: key.to_string(),
        server_url: settings.sonar.url.clone(),
        server_version: None,
        organization: settings.sonar.organization.clone(),
        branch: task.branch.clone(),
        dashboard_url: None,
        ce_task_id: task.id.clone(),
        pull_request: task.pull_request.clone(),
        credentials: None,
    }
}
