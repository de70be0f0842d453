//! 大数据比对 — screening runs and the verification of what they find.
//!
//! [`ScreeningWorkflow`] runs a rule: its activity joins the next batch of
//! roster lines with the register in the database, records the new hits,
//! queues each one's [`SuspicionWorkflow`] start and moves the run's cursor,
//! all in one transaction — so a worker killed mid-run repeats at most the
//! batch that did not commit, and a hit is never recorded twice.
//! [`SuspicionWorkflow`] has the hit's owner verify it on the rule's days
//! (no article sets them) and the escalation ladder: confirmed, it becomes
//! a problem and, where the rule says so, a clue with source `big_data`;
//! dismissed, with the reason. Their SQL is in `store::screening`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiandu_domain::clue::{ClueSource, ClueState};
use jiandu_domain::flow::{
    CLUE_WORKFLOW, ClueStarted, SUSPICION_WORKFLOW, ScreeningRequested, SuspicionFound, start_key,
};
use jiandu_domain::org::Role;
use jiandu_domain::screening::{HitState, Rule};
use jiandu_domain::step::{Outcome, StepName, SubjectKind};
use serde::{Deserialize, Serialize};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

use crate::activities::{Assignee, now, rfc3339};
use crate::agenda::{self, Agenda, Flow, Step, Subject};
use crate::store::projections::{self, Queued};
use crate::store::screening as sql;
use crate::store::{self, Pool};

/// A failure no retry mends.
fn permanent(message: String) -> ActivityError {
    ActivityError::application(ApplicationFailure::non_retryable(anyhow::anyhow!(message)))
}

/// The screening workflow ([`jiandu_domain::flow::SCREENING_WORKFLOW`]); its id is the run id.
#[workflow]
#[derive(Default)]
pub struct ScreeningWorkflow;

#[workflow_methods]
impl ScreeningWorkflow {
    /// Joins batch after batch until every roster line the run covers is done.
    #[run(name = "ScreeningWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: ScreeningRequested,
    ) -> WorkflowResult<String> {
        loop {
            // Retried without limit, as every projection is: a database away
            // for a while delays the run, never loses a batch. A batch takes
            // well under a second; one cut off by a dead worker is retried.
            let progress = ctx
                .execute_activity(
                    ScreeningActivities::screen_batch,
                    input.run_id.clone(),
                    agenda::options(),
                )
                .await?;
            if progress.done {
                return Ok(format!(
                    "{} lines, {} new hits",
                    progress.rows_done, progress.hits
                ));
            }
        }
    }
}

/// A run's progress after a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProgress {
    /// Roster lines compared.
    pub rows_done: i64,
    /// New hits found.
    pub hits: i64,
    /// Whether every line is done.
    pub done: bool,
}

/// The verification of a suspicious record; its id is the hit id.
#[workflow]
#[derive(Default)]
pub struct SuspicionWorkflow {
    agenda: Agenda,
}

impl Flow for SuspicionWorkflow {
    const TYPE: &'static str = SUSPICION_WORKFLOW;
    fn agenda(&self) -> &Agenda {
        &self.agenda
    }
    fn agenda_mut(&mut self) -> &mut Agenda {
        &mut self.agenda
    }
}

