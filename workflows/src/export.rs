//! 台账导出 — a ledger export: the [`ExportWorkflow`] runs one activity
//! that writes the file a row at a time as one query streams the rows (CSV
//! with the `csv` crate, XLSX with `rust_xlsxwriter` in its constant-memory
//! mode, to a work file), then stores it in the database in chunks for the
//! API to serve. If the activity keeps failing, the export is marked failed
//! with the reason.
//! Its SQL is in `store::exports`.

use std::fs::File;
use std::io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt as _;
use jiandu_domain::flow::ExportRequested;
use jiandu_domain::ledger::{
    CHUNK_BYTES, Cell, Column, ExportState, LedgerFormat, LedgerKind, SHEET,
};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use temporalio_common::RetryPolicy;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowResult};

use crate::activities::{now, rfc3339};
use crate::store::exports as sql;
use crate::store::{self, Pool, Row};

/// Rows written between two reports of progress.
const PROGRESS_EVERY: i64 = 500;

/// The export workflow ([`jiandu_domain::flow::EXPORT_WORKFLOW`]); its id is the export id.
#[workflow]
#[derive(Default)]
pub struct ExportWorkflow;

#[workflow_methods]
impl ExportWorkflow {
    /// Writes the file; after the last failed attempt, records why.
    #[run(name = "ExportWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: ExportRequested,
    ) -> WorkflowResult<String> {
        let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(30 * 60))
            .heartbeat_timeout(Duration::from_secs(60))
            .retry_policy(RetryPolicy::builder().maximum_attempts(5).build())
            .build();
        let written = ctx
            .execute_activity(Exports::write_ledger, input.export_id.clone(), options)
            .await;
        match written {
            Ok(w) => Ok(format!("{} rows, {} bytes", w.rows, w.bytes)),
            Err(e) => {
                let mut error = e.to_string();
                let mut cause = e.failure().and_then(|f| f.cause.as_deref());
                while let Some(f) = cause {
                    error = format!("{error}: {}", f.message);
                    cause = f.cause.as_deref();
                }
                let failed = ExportFailed {
                    export_id: input.export_id,
                    error,
                };
                ctx.execute_activity(Exports::fail_export, failed, crate::agenda::options())
                    .await?;
                Ok("failed".to_owned())
            }
        }
    }
}

/// A finished file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportWritten {
    /// Rows in it, the header not counted.
    pub rows: i64,
    /// Its size.
    pub bytes: i64,
}

/// An export the worker gave up on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFailed {
    /// The export.
    pub export_id: String,
    /// Why.
    pub error: String,
}

/// The export activities, with the database and the directory their work
/// files go to.
pub struct Exports {
    pool: Pool,
    dir: PathBuf,
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error("reading the ledger: {0}")]
    Database(#[from] sqlx::Error),
    #[error("writing the work file: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] XlsxError),
}

/// A failure no retry mends.
fn permanent(message: String) -> ActivityError {
    ActivityError::application(ApplicationFailure::non_retryable(anyhow::anyhow!(message)))
}

/// What an export asks for, from its row.
struct Order {
    kind: LedgerKind,
    format: LedgerFormat,
    orgs: Vec<String>,
}

/// The file being written.
enum Sink {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Xlsx {
        workbook: Box<Workbook>,
        sheet: Box<Worksheet>,
        file: File,
    },
}

impl Sink {
    /// Starts a file of `kind` in `format` with its header row.
    fn start(
        kind: LedgerKind,
        format: LedgerFormat,
        file: File,
        dir: &std::path::Path,
    ) -> Result<Self, WriteError> {
        let headers = kind.columns().iter().map(|c| c.header);
        match format {
            LedgerFormat::Csv => {
                let mut out = BufWriter::new(file);
                // A byte-order mark, so that spreadsheet programs read UTF-8.
                out.write_all(b"\xEF\xBB\xBF")?;
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(headers)?;
                Ok(Sink::Csv(Box::new(csv)))
            }
            LedgerFormat::Xlsx => {
                let mut workbook = Box::new(Workbook::new());
                workbook.set_tempdir(dir)?;
                let mut sheet = Box::new(workbook.new_worksheet_with_constant_memory()?);
                sheet.set_name(SHEET)?;
                let bold = Format::new().set_bold();
                for (col, header) in headers.enumerate() {
                    sheet.write_string_with_format(0, col as u16, header, &bold)?;
                }
                Ok(Sink::Xlsx {
                    workbook,
                    sheet,
                    file,
                })
            }
        }
    }

