//! A chunk's table: CSV or the first sheet of an XLSX workbook, its first
//! row the header naming `screening::COLUMNS`, each later row a data line.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use jiandu_domain::screening::COLUMNS;
use jiandu_guest::api::ApiError;
use spin_sdk::http::StatusCode;

/// The most data lines one chunk may hold.
pub(crate) const MAX_LINES: usize = 20_000;

/// The media type of an XLSX workbook.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// How a chunk is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// The format a `Content-Type` names, else 415.
    pub(crate) fn of(content_type: Option<&str>) -> Result<Self, ApiError> {
        let media = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("text/csv") => Ok(Self::Csv),
            Some(XLSX) => Ok(Self::Xlsx),
            _ => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "",
                format!("send a chunk as `text/csv` (UTF-8) or `{XLSX}`"),
            )),
        }
    }
}

/// A chunk's header and data lines, cells as text.
pub(crate) struct Table {
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
}

/// 422 about the chunk as a whole.
fn unreadable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "", message)
}

/// Reads a chunk; 422 when it cannot be read or its header names a column
/// that is not one of [`COLUMNS`].
pub(crate) fn read(format: Format, bytes: &[u8]) -> Result<Table, ApiError> {
    let mut rows = match format {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => read_xlsx(bytes)?,
    }
    .into_iter();
    let header: Vec<String> = rows
        .next()
        .ok_or_else(|| unreadable("the chunk is empty: it needs its header row"))?
        .into_iter()
        .map(|c| c.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    if let Some(unknown) = header.iter().find(|c| !COLUMNS.contains(&c.as_str())) {
        return Err(unreadable(format!(
            "the header names `{unknown}`; columns are {}",
            COLUMNS.join(", ")
        )));
    }
    if !header.iter().any(|c| c == "name") {
        return Err(unreadable("the header has no `name` column"));
    }
    let rows: Vec<Vec<String>> = rows.collect();
    if rows.len() > MAX_LINES {
        return Err(unreadable(format!(
            "a chunk holds at most {MAX_LINES} lines; this one has {}",
            rows.len()
        )));
    }
    Ok(Table { header, rows })
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        unreadable(format!(
            "the CSV is not UTF-8 (byte {}); save it as UTF-8",
            e.valid_up_to()
        ))
    })?;
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|record| {
            record
                .map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| unreadable(format!("the CSV cannot be read: {e}")))
        })
        .collect()
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, ApiError> {
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("the workbook cannot be read: {e}")))?;
    let sheet = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| unreadable("the workbook has no sheet"))?
        .map_err(|e| unreadable(format!("the first sheet cannot be read: {e}")))?;
    Ok(sheet
        .rows()
        .map(|row| row.iter().map(cell_text).collect())
        .collect())
}

/// A cell as the text a CSV would hold: whole numbers without a point,
/// dates YYYY-MM-DD.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_date(d.as_f64()),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// An Excel serial day as YYYY-MM-DD (day 0 is 1899-12-30 in the 1900
/// system, Julian day 2,415,019).
fn excel_date(serial: f64) -> String {
    let day = 2_415_019 + serial.floor() as i64;
    i32::try_from(day)
        .ok()
        .and_then(|d| time::Date::from_julian_day(d).ok())
        .map_or_else(String::new, |d| {
            format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
        })
}
