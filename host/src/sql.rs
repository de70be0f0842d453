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

/// Classifies a statement by its first words.
pub fn transaction_effect(sql: &str) -> TransactionEffect {
    let mut words = sql.split_whitespace().map(str::to_ascii_uppercase);
    let first = words.next().unwrap_or_default();
    let first = first.trim_end_matches(';');
    match first {
        "BEGIN" => TransactionEffect::Begins,
        "START" if words.next().is_some_and(|w| w.starts_with("TRANSACTION")) => {
            TransactionEffect::Begins
        }
        "ROLLBACK" if words.any(|w| w == "TO") => TransactionEffect::None,
        "COMMIT" | "END" | "ROLLBACK" | "ABORT" => TransactionEffect::Ends,
        _ => TransactionEffect::None,
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
        ];
        for (sql, effect) in cases {
            assert_eq!(transaction_effect(sql), effect, "{sql}");
        }
    }
}
