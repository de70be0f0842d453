//! 催办、督办、提级 — the escalation ladder that every human step climbs when
//! it is late, and the schedule of its rungs.
//!
//! A step opens with a due time from its [`DeadlinePolicy`]. Its [`Ladder`]
//! adds a reminder (催办) some working days before the due time, marks the
//! step overdue and supervised (督办) by the supervising level at the due
//! time, and elevates it (提级) to the next level up after a grace period.

use std::time::Duration;

use time::{Date, OffsetDateTime, Time, UtcOffset};

use crate::calendar::Calendar;
use crate::deadline::{DeadlinePolicy, Span};

/// China Standard Time, in which due dates are counted.
const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("+08:00 is a valid offset"),
};

/// The rungs of one step's ladder. Units are working days, or hours for
/// steps whose limit is counted in hours (the 24-hour detention notice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ladder {
    /// 催办 — remind this many units before the due time (0: no reminder).
    pub remind_before: u32,
    /// 提级 — elevate this many units after the due time.
    pub grace: u32,
}

impl Ladder {
    /// The default ladder for a policy: remind 3 working days ahead and
    /// elevate 2 working days late; for hour limits, 4 hours and 2 hours.
    pub fn default_for(policy: &DeadlinePolicy) -> Ladder {
        match policy.span {
            Span::Hours(_) => Ladder {
                remind_before: 4,
                grace: 2,
            },
            _ => Ladder {
                remind_before: 3,
                grace: 2,
            },
        }
    }
}

/// A rung reached by a late step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 催办 — the assignee is reminded before the due time.
    Reminder,
    /// 逾期督办 — the step is overdue and the supervising level presses it.
    Overdue,
    /// 提级 — the step is elevated to the next level up.
    Elevated,
}

impl Stage {
    /// The event name recorded on the task.
    pub fn event(self) -> &'static str {
        match self {
            Stage::Reminder => "reminder",
            Stage::Overdue => "overdue",
            Stage::Elevated => "elevated",
        }
    }

    /// The task's escalation level once this rung is reached.
    pub fn level(self) -> u8 {
        match self {
            Stage::Reminder => 0,
            Stage::Overdue => 1,
            Stage::Elevated => 2,
        }
    }
}

crate::wire::wire_enum! {
    /// 四色管理 — an open step's standing on the four-colour scale that boards
    /// and ledgers show. It follows the ladder's rungs, so no threshold of its
    /// own is invented: a step is due soon once its reminder (催办) is sent.
    pub enum Colour {
        /// 绿 — on time: no rung reached.
        OnTime = "on_time",
        /// 黄 — due soon: reminded (催办), not yet due.
        DueSoon = "due_soon",
        /// 红 — overdue and pressed by the supervising level (逾期督办).
        Overdue = "overdue",
        /// 紫 — elevated to the next level up (提级).
        Elevated = "elevated",
    }
}

impl Colour {
    /// The colour of a step with this much of its ladder climbed:
    /// `past_due` when its due time has passed (even before the timer that
    /// records 督办 has fired), `reminders_sent` and `escalation_level` as
    /// the task records them.
    pub fn of(past_due: bool, reminders_sent: i64, escalation_level: i64) -> Colour {
        if escalation_level >= i64::from(Stage::Elevated.level()) {
            Colour::Elevated
        } else if past_due || escalation_level >= i64::from(Stage::Overdue.level()) {
            Colour::Overdue
        } else if reminders_sent > 0 {
            Colour::DueSoon
        } else {
            Colour::OnTime
        }
    }
}

/// How fast deadlines run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Real time: due at the end of the due date, China time.
    RealTime,
    /// Every working day lasts this long (hours count as 1/24 of one).
    /// For demonstrations and tests that run real timers quickly.
    Scaled {
        /// The length of one working day.
        working_day: Duration,
    },
}

/// When one step falls due and when each rung of its ladder is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The last day on which the step is on time (China time).
    pub due_date: Date,
    /// The instant the step becomes overdue.
    pub due_at: OffsetDateTime,
    /// True when the count ran past the last year the calendar knows.
    pub estimated: bool,
    /// Each rung with its delay from the step's start, in order.
    pub rungs: Vec<(Stage, Duration)>,
}

impl Schedule {
    /// The schedule of a step under `policy` that starts at `start`.
    pub fn plan(
        policy: &DeadlinePolicy,
        ladder: Ladder,
        start: OffsetDateTime,
        calendar: &Calendar,
        pace: Pace,
    ) -> Schedule {
        let start_date = start.to_offset(CST).date();
        let due = policy.due_from(start_date, calendar);
        let (remind, due_in, elevate) = match (pace, policy.span) {
            (Pace::RealTime, Span::Hours(hours)) => {
                let due = hours_to_duration(hours);
                (
                    due.checked_sub(hours_to_duration(ladder.remind_before)),
                    due,
                    due + hours_to_duration(ladder.grace),
                )
            }
            (Pace::RealTime, _) => {
                let since = |instant: OffsetDateTime| {
                    Duration::try_from(instant - start).unwrap_or(Duration::ZERO)
                };
                let remind_day = calendar.sub_working_days(due.date, ladder.remind_before);
                let remind = (ladder.remind_before > 0 && end_of(remind_day) > start)
                    .then(|| since(end_of(remind_day)));
                let elevate_day = calendar.add_working_days(due.date, ladder.grace).date;
                (remind, since(end_of(due.date)), since(end_of(elevate_day)))
            }
            (Pace::Scaled { working_day }, Span::Hours(hours)) => {
                let hour = working_day / 24;
                let due = hour * hours;
                (
                    due.checked_sub(hour * ladder.remind_before),
                    due,
                    due + hour * ladder.grace,
                )
            }
            (Pace::Scaled { working_day }, _) => {
                let total = calendar.working_days_between(start_date, due.date).max(1);
                (
                    total
                        .checked_sub(ladder.remind_before)
                        .map(|left| working_day * left),
                    working_day * total,
                    working_day * (total + ladder.grace),
                )
            }
        };
        let mut rungs = Vec::with_capacity(3);
        if let Some(remind) = remind.filter(|r| ladder.remind_before > 0 && !r.is_zero()) {
            rungs.push((Stage::Reminder, remind));
        }
        rungs.push((Stage::Overdue, due_in));
        rungs.push((Stage::Elevated, elevate));
        Schedule {
            due_date: due.date,
            due_at: start + due_in,
            estimated: due.estimated,
            rungs,
        }
    }
}

