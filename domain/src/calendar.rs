//! 工作日 — the PRC working-day calendar.
//!
//! Weekends are off, statutory holidays are off, and some weekend days are
//! working days (调休上班). Each year is a data file in `domain/calendar/`,
//! embedded at build time. Past the last known year the calendar counts
//! weekends only and says so ([`WorkingDays::estimated`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use time::{Date, Weekday};

include!(concat!(env!("OUT_DIR"), "/calendar_files.rs"));

/// One year's exceptions to the weekend rule.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct YearRules {
    off: BTreeSet<Date>,
    work: BTreeSet<Date>,
}

/// A calendar file line could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("calendar file {file}, line {line}: {message}")]
pub struct CalendarError {
    file: String,
    line: usize,
    message: String,
}

/// The working-day calendar.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    years: BTreeMap<i32, YearRules>,
}

/// The result of counting working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingDays {
    /// The day reached.
    pub date: Date,
    /// True when the count ran past the last year the calendar knows, so
    /// holidays there were not taken into account (weekends only).
    pub estimated: bool,
}

impl Calendar {
    /// The calendar built from the embedded official schedules.
    pub fn official() -> &'static Calendar {
        static OFFICIAL: OnceLock<Calendar> = OnceLock::new();
        OFFICIAL.get_or_init(|| {
            Calendar::from_files(CALENDAR_FILES.iter().copied())
                .expect("embedded calendar files are valid (checked by tests)")
        })
    }

    /// Builds a calendar from `(file name, contents)` pairs; each file is named `<year>.txt`.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, CalendarError> {
        let mut years = BTreeMap::new();
        for (name, text) in files {
            let err = |line: usize, message: String| CalendarError {
                file: name.to_owned(),
                line,
                message,
            };
            let year: i32 = name
                .trim_end_matches(".txt")
                .parse()
                .map_err(|_| err(0, "the file name must be <year>.txt".into()))?;
            let mut rules = YearRules::default();
            for (i, raw) in text.lines().enumerate() {
                let line = raw.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let mut words = line.split_whitespace();
                let kind = words.next().unwrap_or("");
                let first = parse_date(words.next().unwrap_or("")).map_err(|m| err(i + 1, m))?;
                let last = match words.clone().next().map(parse_date) {
                    Some(Ok(d)) => {
                        words.next();
                        d
                    }
                    _ => first,
                };
                if first.year() != year || last.year() != year || last < first {
                    return Err(err(i + 1, format!("dates must be in {year} and in order")));
                }
                match kind {
                    "off" => {
                        let mut d = first;
                        while d <= last {
                            rules.off.insert(d);
                            d = d.next_day().expect("within the year");
                        }
                    }
                    "work" if first == last => {
                        rules.work.insert(first);
                    }
                    _ => {
                        return Err(err(
                            i + 1,
                            format!(
                                "expected `off FIRST [LAST] NAME` or `work DAY NAME`, found `{line}`"
                            ),
                        ));
                    }
                }
            }
            years.insert(year, rules);
        }
        Ok(Self { years })
    }

    /// The last year whose schedule is known.
    pub fn last_known_year(&self) -> Option<i32> {
        self.years.keys().next_back().copied()
    }

    /// Whether `day` is a working day, and whether its year's schedule is known.
    pub fn is_working_day(&self, day: Date) -> (bool, bool) {
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        match self.years.get(&day.year()) {
            Some(rules) if rules.work.contains(&day) => (true, true),
            Some(rules) if rules.off.contains(&day) => (false, true),
            Some(_) => (!weekend, true),
            None => (!weekend, false),
        }
    }

    /// The `n`-th working day after `start` (`start` itself is not counted).
    pub fn add_working_days(&self, start: Date, n: u32) -> WorkingDays {
        let mut date = start;
        let mut estimated = false;
        let mut left = n;
        while left > 0 {
            date = date
                .next_day()
                .expect("dates stay far from the end of time");
            let (working, known) = self.is_working_day(date);
            estimated |= !known;
            if working {
                left -= 1;
            }
        }
        WorkingDays { date, estimated }
    }
}

impl Calendar {
    /// How many working days lie after `start`, up to and including `end`.
    pub fn working_days_between(&self, start: Date, end: Date) -> u32 {
        let mut count = 0;
        let mut date = start;
        while date < end {
            date = date
                .next_day()
                .expect("dates stay far from the end of time");
            if self.is_working_day(date).0 {
                count += 1;
            }
        }
        count
    }