    /// Writes data row `n` (1 is the first after the header).
    fn row(&mut self, n: u32, columns: &[Column], row: &Row) -> Result<(), WriteError> {
        match self {
            Sink::Csv(csv) => {
                for column in columns {
                    csv.write_field(cell_text(column, row)?)?;
                }
                csv.write_record(None::<&[u8]>)?;
            }
            Sink::Xlsx { sheet, .. } => {
                for (col, column) in columns.iter().enumerate() {
                    let col = col as u16;
                    match column.cell {
                        Cell::Number => {
                            let value: Option<i64> = row.try_get(column.name)?;
                            sheet.write_number(n, col, value.unwrap_or(0) as f64)?;
                        }
                        _ => {
                            let text = cell_text(column, row)?;
                            if !text.is_empty() {
                                sheet.write_string(n, col, &text)?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Finishes the file and returns it, rewound.
    fn finish(self) -> Result<File, WriteError> {
        let mut file = match self {
            Sink::Csv(csv) => csv
                .into_inner()
                .map_err(|e| WriteError::Io(e.into_error()))?
                .into_inner()
                .map_err(|e| WriteError::Io(e.into_error()))?,
            Sink::Xlsx {
                mut workbook,
                sheet,
                mut file,
            } => {
                workbook.push_worksheet(*sheet);
                workbook.save_to_writer(&mut file)?;
                file
            }
        };
        file.flush()?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }
}

/// A column's value as text: 是/否 for a flag, the number, or the text
/// (empty when NULL).
fn cell_text(column: &Column, row: &Row) -> Result<String, sqlx::Error> {
    Ok(match column.cell {
        Cell::Text => row
            .try_get::<Option<String>, _>(column.name)?
            .unwrap_or_default(),
        Cell::Number => row
            .try_get::<Option<i64>, _>(column.name)?
            .unwrap_or_default()
            .to_string(),
        Cell::YesNo => {
            let flag: Option<i64> = row.try_get(column.name)?;
            if flag.unwrap_or(0) != 0 { "是" } else { "否" }.to_owned()
        }
    })
}

impl Exports {
    /// Activities over `pool`, with work files in `dir`.
    pub fn new(pool: Pool, dir: PathBuf) -> Self {
        Self { pool, dir }
    }

    /// The export's order, or `None` if it is done already (a retry after
    /// the commit).
    async fn order(&self, export_id: &str) -> Result<Option<Order>, ActivityError> {
        let row = sql::order(&self.pool, export_id)
            .await?
            .ok_or_else(|| permanent(format!("there is no export {export_id}")))?;
        if row.state == ExportState::Done.as_str() {
            return Ok(None);
        }
        let (ledger, format, orgs) = (row.ledger, row.format, row.orgs);
        Ok(Some(Order {
            kind: LedgerKind::parse(&ledger)
                .ok_or_else(|| permanent(format!("`{ledger}` is no ledger")))?,
            format: LedgerFormat::parse(&format)
                .ok_or_else(|| permanent(format!("`{format}` is no ledger format")))?,
            orgs: serde_json::from_str(&orgs)
                .map_err(|e| permanent(format!("the export's orgs: {e}")))?,
        }))
    }

    /// Marks the export running with its row count, and returns the count.
    async fn start(&self, export_id: &str, order: &Order) -> Result<i64, sqlx::Error> {
        sql::start(&self.pool, export_id, order.kind, &order.orgs).await
    }

    /// Records how many rows are written so far.
    async fn progress(&self, export_id: &str, rows: i64) -> Result<(), sqlx::Error> {
        sql::progress(&self.pool, export_id, rows).await
    }

    /// Stores the finished file in chunks and marks the export done, in one
    /// transaction; chunks of an earlier attempt are replaced.
    async fn store(&self, export_id: &str, mut file: File, rows: i64) -> Result<i64, WriteError> {
        let mut tx = store::begin_write(&self.pool).await?;
        sql::clear_chunks(&mut tx, export_id).await?;
        let mut bytes = 0i64;
        let mut chunk = vec![0u8; CHUNK_BYTES];
        for seq in 0i64.. {
            let n = read_full(&mut file, &mut chunk)?;
            if n == 0 {
                break;
            }
            sql::insert_chunk(&mut tx, export_id, seq, &chunk[..n]).await?;
            bytes += n as i64;
        }
        sql::finish(&mut tx, export_id, rows, bytes, &rfc3339(now())).await?;
        tx.commit().await?;
        Ok(bytes)
    }
}

/// Fills `buf` as far as the file goes; returns how much it read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[activities]
impl Exports {
    /// Writes the export's file a row at a time, reporting progress
    /// on its row and by heartbeat, then stores it. A retry starts over.
    #[activity(name = "write_ledger")]
    pub async fn write_ledger(
        self: Arc<Self>,
        ctx: ActivityContext,
        export_id: String,
    ) -> Result<ExportWritten, ActivityError> {
        let Some(order) = self.order(&export_id).await? else {
            let (rows, bytes) = sql::written(&self.pool, &export_id).await?;
            return Ok(ExportWritten { rows, bytes });
        };
        let total = self.start(&export_id, &order).await?;
        let file = tempfile::tempfile_in(&self.dir).map_err(WriteError::Io)?;
        let mut sink = Sink::start(order.kind, order.format, file, &self.dir)?;
        let columns = order.kind.columns();
        let mut rows: i64 = 0;
        // One query read as a stream: each row is written as it arrives.
        let mut stream = sql::ledger_rows(&self.pool, order.kind, &order.orgs);
        while let Some(row) = stream.try_next().await? {
            rows += 1;
            sink.row(rows as u32, columns, &row)?;
            if rows % PROGRESS_EVERY == 0 {
                self.progress(&export_id, rows).await?;
                let _ = ctx.record_heartbeat(rows).await;
            }
        }
        drop(stream);
        self.progress(&export_id, rows).await?;
        let file = tokio::task::spawn_blocking(move || sink.finish())
            .await
            .map_err(|e| anyhow::anyhow!("finishing the file: {e}"))??;
        let bytes = self.store(&export_id, file, rows).await?;
        tracing::info!(export = %export_id, ledger = %order.kind, format = %order.format, rows, total, bytes, "ledger exported");
        Ok(ExportWritten { rows, bytes })
    }

    /// Marks the export failed, with why.
    #[activity(name = "fail_export")]
    pub async fn fail_export(
        self: Arc<Self>,
        _ctx: ActivityContext,
        failed: ExportFailed,
    ) -> Result<(), ActivityError> {
        tracing::error!(export = %failed.export_id, error = %failed.error, "ledger export failed");
        sql::fail(
            &self.pool,
            &failed.export_id,
            &failed.error,
            &rfc3339(now()),
        )
        .await?;
        Ok(())
    }
}
