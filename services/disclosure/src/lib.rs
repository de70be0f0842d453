//! 监督一点通 — public disclosure: what each division puts online, read by
//! the public without a token.
//!
//! - `POST /api/v1/disclosure/items` — a division's staff or head publishes
//!   an item of their own org (kind, title, period, amounts, body,
//!   attachments by reference).
//! - `POST /api/v1/disclosure/items/{id}/corrections` — a correction: a new
//!   revision with its reason; every earlier revision stays readable.
//! - `POST /api/v1/disclosure/items/{id}/withdrawal` — a withdrawal, with
//!   its reason; the item stays readable as withdrawn.
//! - `GET /api/v1/disclosure/divisions/{org}` — public: a division, the
//!   divisions under it and how many items each has published.
//! - `GET /api/v1/disclosure/items?division=…&kind=…&period=…&q=…` — public:
//!   a division's items, newest first, searchable by title.
//! - `GET /api/v1/disclosure/items/{id}` — public: an item, its revisions,
//!   its visits and its open complaints. A complaint is a report
//!   (`POST /api/v1/reports` with `disclosure_item`).
//!
//! Public answers may be cached for a short while. A visit costs no
//! database write of its own: visits are counted in the instance and
//! written in batches (`visits`).

use jiandu_domain::org::Role;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::Db;
use jiandu_guest::idempotency;
use jiandu_guest::staff::{self, Staff};
use serde_json::Value;
use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;

mod items;
mod public;
mod store;
mod visits;

/// Who discloses for a division: its own staff and its head.
const PUBLISHERS: &[Role] = &[Role::Staff, Role::Head];

#[http_service]
async fn handle(req: Request) -> Reply {
    route(req).await.unwrap_or_else(ApiError::into_reply)
}

async fn route(req: Request) -> Result<Reply, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let method = req.method().clone();
    let segments: Vec<&str> = path.split('/').skip(4).collect();
    let db = Db::open().await?;
    match (&method, segments.as_slice()) {
        (&Method::GET, ["divisions", org]) => {
            return public::division(&db, org).await;
        }
        (&Method::GET, ["items"]) => return public::items(&db, &query).await,
        (&Method::GET, ["items", id]) => return public::item(&db, id).await,
        _ => {}
    }
    let Some(write) = Write::of(&segments) else {
        return Err(match segments.as_slice() {
            ["divisions", _] | ["items", _] => ApiError::method_not_allowed("GET"),
            ["items"] => ApiError::method_not_allowed("GET, POST"),
            _ => api::no_such_route(),
        });
    };
    if method != Method::POST {
        return Err(ApiError::method_not_allowed(match write {
            Write::Publish => "GET, POST",
            _ => "POST",
        }));
    }
    let caller = staff::caller(&req, &db).await?;
    caller.require(PUBLISHERS)?;
    let db = &db;
    idempotency::staff_post(req, db, caller, &path, async |c, input| {
        write.run(c, db, input).await
    })
    .await
}

/// The writes, each a `POST` with a JSON body, idempotent by `Idempotency-Key`.
enum Write<'p> {
    Publish,
    Correct(&'p str),
    Withdraw(&'p str),
}

impl<'p> Write<'p> {
    /// The write a path names, if any.
    fn of(segments: &[&'p str]) -> Option<Self> {
        Some(match *segments {
            ["items"] => Self::Publish,
            ["items", id, "corrections"] => Self::Correct(id),
            ["items", id, "withdrawal"] => Self::Withdraw(id),
            _ => return None,
        })
    }

    async fn run(self, c: Staff, db: &Db, input: Value) -> Result<Reply, ApiError> {
        match self {
            Self::Publish => items::publish(input, c, db).await,
            Self::Correct(id) => items::correct(input, c, db, id).await,
            Self::Withdraw(id) => items::withdraw(input, c, db, id).await,
        }
    }
}
