//! The SQL behind tours, problems and 提级监督: every statement this
//! component runs, with typed rows read by column name.

use jiandu_domain::supervision::ProblemState;
use jiandu_guest::db::{Db, DbError, Row, Value, opt_text, text};

/// A tour as stored.
pub(crate) struct Tour {
    pub(crate) id: String,
    pub(crate) org: String,
    pub(crate) name: String,
    pub(crate) leader: String,
    pub(crate) members: serde_json::Value,
    pub(crate) starts_on: String,
    pub(crate) ends_on: String,
    pub(crate) created_at: String,
    pub(crate) targets: Vec<String>,
}

/// A new tour.
pub(crate) struct NewTour<'a> {
    pub(crate) id: &'a str,
    pub(crate) org: &'a str,
    pub(crate) name: &'a str,
    pub(crate) leader: &'a str,
    pub(crate) members: &'a [String],
    pub(crate) starts_on: &'a str,
    pub(crate) ends_on: &'a str,
    pub(crate) targets: &'a [String],
    pub(crate) by: &'a str,
    pub(crate) at: &'a str,
}

/// Writes a tour and its targets (inside the caller's transaction).
pub(crate) async fn insert_tour(db: &Db, t: &NewTour<'_>) -> Result<(), DbError> {
    let members = serde_json::to_string(t.members).expect("names serialize");
    db.exec(
        "starting a tour",
        "INSERT INTO tours (id, org, name, leader, members, starts_on, ends_on, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(t.id),
            text(t.org),
            text(t.name),
            text(t.leader),
            text(members),
            text(t.starts_on),
            text(t.ends_on),
            text(t.by),
            text(t.at),
        ],
    )
    .await?;
    for target in t.targets {
        db.exec(
            "adding a tour's target",
            "INSERT INTO tour_targets (tour_id, org) VALUES (?, ?)",
            [text(t.id), text(target)],
        )
        .await?;
    }
    Ok(())
}

/// The tour `id`, with its targets.
pub(crate) async fn tour(db: &Db, id: &str) -> Result<Option<Tour>, DbError> {
    let rows = db
        .query(
            "reading a tour",
            "SELECT id, org, name, leader, members, starts_on, ends_on, created_at
             FROM tours WHERE id = ?",
            [text(id)],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let targets = db
        .query(
            "reading a tour's targets",
            "SELECT org FROM tour_targets WHERE tour_id = ? ORDER BY org",
            [text(id)],
        )
        .await?
        .iter()
        .map(|t| t.str("org").to_owned())
        .collect();
    Ok(Some(Tour {
        id: r.str("id").to_owned(),
        org: r.str("org").to_owned(),
        name: r.str("name").to_owned(),
        leader: r.str("leader").to_owned(),
        members: serde_json::from_str(r.str("members")).unwrap_or_default(),
        starts_on: r.str("starts_on").to_owned(),
        ends_on: r.str("ends_on").to_owned(),
        created_at: r.str("created_at").to_owned(),
        targets,
    }))
}

/// A problem as stored.
pub(crate) struct Problem {
    pub(crate) id: String,
    pub(crate) source: String,
    pub(crate) tour_id: Option<String>,
    pub(crate) campaign_id: Option<String>,
    pub(crate) source_ref: Option<String>,
    pub(crate) target: String,
    pub(crate) org: String,
    pub(crate) responsible_org: String,
    pub(crate) category: String,
    pub(crate) description: String,
    pub(crate) recommendation: Option<String>,
    pub(crate) evidence: serde_json::Value,
    pub(crate) state: String,
    pub(crate) supervisor: Option<String>,
    pub(crate) elevated: bool,
    pub(crate) recorded_at: String,
    pub(crate) handed_at: Option<String>,
    /// The clue it was transferred as (巡纪联动), if any.
    pub(crate) clue_id: Option<String>,
}

const PROBLEM_COLUMNS: &str =
    "SELECT p.id, p.source, p.tour_id, p.campaign_id, p.source_ref, p.target, p.org, p.responsible_org,
        p.category, p.description, p.recommendation, p.evidence, p.state, p.supervisor,
        p.elevated, p.recorded_at, p.handed_at, c.id AS clue_id
     FROM problems p LEFT JOIN clues c ON c.problem_id = p.id";

impl Problem {
    fn from_row(r: &Row) -> Self {
        Self {
            id: r.str("id").to_owned(),
            source: r.str("source").to_owned(),
            tour_id: r.text("tour_id").map(str::to_owned),
            campaign_id: r.text("campaign_id").map(str::to_owned),
            source_ref: r.text("source_ref").map(str::to_owned),
            target: r.str("target").to_owned(),
            org: r.str("org").to_owned(),
            responsible_org: r.str("responsible_org").to_owned(),
            category: r.str("category").to_owned(),
            description: r.str("description").to_owned(),
            recommendation: r.text("recommendation").map(str::to_owned),
            evidence: serde_json::from_str(r.str("evidence")).unwrap_or_default(),
            state: r.str("state").to_owned(),
            supervisor: r.text("supervisor").map(str::to_owned),
            elevated: r.flag("elevated"),
            recorded_at: r.str("recorded_at").to_owned(),
            handed_at: r.text("handed_at").map(str::to_owned),
            clue_id: r.text("clue_id").map(str::to_owned),
        }
    }
}

/// A new problem found by a tour, a campaign's on-site check, a report or a clue.
pub(crate) struct NewProblem<'a> {
    pub(crate) source: &'a str,
    pub(crate) tour_id: Option<&'a str>,
    pub(crate) campaign_id: Option<&'a str>,
    pub(crate) source_ref: Option<&'a str>,
    pub(crate) target: &'a str,
    pub(crate) org: &'a str,
    pub(crate) responsible_org: &'a str,
    pub(crate) category: &'a str,
    pub(crate) description: &'a str,
    pub(crate) recommendation: Option<&'a str>,
    pub(crate) evidence: &'a [String],
}