#[workflow_methods]
impl SuspicionWorkflow {
    /// Has the owner verify the hit, then records what it became.
    #[run(name = "SuspicionWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: SuspicionFound,
    ) -> WorkflowResult<String> {
        let subject = Subject {
            kind: SubjectKind::Suspicion,
            id: input.hit_id.clone(),
        };
        let step = Step::new(
            StepName::SuspicionCheck,
            Assignee::Org(input.owner.clone()),
            Role::Staff,
        )
        .days(input.verify_days);
        let done = agenda::step(ctx, &subject, step).await?;
        if done.outcome == Outcome::Confirm {
            let confirmed = Confirmed {
                hit_id: input.hit_id.clone(),
                note: done.note.clone(),
                by: done.by.clone(),
                at: done.at.clone(),
            };
            agenda::projection(ctx, ScreeningActivities::confirm_hit, confirmed).await?;
            agenda::project(
                ctx,
                &subject,
                HitState::Confirmed.as_str(),
                "confirmed",
                done.note,
            )
            .await?;
            Ok("confirmed".to_owned())
        } else {
            agenda::project(
                ctx,
                &subject,
                HitState::Dismissed.as_str(),
                "dismissed",
                done.note,
            )
            .await?;
            Ok("dismissed".to_owned())
        }
    }

    /// Takes an event; repeats are dropped by key.
    #[signal(name = "event")]
    pub fn event(
        &mut self,
        _ctx: &mut SyncWorkflowContext<Self>,
        event: jiandu_domain::flow::FlowEvent,
    ) {
        self.agenda.deliver(event);
    }
}

/// A hit its owner confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    /// The hit.
    pub hit_id: String,
    /// What the owner found.
    pub note: Option<String>,
    /// Who confirmed it.
    pub by: String,
    /// When, RFC 3339.
    pub at: String,
}

/// The screening activities, with the database and the roster lines they
/// join per transaction.
pub struct ScreeningActivities {
    pool: Pool,
    batch: i64,
}

impl ScreeningActivities {
    /// The activities over `pool`, joining `batch` roster lines at a time.
    pub fn new(pool: Pool, batch: i64) -> Self {
        Self { pool, batch }
    }
}

/// A stored rule's definition, or a failure no retry mends.
fn rule_of(definition: &str, whose: &str) -> Result<Rule, ActivityError> {
    serde_json::from_str(definition).map_err(|e| permanent(format!("{whose}'s rule: {e}")))
}

impl ScreeningActivities {
    /// Joins the run's next batch, records its new hits with their
    /// workflows' starts and moves the cursor, in one transaction. Answers
    /// whether the run is done.
    async fn screen_one(&self, run_id: &str) -> Result<bool, ActivityError> {
        let mut tx = store::begin_write(&self.pool).await?;
        let run = sql::run(&mut tx, run_id)
            .await?
            .ok_or_else(|| permanent(format!("no screening run {run_id}")))?;
        if run.state == "done" {
            tx.rollback().await?;
            return Ok(true);
        }
        let rule = rule_of(&run.definition, &run.id)?;
        let at = rfc3339(now());
        let roster = rule.roster.as_str();
        let (upper, lines) = sql::next_batch(&mut tx, &run, roster, self.batch).await?;
        let upper = if lines == 0 { run.last_row } else { upper };
        let hits = sql::insert_hits(
            &mut tx,
            &run,
            roster,
            rule.register.as_str(),
            rule.join,
            rule.condition,
            upper,
            &at,
        )
        .await?;
        for hit in &hits {
            let found = SuspicionFound {
                hit_id: hit.id.clone(),
                owner: hit.owner_org.clone(),
                verify_days: rule.verify_days,
            };
            let payload = serde_json::to_string(&found)?;
            let key = start_key(&hit.id);
            let queued = Queued {
                kind: "start",
                workflow_type: SUSPICION_WORKFLOW,
                workflow_id: &hit.id,
                signal: None,
                payload: &payload,
                key: &key,
                at: &at,
            };
            projections::queue(&mut tx, queued).await?;
        }
        // The run finishes when its last batch is joined, not when it began.
        let finished = rfc3339(now());
        if sql::advance(&mut tx, &run, upper, lines, hits.len() as i64, &finished).await? {
            tx.commit().await?;
            tracing::info!(run = %run.id, rule = %run.rule_id, through = upper, lines, new_hits = hits.len(), "screened a batch");
            Ok(upper >= run.last_row)
        } else {
            // Another attempt moved the cursor first; read where it stands.
            tx.rollback().await?;
            Ok(false)
        }
    }
}

