//! Tasks: provisioning jobs that failed for good, which an administrator retries (queued
//! again) or dismisses, from the API or the console alike.

use crate::{Actor, Core, CoreError};
use idhub_domain::event::{NewEvent, Party};
use idhub_store::jobs::Job;
use idhub_store::orgs::Org;
use idhub_store::StoreError;

/// What to do with a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    Retry,
    Dismiss,
}

impl TaskAction {
    /// `retry` or `dismiss`.
    pub fn parse(s: &str) -> Option<TaskAction> {
        match s {
            "retry" => Some(TaskAction::Retry),
            "dismiss" => Some(TaskAction::Dismiss),
            _ => None,
        }
    }
}

/// Retry or dismiss an open task; returns the job as it is now.
pub async fn resolve(core: &Core, org: &Org, actor: &Actor, id: &str, action: TaskAction) -> Result<Job, CoreError> {
    let retry = action == TaskAction::Retry;
    let ev = NewEvent::success(
        if retry { "system.task.retry" } else { "system.task.dismiss" },
        if retry { "Retry task" } else { "Dismiss task" },
        actor.party.clone(),
        vec![Party::new(id, "Task", id, id)],
        actor.client.clone(),
    );
    match core.store.resolve_task(&org.id, id, retry, core.now(), &[ev]).await {
        Ok(()) => Ok(core.store.get_job(&org.id, id).await?),
        Err(StoreError::NotFound) => Err(CoreError::not_found(format!("{id} (Task)"))),
        Err(e) => Err(e.into()),
    }
}