/// Writes problem `id`, recorded by `by` at `at` and not yet handed over.
pub(crate) async fn insert_problem(
    db: &Db,
    id: &str,
    p: &NewProblem<'_>,
    by: &str,
    at: &str,
) -> Result<(), DbError> {
    let evidence = serde_json::to_string(p.evidence).expect("references serialize");
    db.exec(
        "recording a problem",
        "INSERT INTO problems (id, source, tour_id, campaign_id, source_ref, target, org,
                               responsible_org, category, description, recommendation, evidence,
                               state, recorded_by, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(id),
            text(p.source),
            opt_text(p.tour_id),
            opt_text(p.campaign_id),
            opt_text(p.source_ref),
            text(p.target),
            text(p.org),
            text(p.responsible_org),
            text(p.category),
            text(p.description),
            opt_text(p.recommendation),
            text(evidence),
            text(ProblemState::Recorded.as_str()),
            text(by),
            text(at),
        ],
    )
    .await
}

/// The problem `id`.
pub(crate) async fn problem(db: &Db, id: &str) -> Result<Option<Problem>, DbError> {
    let rows = db
        .query(
            "reading a problem",
            &format!("{PROBLEM_COLUMNS} WHERE p.id = ?"),
            [text(id)],
        )
        .await?;
    Ok(rows.first().map(Problem::from_row))
}

