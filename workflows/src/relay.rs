//! The outbox relay: moves rows written by components and activities into
//! Temporal. A start uses the domain id as the workflow id and counts "already
//! started" as success; a signal carries its idempotency key, by which the
//! workflow drops repeats. At least once, in order per workflow, with backoff
//! while Temporal is away. A crash between delivering and marking a row only
//! delivers it again, which both rules make harmless.
//!
//! Several workers may relay one outbox. On PostgreSQL each claims a
//! workflow (a session advisory lock) before delivering its rows and reads
//! them again once it holds the claim, so a row goes out once and in order
//! while its claimant lives; a worker that dies drops its claims with its
//! connection. On SQLite (one machine) every relay may deliver a row, and
//! the two rules above make the repeats harmless.
//!
//! Temporal's answer decides what happens to a row that is not delivered:
//! while Temporal is away everything waits; a row that fails for a reason
//! that may pass is retried up to [`MAX_ATTEMPTS`] times; a row refused for
//! good (a closed or missing workflow, a wrong namespace, no permission, a
//! payload that does not fit) is dead-lettered at once. A dead row is
//! logged, counted, shown at `GET /api/v1/admin/outbox` and can be requeued
//! there; later rows of its workflow wait behind it instead of overtaking it.

use std::collections::HashMap;

use futures::StreamExt as _;
use std::time::Duration;

use crate::store::outbox::{self, Pending};
use crate::store::{Backend, Pool};
use jiandu_domain::flow::{
    CAMPAIGN_WORKFLOW, CLUE_WORKFLOW, CampaignStarted, ClueStarted, DETENTION_WORKFLOW,
    DetentionRequested, EVENT_SIGNAL, EXPORT_WORKFLOW, ExportRequested, FlowEvent,
    RECTIFICATION_WORKFLOW, REPORT_WORKFLOW, RISK_WARNING_WORKFLOW, RectificationStarted,
    ReportStarted, RiskWarned, SCREENING_WORKFLOW, SUSPICION_WORKFLOW, ScreeningRequested,
    SuspicionFound,
};
use serde::de::DeserializeOwned;
use temporalio_client::errors::{WorkflowInteractionError, WorkflowStartError};
use temporalio_client::tonic;
use temporalio_client::{
    Client, WorkflowIdReusePolicy, WorkflowSignalOptions, WorkflowStartOptions,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;

use crate::campaign::CampaignWorkflow;
use crate::clue::ClueWorkflow;
use crate::detention::DetentionWorkflow;
use crate::export::ExportWorkflow;
use crate::rectification::RectificationWorkflow;
use crate::report::ReportWorkflow;
use crate::sanzi::RiskWarningWorkflow;
use crate::screening::{ScreeningWorkflow, SuspicionWorkflow};

/// Failures that may pass after which a row is dead-lettered anyway.
const MAX_ATTEMPTS: i64 = 20;

/// Why a row was not delivered.
#[derive(Debug, thiserror::Error)]
enum Undelivered {
    /// Temporal could not be reached; try everything again later.
    #[error("Temporal is unavailable: {0}")]
    Unavailable(String),
    /// This row failed for a reason that may pass; it is retried, and later
    /// rows of the same workflow wait behind it.
    #[error("{0}")]
    Failed(String),
    /// This row was refused for good: it is dead-lettered.
    #[error("{0}")]
    Refused(String),
}

/// The relay's settings.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// The database the outbox is in: on PostgreSQL several workers relay
    /// together, each workflow's rows claimed by one at a time.
    pub backend: Backend,
    /// The task queue workflows start on.
    pub task_queue: String,
    /// Rows read per pass.
    pub batch: u32,
    /// How long to wait when there is nothing to do.
    pub poll: Duration,
}

