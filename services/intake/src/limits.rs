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
/// `Retry-After` over a limit. Answers whether the division's window has
/// just opened: once per window, the moment to [`forget`] ended ones.
pub(crate) async fn count(
    db: &Db,
    limits: Limits,
    content_hash: &str,
    division: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let content = format!("content:{content_hash}");
    let division = format!("division:{division}");
    let rows = store::count_submission(db, [&content, &division], now, limits.window_secs).await?;
    let window_of = |bucket: &str| {
        rows.iter()
            .find(|r| r.str("bucket") == bucket)
            .map(|r| {
                (
                    r.int("window_start").unwrap_or(now),
                    r.int("submissions").unwrap_or(0),
                )
            })
            .ok_or_else(|| ApiError::internal(format!("no window counted for {bucket}")))
    };
    let limited = [
        (
            &content,
            limits.per_content,
            "this report was already sent; follow it up with its receipt code instead of sending it again",
        ),
        (
            &division,
            limits.per_division,
            "this commission is receiving unusually many anonymous reports; try again shortly",
        ),
    ];
    for (bucket, limit, message) in limited {
        let (window_start, submissions) = window_of(bucket)?;
        if submissions > limit {
            let retry_after = limits.window_secs - (now - window_start);
            return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "", message)
                .with_header("retry-after", retry_after.max(1).to_string()));
        }
    }
    Ok(window_of(&division)?.1 == 1)
}

/// Forgets the windows that have ended, outside any report's transaction; a
/// failure is only logged, since the report it follows is already stored and
/// an ended window left behind is reset when its bucket is next counted.
pub(crate) async fn forget(db: &Db, limits: Limits, now: i64) {
    let forgotten = async {
        db.begin_beside_others().await?;
        store::forget_windows(db, now - limits.window_secs).await?;
        db.commit().await
    }
    .await;
    if let Err(e) = forgotten {
        db.rollback().await;
        eprintln!("ended submission windows were not forgotten: {e}");
    }
}