/// Which problems to list: a tour's or a campaign's.
#[derive(Clone, Copy)]
pub(crate) enum FoundBy<'a> {
    /// A tour's.
    Tour(&'a str),
    /// A campaign's on-site checks'.
    Campaign(&'a str),
}

/// The problems a tour or a campaign found, by target then time.
pub(crate) async fn problems_found(db: &Db, by: FoundBy<'_>) -> Result<Vec<Problem>, DbError> {
    let (column, id) = match by {
        FoundBy::Tour(id) => ("tour_id", id),
        FoundBy::Campaign(id) => ("campaign_id", id),
    };
    let rows = db
        .query(
            "reading the problems found",
            &format!(
                "{PROBLEM_COLUMNS} WHERE p.{column} = ? ORDER BY p.target, p.recorded_at, p.id"
            ),
            [text(id)],
        )
        .await?;
    Ok(rows.iter().map(Problem::from_row).collect())
}

/// Marks a recorded problem handed over to its owner under `supervisor`;
/// false when it was handed over already.
pub(crate) async fn hand_over(
    db: &Db,
    id: &str,
    supervisor: &str,
    elevated: bool,
    at: &str,
) -> Result<bool, DbError> {
    let rows = db
        .query(
            "handing a problem over",
            "UPDATE problems SET state = ?, supervisor = ?, elevated = ?, handed_at = ?
             WHERE id = ? AND handed_at IS NULL RETURNING id",
            [
                text(ProblemState::Rectifying.as_str()),
                text(supervisor),
                Value::Integer(elevated.into()),
                text(at),
                text(id),
            ],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// What happened to a problem, oldest first.
pub(crate) async fn problem_events(db: &Db, id: &str) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading a problem's events",
        "SELECT at, event, note FROM problem_events WHERE problem_id = ? ORDER BY id",
        [text(id)],
    )
    .await
}

/// A problem's steps, oldest first.
pub(crate) async fn problem_tasks(db: &Db, id: &str) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading a problem's tasks",
        "SELECT id, step, assignee_org, assignee_role, assignment_basis, status, outcome,
                due_date, opened_at, closed_at, escalation_level
         FROM tasks WHERE subject_id = ? ORDER BY opened_at, id",
        [text(id)],
    )
    .await
}

/// The owner's open rectification step of a problem: its id and whether
/// more time was already asked for on its deadline.
pub(crate) struct OwnerStep {
    pub(crate) task_id: String,
    pub(crate) workflow_id: String,
    pub(crate) asked: bool,
}

/// The open `rectification_report` task of problem `id`, if any.
pub(crate) async fn owner_step(db: &Db, id: &str) -> Result<Option<OwnerStep>, DbError> {
    let rows = db
        .query(
            "reading a problem's open step",
            "SELECT t.id, t.workflow_id,
                    (SELECT COUNT(*) FROM tasks x
                      WHERE x.subject_id = t.subject_id AND x.step = 'deadline_extension'
                        AND x.opened_at >= t.opened_at) AS asked
             FROM tasks t
             WHERE t.subject_id = ? AND t.step = 'rectification_report'
               AND t.status IN ('open', 'overdue')
             ORDER BY t.opened_at DESC LIMIT 1",
            [text(id)],
        )
        .await?;
    Ok(rows.first().map(|r| OwnerStep {
        task_id: r.str("id").to_owned(),
        workflow_id: r.str("workflow_id").to_owned(),
        asked: r.int("asked").unwrap_or(0) > 0,
    }))
}

/// A 提级监督 listing as stored.
pub(crate) struct Listing {
    pub(crate) id: i64,
    pub(crate) village: String,
    pub(crate) county: String,
    pub(crate) starts_on: String,
    pub(crate) ends_on: String,
    pub(crate) reason: String,
    pub(crate) listed_by: String,
    pub(crate) listed_at: String,
    pub(crate) unlisted_by: Option<String>,
    pub(crate) unlisted_at: Option<String>,
    pub(crate) unlist_reason: Option<String>,
}

const LISTING_COLUMNS: &str = "SELECT id, village, county, starts_on, ends_on, reason, listed_by,
        listed_at, unlisted_by, unlisted_at, unlist_reason
     FROM elevated_villages";

impl Listing {
    fn from_row(r: &Row) -> Self {
        Self {
            id: r.int("id").unwrap_or_default(),
            village: r.str("village").to_owned(),
            county: r.str("county").to_owned(),
            starts_on: r.str("starts_on").to_owned(),
            ends_on: r.str("ends_on").to_owned(),
            reason: r.str("reason").to_owned(),
            listed_by: r.str("listed_by").to_owned(),
            listed_at: r.str("listed_at").to_owned(),
            unlisted_by: r.text("unlisted_by").map(str::to_owned),
            unlisted_at: r.text("unlisted_at").map(str::to_owned),
            unlist_reason: r.text("unlist_reason").map(str::to_owned),
        }
    }
}

