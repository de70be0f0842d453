//! 审计 — what the audit log records: each staff action and each read of a
//! report or a reporter's identity (检控 Art. 47, 52: who saw or changed
//! report material must be provable afterwards).

use crate::wire::wire_enum;

wire_enum! {
    /// What a staff member did or tried to do.
    pub enum AuditAction {
        /// Read a report's content, subject and timeline.
        ReportRead = "report.read",
        /// Viewed a reporter's sealed identity, with a stated reason.
        IdentityView = "report.identity_view",
        /// Registered a clue.
        ClueRegister = "clue.register",
        /// Recorded a collective decision (集体研究).
        DecisionRecord = "clue.decision",
        /// Chose a clue's disposal.
        DisposalChoose = "clue.disposal",
        /// Asked for 留置.
        DetentionRequest = "detention.request",
        /// Asked for a 留置 extension.
        DetentionExtend = "detention.extension",
        /// Asked to change the measure.
        DetentionChange = "detention.change_request",
        /// Released a detained person.
        DetentionRelease = "detention.release",
        /// Completed a task.
        TaskComplete = "task.complete",
        /// Approved a task's request.
        TaskApprove = "task.approve",
        /// Refused a task's request.
        TaskReject = "task.reject",
        /// 提级: set a new due date or took a step over.
        TaskElevate = "task.elevation",
        /// Read the audit log.
        AuditRead = "audit.read",
        /// Read the undelivered outbox.
        OutboxRead = "outbox.read",
        /// Requeued a dead-lettered outbox row.
        OutboxRequeue = "outbox.requeue",
        /// Read the overdue view.
        OverdueRead = "overdue.read",
        /// Read the statistics.
        StatsRead = "stats.read",
        /// Re-checked a settled clue (回头看).
        ClueRecheck = "clue.recheck",
        /// Asked for a ledger (台账) export.
        LedgerExport = "ledger.export",
        /// Downloaded an exported ledger.
        LedgerDownload = "ledger.download",
        /// Started an inspection tour (巡察).
        TourCreate = "tour.create",
        /// Started a campaign (专项整治, 联合督导).
        CampaignCreate = "campaign.create",
        /// Recorded a problem a tour or a campaign's check found.
        ProblemRecord = "problem.record",
        /// Handed a problem over for rectification (整改).
        ProblemRectify = "problem.rectification",
        /// Asked for more time to rectify.
        ProblemExtension = "problem.extension",
        /// Listed a village under 提级监督.
        ElevatedList = "elevated.list",
        /// Ended a village's 提级监督 listing.
        ElevatedUnlist = "elevated.unlist",
        /// Opened an import of a roster or register (大数据比对).
        ScreeningImport = "screening.import",
        /// Sent a chunk of an import's lines.
        ScreeningChunk = "screening.chunk",
        /// Adopted a screening rule.
        ScreeningRule = "screening.rule",
        /// Started a screening run.
        ScreeningRun = "screening.run",
        /// Read suspicious records (疑点) or an import's refused lines.
        ScreeningRead = "screening.read",
        /// Published an item for public disclosure (监督一点通).
        DisclosurePublish = "disclosure.publish",
        /// Corrected a disclosed item: a new revision with the reason.
        DisclosureCorrect = "disclosure.correct",
        /// Withdrew a disclosed item, with the reason.
        DisclosureWithdraw = "disclosure.withdraw",
        /// Entered a village's lease (三资).
        SanziContract = "sanzi.contract",
        /// Entered a village's payment or receipt (三资).
        SanziTransaction = "sanzi.transaction",
        /// Imported a village's ledger of leases or of payments and receipts (三资).
        SanziImport = "sanzi.import",
        /// Adopted a 三资 risk rule.
        SanziRule = "sanzi.rule",
        /// Read 三资 risk warnings.
        SanziRead = "sanzi.read",
    }
}

wire_enum! {
    /// Whether the action was done or refused.
    pub enum AuditOutcome {
        /// Done (a read answered, a write committed).
        Done = "done",
        /// Refused for lack of authority (403).
        Denied = "denied",
    }
}

/// The `prev_hash` of the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// One entry of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its position: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who: the token's `sub`.
    pub actor: String,
    /// The org the actor acted for.
    pub actor_org: String,
    /// The roles the actor held, comma-separated.
    pub actor_roles: String,
    /// What was done ([`AuditAction`]'s wire name).
    pub action: String,
    /// To what, e.g. `report:rpt_…`.
    pub object: String,
    /// The request it was part of.
    pub request_id: String,
    /// [`AuditOutcome`]'s wire name.
    pub outcome: String,
    /// A stated reason or a short detail; never a reporter's identity.
    pub detail: Option<String>,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: [u8; 32],
}