/// Relays until `stop` turns true.
pub async fn run(
    pool: Pool,
    client: Client,
    settings: RelaySettings,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::ZERO;
    while !*stop.borrow() {
        let wait = match pass(&pool, &client, &settings).await {
            Ok(0) => {
                backoff = Duration::ZERO;
                settings.poll
            }
            Ok(_) => {
                backoff = Duration::ZERO;
                continue;
            }
            Err(e) => {
                backoff = (backoff * 2).clamp(Duration::from_millis(250), Duration::from_secs(10));
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "relay paused");
                backoff
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Why a pass stopped early.
#[derive(Debug, thiserror::Error)]
enum PassError {
    /// The outbox could not be read or marked.
    #[error("outbox: {0}")]
    Database(#[from] sqlx::Error),
    /// Temporal could not be reached.
    #[error(transparent)]
    Outage(Undelivered),
}

/// Workflows whose rows are delivered at once; each workflow's own rows go one by one.
const CONCURRENT_WORKFLOWS: usize = 16;

/// One pass over the pending rows; returns how many were delivered.
async fn pass(pool: &Pool, client: &Client, settings: &RelaySettings) -> Result<usize, PassError> {
    // Pending rows, but none behind a dead row of the same workflow.
    let rows = outbox::pending(pool, settings.batch).await?;
    // Group by workflow, keeping each workflow's rows in outbox order.
    let mut groups: Vec<Vec<Pending>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let slot = *index.entry(row.workflow_id.clone()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push(row);
    }
    match settings.backend {
        Backend::Sqlite => deliver_groups(pool, client, settings, groups).await,
        Backend::Postgres => {
            // Other workers may be relaying too: claim each workflow on a
            // connection of its own (its session holds the claims), and
            // release them all whatever happens; a connection that cannot
            // release them is closed, which does.
            let mut claims = pool.acquire().await?;
            let outcome = claim_and_deliver(&mut claims, pool, client, settings, groups).await;
            let released = outbox::release_claims(&mut claims).await;
            if released.is_err() {
                let _ = claims.close().await;
            }
            outcome
        }
    }
}

/// Claims each workflow that no other worker holds, reads its rows again
/// once claimed — from its oldest pending one, so none goes out twice and
/// none overtakes another — and delivers them.
async fn claim_and_deliver(
    claims: &mut sqlx::AnyConnection,
    pool: &Pool,
    client: &Client,
    settings: &RelaySettings,
    groups: Vec<Vec<Pending>>,
) -> Result<usize, PassError> {
    let mut claimed = Vec::with_capacity(groups.len());
    for group in groups {
        let workflow = &group[0].workflow_id;
        let won = outbox::claim(claims, workflow).await?;
        if won {
            claimed.push(outbox::pending_of(claims, workflow).await?);
        }
    }
    deliver_groups(pool, client, settings, claimed).await
}

/// Delivers each workflow's rows in order, several workflows at once.
async fn deliver_groups(
    pool: &Pool,
    client: &Client,
    settings: &RelaySettings,
    groups: Vec<Vec<Pending>>,
) -> Result<usize, PassError> {
    let results: Vec<Result<usize, PassError>> = futures::stream::iter(groups)
        .filter(|group| std::future::ready(!group.is_empty()))
        .map(|group| deliver_in_order(pool, client, &settings.task_queue, group))
        .buffer_unordered(CONCURRENT_WORKFLOWS)
        .collect()
        .await;
    let mut delivered = 0;
    for result in results {
        delivered += result?;
    }
    Ok(delivered)
}

/// Delivers one workflow's rows in order, stopping at the first that fails:
/// the rows after it wait, so the workflow never sees them out of order.
async fn deliver_in_order(
    pool: &Pool,
    client: &Client,
    task_queue: &str,
    rows: Vec<Pending>,
) -> Result<usize, PassError> {
    let mut delivered = 0;
    for row in rows {
        match deliver(client, task_queue, &row).await {
            Ok(()) => {
                outbox::mark_delivered(pool, row.id, &now()).await?;
                delivered += 1;
                tracing::info!(
                    outbox = row.id,
                    kind = %row.kind,
                    workflow = %row.workflow_id,
                    key = %row.idempotency_key,
                    "relayed"
                );
            }
            Err(Undelivered::Unavailable(e)) => {
                // An outage is nobody's fault: it counts against no row.
                outbox::note_waiting(pool, row.id, &e).await?;
                return Err(PassError::Outage(Undelivered::Unavailable(e)));
            }
            Err(e) => {
                let permanent = matches!(e, Undelivered::Refused(_));
                let dead = outbox::count_failure(
                    pool,
                    row.id,
                    &e.to_string(),
                    permanent,
                    MAX_ATTEMPTS,
                    &now(),
                )
                .await?;
                if dead.is_some() {
                    let dead_letters = outbox::dead_letters(pool).await?;
                    tracing::error!(
                        outbox = row.id,
                        workflow = %row.workflow_id,
                        reason = %e,
                        dead_letters,
                        "row dead-lettered; later rows of this workflow wait until it is requeued (GET /api/v1/admin/outbox)"
                    );
                } else {
                    tracing::warn!(outbox = row.id, workflow = %row.workflow_id, reason = %e, "row failed; it is retried and later rows of this workflow wait");
                }
                return Ok(delivered);
            }
        }
    }
    Ok(delivered)
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .expect("UTC times format as RFC 3339")
}

fn parse<T: DeserializeOwned>(row: &Pending) -> Result<T, Undelivered> {
    serde_json::from_str(&row.payload).map_err(|e| {
        Undelivered::Refused(format!("payload does not fit {:?}: {e}", row.workflow_type))
    })
}

/// What a gRPC status means for a row: Temporal is away (everything waits),
/// the row failed for a reason that may pass (retried), or it was refused
/// for good (dead-lettered).
fn classify(status: &tonic::Status) -> Undelivered {
    use tonic::Code;
    let said = format!("{:?}: {}", status.code(), status.message());
    match status.code() {
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::Unknown
        | Code::Cancelled
        | Code::ResourceExhausted => Undelivered::Unavailable(said),
        Code::Aborted | Code::Internal => Undelivered::Failed(said),
        Code::Ok
        | Code::NotFound
        | Code::InvalidArgument
        | Code::PermissionDenied
        | Code::Unauthenticated
        | Code::FailedPrecondition
        | Code::AlreadyExists
        | Code::OutOfRange
        | Code::Unimplemented
        | Code::DataLoss => Undelivered::Refused(said),
    }
}

async fn deliver(client: &Client, task_queue: &str, row: &Pending) -> Result<(), Undelivered> {
    let workflow_type = row.workflow_type.as_deref().unwrap_or_default();
    match row.kind.as_str() {
        "start" => {
            // A workflow id is used once: a repeat start, even after the
            // workflow finished, is refused by Temporal and counts as done.
            let options = WorkflowStartOptions::new(task_queue, &row.workflow_id)
                .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
                .build();
            let started = match workflow_type {
                REPORT_WORKFLOW => client
                    .start_workflow(ReportWorkflow::run, parse::<ReportStarted>(row)?, options)
                    .await
                    .map(drop),
                CLUE_WORKFLOW => client
                    .start_workflow(ClueWorkflow::run, parse::<ClueStarted>(row)?, options)
                    .await
                    .map(drop),
                DETENTION_WORKFLOW => client
                    .start_workflow(
                        DetentionWorkflow::run,
                        parse::<DetentionRequested>(row)?,
                        options,
                    )
                    .await
                    .map(drop),
                CAMPAIGN_WORKFLOW => client
                    .start_workflow(
                        CampaignWorkflow::run,
                        parse::<CampaignStarted>(row)?,
                        options,
                    )
                    .await
                    .map(drop),
                RECTIFICATION_WORKFLOW => client
                    .start_workflow(
                        RectificationWorkflow::run,
                        parse::<RectificationStarted>(row)?,
                        options,
                    )
                    .await
                    .map(drop),
                EXPORT_WORKFLOW => client
                    .start_workflow(ExportWorkflow::run, parse::<ExportRequested>(row)?, options)
                    .await
                    .map(drop),
                SCREENING_WORKFLOW => client
                    .start_workflow(
                        ScreeningWorkflow::run,
                        parse::<ScreeningRequested>(row)?,
                        options,
                    )
                    .await
                    .map(drop),
                SUSPICION_WORKFLOW => client
                    .start_workflow(
                        SuspicionWorkflow::run,
                        parse::<SuspicionFound>(row)?,
                        options,
                    )
                    .await
                    .map(drop),
                RISK_WARNING_WORKFLOW => client
                    .start_workflow(RiskWarningWorkflow::run, parse::<RiskWarned>(row)?, options)
                    .await
                    .map(drop),
                other => {
                    return Err(Undelivered::Refused(format!(
                        "unknown workflow type `{other}`"
                    )));
                }
            };
            match started {
                Ok(()) | Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
                Err(WorkflowStartError::Rpc(status)) => Err(classify(&status)),
                Err(e @ WorkflowStartError::PayloadConversion(_)) => {
                    Err(Undelivered::Refused(e.to_string()))
                }
                Err(e) => Err(Undelivered::Failed(e.to_string())),
            }
        }
        "signal" if row.signal_name.as_deref() == Some(EVENT_SIGNAL) => {
            let event: FlowEvent = parse(row)?;
            let options = WorkflowSignalOptions::builder()
                .request_id(row.idempotency_key.clone())
                .build();
            let signalled = match workflow_type {
                REPORT_WORKFLOW => {
                    client
                        .get_workflow_handle::<ReportWorkflow>(&row.workflow_id)
                        .signal(ReportWorkflow::event, event, options)
                        .await
                }
                CLUE_WORKFLOW => {
                    client
                        .get_workflow_handle::<ClueWorkflow>(&row.workflow_id)
                        .signal(ClueWorkflow::event, event, options)
                        .await
                }
                DETENTION_WORKFLOW => {
                    client
                        .get_workflow_handle::<DetentionWorkflow>(&row.workflow_id)
                        .signal(DetentionWorkflow::event, event, options)
                        .await
                }
                CAMPAIGN_WORKFLOW => {
                    client
                        .get_workflow_handle::<CampaignWorkflow>(&row.workflow_id)
                        .signal(CampaignWorkflow::event, event, options)
                        .await
                }
                RECTIFICATION_WORKFLOW => {
                    client
                        .get_workflow_handle::<RectificationWorkflow>(&row.workflow_id)
                        .signal(RectificationWorkflow::event, event, options)
                        .await
                }
                SUSPICION_WORKFLOW => {
                    client
                        .get_workflow_handle::<SuspicionWorkflow>(&row.workflow_id)
                        .signal(SuspicionWorkflow::event, event, options)
                        .await
                }
                RISK_WARNING_WORKFLOW => {
                    client
                        .get_workflow_handle::<RiskWarningWorkflow>(&row.workflow_id)
                        .signal(RiskWarningWorkflow::event, event, options)
                        .await
                }
                other => {
                    return Err(Undelivered::Refused(format!(
                        "unknown workflow type `{other}`"
                    )));
                }
            };
            match signalled {
                Ok(()) => Ok(()),
                Err(
                    WorkflowInteractionError::Rpc(status)
                    | WorkflowInteractionError::NotFound(status),
                ) => Err(classify(&status)),
                Err(e @ WorkflowInteractionError::PayloadConversion(_)) => {
                    Err(Undelivered::Refused(e.to_string()))
                }
                Err(e) => Err(Undelivered::Failed(e.to_string())),
            }
        }
        other => Err(Undelivered::Refused(format!(
            "unknown outbox row kind `{other}` / signal {:?}",
            row.signal_name
        ))),
    }
}