    /// The working day `n` working days before `end` (`end` itself is not counted).
    pub fn sub_working_days(&self, end: Date, n: u32) -> Date {
        let mut date = end;
        let mut left = n;
        while left > 0 {
            date = date
                .previous_day()
                .expect("dates stay far from the start of time");
            if self.is_working_day(date).0 {
                left -= 1;
            }
        }
        date
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).map_err(|_| format!("`{text}` is not a date like 2026-10-01"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn check(start: Date, n: u32, expected: Date) {
        let got = Calendar::official().add_working_days(start, n);
        assert_eq!(got.date, expected, "{n} working days after {start}");
        assert!(!got.estimated);
    }

    #[test]
    fn spring_festival_2026_with_make_up_saturdays() {
        // Fri 13 Feb; Sat 14 Feb works; 15–23 Feb off; Sat 28 Feb works.
        check(date!(2026 - 02 - 13), 1, date!(2026 - 02 - 14));
        check(date!(2026 - 02 - 13), 2, date!(2026 - 02 - 24));
        check(date!(2026 - 02 - 13), 6, date!(2026 - 02 - 28));
        check(date!(2026 - 02 - 13), 7, date!(2026 - 03 - 02));
        // 检控 Art. 26: acceptance notice 15 working days after receipt.
        check(date!(2026 - 02 - 10), 15, date!(2026 - 03 - 09));
    }

    #[test]
    fn spring_festival_2025() {
        // Sun 26 Jan works; 28 Jan – 4 Feb off; Sat 8 Feb works.
        check(date!(2025 - 01 - 24), 1, date!(2025 - 01 - 26));
        check(date!(2025 - 01 - 24), 2, date!(2025 - 01 - 27));
        check(date!(2025 - 01 - 24), 3, date!(2025 - 02 - 05));
        check(date!(2025 - 02 - 07), 1, date!(2025 - 02 - 08));
    }

    #[test]
    fn national_day_2025_and_2026() {
        // 2025: Sun 28 Sep works; 1–8 Oct off; Sat 11 Oct works.
        check(date!(2025 - 09 - 26), 1, date!(2025 - 09 - 28));
        check(date!(2025 - 09 - 30), 1, date!(2025 - 10 - 09));
        check(date!(2025 - 10 - 10), 1, date!(2025 - 10 - 11));
        // 2026: Sun 20 Sep works; 25–27 Sep off; 1–7 Oct off; Sat 10 Oct works.
        check(date!(2026 - 09 - 18), 1, date!(2026 - 09 - 20));
        check(date!(2026 - 09 - 24), 1, date!(2026 - 09 - 28));
        check(date!(2026 - 09 - 30), 1, date!(2026 - 10 - 08));
        check(date!(2026 - 09 - 30), 3, date!(2026 - 10 - 10));
        // 条例 Art. 199: transfer within 5 working days of 30 Sep 2026.
        check(date!(2026 - 09 - 30), 5, date!(2026 - 10 - 13));
    }

    #[test]
    fn ordinary_weeks_skip_weekends() {
        check(date!(2026 - 11 - 26), 1, date!(2026 - 11 - 27));
        check(date!(2026 - 11 - 27), 1, date!(2026 - 11 - 30));
        check(date!(2026 - 11 - 26), 15, date!(2026 - 12 - 17));
    }

    #[test]
    fn past_the_last_known_year_counts_weekends_only_and_says_so() {
        let cal = Calendar::official();
        assert_eq!(cal.last_known_year(), Some(2026));
        let got = cal.add_working_days(date!(2026 - 12 - 21), 15);
        assert!(got.estimated);
        // 22–31 Dec 2026 hold 8 working days, then Jan 2027 weekdays only.
        assert_eq!(got.date, date!(2027 - 01 - 11));
        // Adding a file for the new year is all it takes.
        let with_2027 = Calendar::from_files(
            CALENDAR_FILES
                .iter()
                .copied()
                .chain([("2027.txt", "off 2027-01-01 元旦\n")]),
        )
        .unwrap();
        let got = with_2027.add_working_days(date!(2026 - 12 - 21), 15);
        assert!(!got.estimated);
        assert_eq!(got.date, date!(2027 - 01 - 12));
    }

    #[test]
    fn malformed_files_are_refused_with_the_line() {
        let bad = [
            ("2026.txt", "holiday 2026-01-01"),
            ("2026.txt", "off 2025-01-01"),
            ("2026.txt", "off 2026-13-01"),
            ("2026.txt", "work 2026-01-01 2026-01-03"),
            ("x.txt", ""),
        ];
        for (name, text) in bad {
            assert!(Calendar::from_files([(name, text)]).is_err(), "{text}");
        }
    }
}
