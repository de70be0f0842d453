//! `POST /api/v1/reports`.

use jiandu_domain::calendar::Calendar;
use jiandu_domain::deadline::ACCEPTANCE_NOTICE;
use jiandu_domain::flow::{Complaint, REPORT_WORKFLOW, ReportStarted};
use jiandu_domain::org::OrgTree;
use jiandu_domain::report::{Report, ReportInput, ReportStatus};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::{Db, Value, opt_text};
use jiandu_guest::schema::Schema;
use jiandu_guest::seal::{self, ReceiptKey, ReportPart};
use jiandu_guest::{clock, idempotency, orgs, outbox, variables};
use serde_json::json;
use spin_sdk::http::{Request, StatusCode};

use crate::store::{self, NewReport};

/// Idempotency scope of this endpoint.
const SCOPE: &str = "POST /api/v1/reports";

fn schema() -> &'static Schema {
    jiandu_guest::schema!("report.json")
}

pub(crate) async fn submit(req: Request) -> Result<Reply, ApiError> {
    let key = idempotency::key_of(&req)?;
    let (body, raw) = api::read_json(req).await?;
    let request_hash = hex::encode(seal::sha256(&raw));
    let receipt_key = variables::receipt_key().await?;
    let db = Db::open().await?;

    if let Some(key) = &key
        && let Some(stored) = idempotency::lookup(&db, SCOPE, key, &request_hash).await?
    {
        return Ok(replay(stored, receipt_key));
    }

    let report = parse_report(body)?;
    // The commission serving the report's division holds it (分级受理); one
    // about that commission's head goes to the next-higher one (检控 Art. 15).
    let tree = orgs::tree(&db).await?;
    let local = tree
        .commission_for_division(report.division.as_str())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "/division_code",
                "no commission on this platform serves that division; report to the commission of your province or city",
            )
        })?;
    let org = if report.concerns_commission_head {
        tree.higher_commission(&local.id)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "/concerns_commission_head",
                    "no higher commission on this platform can take a report about this commission's head; report to it directly",
                )
            })?
            .id
            .clone()
    } else {
        local.id.clone()
    };
    let complaint = match &report.disclosure_item {
        Some(item) => Some(complaint(&db, &tree, item, report.division.as_str()).await?),
        None => None,
    };
    let keys = variables::sealing_keys().await?;

    let now = clock::now();
    let received_at = clock::rfc3339(now);
    let id = format!(
        "rpt_{}",
        seal::base32(&seal::random_bytes::<15>(), 24).to_ascii_lowercase()
    );
    let receipt_code = format!("JD{}", seal::base32(&seal::random_bytes::<8>(), 12));
    // A complaint is answered by the complaint loop, not the notices of 检控 Art. 26.
    let due = (report.is_real_name() && complaint.is_none())
        .then(|| ACCEPTANCE_NOTICE.due_from(clock::china_date(now), Calendar::official()));
    // Every reporter follows up with a secret shown once; a phone number is
    // no secret, and no hash of it is kept.
    let followup_hash = seal::sha256(receipt_key.secret_for(&id).as_bytes()).to_vec();
    let seal_to = |plain: serde_json::Value, part: ReportPart| {
        keys.seal(&org, plain.to_string().as_bytes(), &part.context(&id))
            .map(Value::Blob)
            .map_err(|e| ApiError::internal(e.to_string()))
    };

    let identity_sealed = match &report.identity {
        Some(identity) => seal_to(
            json!({
                "name": identity.name,
                "phone": identity.phone.as_str(),
                "id_number": identity.id_number.as_ref().map(|n| n.as_str()),
            }),
            ReportPart::Identity,
        )?,
        None => Value::Null,
    };
    // An Art. 15 report's substance is sealed too: the local commission's
    // operators see only that a report exists.
    let (subject, content, attachments, content_sealed) = if report.concerns_commission_head {
        let sealed = seal_to(
            json!({
                "subject": report.subject,
                "content": report.content,
                "attachments": report.attachments,
            }),
            ReportPart::Content,
        )?;
        ("{}".to_owned(), String::new(), "[]".to_owned(), sealed)
    } else {
        (
            serde_json::to_string(&report.subject).expect("serializable"),
            report.content.clone(),
            serde_json::to_string(&report.attachments).expect("serializable"),
            Value::Null,
        )
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

    // What an anonymous report is counted by, worked out before the
    // transaction so that the writer waits on none of it.
    let anonymous = if report.is_real_name() {
        None
    } else {
        let text_hash = hex::encode(seal::sha256(
            format!("{}\0{}", report.division.as_str(), report.content.trim()).as_bytes(),
        ));
        Some((text_hash, *crate::anonymous_limits().await?))
    };

    // A report adds rows of its own, and the anonymous limiter counts both
    // its windows in one upsert, which locks just those two rows. So reports
    // do not take the write lock (on PostgreSQL, reports from many hosts
    // commit side by side).
    db.begin_beside_others().await?;
    // The limits to forget ended windows by, once this report is stored.
    let forget_by = match anonymous {
        None => None,
        Some((text_hash, allowed)) => {
            let division = report.division.as_str();
            let now = now.unix_timestamp();
            match crate::limits::count(&db, allowed, &text_hash, division, now).await {
                Ok(window_opened) => window_opened.then_some(allowed),
                Err(refused) => {
                    db.rollback().await;
                    return Err(refused);
                }
            }
        }
    };
    let written = async {
        let note = opt_text(due.filter(|d| d.estimated).map(|_| {
            "the acceptance deadline counts weekends only: next year's holiday schedule is not published yet"
        }));
        let stored = NewReport {
            id: &id,
            receipt_code: &receipt_code,
            followup_hash,
            real_name: report.is_real_name(),
            category: report.category.code(),
            division_code: report.division.as_str(),
            subject,
            content,
            attachments,
            identity_sealed,
            status: ReportStatus::Received.as_str(),
            received_at: &received_at,
            acceptance_due: opt_text(due.map(|d| d.date.to_string())),
            due_estimated: due.is_some_and(|d| d.estimated),
            org: &org,
            content_sealed,
            disclosure_item: opt_text(report.disclosure_item.as_deref()),
        };
        store::insert_report(&db, stored, note).await?;
        let started = ReportStarted {
            report_id: id.clone(),
            real_name: report.is_real_name(),
            received_at: received_at.clone(),
            org: org.clone(),
            complaint: complaint.clone(),
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
        return Ok(replay(stored, receipt_key));
    }
    if let Some(allowed) = forget_by {
        crate::limits::forget(&db, allowed, now.unix_timestamp()).await;
    }
    eprintln!(
        "report {id} received for {org} (real_name: {}, art_15: {})",
        report.is_real_name(),
        report.concerns_commission_head
    );
    Ok(created(answer, receipt_key))
}

/// A complaint against the disclosed item `id`: 422 unless the item is
/// published and `division_code` is its division's.
async fn complaint(
    db: &Db,
    tree: &OrgTree,
    id: &str,
    division_code: &str,
) -> Result<Complaint, ApiError> {
    let unprocessable = |pointer: &str, message: &str| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, pointer, message)
    };
    let division = store::published_item_division(db, id)
        .await?
        .ok_or_else(|| unprocessable("/disclosure_item", "no published item has this id"))?;
    if tree.get(&division).map(|o| o.division.as_str()) != Some(division_code) {
        return Err(unprocessable(
            "/division_code",
            "must be the division code of the org that disclosed the item",
        ));
    }
    Ok(Complaint {
        item_id: id.to_owned(),
        division,
    })
}