/// How long one `screen_batch` call keeps taking batches: well inside the
/// activity's 60-second start-to-close timeout, so that a call is never cut
/// off while it is alive, and short enough that a killed worker's call is
/// retried soon.
const SCREENING_SLICE: Duration = Duration::from_secs(20);

#[activities]
impl ScreeningActivities {
    /// Screens batch after batch (each one transaction, see `screen_one`)
    /// for up to [`SCREENING_SLICE`], heartbeating the lines done after each,
    /// then answers the run's progress; the workflow calls again until the
    /// run is done. One call per batch cost a workflow task and an activity
    /// round trip each, which was most of a run's time.
    #[activity(name = "screen_batch")]
    pub async fn screen_batch(
        self: Arc<Self>,
        ctx: ActivityContext,
        run_id: String,
    ) -> Result<RunProgress, ActivityError> {
        let started = Instant::now();
        while !self.screen_one(&run_id).await? && started.elapsed() < SCREENING_SLICE {
            let progress = sql::progress(&self.pool, &run_id).await?;
            let _ = ctx.record_heartbeat(progress.rows_done).await;
        }
        let progress = sql::progress(&self.pool, &run_id).await?;
        Ok(RunProgress {
            rows_done: progress.rows_done,
            hits: progress.hits,
            done: progress.done,
        })
    }

    /// Records the problem a confirmed hit is and, where its rule says so,
    /// registers its clue and queues the clue's workflow.
    #[activity(name = "confirm_hit")]
    pub async fn confirm_hit(
        self: Arc<Self>,
        _ctx: ActivityContext,
        confirmed: Confirmed,
    ) -> Result<(), ActivityError> {
        let hit = sql::hit(&self.pool, &confirmed.hit_id)
            .await?
            .ok_or_else(|| permanent(format!("no hit {}", confirmed.hit_id)))?;
        let rule = rule_of(&hit.definition, &hit.id)?;
        let description = format!(
            "{}: {} on the {} list, line {} of import {}{}",
            rule.name,
            hit.id_masked
                .as_deref()
                .unwrap_or("a person without an ID number"),
            hit.list,
            hit.line,
            hit.import_id,
            confirmed
                .note
                .as_deref()
                .map(|n| format!("; verified: {n}"))
                .unwrap_or_default(),
        );
        let problem_id = format!("{}-P", hit.id);
        let problem = sql::HitProblem {
            id: &problem_id,
            hit_id: &hit.id,
            org: &hit.commission,
            responsible_org: &hit.owner_org,
            category: &rule.category,
            description: &description,
            by: &confirmed.by,
            at: &confirmed.at,
        };
        let mut tx = store::begin_write(&self.pool).await?;
        sql::insert_problem(&mut tx, &problem).await?;
        if rule.clue {
            let clue_id = format!("{}-C", hit.id);
            let state = ClueState::Assignment.as_str();
            if sql::insert_clue(&mut tx, &clue_id, &problem, state).await? {
                let started = ClueStarted {
                    clue_id: clue_id.clone(),
                    source: ClueSource::BigData,
                    report_id: None,
                    registered_at: confirmed.at.clone(),
                    org: hit.commission.clone(),
                    subject_org: Some(hit.owner_org.clone()),
                    basis: None,
                };
                let payload = serde_json::to_string(&started)?;
                let key = start_key(&clue_id);
                let queued = Queued {
                    kind: "start",
                    workflow_type: CLUE_WORKFLOW,
                    workflow_id: &clue_id,
                    signal: None,
                    payload: &payload,
                    key: &key,
                    at: &confirmed.at,
                };
                projections::queue(&mut tx, queued).await?;
            }
        }
        tx.commit().await?;
        tracing::info!(hit = %hit.id, problem = %problem_id, clue = rule.clue, "suspicious record confirmed");
        Ok(())
    }
}
