//! A sheet as read from an XLSX workbook (its first worksheet, by calamine) or a CSV
//! file (by csv, a UTF-8 byte-order mark dropped): the header row (the first row with
//! anything in it), and the rows after it with their row numbers as the file shows
//! them (the header is usually row 1, so the first volunteer is row 2). Blank rows are
//! skipped. And the rejected rows, written back in the same format and columns with a
//! 错误原因 column, so the clerk fixes them and uploads that file again.

use crate::ImportError;
use calamine::{open_workbook_auto, Data, Reader};
use std::path::Path;

/// The header of the column that says why a row was rejected.
pub const REASON_HEADER: &str = "错误原因";

/// What a sheet was read from, and how rejected rows are written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
}

impl Format {
    /// By the file's extension: `.xlsx` (or `.xlsm`) or `.csv`.
    pub fn of_path(path: &Path) -> Result<Format, ImportError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "xlsx" | "xlsm" => Ok(Format::Xlsx),
            "csv" => Ok(Format::Csv),
            _ => Err(ImportError::Read {
                path: path.display().to_string(),
                reason: "not an .xlsx or .csv file".into(),
            }),
        }
    }
}

/// A sheet: its headers and its rows (row number in the file, cells as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub format: Format,
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Sheet {
    /// A sheet from rows as the file has them (row number, cells).
    fn of_rows(format: Format, rows: impl IntoIterator<Item = (usize, Vec<String>)>) -> Sheet {
        let mut rows = rows
            .into_iter()
            .map(|(n, cells)| (n, cells.into_iter().map(|c| c.trim().to_string()).collect()))
            .filter(|(_, cells): &(usize, Vec<String>)| cells.iter().any(|c| !c.is_empty()));
        let headers = rows.next().map(|(_, h)| h).unwrap_or_default();
        Sheet {
            format,
            headers,
            rows: rows.collect(),
        }
    }

    /// The cell of a row in a column, empty when the row is shorter.
    pub fn cell(cells: &[String], column: usize) -> &str {
        cells.get(column).map(String::as_str).unwrap_or("")
    }
}

/// A cell as text: whole numbers without a decimal point (Excel keeps a phone number
/// typed as a number as 13812345678.0).
fn text_of(d: &Data) -> String {
    match d {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Empty => String::new(),
        // A date cell as a day (and its time, when it has one).
        Data::DateTime(t) if t.is_datetime() => {
            let (y, m, d, hh, mm, _, _) = t.to_ymd_hms_milli();
            if (hh, mm) == (0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}")
            }
        }
        other => other.to_string(),
    }
}

fn read_error(path: &Path, reason: impl std::fmt::Display) -> ImportError {
    ImportError::Read {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn write_error(path: &Path, reason: impl std::fmt::Display) -> ImportError {
    ImportError::Write {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Reads the sheet of `path` (its first worksheet for a workbook).
pub fn read(path: &Path) -> Result<Sheet, ImportError> {
    match Format::of_path(path)? {
        Format::Xlsx => {
            let mut book = open_workbook_auto(path).map_err(|e| read_error(path, e))?;
            let range = book
                .worksheet_range_at(0)
                .ok_or_else(|| read_error(path, "the workbook has no worksheet"))?
                .map_err(|e| read_error(path, e))?;
            let first = range.start().map(|(r, _)| r as usize).unwrap_or(0);
            let width = range.width();
            Ok(Sheet::of_rows(
                Format::Xlsx,
                range.rows().enumerate().map(|(i, row)| {
                    let cells: Vec<String> = row.iter().take(width).map(text_of).collect();
                    (first + i + 1, cells)
                }),
            ))
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_path(path)
                .map_err(|e| read_error(path, e))?;
            let mut rows = Vec::new();
            for record in reader.records() {
                let record = record.map_err(|e| read_error(path, e))?;
                let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
                let cells = record
                    .iter()
                    .map(|c| c.trim_start_matches('\u{feff}').to_string())
                    .collect();
                rows.push((line, cells));
            }
            Ok(Sheet::of_rows(Format::Csv, rows))
        }
    }
}

/// Writes `rows` (each with why it was rejected) under the sheet's headers and a
/// 错误原因 column, in the sheet's format. Cells are written as text, so an ID number
/// keeps all its digits.
pub fn write_rejected(
    sheet: &Sheet,
    rows: &[(&[String], String)],
    path: &Path,
) -> Result<(), ImportError> {
    let mut headers = sheet.headers.clone();
    headers.push(REASON_HEADER.to_string());
    let lines = rows.iter().map(|(cells, reason)| {
        let mut line: Vec<&str> = (0..sheet.headers.len())
            .map(|i| Sheet::cell(cells, i))
            .collect();
        line.push(reason);
        line
    });
    match sheet.format {
        Format::Xlsx => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let ws = book.add_worksheet();
            for (c, h) in headers.iter().enumerate() {
                ws.write_string(0, c as u16, h)
                    .map_err(|e| write_error(path, e))?;
            }
            for (r, line) in lines.enumerate() {
                for (c, v) in line.iter().enumerate() {
                    ws.write_string(r as u32 + 1, c as u16, *v)
                        .map_err(|e| write_error(path, e))?;
                }
            }
            book.save(path).map_err(|e| write_error(path, e))
        }
        Format::Csv => {
            let mut out = std::fs::File::create(path).map_err(|e| write_error(path, e))?;
            // A byte-order mark, so that Excel opens the Chinese as UTF-8.
            std::io::Write::write_all(&mut out, "\u{feff}".as_bytes())
                .map_err(|e| write_error(path, e))?;
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&headers).map_err(|e| write_error(path, e))?;
            for line in lines {
                w.write_record(&line).map_err(|e| write_error(path, e))?;
            }
            w.flush().map_err(|e| write_error(path, e))
        }
    }
}
