//! `POST /api/v1/reports`.

use std::sync::OnceLock;

use jiandu_domain::calendar::Calendar;
use jiandu_domain::deadline::ACCEPTANCE_NOTICE;
use jiandu_domain::flow::{REPORT_WORKFLOW, ReportStarted};
use jiandu_domain::report::{Report, ReportInput, ReportStatus};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::{Db, Value, opt_text, text};
use jiandu_guest::schema::Schema;
use jiandu_guest::seal::{self, IdentityKey};
use jiandu_guest::{clock, idempotency, orgs, outbox};
use serde_json::json;
use spin_sdk::http::{Request, StatusCode};

/// Idempotency scope of this endpoint.
const SCOPE: &str = "POST /api/v1/reports";

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::compile(include_str!("../../../schemas/report.json")))
}

pub(crate) async fn submit(req: Request) -> Result<Reply, ApiError> {
    let key = idempotency::parse_key(api::header(&req, "idempotency-key"))?;
    let (body, raw) = api::read_json(req).await?;
    let request_hash = hex::encode(seal::sha256(&raw));
    let identity_key = crate::identity_key().await?;
    let db = Db::open().await?;

    if let Some(key) = &key
        && let Some(stored) = idempotency::lookup(&db, SCOPE, key, &request_hash).await?
    {
        return Ok(replay(stored, identity_key));
    }

    schema()
        .check(&body)
        .map_err(|errors| ApiError::fields(StatusCode::BAD_REQUEST, errors))?;
    let input: ReportInput = serde_json::from_value(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "", e.to_string()))?;
    let report =
        Report::parse(input).map_err(|errors| ApiError::fields(StatusCode::BAD_REQUEST, errors))?;
    // The commission serving the report's division holds it (分级受理).
    let tree = orgs::tree(&db).await?;
    let org = tree
        .commission_for_division(report.division.as_str())
        .map(|o| o.id.clone())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "/division_code",
                "no commission on this platform serves that division; report to the commission of your province or city",
            )
        })?;

    let now = clock::now();
    let received_at = clock::rfc3339(now);
    let id = format!(
        "rpt_{}",
        seal::base32(&seal::random_bytes::<15>(), 24).to_ascii_lowercase()
    );
    let receipt_code = format!("JD{}", seal::base32(&seal::random_bytes::<8>(), 12));
    let due = report
        .is_real_name()
        .then(|| ACCEPTANCE_NOTICE.due_from(clock::china_date(now), Calendar::official()));
    // Every reporter follows up with a secret shown once; a phone number is
    // no secret, and no hash of it is kept.
    let followup_hash = seal::sha256(followup_secret(identity_key, &id).as_bytes()).to_vec();
    let identity_sealed = match &report.identity {
        Some(identity) => {
            let plain = json!({
                "name": identity.name,
                "phone": identity.phone.as_str(),
                "id_number": identity.id_number.as_ref().map(|n| n.as_str()),
            });
            Value::Blob(identity_key.seal(plain.to_string().as_bytes(), id.as_bytes()))
        }
        None => Value::Null,
    };

    let mut answer = json!({
        "id": id,
        "receipt_code": receipt_code,
        "real_name": report.is_real_name(),
        "status": ReportStatus::Received.as_str(),
        "received_at": received_at,
    });
    if let Some(due) = &due {
        answer["acceptance_due"] = json!({
            "date": due.date.to_string(),
            "article": due.policy.article,
            "estimated": due.estimated,
        });
    }

    db.begin().await?;
    let written = async {
        db.exec(
            "storing the report",
            "INSERT INTO reports (id, receipt_code, followup_hash, real_name, category, division_code, subject,
                                  content, attachments, identity_sealed, status, received_at, acceptance_due, due_estimated,
                                  org)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                text(&id),
                text(&receipt_code),
                Value::Blob(followup_hash),
                Value::Integer(report.is_real_name().into()),
                text(report.category.code()),
                text(report.division.as_str()),
                text(serde_json::to_string(&report.subject).expect("serializable")),
                text(&report.content),
                text(serde_json::to_string(&report.attachments).expect("serializable")),
                identity_sealed,
                text(ReportStatus::Received.as_str()),
                text(&received_at),
                opt_text(due.map(|d| d.date.to_string())),
                Value::Integer(due.is_some_and(|d| d.estimated).into()),
                text(&org),
            ],
        )
        .await?;
        db.exec(
            "storing the report's first event",
            "INSERT INTO report_events (report_id, at, event, note) VALUES (?, ?, 'received', ?)",
            [
                text(&id),
                text(&received_at),
                opt_text(due.filter(|d| d.estimated).map(|_| {
                    "the acceptance deadline counts weekends only: next year's holiday schedule is not published yet"
                })),
            ],
        )
        .await?;
        let started = ReportStarted {
            report_id: id.clone(),
            real_name: report.is_real_name(),
            received_at: received_at.clone(),
            org: org.clone(),
        };
        outbox::start_workflow(&db, REPORT_WORKFLOW, &id, &started, &received_at).await?;
        if let Some(key) = &key {
            idempotency::record(&db, SCOPE, key, &request_hash, 201, &answer, &received_at).await?;
        }
        db.commit().await
    }
    .await;

    if let Err(e) = written {
        // A concurrent retry with the same key may have won the race: answer as it did.
        let stored =
            idempotency::after_failed_write(&db, e, SCOPE, key.as_deref(), &request_hash).await?;
        return Ok(replay(stored, identity_key));
    }
    eprintln!(
        "report {id} received (real_name: {})",
        report.is_real_name()
    );
    Ok(created(answer, identity_key))
}

/// A reporter's follow-up secret. It is derived from the report id under the
/// server's key rather than stored, so a retried request can show it again
/// while the database holds only its hash. (The label predates real-name
/// reporters having secrets too; anonymous secrets already issued stay valid.)
fn followup_secret(key: &IdentityKey, report_id: &str) -> String {
    seal::base32(&key.tag("anonymous-secret", report_id), 20)
}

/// The 201 answer; the secret is added here and never stored.
fn created(mut answer: serde_json::Value, key: &IdentityKey) -> Reply {
    if let Some(id) = answer["id"].as_str() {
        answer["secret"] = json!(followup_secret(key, id));
    }
    let location = format!(
        "/api/v1/reports/{}",
        answer["receipt_code"].as_str().unwrap_or_default()
    );
    let mut reply = api::json(StatusCode::CREATED, &answer);
    if let Ok(value) = location.parse() {
        reply.headers_mut().insert("location", value);
    }
    reply
}

fn replay(stored: idempotency::Stored, key: &IdentityKey) -> Reply {
    let mut reply = created(stored.body, key);
    *reply.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
    reply
        .headers_mut()
        .insert("idempotent-replayed", "true".parse().expect("valid header"));
    reply
}
