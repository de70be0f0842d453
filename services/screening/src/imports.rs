//! Imports: a roster or register arrives in chunks that fit the request
//! limit. Each line is validated; an ID number is kept only as a keyed hash
//! and a masked form, a name only sealed to the commission. The same file
//! is one import and the same chunk is received once, so sending again
//! after a failure is always safe.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::screening::{COLUMNS, Line, ListKind, masked};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::Db;
use jiandu_guest::seal::{new_id, sha256};
use jiandu_guest::staff::{self, Staff};
use jiandu_guest::table::{self, Shape};
use jiandu_guest::{clock, query, variables};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, StatusCode};

use crate::store::{self, Import, NewChunk, NewRow};

/// Refused lines an answer lists at most; the rest are at `…/refusals`.
const REFUSALS_SHOWN: i64 = 1000;

/// A chunk: the header names `screening::COLUMNS` (at least `name`), and
/// it holds at most 20,000 lines.
const CHUNK: Shape<'static> = Shape {
    columns: COLUMNS,
    required: &["name"],
    max_lines: 20_000,
};

#[derive(Deserialize)]
struct Opening {
    list: ListKind,
    name: String,
    source: String,
    period: String,
    org: String,
    digest: String,
    #[serde(default, deserialize_with = "jiandu_domain::wire::some_whole_number")]
    expected_lines: Option<u32>,
}

/// `POST /api/v1/screening/imports`: opens an import (201), or answers
/// with the one already opened for the same file of the same list (200).
pub(crate) async fn create(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    let input: Opening = jiandu_guest::schema!("screening-import.json").parse(input)?;
    if caller.tree.get(&input.org).is_none() || !caller.watches(&input.org) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/org",
            format!("{} is not an org in your commission's area", input.org),
        ));
    }
    let list = input.list.as_str();
    if let Some(existing) = store::import_of_file(db, caller.org(), list, &input.digest).await? {
        return answer(db, StatusCode::OK, &existing).await;
    }
    let id = new_id("I");
    let at = clock::rfc3339(clock::now());
    let new = store::NewImport {
        id: &id,
        commission: caller.org(),
        org: &input.org,
        list,
        name: &input.name,
        source: &input.source,
        period: &input.period,
        digest: &input.digest,
        expected_lines: input.expected_lines,
        by: &caller.claims.sub,
        at: &at,
    };
    let object = format!("screening_import:{id}");
    // None: the same file was opened at the same moment by another request.
    audit::audited_if(
        db,
        &caller,
        Act::done(AuditAction::ScreeningImport, &object),
        async || Ok(store::insert_import(db, &new).await?.then_some(())),
    )
    .await?;
    let import = store::import_of_file(db, caller.org(), list, &input.digest)
        .await?
        .ok_or_else(|| ApiError::internal("the import just opened is not there"))?;
    let status = if import.id == id {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    answer(db, status, &import).await
}

/// The import `id` if it is the caller's commission's, else 404.
async fn visible(db: &Db, caller: &Staff, id: &str) -> Result<Import, ApiError> {
    store::import(db, id)
        .await?
        .filter(|i| i.commission == caller.org())
        .ok_or_else(|| staff::hidden("import"))
}

/// `GET /api/v1/screening/imports/{id}`.
pub(crate) async fn show(caller: &Staff, db: &Db, id: &str) -> Result<Reply, ApiError> {
    let import = visible(db, caller, id).await?;
    answer(db, StatusCode::OK, &import).await
}

/// The import and how far it has come.
async fn answer(db: &Db, status: StatusCode, i: &Import) -> Result<Reply, ApiError> {
    let p = store::progress(db, &i.id).await?;
    let done = p.accepted + p.refused;
    let progress = i
        .expected_lines
        .filter(|n| *n > 0)
        .map(|n| (done as f64 / n as f64).min(1.0));
    let kind = ListKind::parse(&i.list).is_some_and(ListKind::is_roster);
    Ok(api::json(
        status,
        &json!({
            "id": i.id,
            "list": i.list,
            "kind": if kind { "roster" } else { "register" },
            "name": i.name,
            "source": i.source,
            "period": i.period,
            "org": i.org,
            "commission": i.commission,
            "digest": i.digest,
            "expected_lines": i.expected_lines,
            "created_at": i.created_at,
            "chunks": p.chunks,
            "lines_accepted": p.accepted,
            "lines_refused": p.refused,
            "progress": progress,
            "refusals": format!("/api/v1/screening/imports/{}/refusals", i.id),
        }),
    ))
}

