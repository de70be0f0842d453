//! The messages between the API and the workflows: what starts a workflow
//! and what is signalled to it. Components write them to the outbox; the
//! relay delivers them; workflows read them. Shared here so both sides agree.

use serde::{Deserialize, Serialize};

use crate::clue::ClueSource;
use crate::step::Outcome;

/// The workflow type that takes over a report.
pub const REPORT_WORKFLOW: &str = "ReportWorkflow";
/// The workflow type that takes over a clue.
pub const CLUE_WORKFLOW: &str = "ClueWorkflow";
/// The workflow type that reviews and runs a detention.
pub const DETENTION_WORKFLOW: &str = "DetentionWorkflow";
/// The workflow type that takes a problem through rectification and 回头看.
pub const RECTIFICATION_WORKFLOW: &str = "RectificationWorkflow";
/// The workflow type that runs a campaign's participants through their steps.
pub const CAMPAIGN_WORKFLOW: &str = "CampaignWorkflow";
/// The workflow type that writes a ledger export's file.
pub const EXPORT_WORKFLOW: &str = "ExportWorkflow";
/// The workflow type that runs a screening rule over its lists.
pub const SCREENING_WORKFLOW: &str = "ScreeningWorkflow";
/// The workflow type that has a suspicious record (疑点) verified.
pub const SUSPICION_WORKFLOW: &str = "SuspicionWorkflow";
/// 三资预警 — the check of a risk warning on a village's contract or payment.
pub const RISK_WARNING_WORKFLOW: &str = "RiskWarningWorkflow";
/// The one signal every workflow takes.
pub const EVENT_SIGNAL: &str = "event";

/// What the commission a late step was elevated to (提级) does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ElevationAction {
    /// A new due date (YYYY-MM-DD, China time); missing it is pressed again.
    SetDue {
        /// The new last day on time.
        due_date: String,
    },
    /// The commission does the step itself.
    TakeOver,
}

/// Starts a [`REPORT_WORKFLOW`]; its id is the report id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportStarted {
    /// The report's id.
    pub report_id: String,
    /// Whether the reporter gave a name (notices are owed only then).
    pub real_name: bool,
    /// When the report was received, RFC 3339.
    pub received_at: String,
    /// The commission that holds it (the one serving its division).
    pub org: String,
    /// Set when the report is a complaint (投诉) against a disclosed item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint: Option<Complaint>,
}

/// 投诉 — what a complaint against a disclosed item is about: the item's
/// division runs its closed loop, under the commission's review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Complaint {
    /// The disclosed item.
    pub item_id: String,
    /// The org that disclosed it, which accepts, assigns and answers.
    pub division: String,
}

/// Starts a [`CLUE_WORKFLOW`]; its id is the clue id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClueStarted {
    /// The clue's id.
    pub clue_id: String,
    /// Where it came from.
    pub source: ClueSource,
    /// The report it came from, whose workflow hears when it closes.
    pub report_id: Option<String>,
    /// When it was registered, RFC 3339.
    pub registered_at: String,
    /// The commission that holds it.
    pub org: String,
    /// The org the person concerned belongs to (where a 函询 goes), if known.
    pub subject_org: Option<String>,
    /// Why the clue is held one level up (提级监督), to show on its tasks.
    #[serde(default)]
    pub basis: Option<String>,
}

/// Starts a [`DETENTION_WORKFLOW`]; its id is [`detention_workflow_id`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetentionRequested {
    /// The clue (case) it belongs to.
    pub clue_id: String,
    /// The collective decision that requested it.
    pub decision_id: String,
    /// When it was requested, RFC 3339.
    pub requested_at: String,
    /// The commission that requests it; the one above it must approve.
    pub org: String,
    /// Who asked (the token's subject): never the one who approves.
    pub requested_by: String,
}

/// Starts a [`RECTIFICATION_WORKFLOW`]; its id is the problem id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RectificationStarted {
    /// The problem.
    pub problem_id: String,
    /// The org that must rectify it.
    pub owner: String,
    /// The org that verifies and re-checks it.
    pub supervisor: String,
    /// Why the supervisor is not the owner's own (提级监督), to show on its tasks.
    pub basis: Option<String>,
    /// When it was handed over, RFC 3339: the owner's deadline counts from here.
    pub handed_at: String,
    /// The owner's time in months (the policy's span is 2, 巡视工作条例).
    pub months: u32,
    /// Months from passing to the 回头看, replacing the policy's 6.
    pub recheck_after_months: Option<u32>,
}

