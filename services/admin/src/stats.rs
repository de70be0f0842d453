//! `GET /api/v1/admin/stats` — 统计 — the figures the seed reports for a
//! period and a subtree: tours and the targets they covered, problems found,
//! clues transferred and disposed of, problems rectified, 回头看 done and
//! failed, reports received and accepted, people handled, and what is
//! overdue now.

use jiandu_domain::audit::AuditAction;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::clock;
use jiandu_guest::db::Db;
use jiandu_guest::query::{self, bad};
use jiandu_guest::staff::Staff;
use serde_json::json;
use spin_sdk::http::StatusCode;
use time::macros::{format_description, offset};
use time::{Date, PrimitiveDateTime, Time};

use crate::{administered, store, subtree_of};

/// The first instant of `date` in China, as a stored UTC time.
fn china_midnight(date: Date) -> String {
    let at = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(offset!(+8));
    clock::rfc3339(at.to_offset(time::UtcOffset::UTC))
}

/// A `YYYY-MM-DD` parameter: 400 when it has not that shape, 422 when it
/// has but names no day (`2026-02-30`), as the API's convention says.
fn date(name: &str, value: &str) -> Result<Date, ApiError> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(bad(name, "must be a date, YYYY-MM-DD"));
    }
    Date::parse(value, format_description!("[year]-[month]-[day]")).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("/{name}"),
            "no such day",
        )
    })
}

/// `GET /api/v1/admin/stats?from&to[&org]`.
pub(crate) async fn show(caller: &Staff, db: &Db, query: &str) -> Result<Reply, ApiError> {
    let object = format!("stats:{}", caller.org());
    let administered = administered(caller, db, AuditAction::StatsRead, &object).await?;
    let (mut from, mut to, mut org) = (None, None, None);
    for (name, value) in query::pairs(query)? {
        match name.as_str() {
            "from" => from = Some(date("from", &value)?),
            "to" => to = Some(date("to", &value)?),
            "org" => org = Some(value),
            other => {
                return Err(bad(
                    other,
                    "is not a parameter of the stats; use from, to, org",
                ));
            }
        }
    }
    let from = from.ok_or_else(|| bad("from", "the period's first day is required"))?;
    let to = to.ok_or_else(|| bad("to", "the period's last day is required"))?;
    if to < from {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/to",
            "the period ends on or after it starts",
        ));
    }
    let orgs = subtree_of(caller, org.as_deref(), administered)?;
    let (from_date, to_date) = (from.to_string(), to.to_string());
    let (start, until) = (
        china_midnight(from),
        china_midnight(to.next_day().unwrap_or(to)),
    );
    let span = store::Span {
        from: &start,
        until: &until,
        from_date: &from_date,
        to_date: &to_date,
        orgs: &orgs,
    };
    let mut figures = serde_json::Map::new();
    for (name, n) in store::stats(db, &span).await? {
        figures.insert(name.to_owned(), json!(n));
    }
    let now = clock::rfc3339(clock::now());
    figures.insert(
        "overdue_now".into(),
        json!(store::overdue_count(db, &orgs, &now).await?),
    );
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "org": org.as_deref().unwrap_or(caller.org()),
            "period": { "from": from_date, "to": to_date },
            "as_of": now,
            "figures": figures,
        }),
    ))
}
