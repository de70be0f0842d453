//! `GET /api/v1/admin/ledgers/{ledger}.{csv|xlsx}` — 台账 — the problems,
//! clues and rectifications of the caller's subtree (or a part of it), with
//! Chinese column headers, streamed page by page: however many rows there
//! are, the component holds one page at a time.

use bytes::Bytes;
use futures::SinkExt as _;
use futures::StreamExt as _;
use futures::channel::mpsc;
use jiandu_domain::audit::AuditAction;
use jiandu_guest::api::ApiError;
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::{Db, Row};
use jiandu_guest::query::{self, bad};
use jiandu_guest::staff::Staff;
use spin_sdk::http::{BoxBody, Response, StatusCode, box_body};

use crate::xlsx::Xlsx;
use crate::{administered, store, subtree_of};

/// Rows read and sent at a time.
const PAGE: usize = 500;

/// What a column shows of its row.
#[derive(Clone, Copy)]
pub(crate) enum Cell {
    /// The column's text (empty when NULL).
    Text,
    /// A whole number.
    Number,
    /// 是 or 否.
    YesNo,
}

/// A ledger: its name in the path and its columns (header, column, kind).
pub(crate) struct Ledger {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [(&'static str, &'static str, Cell)],
}

/// 问题台账.
pub(crate) const PROBLEMS: Ledger = Ledger {
    name: "problems",
    columns: &[
        ("问题编号", "id", Cell::Text),
        ("来源", "source", Cell::Text),
        ("发现单位", "org", Cell::Text),
        ("发现地点", "target", Cell::Text),
        ("责任单位", "responsible_org", Cell::Text),
        ("问题类别", "category", Cell::Text),
        ("问题描述", "description", Cell::Text),
        ("状态", "state", Cell::Text),
        ("记录时间", "recorded_at", Cell::Text),
        ("移交线索", "clue_id", Cell::Text),
    ],
};

/// 问题线索台账.
pub(crate) const CLUES: Ledger = Ledger {
    name: "clues",
    columns: &[
        ("线索编号", "id", Cell::Text),
        ("来源", "source", Cell::Text),
        ("承办机关", "org", Cell::Text),
        ("所涉单位", "subject_org", Cell::Text),
        ("线索摘要", "summary", Cell::Text),
        ("状态", "state", Cell::Text),
        ("处置方式", "disposal", Cell::Text),
        ("登记时间", "registered_at", Cell::Text),
        ("来源问题", "problem_id", Cell::Text),
    ],
};

/// 整改台账.
pub(crate) const RECTIFICATIONS: Ledger = Ledger {
    name: "rectifications",
    columns: &[
        ("问题编号", "id", Cell::Text),
        ("责任单位", "responsible_org", Cell::Text),
        ("监督单位", "supervisor", Cell::Text),
        ("提级监督", "elevated", Cell::YesNo),
        ("状态", "state", Cell::Text),
        ("移交整改时间", "handed_at", Cell::Text),
        ("退回次数", "returned", Cell::Number),
        ("回头看未通过次数", "reopened", Cell::Number),
    ],
};

const LEDGERS: [&Ledger; 3] = [&PROBLEMS, &CLUES, &RECTIFICATIONS];

/// The file format.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Xlsx,
}

impl Ledger {
    fn cells(&self, row: &Row) -> Vec<String> {
        self.columns
            .iter()
            .map(|(_, column, cell)| match cell {
                Cell::Text => row.text(column).unwrap_or_default().to_owned(),
                Cell::Number => row.int(column).unwrap_or_default().to_string(),
                Cell::YesNo => if row.flag(column) { "是" } else { "否" }.to_owned(),
            })
            .collect()
    }
}

/// One CSV record: fields quoted where they hold a comma, quote or line break.
fn csv_record<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut line = String::new();
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(field);
        }
    }
    line.push_str("\r\n");
    line.into_bytes()
}

/// The writer of one file, fed a row at a time.
enum Writer {
    Csv,
    Xlsx(Box<Xlsx>),
}