/// Starts a [`CAMPAIGN_WORKFLOW`]; its id is the campaign id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignStarted {
    /// The campaign.
    pub campaign_id: String,
    /// The commission that leads it and checks each participant on site.
    pub org: String,
    /// The departments and townships taking part.
    pub participants: Vec<String>,
    /// Days each participant has for its self-inspection report.
    pub self_inspection_days: u32,
    /// Days the commission has for each on-site check.
    pub joint_check_days: u32,
    /// Days each participant has for its rectification report.
    pub rectification_days: u32,
}

/// Starts an [`EXPORT_WORKFLOW`]; its id is the export id. What to write
/// (the ledger, format and orgs) is on the export's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequested {
    /// The export.
    pub export_id: String,
}

/// Starts a [`SCREENING_WORKFLOW`]; its id is the run id. What to join
/// (the rule and its lists) is on the run's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningRequested {
    /// The run.
    pub run_id: String,
}

/// Starts a [`SUSPICION_WORKFLOW`]; its id is the hit id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuspicionFound {
    /// The suspicious record.
    pub hit_id: String,
    /// The org that verifies it (the roster line's township or department).
    pub owner: String,
    /// Days it has (the rule's).
    pub verify_days: u32,
}

/// Starts a [`RISK_WARNING_WORKFLOW`]; its id is the warning id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskWarned {
    /// The warning.
    pub warning_id: String,
    /// The township whose 三资 office checks it.
    pub owner: String,
}

/// The outbox key of a workflow's start: one start per workflow id, however
/// often it is written.
pub fn start_key(workflow_id: &str) -> String {
    format!("start:{workflow_id}")
}

/// The one statement that queues work for the relay, for components and
/// activities alike: `$1` kind (`start` or `signal`), `$2` workflow type,
/// `$3` workflow id, `$4` signal name (NULL for a start), `$5` JSON payload,
/// `$6` idempotency key, `$7` when (RFC 3339). A key already queued is
/// the same work, so it is written once. Numbered placeholders, which
/// SQLite and PostgreSQL both take, through `spin:sqlite`, `spin:postgres`
/// and sqlx alike.
pub const OUTBOX_INSERT: &str = "INSERT INTO outbox (kind, workflow_type, workflow_id, signal_name, payload, idempotency_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (idempotency_key) DO NOTHING";

/// The workflow id of a clue's detention.
pub fn detention_workflow_id(clue_id: &str) -> String {
    format!("{clue_id}-detention")
}

/// A message to a running workflow, delivered at least once; workflows drop
/// repeats by `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowEvent {
    /// The idempotency key.
    pub key: String,
    /// What happened.
    pub kind: EventKind,
}

/// What a [`FlowEvent`] says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A human step was done.
    TaskCompleted {
        /// The task.
        task_id: String,
        /// One of the task's outcomes.
        outcome: Outcome,
        /// A free-text report or reason.
        note: Option<String>,
        /// A structured detail: the competent commission for a transfer,
        /// `own_head` for a report about this commission's head, ...
        detail: Option<String>,
        /// The collective decision it rests on, where one is needed.
        decision_id: Option<String>,
        /// Who did it (the token's subject).
        by: String,
        /// When they did it, RFC 3339.
        at: String,
    },
    /// Another clue was registered from a report; the report waits for it too.
    ClueOpened {
        /// The clue.
        clue_id: String,
    },
    /// A clue that came from a report was closed.
    ClueClosed {
        /// The clue.
        clue_id: String,
        /// How it ended.
        result: String,
    },
    /// The reporter rated the answer or objected to it.
    Feedback {
        /// 1 to 5, when the reporter rated the answer.
        rating: Option<u8>,
        /// The objection, if any.
        objection: Option<String>,
        /// Whether the objection brings new evidence (it then reopens the report).
        new_evidence: bool,
    },
    /// 延长留置 — an extension of detention was requested.
    ExtensionRequested {
        /// How many months.
        months: u32,
        /// Progress and reasons.
        reason: String,
        /// Who asked.
        by: String,
    },
    /// 变更措施 — a change of the measure was requested.
    ChangeRequested {
        /// The request.
        reason: String,
        /// Who asked: never the one who answers.
        by: String,
    },
    /// 提级 — the commission a late step was elevated to sets it a new due
    /// date or takes it over.
    Elevation {
        /// The task.
        task_id: String,
        /// What the commission decided.
        action: ElevationAction,
        /// Why.
        reason: String,
        /// Who decided (the token's subject).
        by: String,
    },
    /// 整改延期 — a problem's owner asks for more time on its open
    /// rectification step (once per deadline).
    MoreTimeRequested {
        /// The rectification step it is for.
        task_id: String,
        /// How many more months.
        months: u32,
        /// Why.
        reason: String,
        /// Who asked: never the one who answers.
        by: String,
    },
    /// 解除留置 — the person was released.
    Released {
        /// Why.
        reason: String,
        /// Who released them.
        by: String,
    },
}
