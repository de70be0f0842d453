//! 四色管理 — the colour of a task row on the four-colour scale, now: the one
//! place the task views and the overdue view take it from.

use jiandu_domain::escalation::Colour;
use jiandu_domain::step::TaskStatus;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::db::Row;

/// The colour of the task in `row` (columns `status`, `due_at`,
/// `reminders_sent`, `escalation_level`) at `now`, or `None` once it is
/// done or cancelled.
pub fn colour(row: &Row, now: OffsetDateTime) -> Option<Colour> {
    let status = TaskStatus::parse(row.text("status").unwrap_or_default())?;
    if !status.is_pending() {
        return None;
    }
    let past_due = row
        .text("due_at")
        .and_then(|due| OffsetDateTime::parse(due, &Rfc3339).ok())
        .is_some_and(|due| due <= now);
    Some(Colour::of(
        past_due,
        row.int("reminders_sent").unwrap_or(0),
        row.int("escalation_level").unwrap_or(0),
    ))
}