impl Writer {
    fn start(format: Format, ledger: &Ledger) -> (Self, Vec<u8>) {
        let headers = ledger.columns.iter().map(|(h, _, _)| *h);
        match format {
            // A byte-order mark, so that spreadsheet programs read UTF-8.
            Format::Csv => (
                Writer::Csv,
                [b"\xEF\xBB\xBF".to_vec(), csv_record(headers)].concat(),
            ),
            Format::Xlsx => {
                let mut xlsx = Box::<Xlsx>::default();
                let mut bytes = xlsx.start();
                bytes.extend(xlsx.row(headers));
                (Writer::Xlsx(xlsx), bytes)
            }
        }
    }

    fn row(&mut self, cells: &[String]) -> Vec<u8> {
        let cells = cells.iter().map(String::as_str);
        match self {
            Writer::Csv => csv_record(cells),
            Writer::Xlsx(xlsx) => xlsx.row(cells),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Writer::Csv => Vec::new(),
            Writer::Xlsx(xlsx) => xlsx.finish(),
        }
    }
}

/// The ledger and format a file name names, e.g. `problems.xlsx`.
fn parse(file: &str) -> Option<(&'static Ledger, Format)> {
    let (name, extension) = file.rsplit_once('.')?;
    let format = match extension {
        "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        _ => return None,
    };
    let ledger = LEDGERS.into_iter().find(|l| l.name == name)?;
    Some((ledger, format))
}

/// `GET /api/v1/admin/ledgers/{file}[?org]`: the export is audited before
/// its first byte leaves; its rows follow page by page.
pub(crate) async fn export(
    caller: Staff,
    db: Db,
    file: &str,
    query: &str,
) -> Result<Response<BoxBody>, ApiError> {
    let (ledger, format) = parse(file).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "",
            "no such ledger; use problems, clues or rectifications, as .csv or .xlsx",
        )
    })?;
    let object = format!("ledger:{}:{}", ledger.name, caller.org());
    let administered = administered(&caller, &db, AuditAction::LedgerExport, &object).await?;
    let mut org = None;
    for (name, value) in query::pairs(query)? {
        match name.as_str() {
            "org" => org = Some(value),
            other => return Err(bad(other, "is not a parameter of a ledger; use org")),
        }
    }
    let orgs = subtree_of(&caller, org.as_deref(), administered)?;
    let act = Act::done(AuditAction::LedgerExport, &object).detail(org.as_deref());
    audit::record(&db, &caller, act).await?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, anyhow::Error>>(4);
    spin_sdk::wasip3::spawn(stream_rows(db, ledger, format, orgs, tx));
    let body = http_body_util::StreamBody::new(rx.map(|r| r.map(http_body::Frame::data)));
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", content_type)
        .header(
            "content-disposition",
            format!("attachment; filename=\"{}.{extension}\"", ledger.name),
        )
        .body(box_body(body))
        .map_err(ApiError::internal)
}

/// Reads the ledger a page at a time and sends each page's bytes; a failed
/// read ends the body with an error, so a client never takes a cut-off file
/// for a whole one.
async fn stream_rows(
    db: Db,
    ledger: &'static Ledger,
    format: Format,
    orgs: Vec<String>,
    mut tx: mpsc::Sender<Result<Bytes, anyhow::Error>>,
) {
    let (mut writer, head) = Writer::start(format, ledger);
    if tx.send(Ok(Bytes::from(head))).await.is_err() {
        return;
    }
    let mut after = String::new();
    loop {
        let rows = match store::ledger_page(&db, ledger.name, &orgs, &after, PAGE).await {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("ledger {} stopped: {e}", ledger.name);
                let _ = tx
                    .send(Err(anyhow::anyhow!("the ledger could not be read")))
                    .await;
                return;
            }
        };
        let mut bytes = Vec::new();
        for row in &rows {
            bytes.extend(writer.row(&ledger.cells(row)));
        }
        if tx.send(Ok(Bytes::from(bytes))).await.is_err() {
            return;
        }
        match rows.last() {
            Some(last) if rows.len() == PAGE => after = last.str("id").to_owned(),
            _ => break,
        }
    }
    let _ = tx.send(Ok(Bytes::from(writer.finish()))).await;
}
