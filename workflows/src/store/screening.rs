//! What the screening activities read and write: a run's cursor and
//! progress, the batch join that finds hits, and what a confirmed hit
//! becomes (a problem, and a clue where its rule says so). Every write is
//! idempotent: a hit is unique per rule and person, a run's cursor moves
//! only from where it was read, and problems and clues have ids derived
//! from their hit.

use jiandu_domain::screening::{Condition, JoinOn};
use sqlx::AnyConnection;
use sqlx::Row as _;

use super::Pool;

/// A run as the activity needs it: its cursor, extent and rule.
pub struct Run {
    /// The run.
    pub id: String,
    /// Its rule.
    pub rule_id: String,
    /// The rule's definition (a domain `Rule` as JSON).
    pub definition: String,
    /// The commission whose lists it joins.
    pub commission: String,
    /// `running` or `done`.
    pub state: String,
    /// Roster lines up to this id are done.
    pub after_row: i64,
    /// The newest roster line it covers.
    pub last_row: i64,
}

/// The run `id`, if there is one.
pub async fn run(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<Run>> {
    let row = sqlx::query(
        "SELECT r.id, r.rule_id, u.definition, r.commission, r.state, r.after_row, r.last_row
         FROM screening_runs r JOIN screening_rules u ON u.id = r.rule_id
         WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Run {
            id: r.try_get("id")?,
            rule_id: r.try_get("rule_id")?,
            definition: r.try_get("definition")?,
            commission: r.try_get("commission")?,
            state: r.try_get("state")?,
            after_row: r.try_get("after_row")?,
            last_row: r.try_get("last_row")?,
        })
    })
    .transpose()
}

/// The roster lines of the next batch after the cursor: the id of its
/// last line and how many lines it holds (none when the run is through).
pub async fn next_batch(
    conn: &mut AnyConnection,
    run: &Run,
    roster: &str,
    size: i64,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COALESCE(MAX(id), $1) AS upper, COUNT(*) AS lines FROM (
             SELECT id FROM screening_rows
             WHERE commission = $2 AND list = $3 AND id > $1 AND id <= $4
             ORDER BY id LIMIT $5
         ) batch",
    )
    .bind(run.after_row)
    .bind(&run.commission)
    .bind(roster)
    .bind(run.last_row)
    .bind(size)
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("upper")?, row.try_get("lines")?))
}

/// A hit just found.
pub struct NewHit {
    /// Its id.
    pub id: String,
    /// The org that verifies it.
    pub owner_org: String,
}

/// The rule's join over roster lines `after < id <= upper`: records each
/// person not found by this rule before as a hit and returns the new ones.
#[allow(clippy::too_many_arguments)]
pub async fn insert_hits(
    conn: &mut AnyConnection,
    run: &Run,
    roster: &str,
    register: &str,
    join: JoinOn,
    condition: Condition,
    upper: i64,
    at: &str,
) -> sqlx::Result<Vec<NewHit>> {
    let key = match join {
        JoinOn::IdNumber => "id_hash",
        JoinOn::NameBirthDate => "person_hash",
    };
    let extra = match condition {
        Condition::Match => "",
        Condition::RosterDateAfter => {
            "AND r.on_date IS NOT NULL AND g.on_date IS NOT NULL AND r.on_date > g.on_date"
        }
    };
    let sql = format!(
        "INSERT INTO screening_hits (id, rule_id, run_id, roster_row, register_row, person_key,
                                     commission, owner_org, id_masked, state, found_at)
         SELECT $1 || '-' || CAST(r.id AS TEXT), $1, $2, r.id, MIN(g.id), r.{key},
                r.commission, r.org, r.id_masked, 'verifying', $3
         FROM screening_rows r
         JOIN screening_rows g
           ON g.commission = r.commission AND g.list = $4 AND g.{key} = r.{key}
         WHERE r.commission = $5 AND r.list = $6 AND r.id > $7 AND r.id <= $8
           AND r.{key} IS NOT NULL {extra}
         GROUP BY r.id, r.{key}, r.commission, r.org, r.id_masked
         ON CONFLICT (rule_id, person_key) DO NOTHING
         RETURNING id, owner_org"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&run.rule_id)
        .bind(&run.id)
        .bind(at)
        .bind(register)
        .bind(&run.commission)
        .bind(roster)
        .bind(run.after_row)
        .bind(upper)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(NewHit {
                id: r.try_get("id")?,
                owner_org: r.try_get("owner_org")?,
            })
        })
        .collect()
}

