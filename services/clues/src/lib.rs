//! 问题线索 — the clue registry and the staff's task inbox.
//!
//! - `POST /api/v1/clues` — register a clue in the caller's commission; its ClueWorkflow starts.
//! - `GET /api/v1/clues/{id}` — a clue with its tasks, events and detention.
//! - `POST /api/v1/clues/{id}/decisions` — record a collective decision (规则 Art. 53).
//! - `POST /api/v1/clues/{id}/disposal` — choose the disposal on a decision (规则 Art. 21).
//! - `POST /api/v1/clues/{id}/recheck` — 回头看: re-check how a held or closed clue was handled.
//! - `POST /api/v1/clues/{id}/detention` — request 留置 on a decision to detain (监察法 Art. 47).
//! - `POST /api/v1/clues/{id}/detention/extensions` — request an extension (Art. 48).
//! - `POST /api/v1/clues/{id}/detention/change-requests` — ask to change the measure (Art. 50).
//! - `POST /api/v1/clues/{id}/detention/release` — release.
//! - `GET /api/v1/tasks[?view=inbox|supervised|subtree]` — the caller's org's tasks.
//! - `GET /api/v1/tasks/{id}` — a task with its events (催办, 督办, 提级).
//! - `POST /api/v1/tasks/{id}/complete`, `.../approve`, `.../reject` — do a task.
//! - `POST /api/v1/tasks/{id}/elevation` — 提级: a new due date, or taking the step over.
//!
//! Every write takes an `Idempotency-Key`: a retry gets the first answer.
//!
//! Who may do what is `docs/authorization.md`. Every write commits the
//! domain row, an outbox row and its audit entry together; the workflows hear of it through
//! the relay. Nothing here calls Temporal.

use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::Db;
use jiandu_guest::idempotency;
use jiandu_guest::staff::{self, Staff};
use serde_json::Value;
use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;

mod clues;
mod detention;
mod store;
mod tasks;

#[http_service]
async fn handle(req: Request) -> Reply {
    route(req).await.unwrap_or_else(ApiError::into_reply)
}

async fn route(req: Request) -> Result<Reply, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let method = req.method().clone();
    let db = Db::open().await?;
    let caller = staff::caller(&req, &db).await?;
    let segments: Vec<&str> = path.split('/').skip(3).collect();
    if method == Method::POST
        && let Some(write) = Write::of(&segments)
    {
        let db = &db;
        return idempotency::staff_post(req, db, caller, &path, async |c, input| {
            write.run(c, db, input).await
        })
        .await;
    }
    match (method, segments.as_slice()) {
        (Method::GET, ["clues", id]) => clues::show(caller, &db, id).await,
        (Method::GET, ["tasks"]) => tasks::list(caller, &db, &query).await,
        (Method::GET, ["tasks", id]) => tasks::show(caller, &db, id).await,
        (_, ["clues", _] | ["tasks"] | ["tasks", _]) => Err(ApiError::method_not_allowed("GET")),
        (_, segments) if Write::of(segments).is_some() => Err(ApiError::method_not_allowed("POST")),
        _ => Err(api::no_such_route()),
    }
}

/// The writes (each `POST` with a JSON body, idempotent by `Idempotency-Key`).
enum Write<'p> {
    Register,
    Decide(&'p str),
    Dispose(&'p str),
    Recheck(&'p str),
    Detain(&'p str),
    Extend(&'p str),
    Release(&'p str),
    Change(&'p str),
    Act(&'p str, &'p str),
    Elevate(&'p str),
}

impl<'p> Write<'p> {
    /// The write a path names, if any.
    fn of(segments: &[&'p str]) -> Option<Self> {
        Some(match *segments {
            ["clues"] => Self::Register,
            ["clues", id, "decisions"] => Self::Decide(id),
            ["clues", id, "disposal"] => Self::Dispose(id),
            ["clues", id, "recheck"] => Self::Recheck(id),
            ["clues", id, "detention"] => Self::Detain(id),
            ["clues", id, "detention", "extensions"] => Self::Extend(id),
            ["clues", id, "detention", "release"] => Self::Release(id),
            ["clues", id, "detention", "change-requests"] => Self::Change(id),
            ["tasks", id, action @ ("complete" | "approve" | "reject")] => Self::Act(id, action),
            ["tasks", id, "elevation"] => Self::Elevate(id),
            _ => return None,
        })
    }

    async fn run(self, c: Staff, db: &Db, input: Value) -> Result<Reply, ApiError> {
        match self {
            Self::Register => clues::register(input, c, db).await,
            Self::Decide(id) => clues::decide(input, c, db, id).await,
            Self::Dispose(id) => clues::dispose(input, c, db, id).await,
            Self::Recheck(id) => clues::recheck(input, c, db, id).await,
            Self::Detain(id) => detention::request(input, c, db, id).await,
            Self::Extend(id) => detention::extend(input, c, db, id).await,
            Self::Release(id) => detention::release(input, c, db, id).await,
            Self::Change(id) => detention::change(input, c, db, id).await,
            Self::Act(id, action) => tasks::act(input, c, db, id, action).await,
            Self::Elevate(id) => tasks::elevate(input, c, db, id).await,
        }
    }
}

pub(crate) use jiandu_guest::api::{conflict, forbidden};
pub(crate) use jiandu_guest::seal::new_id;

/// The reply to a write that a workflow will act on.
fn accepted(body: serde_json::Value) -> Reply {
    api::accepted(&body)
}