/// Checks a body against the schema and the domain rules, answering every
/// problem at once: where both find one at the same field, the domain's
/// words (which say what a valid value looks like) are kept. A body the
/// schema accepts that breaks a rule it cannot state (an ID number's check
/// character) is a 422; anything else wrong is a 400.
fn parse_report(body: serde_json::Value) -> Result<Report, ApiError> {
    let schema_errors = schema().check(&body).err().unwrap_or_default();
    let domain_errors = match serde_json::from_value::<ReportInput>(body) {
        Ok(input) => match Report::parse(input) {
            Ok(report) if schema_errors.is_empty() => return Ok(report),
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        },
        Err(e) if schema_errors.is_empty() => {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "", e.to_string()));
        }
        Err(_) => Vec::new(),
    };
    let status = if schema_errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut errors = domain_errors;
    for e in schema_errors {
        if !errors.iter().any(|d| d.pointer == e.pointer) {
            errors.push(e);
        }
    }
    Err(ApiError::fields(status, errors))
}

/// The 201 answer; the secret is added here and never stored.
fn created(mut answer: serde_json::Value, key: &ReceiptKey) -> Reply {
    if let Some(id) = answer["id"].as_str() {
        answer["secret"] = json!(key.secret_for(id));
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

fn replay(stored: idempotency::Stored, key: &ReceiptKey) -> Reply {
    let mut reply = created(stored.body, key);
    *reply.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
    reply
        .headers_mut()
        .insert("idempotent-replayed", "true".parse().expect("valid header"));
    reply
}
