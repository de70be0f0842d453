//! 台账 — the ledgers an administrator exports: problems, clues and
//! rectifications, with Chinese column headers, as CSV or XLSX. An export
//! is a job: the API records it, the worker writes the file, the API serves
//! it. One definition of each ledger's columns, shared by both sides.

use crate::wire::wire_enum;

wire_enum! {
    /// Which ledger.
    pub enum LedgerKind {
        /// 问题台账 — every problem its owners must rectify.
        Problems = "problems",
        /// 问题线索台账 — every clue.
        Clues = "clues",
        /// 整改台账 — every problem handed over for rectification.
        Rectifications = "rectifications",
    }
}

wire_enum! {
    /// The file format.
    pub enum LedgerFormat {
        /// Comma-separated values, UTF-8 with a byte-order mark.
        Csv = "csv",
        /// An Office Open XML workbook.
        Xlsx = "xlsx",
    }
}

wire_enum! {
    /// Where an export stands.
    pub enum ExportState {
        /// Recorded; the worker has not started it.
        Queued = "queued",
        /// The worker is writing the file.
        Running = "running",
        /// The file is ready.
        Done = "done",
        /// The worker gave up; `error` says why.
        Failed = "failed",
    }
}

/// What a column shows of its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// The column's text (empty when NULL).
    Text,
    /// A whole number.
    Number,
    /// 是 or 否, from a flag.
    YesNo,
}

/// One column: its header, the column it reads and how it shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The Chinese header.
    pub header: &'static str,
    /// The column of the ledger's query.
    pub name: &'static str,
    /// How the value shows.
    pub cell: Cell,
}

const fn text(header: &'static str, name: &'static str) -> Column {
    Column {
        header,
        name,
        cell: Cell::Text,
    }
}

const PROBLEMS: &[Column] = &[
    text("问题编号", "id"),
    text("来源", "source"),
    text("发现单位", "org"),
    text("发现地点", "target"),
    text("责任单位", "responsible_org"),
    text("问题类别", "category"),
    text("问题描述", "description"),
    text("状态", "state"),
    text("记录时间", "recorded_at"),
    text("移交线索", "clue_id"),
];

const CLUES: &[Column] = &[
    text("线索编号", "id"),
    text("来源", "source"),
    text("承办机关", "org"),
    text("所涉单位", "subject_org"),
    text("线索摘要", "summary"),
    text("状态", "state"),
    text("处置方式", "disposal"),
    text("登记时间", "registered_at"),
    text("来源问题", "problem_id"),
];

const RECTIFICATIONS: &[Column] = &[
    text("问题编号", "id"),
    text("责任单位", "responsible_org"),
    text("监督单位", "supervisor"),
    Column {
        header: "提级监督",
        name: "elevated",
        cell: Cell::YesNo,
    },
    text("状态", "state"),
    text("移交整改时间", "handed_at"),
    Column {
        header: "退回次数",
        name: "returned",
        cell: Cell::Number,
    },
    Column {
        header: "回头看未通过次数",
        name: "reopened",
        cell: Cell::Number,
    },
];

impl LedgerKind {
    /// Its columns, in order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            LedgerKind::Problems => PROBLEMS,
            LedgerKind::Clues => CLUES,
            LedgerKind::Rectifications => RECTIFICATIONS,
        }
    }
}

impl LedgerFormat {
    /// The media type of its files.
    pub fn content_type(self) -> &'static str {
        match self {
            LedgerFormat::Csv => "text/csv; charset=utf-8",
            LedgerFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }
}

/// The name of a workbook's one sheet.
pub const SHEET: &str = "台账";

/// How many bytes of a finished file are stored (and served) at a time.
pub const CHUNK_BYTES: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ledger_names_its_id_first_and_no_column_twice() {
        for kind in LedgerKind::ALL {
            let columns = kind.columns();
            assert_eq!(columns[0].name, "id", "{kind:?}");
            let mut names: Vec<_> = columns.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), columns.len(), "{kind:?}");
        }
    }
}
