//! Rate limits on anonymous submissions, by what is sent rather than who
//! sends it: the same text more than [`Limits::per_content`] times per
//! window (a flood of one report), and more than [`Limits::per_division`]
//! reports per window for one division (a flood against one commission,
//! which leaves every other division's reporters untouched). No client
//! address is counted: behind a gateway every reporter shares one.
//! Real-name reports are not limited here.

use jiandu_guest::api::ApiError;
use jiandu_guest::db::Db;
use spin_sdk::http::StatusCode;

use crate::store;

/// The limits, from the `anonymous_limits` variable:
/// `per_content,per_division,window_secs`, e.g. `3,120,600`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Submissions of one text per window.
    pub(crate) per_content: i64,
    /// Anonymous submissions per division per window.
    pub(crate) per_division: i64,
    /// The window, in seconds.
    pub(crate) window_secs: i64,
}

impl Limits {
    /// Parses `per_content,per_division,window_secs`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let numbers: Vec<i64> = text
            .split(',')
            .map(|n| n.trim().parse::<i64>().ok().filter(|n| *n > 0))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("`{text}` is not three positive numbers"))?;
        match numbers[..] {
            [per_content, per_division, window_secs] => Ok(Self {
                per_content,
                per_division,
                window_secs,
            }),
            _ => Err(format!(
                "`{text}` is not `per_content,per_division,window_secs`"
            )),
        }
    }
}

/// Counts an anonymous submission inside the caller's write transaction, so
/// a submission that is not stored is not counted either; 429 with
/// `Retry-After` over a limit.
pub(crate) async fn count(
    db: &Db,
    limits: Limits,
    content_hash: &str,
    division: &str,
    now: i64,
) -> Result<(), ApiError> {
    let buckets = [
        (
            format!("content:{content_hash}"),
            limits.per_content,
            "this report was already sent; follow it up with its receipt code instead of sending it again",
        ),
        (
            format!("division:{division}"),
            limits.per_division,
            "this commission is receiving unusually many anonymous reports; try again shortly",
        ),
    ];
    for (bucket, limit, message) in buckets {
        let row = store::count_submission(db, &bucket, now, limits.window_secs)
            .await?
            .ok_or_else(|| ApiError::internal("no window counted"))?;
        if row.int("submissions").unwrap_or(0) > limit {
            let retry_after = limits.window_secs - (now - row.int("window_start").unwrap_or(now));
            return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "", message)
                .with_header("retry-after", retry_after.max(1).to_string()));
        }
    }
    store::forget_windows(db, now - limits.window_secs).await?;
    Ok(())
}