/// `PUT /api/v1/screening/imports/{id}/chunks/{seq}?first_line=N`: one
/// chunk, its header row first; `first_line` is the file line of its first
/// data line (the file's header is line 1). Answers how many lines were
/// accepted and which were refused, and why.
pub(crate) async fn put_chunk(
    req: Request,
    caller: &Staff,
    db: &Db,
    id: &str,
    seq: &str,
    query_string: &str,
) -> Result<Reply, ApiError> {
    let import = visible(db, caller, id).await?;
    let seq: i64 = query::number("seq", seq, 1..=1_000_000)?;
    let mut first_line = None;
    for (name, value) in query::pairs(query_string)? {
        match name.as_str() {
            "first_line" => first_line = Some(query::number(&name, &value, 2..=1_000_000_000)?),
            _ => return Err(query::bad(&name, "is not a parameter of a chunk")),
        }
    }
    let first_line: i64 = first_line.ok_or_else(|| {
        query::bad(
            "first_line",
            "say which file line the chunk's first data line is (the header is line 1)",
        )
    })?;
    let format = table::Format::of(api::header(&req, "content-type"))?;
    let bytes = api::read_body(req).await?;
    let digest = hex::encode(sha256(&bytes));
    if let Some(stored) = store::chunk(db, id, seq).await? {
        return replay(db, &import, seq, &stored, &digest).await;
    }
    let table = table::read(format, &bytes, &CHUNK)?;
    let last_line = first_line + table.rows.len().max(1) as i64 - 1;
    if let Some(other) = store::overlapping_chunk(db, id, first_line, last_line).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "",
            format!("lines {first_line}–{last_line} overlap chunk {other}, already received"),
        ));
    }
    let key = variables::receipt_key().await?;
    let mut rows = Vec::new();
    let mut refusals = Vec::new();
    let mut names = Vec::new();
    for (line_no, fields) in table.lines(first_line) {
        let line = match fields.and_then(Line::parse) {
            Ok(line) => line,
            Err(reason) => {
                refusals.push((line_no, reason));
                continue;
            }
        };
        let org = line.org.clone().unwrap_or_else(|| import.org.clone());
        if caller.tree.get(&org).is_none() || !caller.watches(&org) {
            refusals.push((
                line_no,
                format!("org {org} is not in your commission's area"),
            ));
            continue;
        }
        rows.push(NewRow {
            line: line_no,
            name_index: names.len() as i64,
            id_hash: line.id_number.as_ref().map(|n| key.id_hash(n.as_str())),
            id_masked: line.id_number.as_ref().map(masked),
            person_hash: key.match_hash("person", &format!("{}\0{}", line.name, line.birth_date)),
            org,
            on_date: line.date,
            amount: line.amount,
            detail: line.detail,
        });
        names.push(line.name);
    }
    let names = serde_json::to_vec(&names).expect("names serialize");
    let context = format!("screening:{id}:{seq}");
    let names_sealed = variables::sealing_keys()
        .await?
        .seal(caller.org(), &names, context.as_bytes())
        .map_err(|e| ApiError::internal(format!("sealing a chunk's names: {e}")))?;
    let at = clock::rfc3339(clock::now());
    let chunk = NewChunk {
        import: &import,
        seq,
        first_line,
        last_line,
        digest: &digest,
        names_sealed,
        rows: &rows,
        refusals: &refusals,
        at: &at,
    };
    let object = format!("screening_import:{id}");
    let detail = format!("chunk {seq}: lines {first_line}–{last_line}");
    let written = audit::audited_if(
        db,
        caller,
        Act::done(AuditAction::ScreeningChunk, &object).detail(Some(&detail)),
        async || Ok(store::insert_chunk(db, &chunk).await?.then_some(())),
    )
    .await?;
    if written.is_none() {
        // The same chunk arrived at the same moment by another request.
        let stored = store::chunk(db, id, seq)
            .await?
            .ok_or_else(|| ApiError::internal("a chunk that was there is gone"))?;
        return replay(db, &import, seq, &stored, &digest).await;
    }
    let stored = store::Chunk {
        first_line,
        last_line,
        digest,
        accepted: rows.len() as i64,
        refused: refusals.len() as i64,
    };
    chunk_answer(db, &import, seq, &stored).await
}

/// A chunk sent again: the first answer if it is the same chunk, else 409.
async fn replay(
    db: &Db,
    import: &Import,
    seq: i64,
    stored: &store::Chunk,
    digest: &str,
) -> Result<Reply, ApiError> {
    if stored.digest != digest {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "",
            format!(
                "chunk {seq} was already received with other content; a changed file is a new import"
            ),
        ));
    }
    chunk_answer(db, import, seq, stored).await
}

async fn chunk_answer(
    db: &Db,
    import: &Import,
    seq: i64,
    c: &store::Chunk,
) -> Result<Reply, ApiError> {
    let refused =
        store::refusals(db, &import.id, c.first_line, c.last_line, REFUSALS_SHOWN).await?;
    let refusals: Vec<_> = refused
        .iter()
        .map(|(line, reason)| json!({ "line": line, "reason": reason }))
        .collect();
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "import_id": import.id,
            "seq": seq,
            "first_line": c.first_line,
            "last_line": c.last_line,
            "accepted": c.accepted,
            "refused": c.refused,
            "refusals": refusals,
        }),
    ))
}

/// `GET /api/v1/screening/imports/{id}/refusals?after=LINE&limit=N`: the
/// refused lines in line order, with the reason.
pub(crate) async fn refusals(
    caller: &Staff,
    db: &Db,
    id: &str,
    query_string: &str,
) -> Result<Reply, ApiError> {
    let import = visible(db, caller, id).await?;
    let (mut after, mut limit) = (1i64, 100i64);
    for (name, value) in query::pairs(query_string)? {
        match name.as_str() {
            "after" => after = query::number(&name, &value, 1..=1_000_000_000)?,
            "limit" => limit = query::number(&name, &value, 1..=REFUSALS_SHOWN)?,
            _ => return Err(query::bad(&name, "is not a filter here")),
        }
    }
    let refused = store::refusals(db, &import.id, after + 1, i64::MAX, limit).await?;
    let next = (refused.len() as i64 == limit)
        .then(|| refused.last().map(|(line, _)| *line))
        .flatten();
    let items: Vec<_> = refused
        .iter()
        .map(|(line, reason)| json!({ "line": line, "reason": reason }))
        .collect();
    Ok(api::json(
        StatusCode::OK,
        &json!({ "import_id": import.id, "refusals": items, "next_after": next }),
    ))
}
