//! An uploaded table: CSV (UTF-8) or the first sheet of an XLSX workbook,
//! its first row the header naming columns, each later row a data line,
//! cells as text. Behind the `tables` feature: only the components that
//! take files link the parsers.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use spin_sdk::http::StatusCode;

use crate::api::ApiError;

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// How a table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/csv`, UTF-8.
    Csv,
    /// An XLSX workbook; its first sheet is read.
    Xlsx,
}

impl Format {
    /// The format a `Content-Type` names, else 415.
    pub fn of(content_type: Option<&str>) -> Result<Self, ApiError> {
        let media = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("text/csv") => Ok(Self::Csv),
            Some(XLSX) => Ok(Self::Xlsx),
            _ => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "",
                format!("send a table as `text/csv` (UTF-8) or `{XLSX}`"),
            )),
        }
    }
}

/// What a table must look like.
pub struct Shape<'a> {
    /// The columns a header may name.
    pub columns: &'a [&'a str],
    /// The columns it must name.
    pub required: &'a [&'a str],
    /// The most data lines it may hold.
    pub max_lines: usize,
}

/// A table's header and data lines, cells as text.
pub struct Table {
    /// The header's column names, trimmed.
    pub header: Vec<String>,
    /// The data lines, in order.
    pub rows: Vec<Vec<String>>,
}

/// A data line: its file line number, and its cells paired with the
/// header's names or the reason it is refused.
pub type Line<'t> = (i64, Result<Vec<(&'t str, &'t str)>, String>);

impl Table {
    /// The data lines with their 1-based file line numbers (the header is
    /// line 1 when `first_line` is 2), blank lines left out; each line's
    /// cells paired with the header's names, or the reason it is refused.
    pub fn lines(&self, first_line: i64) -> impl Iterator<Item = Line<'_>> {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, cells)| !cells.iter().all(|c| c.trim().is_empty()))
            .map(move |(n, cells)| {
                let line = first_line + n as i64;
                if cells.len() > self.header.len() {
                    return (
                        line,
                        Err("more cells than the header has columns".to_owned()),
                    );
                }
                let fields = self
                    .header
                    .iter()
                    .map(String::as_str)
                    .zip(cells.iter().map(String::as_str))
                    .collect();
                (line, Ok(fields))
            })
    }
}

/// 422 about the table as a whole.
fn unreadable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "", message)
}

/// Reads a table; 422 when it cannot be read, its header names a column
/// that `shape` does not list or lacks a required one, or it holds too
/// many lines.
pub fn read(format: Format, bytes: &[u8], shape: &Shape<'_>) -> Result<Table, ApiError> {
    let mut rows = match format {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => read_xlsx(bytes)?,
    }
    .into_iter();
    let header: Vec<String> = rows
        .next()
        .ok_or_else(|| unreadable("the table is empty: it needs its header row"))?
        .into_iter()
        .map(|c| c.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    if let Some(unknown) = header.iter().find(|c| !shape.columns.contains(&c.as_str())) {
        return Err(unreadable(format!(
            "the header names `{unknown}`; columns are {}",
            shape.columns.join(", ")
        )));
    }
    if let Some(missing) = shape
        .required
        .iter()
        .find(|r| !header.iter().any(|c| c == *r))
    {
        return Err(unreadable(format!("the header has no `{missing}` column")));
    }
    let rows: Vec<Vec<String>> = rows.collect();
    if rows.len() > shape.max_lines {
        return Err(unreadable(format!(
            "a table holds at most {} lines; this one has {}",
            shape.max_lines,
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