/// Moves the run's cursor from where it was read to `upper`, adding `lines` and
/// `hits` to its progress, and marks it done when `upper` is its last
/// line, finished at `at`; false if it had moved meanwhile (the batch was
/// recorded).
pub async fn advance(
    conn: &mut AnyConnection,
    run: &Run,
    upper: i64,
    lines: i64,
    hits: i64,
    at: &str,
) -> sqlx::Result<bool> {
    let done = upper >= run.last_row;
    Ok(sqlx::query(
        "UPDATE screening_runs
         SET after_row = $1, rows_done = rows_done + $2, hits = hits + $3,
             state = $4, finished_at = $5
         WHERE id = $6 AND after_row = $7",
    )
    .bind(upper)
    .bind(lines)
    .bind(hits)
    .bind(if done { "done" } else { "running" })
    .bind(done.then_some(at))
    .bind(&run.id)
    .bind(run.after_row)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// A run's progress as recorded.
pub struct Progress {
    /// Roster lines compared.
    pub rows_done: i64,
    /// New hits found.
    pub hits: i64,
    /// Whether every line is done.
    pub done: bool,
}

/// The run `id`'s progress.
pub async fn progress(pool: &Pool, id: &str) -> sqlx::Result<Progress> {
    let row = sqlx::query("SELECT rows_done, hits, state FROM screening_runs WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await?;
    Ok(Progress {
        rows_done: row.try_get("rows_done")?,
        hits: row.try_get("hits")?,
        done: row.try_get::<String, _>("state")? == "done",
    })
}

/// A hit with what a problem made of it needs.
pub struct Hit {
    /// The hit.
    pub id: String,
    /// Its rule's definition.
    pub definition: String,
    /// The commission that screened.
    pub commission: String,
    /// The org that verified it.
    pub owner_org: String,
    /// The masked ID number, if the line had one.
    pub id_masked: Option<String>,
    /// The roster and the file line it is on.
    pub list: String,
    /// Its file line.
    pub line: i64,
    /// Its import.
    pub import_id: String,
}

/// The hit `id`.
pub async fn hit(pool: &Pool, id: &str) -> sqlx::Result<Option<Hit>> {
    let row = sqlx::query(
        "SELECT h.id, u.definition, h.commission, h.owner_org, h.id_masked, r.list, r.line,
                r.import_id
         FROM screening_hits h
         JOIN screening_rules u ON u.id = h.rule_id
         JOIN screening_rows r ON r.id = h.roster_row
         WHERE h.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(Hit {
            id: r.try_get("id")?,
            definition: r.try_get("definition")?,
            commission: r.try_get("commission")?,
            owner_org: r.try_get("owner_org")?,
            id_masked: r.try_get("id_masked")?,
            list: r.try_get("list")?,
            line: r.try_get("line")?,
            import_id: r.try_get("import_id")?,
        })
    })
    .transpose()
}

/// A problem made of a confirmed hit.
pub struct HitProblem<'a> {
    /// Its id.
    pub id: &'a str,
    /// The hit.
    pub hit_id: &'a str,
    /// The commission that holds it.
    pub org: &'a str,
    /// The owner of its rectification.
    pub responsible_org: &'a str,
    /// The rule's category.
    pub category: &'a str,
    /// What was found.
    pub description: &'a str,
    /// Who confirmed it.
    pub by: &'a str,
    /// When.
    pub at: &'a str,
}

/// Records the problem a confirmed hit is (once), and links the hit to it.
pub async fn insert_problem(conn: &mut AnyConnection, p: &HitProblem<'_>) -> sqlx::Result<()> {
    let evidence = serde_json::json!([format!("screening_hit:{}", p.hit_id)]).to_string();
    sqlx::query(
        "INSERT INTO problems (id, source, source_ref, target, org, responsible_org, category,
                               description, evidence, state, recorded_by, recorded_at)
         VALUES ($1, 'big_data', $2, $3, $4, $3, $5, $6, $7, 'recorded', $8, $9)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(p.id)
    .bind(p.hit_id)
    .bind(p.responsible_org)
    .bind(p.org)
    .bind(p.category)
    .bind(p.description)
    .bind(evidence)
    .bind(p.by)
    .bind(p.at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE screening_hits SET problem_id = $1 WHERE id = $2")
        .bind(p.id)
        .bind(p.hit_id)
        .execute(conn)
        .await
        .map(drop)
}

/// Registers the clue a confirmed hit is (source `big_data`, linked to its
/// problem) and links the hit to it; false if it was registered before.
pub async fn insert_clue(
    conn: &mut AnyConnection,
    clue_id: &str,
    problem: &HitProblem<'_>,
    state: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO clues (id, source, org, summary, state, registered_by, registered_at,
                            updated_at, problem_id)
         VALUES ($1, 'big_data', $2, $3, $4, 'SuspicionWorkflow', $5, $5, $6)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(clue_id)
    .bind(problem.org)
    .bind(problem.description)
    .bind(state)
    .bind(problem.at)
    .bind(problem.id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    sqlx::query("UPDATE screening_hits SET clue_id = $1 WHERE id = $2")
        .bind(clue_id)
        .bind(problem.hit_id)
        .execute(conn)
        .await?;
    Ok(inserted)
}
