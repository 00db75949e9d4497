//! Exports for the authorities (导出): flat sheets of a community's (or a street's)
//! records, written row by row to a temporary file as the log is scanned (CSV, or XLSX
//! in rust_xlsxwriter's constant-memory mode), then sent from the file: an export of
//! any size never sits whole in memory.
//!
//! - [`log`]: the event log (事件日志) of a period: who did what, when, recorded and
//!   verified by whom, corrections linked to what they correct;
//! - [`members`]: the member list (志愿者名单), masked as the reader may see it;
//! - [`hours`]: hours per volunteer for a period (志愿服务时长汇总), one flat row each, to
//!   upload elsewhere.

pub mod hours;
pub mod log;
pub mod members;

use crate::error::ReportError;
use crate::render_csv::{cell_field, BOM};
use crate::render_xlsx::{write_cell, Formats};
use crate::table::Cell;
use crate::Format;
use std::io::Write;
use std::path::PathBuf;

pub use hours::hours_sheet;
pub use log::event_log;
pub use members::member_list;

/// How personal data shows in an export: whole for the volunteer's community's staff,
/// masked for everyone else (a street office, another community's staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Masking {
    Whole,
    Masked,
}

impl Masking {
    /// A phone as this reader sees it.
    pub fn phone(self, phone: &str) -> String {
        match self {
            Masking::Whole => phone.to_string(),
            Masking::Masked => crate::people::mask_phone(phone),
        }
    }

    /// An ID number as this reader sees it.
    pub fn id_number(self, n: &str) -> String {
        match self {
            Masking::Whole => n.to_string(),
            Masking::Masked => crate::people::mask_id_number(n),
        }
    }
}

/// A period of days (China Standard Time), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
}

impl Days {
    pub fn contains(self, d: chrono::NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }
}

enum Out {
    Csv(std::io::BufWriter<std::fs::File>),
    Xlsx {
        book: Box<rust_xlsxwriter::Workbook>,
        formats: Box<Formats>,
    },
}

/// A one-sheet file written row by row: its header, then rows of typed cells.
pub struct SheetFile {
    out: Out,
    path: PathBuf,
    rows: u32,
}

fn io(e: std::io::Error) -> ReportError {
    ReportError::Task(format!("writing an export: {e}"))
}

fn column(c: usize) -> Result<u16, ReportError> {
    u16::try_from(c).map_err(|_| ReportError::InvalidInput("too many columns".into()))
}

impl SheetFile {
    /// A new file in the temporary directory, of `format` (CSV or XLSX), its sheet
    /// named `title`, with `columns` as its header.
    pub fn create(format: Format, title: &str, columns: &[&str]) -> Result<SheetFile, ReportError> {
        let ext = if format == Format::Csv { "csv" } else { "xlsx" };
        let path =
            std::env::temp_dir().join(format!("timebank-export-{}.{ext}", uuid::Uuid::new_v4()));
        let out = match format {
            Format::Csv => {
                let file = std::fs::File::create(&path).map_err(io)?;
                let mut w = std::io::BufWriter::new(file);
                w.write_all(BOM).map_err(io)?;
                Out::Csv(w)
            }
            Format::Xlsx => {
                let mut book = Box::new(rust_xlsxwriter::Workbook::new());
                book.set_tempdir(std::env::temp_dir())?;
                let ws = book.add_worksheet_with_constant_memory()?;
                ws.set_name(title)?;
                Out::Xlsx {
                    book,
                    formats: Box::new(Formats::new()),
                }
            }
            Format::Html => {
                return Err(ReportError::InvalidInput("exports are CSV or XLSX".into()))
            }
        };
        let mut f = SheetFile { out, path, rows: 0 };
        match &mut f.out {
            Out::Csv(_) => {
                let cells: Vec<Cell> = columns.iter().map(|c| Cell::text(*c)).collect();
                f.row(&cells)?;
                f.rows = 0;
            }
            Out::Xlsx { book, formats } => {
                let ws = book.worksheet_from_index(0)?;
                for (c, h) in columns.iter().enumerate() {
                    ws.write_string_with_format(0, column(c)?, *h, &formats.header)?;
                    let width = (h.chars().count() as f64 * 2.2).max(12.0);
                    ws.set_column_width(column(c)?, width)?;
                }
                ws.set_freeze_panes(1, 0)?;
            }
        }
        Ok(f)
    }

    /// Appends a row.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), ReportError> {
        match &mut self.out {
            Out::Csv(w) => {
                let line: Vec<String> = cells.iter().map(cell_field).collect();
                w.write_all(line.join(",").as_bytes()).map_err(io)?;
                w.write_all(b"\r\n").map_err(io)?;
            }
            Out::Xlsx { book, formats } => {
                let ws = book.worksheet_from_index(0)?;
                let row = self.rows + 1;
                for (c, cell) in cells.iter().enumerate() {
                    write_cell(ws, row, column(c)?, cell, formats)?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Rows written (the header not counted).
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Closes the file: its path, for the caller to send and then remove.
    pub fn finish(self) -> Result<PathBuf, ReportError> {
        match self.out {
            Out::Csv(mut w) => w.flush().map_err(io)?,
            Out::Xlsx { mut book, .. } => book.save(&self.path)?,
        }
        Ok(self.path)
    }
}