/// How long from `now` until `date` (China time) has ended, at `pace`: a new
/// due date set on an elevated step (提级).
pub fn until_end_of(date: Date, now: OffsetDateTime, calendar: &Calendar, pace: Pace) -> Duration {
    match pace {
        Pace::RealTime => Duration::try_from(end_of(date) - now).unwrap_or(Duration::ZERO),
        Pace::Scaled { working_day } => {
            let today = now.to_offset(CST).date();
            working_day * calendar.working_days_between(today, date).max(1)
        }
    }
}

/// The instant a day ends in China time.
pub fn end_of(day: Date) -> OffsetDateTime {
    day.next_day()
        .expect("dates stay far from the end of time")
        .with_time(Time::MIDNIGHT)
        .assume_offset(CST)
}

fn hours_to_duration(hours: u32) -> Duration {
    Duration::from_secs(u64::from(hours) * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_the_rungs_reached() {
        assert_eq!(Colour::of(false, 0, 0), Colour::OnTime);
        assert_eq!(Colour::of(false, 1, 0), Colour::DueSoon);
        assert_eq!(
            Colour::of(true, 0, 0),
            Colour::Overdue,
            "due, timer not yet fired"
        );
        assert_eq!(Colour::of(false, 1, 1), Colour::Overdue);
        assert_eq!(Colour::of(true, 1, 2), Colour::Elevated);
    }
    use crate::deadline::{DETENTION_NOTICE, INQUIRY_REPLY};
    use time::macros::datetime;

    fn rung(schedule: &Schedule, stage: Stage) -> Option<Duration> {
        schedule
            .rungs
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|(_, d)| *d)
    }

    #[test]
    fn real_time_counts_working_days_in_china_time() {
        // Thu 26 Nov 2026, 10:00 China time; 15 working days → Thu 17 Dec.
        let start = datetime!(2026-11-26 10:00 +08:00);
        let ladder = Ladder {
            remind_before: 3,
            grace: 2,
        };
        let s = Schedule::plan(
            &INQUIRY_REPLY,
            ladder,
            start,
            Calendar::official(),
            Pace::RealTime,
        );
        assert_eq!(s.due_date, time::macros::date!(2026 - 12 - 17));
        assert_eq!(s.due_at, datetime!(2026-12-18 00:00 +08:00));
        // Reminder at the end of Mon 14 Dec (3 working days before).
        assert_eq!(
            start + rung(&s, Stage::Reminder).unwrap(),
            datetime!(2026-12-15 00:00 +08:00)
        );
        // Elevated at the end of Mon 21 Dec (2 working days after).
        assert_eq!(
            start + rung(&s, Stage::Elevated).unwrap(),
            datetime!(2026-12-22 00:00 +08:00)
        );
        let order: Vec<Stage> = s.rungs.iter().map(|(s, _)| *s).collect();
        assert_eq!(order, [Stage::Reminder, Stage::Overdue, Stage::Elevated]);
    }

    #[test]
    fn scaled_pace_keeps_the_working_day_count() {
        let start = datetime!(2026-11-26 10:00 +08:00);
        let pace = Pace::Scaled {
            working_day: Duration::from_millis(200),
        };
        let s = Schedule::plan(
            &INQUIRY_REPLY,
            Ladder::default_for(&INQUIRY_REPLY),
            start,
            Calendar::official(),
            pace,
        );
        assert_eq!(rung(&s, Stage::Reminder), Some(Duration::from_millis(2400)));
        assert_eq!(rung(&s, Stage::Overdue), Some(Duration::from_millis(3000)));
        assert_eq!(rung(&s, Stage::Elevated), Some(Duration::from_millis(3400)));
    }

    #[test]
    fn hour_limits_count_hours() {
        let start = datetime!(2026-11-26 10:00 +08:00);
        let s = Schedule::plan(
            &DETENTION_NOTICE,
            Ladder::default_for(&DETENTION_NOTICE),
            start,
            Calendar::official(),
            Pace::RealTime,
        );
        assert_eq!(s.due_at, datetime!(2026-11-27 10:00 +08:00));
        assert_eq!(
            rung(&s, Stage::Reminder),
            Some(Duration::from_secs(20 * 3600))
        );
        assert_eq!(
            rung(&s, Stage::Elevated),
            Some(Duration::from_secs(26 * 3600))
        );
    }
}
