//! What `spin:sqlite` and `spin:postgres` share: which statements open and
//! close a transaction, and how result rows reach a guest that asked for a
//! stream.

use wasmtime::AsContextMut;
use wasmtime::component::{FutureReader, Lift, Lower, StreamProducer, StreamReader};

/// What a statement does to its connection's transaction.
#[derive(Debug, PartialEq, Eq)]
pub enum TransactionEffect {
    /// `BEGIN` or `START TRANSACTION`.
    Begins,
    /// `COMMIT`, `END`, `ROLLBACK` or `ABORT` (not `ROLLBACK TO` a savepoint).
    Ends,
    /// Anything else.
    None,
}

/// Classifies a statement by its first words, without allocating: it runs
/// for every statement a guest sends.
pub fn transaction_effect(sql: &str) -> TransactionEffect {
    let mut words = sql.split_whitespace();
    let first = words.next().unwrap_or_default().trim_end_matches(';');
    let is = |word: &str, keyword: &str| word.eq_ignore_ascii_case(keyword);
    if is(first, "BEGIN") {
        TransactionEffect::Begins
    } else if is(first, "START") {
        // `get`, not slicing: a guest's word may not split at byte 11.
        match words.next().and_then(|w| w.get(..11)) {
            Some(w) if is(w, "TRANSACTION") => TransactionEffect::Begins,
            _ => TransactionEffect::None,
        }
    } else if is(first, "ROLLBACK") && words.any(|w| is(w, "TO")) {
        TransactionEffect::None
    } else if ["COMMIT", "END", "ROLLBACK", "ABORT"]
        .iter()
        .any(|k| is(first, k))
    {
        TransactionEffect::Ends
    } else {
        TransactionEffect::None
    }
}

/// Rows streamed to a guest, and the future that says how the stream ended.
pub type RowStream<R, E> = (StreamReader<R>, FutureReader<Result<(), E>>);

/// Result rows, all fetched already, as the stream an `-async` query
/// returns, with the future that reports how the stream ended (always well,
/// since every row is in hand).
pub fn stream_rows<S, R, E>(mut store: S, rows: Vec<R>) -> wasmtime::Result<RowStream<R, E>>
where
    S: AsContextMut,
    R: Lower + Lift + Send + Sync + 'static,
    E: Lower + Lift + Send + Sync + 'static,
    Vec<R>: StreamProducer<S::Data, Item = R>,
{
    let rows = StreamReader::new(&mut store, rows)?;
    let done = FutureReader::new(&mut store, async { wasmtime::error::Ok(Ok(())) })?;
    Ok((rows, done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_classified_for_transactions() {
        let cases = [
            ("BEGIN IMMEDIATE", TransactionEffect::Begins),
            ("  begin", TransactionEffect::Begins),
            ("BEGIN;", TransactionEffect::Begins),
            (
                "start transaction isolation level serializable",
                TransactionEffect::Begins,
            ),
            ("COMMIT", TransactionEffect::Ends),
            ("rollback", TransactionEffect::Ends),
            ("ROLLBACK TO SAVEPOINT a", TransactionEffect::None),
            ("rollback transaction to a", TransactionEffect::None),
            ("END TRANSACTION", TransactionEffect::Ends),
            ("abort", TransactionEffect::Ends),
            ("INSERT INTO t VALUES (1)", TransactionEffect::None),
            ("SELECT 1", TransactionEffect::None),
            ("beginning", TransactionEffect::None),
            ("START 交易事务", TransactionEffect::None),
        ];
        for (sql, effect) in cases {
            assert_eq!(transaction_effect(sql), effect, "{sql}");
        }
    }
}
