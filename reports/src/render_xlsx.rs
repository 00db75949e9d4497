//! XLSX (rust_xlsxwriter): one worksheet per section, the header row in bold and frozen,
//! numbers as numbers (hours and points with two decimals), dates and months as Excel
//! dates, column widths fitted to the content (CJK characters count double), printed
//! landscape on A4, one page wide, with the header row repeated.

use crate::annual::AnnualReport;
use crate::error::ReportError;
use crate::labels::{cst, decimal_f64, hours_f64, points_f64};
use crate::table::{annual_sections, display_width, Cell, Section};
use chrono::{Datelike, Timelike};
use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet};

/// A4 in Excel's paper sizes.
const PAPER_A4: u8 = 9;
const MIN_WIDTH: usize = 6;
const MAX_WIDTH: usize = 60;

/// The annual report as an XLSX workbook.
pub fn render_xlsx(report: &AnnualReport) -> Result<Vec<u8>, ReportError> {
    sections_to_xlsx(&annual_sections(report))
}

pub(crate) struct Formats {
    pub(crate) header: Format,
    pub(crate) text: Format,
    pub(crate) int: Format,
    pub(crate) two_decimals: Format,
    pub(crate) date: Format,
    pub(crate) month: Format,
    pub(crate) datetime: Format,
}

impl Formats {
    pub(crate) fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin);
        Formats {
            header: Format::new()
                .set_bold()
                .set_border(FormatBorder::Thin)
                .set_background_color(Color::RGB(0xF2DCDB))
                .set_text_wrap(),
            text: cell.clone(),
            int: cell.clone().set_num_format("0"),
            two_decimals: cell.clone().set_num_format("0.00"),
            date: cell.clone().set_num_format("yyyy-mm-dd"),
            month: cell.clone().set_num_format("yyyy-mm"),
            datetime: cell.set_num_format("yyyy-mm-dd hh:mm:ss"),
        }
    }
}

fn excel_date(y: i32, m: u32, d: u32) -> Result<ExcelDateTime, ReportError> {
    let year = u16::try_from(y)
        .map_err(|_| ReportError::InvalidInput(format!("year {y} cannot be written to Excel")))?;
    Ok(ExcelDateTime::from_ymd(year, m as u8, d as u8)?)
}

pub(crate) fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    f: &Formats,
) -> Result<(), ReportError> {
    match cell {
        Cell::Text(s) => {
            ws.write_string_with_format(row, col, s, &f.text)?;
        }
        Cell::Int(i) => {
            ws.write_number_with_format(row, col, *i as f64, &f.int)?;
        }
        Cell::Hours(h) => {
            ws.write_number_with_format(row, col, hours_f64(*h), &f.two_decimals)?;
        }
        Cell::Points(p) => {
            ws.write_number_with_format(row, col, points_f64(*p), &f.two_decimals)?;
        }
        Cell::Decimal(d) => {
            ws.write_number_with_format(row, col, decimal_f64(*d), &f.two_decimals)?;
        }
        Cell::Date(d) => {
            ws.write_datetime_with_format(
                row,
                col,
                excel_date(d.year(), d.month(), d.day())?,
                &f.date,
            )?;
        }
        Cell::Month(y, m) => {
            ws.write_datetime_with_format(row, col, excel_date(*y, *m, 1)?, &f.month)?;
        }
        Cell::DateTime(t) => {
            let local = t.with_timezone(&cst());
            let dt = excel_date(local.year(), local.month(), local.day())?.and_hms(
                local.hour() as u16,
                local.minute() as u8,
                local.second(),
            )?;
            ws.write_datetime_with_format(row, col, dt, &f.datetime)?;
        }
        Cell::Empty => {
            ws.write_blank(row, col, &f.text)?;
        }
    }
    Ok(())
}

/// Width in characters of a column: its widest text, plus padding.
fn column_width(section: &Section, col: usize) -> f64 {
    let header = section
        .columns
        .get(col)
        .map(|h| display_width(h))
        .unwrap_or(0);
    let widest = section
        .rows
        .iter()
        .filter_map(|r| r.get(col))
        .map(|c| match c {
            Cell::DateTime(_) => 19,
            Cell::Date(_) => 10,
            other => display_width(&other.display()),
        })
        .max()
        .unwrap_or(0);
    (header.max(widest) + 2).clamp(MIN_WIDTH, MAX_WIDTH) as f64
}

/// Sheet names must be unique, at most 31 characters, without `[]:*?/\`.
fn sheet_name(title: &str, used: &mut Vec<String>) -> String {
    let clean: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(28)
        .collect();
    let mut name = clean.clone();
    let mut n = 2;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&name)) {
        name = format!("{clean}{n}");
        n += 1;
    }
    used.push(name.clone());
    name
}

/// Sections as an XLSX workbook, one worksheet each.
pub fn sections_to_xlsx(sections: &[Section]) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    let f = Formats::new();
    let mut used = Vec::new();
    for section in sections {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&section.title, &mut used))?;
        ws.set_paper_size(PAPER_A4);
        ws.set_landscape();
        ws.set_print_fit_to_pages(1, 0);
        ws.set_repeat_rows(0, 0)?;
        for (c, header) in section.columns.iter().enumerate() {
            let col = u16::try_from(c)
                .map_err(|_| ReportError::InvalidInput("too many columns".into()))?;
            ws.write_string_with_format(0, col, header, &f.header)?;
            ws.set_column_width(col, column_width(section, c))?;
        }
        for (r, cells) in section.rows.iter().enumerate() {
            let row = u32::try_from(r + 1)
                .map_err(|_| ReportError::InvalidInput("too many rows".into()))?;
            for (c, cell) in cells.iter().enumerate() {
                let col = u16::try_from(c)
                    .map_err(|_| ReportError::InvalidInput("too many columns".into()))?;
                write_cell(ws, row, col, cell, &f)?;
            }
        }
        ws.set_freeze_panes(1, 0)?;
    }
    Ok(wb.save_to_buffer()?)
}