impl Entry {
    /// SHA-256 over every field, each length-prefixed, so no two entries
    /// that differ in any field hash alike.
    pub fn hash(&self) -> [u8; 32] {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(b"jiandu audit entry v1");
        field(&self.seq.to_be_bytes());
        for text in [
            &self.at,
            &self.actor,
            &self.actor_org,
            &self.actor_roles,
            &self.action,
            &self.object,
            &self.request_id,
            &self.outcome,
        ] {
            field(text.as_bytes());
        }
        match &self.detail {
            Some(detail) => {
                field(b"1");
                field(detail.as_bytes());
            }
            None => field(b"0"),
        }
        field(&self.prev_hash);
        h.finalize().into()
    }
}

/// An entry as read back, with the hash stored beside it (the next entry's
/// writer chains to that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The entry.
    pub entry: Entry,
    /// Its stored hash.
    pub hash: Vec<u8>,
}

/// What a checkpoint's signature covers: the last entry it vouches for
/// and that entry's hash, so entries up to it can be neither changed nor cut.
pub fn checkpoint_message(seq: i64, hash: &[u8; 32], at: &str) -> Vec<u8> {
    let mut message = b"jiandu audit checkpoint v1\0".to_vec();
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(hash);
    message.extend_from_slice(at.as_bytes());
    message
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// An entry is missing or out of order.
    #[error("entry {found} follows entry {after}: an entry is missing or moved")]
    Gap {
        /// The entry before.
        after: i64,
        /// The entry found.
        found: i64,
    },
    /// An entry's `prev_hash` is not its predecessor's hash: it or one
    /// before it was changed.
    #[error(
        "entry {0} does not follow from the entry before it: it or an earlier entry was changed"
    )]
    Broken(i64),
    /// An entry's stored hash is not the hash of what it says.
    #[error("entry {0} was changed: its stored hash is not the hash of what it says")]
    Changed(i64),
}

/// Walks entries in `seq` order from `after` (its seq and hash; `(0,
/// GENESIS)` for the start) and returns the last seq and hash, or where the
/// chain breaks: first a missing, moved or changed link, then the first
/// entry whose stored hash is not its own (a change the chain alone cannot
/// show, e.g. to the newest entry).
pub fn follow(after: (i64, [u8; 32]), entries: &[Stored]) -> Result<(i64, [u8; 32]), ChainError> {
    let (mut seq, mut hash) = after;
    for Stored { entry, .. } in entries {
        if entry.seq != seq + 1 {
            return Err(ChainError::Gap {
                after: seq,
                found: entry.seq,
            });
        }
        if entry.prev_hash != hash {
            return Err(ChainError::Broken(entry.seq));
        }
        seq = entry.seq;
        hash = entry.hash();
    }
    if let Some(changed) = entries.iter().find(|s| s.hash != s.entry.hash()) {
        return Err(ChainError::Changed(changed.entry.seq));
    }
    Ok((seq, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Stored> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let entry = Entry {
                    seq,
                    at: format!("2026-11-27T12:00:{seq:02}Z"),
                    actor: "370400/petitions".into(),
                    actor_org: "370400".into(),
                    actor_roles: "petitions".into(),
                    action: AuditAction::ReportRead.as_str().into(),
                    object: format!("report:r{seq}"),
                    request_id: format!("req{seq}"),
                    outcome: AuditOutcome::Done.as_str().into(),
                    detail: None,
                    prev_hash: prev,
                };
                prev = entry.hash();
                Stored {
                    hash: prev.to_vec(),
                    entry,
                }
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_follows_and_any_change_breaks_it() {
        let entries = chain(4);
        let (last, hash) = follow((0, GENESIS), &entries).unwrap();
        assert_eq!((last, hash), (4, entries[3].entry.hash()));

        let mut edited = entries.clone();
        edited[1].entry.object = "report:other".into();
        assert_eq!(follow((0, GENESIS), &edited), Err(ChainError::Broken(3)));

        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(
            follow((0, GENESIS), &removed),
            Err(ChainError::Gap { after: 1, found: 3 })
        );

        let mut swapped = entries.clone();
        swapped.swap(1, 2);
        assert!(follow((0, GENESIS), &swapped).is_err());

        let mut last_edited = entries.clone();
        last_edited[3].entry.detail = Some(String::new());
        assert_eq!(
            follow((0, GENESIS), &last_edited),
            Err(ChainError::Changed(4)),
            "None and Some(\"\") differ"
        );
    }
}