/// A new listing.
pub(crate) struct NewListing<'a> {
    pub(crate) village: &'a str,
    pub(crate) county: &'a str,
    pub(crate) starts_on: &'a str,
    pub(crate) ends_on: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) by: &'a str,
    pub(crate) at: &'a str,
}

/// Lists a village; `None` when it has a listing not yet unlisted.
pub(crate) async fn insert_listing(db: &Db, l: &NewListing<'_>) -> Result<Option<i64>, DbError> {
    let result = db
        .query(
            "listing a village",
            "INSERT INTO elevated_villages (village, county, starts_on, ends_on, reason, listed_by, listed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                text(l.village),
                text(l.county),
                text(l.starts_on),
                text(l.ends_on),
                text(l.reason),
                text(l.by),
                text(l.at),
            ],
        )
        .await;
    match result {
        Ok(rows) => Ok(rows.first().and_then(|r| r.int("id"))),
        Err(e) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The listing `id`.
pub(crate) async fn listing(db: &Db, id: i64) -> Result<Option<Listing>, DbError> {
    let rows = db
        .query(
            "reading a listing",
            &format!("{LISTING_COLUMNS} WHERE id = ?"),
            [Value::Integer(id)],
        )
        .await?;
    Ok(rows.first().map(Listing::from_row))
}

/// Every listing, newest first, or only those not yet unlisted.
pub(crate) async fn listings(db: &Db, open_only: bool) -> Result<Vec<Listing>, DbError> {
    let filter = if open_only {
        " WHERE unlisted_at IS NULL"
    } else {
        ""
    };
    let rows = db
        .query(
            "reading the listings",
            &format!("{LISTING_COLUMNS}{filter} ORDER BY listed_at DESC, id DESC"),
            [],
        )
        .await?;
    Ok(rows.iter().map(Listing::from_row).collect())
}

/// The listing of `village` not yet unlisted, if any.
pub(crate) async fn open_listing(db: &Db, village: &str) -> Result<Option<Listing>, DbError> {
    let rows = db
        .query(
            "reading a village's listing",
            &format!("{LISTING_COLUMNS} WHERE village = ? AND unlisted_at IS NULL"),
            [text(village)],
        )
        .await?;
    Ok(rows.first().map(Listing::from_row))
}

/// Ends a listing; false when it had ended already.
pub(crate) async fn unlist(
    db: &Db,
    id: i64,
    by: &str,
    reason: &str,
    at: &str,
) -> Result<bool, DbError> {
    let rows = db
        .query(
            "unlisting a village",
            "UPDATE elevated_villages SET unlisted_by = ?, unlisted_at = ?, unlist_reason = ?
             WHERE id = ? AND unlisted_at IS NULL RETURNING id",
            [text(by), text(at), text(reason), Value::Integer(id)],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// A campaign as stored, with its participants' states.
pub(crate) struct Campaign {
    pub(crate) id: String,
    pub(crate) org: String,
    pub(crate) kind: String,
    pub(crate) topic: String,
    pub(crate) lead_department: String,
    pub(crate) starts_on: String,
    pub(crate) ends_on: String,
    pub(crate) checklist: serde_json::Value,
    pub(crate) days: [i64; 3],
    pub(crate) created_at: String,
    /// Each participant's org and state.
    pub(crate) participants: Vec<(String, String)>,
}

/// A new campaign.
pub(crate) struct NewCampaign<'a> {
    pub(crate) id: &'a str,
    pub(crate) org: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) topic: &'a str,
    pub(crate) lead_department: &'a str,
    pub(crate) starts_on: &'a str,
    pub(crate) ends_on: &'a str,
    pub(crate) checklist: &'a [String],
    /// Self-inspection, joint-check and rectification days.
    pub(crate) days: [u32; 3],
    pub(crate) participants: &'a [String],
    pub(crate) first_state: &'a str,
    pub(crate) by: &'a str,
    pub(crate) at: &'a str,
}

/// Writes a campaign and its participants (inside the caller's transaction).
pub(crate) async fn insert_campaign(db: &Db, c: &NewCampaign<'_>) -> Result<(), DbError> {
    let checklist = serde_json::to_string(c.checklist).expect("items serialize");
    let [self_inspection, joint_check, rectification] = c.days.map(i64::from).map(Value::Integer);
    db.exec(
        "starting a campaign",
        "INSERT INTO campaigns (id, org, kind, topic, lead_department, starts_on, ends_on,
                                checklist, self_inspection_days, joint_check_days,
                                rectification_days, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(c.id),
            text(c.org),
            text(c.kind),
            text(c.topic),
            text(c.lead_department),
            text(c.starts_on),
            text(c.ends_on),
            text(checklist),
            self_inspection,
            joint_check,
            rectification,
            text(c.by),
            text(c.at),
        ],
    )
    .await?;
    for org in c.participants {
        db.exec(
            "adding a campaign's participant",
            "INSERT INTO campaign_participants (id, campaign_id, org, state) VALUES (?, ?, ?, ?)",
            [
                text(jiandu_domain::supervision::participant_id(c.id, org)),
                text(c.id),
                text(org),
                text(c.first_state),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The campaign `id`, with its participants.
pub(crate) async fn campaign(db: &Db, id: &str) -> Result<Option<Campaign>, DbError> {
    let rows = db
        .query(
            "reading a campaign",
            "SELECT id, org, kind, topic, lead_department, starts_on, ends_on, checklist,
                    self_inspection_days, joint_check_days, rectification_days, created_at
             FROM campaigns WHERE id = ?",
            [text(id)],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let participants = db
        .query(
            "reading a campaign's participants",
            "SELECT org, state FROM campaign_participants WHERE campaign_id = ? ORDER BY org",
            [text(id)],
        )
        .await?
        .iter()
        .map(|p| (p.str("org").to_owned(), p.str("state").to_owned()))
        .collect();
    let day = |column: &str| r.int(column).unwrap_or_default();
    Ok(Some(Campaign {
        id: r.str("id").to_owned(),
        org: r.str("org").to_owned(),
        kind: r.str("kind").to_owned(),
        topic: r.str("topic").to_owned(),
        lead_department: r.str("lead_department").to_owned(),
        starts_on: r.str("starts_on").to_owned(),
        ends_on: r.str("ends_on").to_owned(),
        checklist: serde_json::from_str(r.str("checklist")).unwrap_or_default(),
        days: [
            day("self_inspection_days"),
            day("joint_check_days"),
            day("rectification_days"),
        ],
        created_at: r.str("created_at").to_owned(),
        participants,
    }))
}

/// The open steps of a campaign's participants (subject ids `<campaign>/…`).
pub(crate) async fn campaign_open_steps(db: &Db, id: &str) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading a campaign's open steps",
        "SELECT id, subject_id, step, assignee_org, due_date, due_at, status, reminders_sent,
                escalation_level
         FROM tasks
         WHERE subject_kind = 'campaign_participant'
           AND substr(subject_id, 1, length(?) + 1) = ? || '/'
           AND status IN ('open', 'overdue')
         ORDER BY opened_at, id",
        [text(id), text(id)],
    )
    .await
}

/// The commission that holds report or clue `id` (`source` `report` or `clue`), if it exists.
pub(crate) async fn holder_of(db: &Db, source: &str, id: &str) -> Result<Option<String>, DbError> {
    let sql = match source {
        "report" => "SELECT org FROM reports WHERE id = ?",
        _ => "SELECT org FROM clues WHERE id = ?",
    };
    let rows = db
        .query("reading who holds a matter", sql, [text(id)])
        .await?;
    Ok(rows.first().and_then(|r| r.text("org")).map(str::to_owned))
}
