//! A change as one transaction: the rows it writes, its System Log events, the jobs it
//! asks for and the provisioning jobs the planner finds ([`crate::plan`]), committed
//! together or not at all, and the workers woken after the commit. Every store method
//! that changes something an event or a job goes with uses it, so none can forget one.

use crate::events;
use crate::jobs::{enqueue, NewJob};
use crate::plan::{Affected, Plan};
use crate::{Result, Store};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::OrgId;
use idhub_domain::time::Millis;
use sqlx::{Any, AnyConnection, Transaction};
use std::collections::BTreeMap;

/// A write under way. Dropping it without [`Write::commit`] rolls everything back.
pub(crate) struct Write<'s> {
    store: &'s Store,
    tx: Transaction<'static, Any>,
    org: OrgId,
    plans: Vec<Plan>,
    passwords: BTreeMap<String, String>,
}

impl<'s> Write<'s> {
    /// A write in `org` that plans no provisioning.
    pub(crate) async fn begin(store: &'s Store, org: &OrgId) -> Result<Write<'s>> {
        let tx = store.write_pool().begin().await?;
        Ok(Write { store, tx, org: org.clone(), plans: vec![], passwords: BTreeMap::new() })
    }

    /// A write that may change who reaches which provisioned app: the planner records,
    /// before the change, what `affected` reaches, and enqueues at commit the sync jobs
    /// of what changed.
    pub(crate) async fn planning(store: &'s Store, org: &OrgId, affected: Affected) -> Result<Write<'s>> {
        let mut w = Write::begin(store, org).await?;
        w.plan(affected).await?;
        Ok(w)
    }

    /// Plan for `affected` too (a change that touches several apps' assignments).
    pub(crate) async fn plan(&mut self, affected: Affected) -> Result<()> {
        let plan = Plan::start(&mut self.tx, &self.org, affected).await?;
        self.plans.push(plan);
        Ok(())
    }

    /// The transaction's connection, for the change's own statements.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Sealed new passwords (app id → sealed) for the sync jobs of apps that sync them.
    pub(crate) fn with_passwords(&mut self, passwords: BTreeMap<String, String>) {
        self.passwords = passwords;
    }

    /// Write the events, the jobs and the planned sync jobs, commit, and wake the
    /// workers. Returns how many jobs were added.
    pub(crate) async fn commit(mut self, events: &[NewEvent], jobs: &[NewJob], now: Millis) -> Result<usize> {
        events::insert(&mut self.tx, &self.org, events, now).await?;
        for job in jobs {
            enqueue(&mut self.tx, job, now).await?;
        }
        let mut planned = 0;
        for plan in std::mem::take(&mut self.plans) {
            planned += plan.finish(&mut self.tx, now, &self.passwords).await?;
        }
        self.tx.commit().await?;
        let added = jobs.len() + planned;
        self.store.jobs_added(added);
        Ok(added)
    }
}
