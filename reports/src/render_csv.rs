//! CSV in UTF-8 with a byte-order mark, so that Excel on a Chinese Windows opens it
//! correctly.
//!
//! Layout (several tables in one file): the BOM, then for each section
//! - a title line `【总体情况】` (one field),
//! - the header line,
//! - the data lines,
//! - an empty line.
//!
//! Lines end with CRLF. Fields are quoted (RFC 4180) when they hold a comma, a quote, a
//! line break or leading/trailing spaces. Numbers are written with a dot and no
//! thousands separator (hours and points with at most two decimals), dates as
//! `2025-03-01`, months as `2025-03`, instants as `2025-03-01 08:00:00` (China Standard
//! Time). A *text* field that begins with `=`, `+`, `-` or `@` is prefixed with `'` so
//! that a spreadsheet does not run it as a formula (a reader strips that one `'`).

use crate::annual::AnnualReport;
use crate::table::{annual_sections, Cell, Section};

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The annual report as CSV.
pub fn render_csv(report: &AnnualReport) -> Vec<u8> {
    sections_to_csv(&annual_sections(report))
}

/// A field, quoted when needed.
pub fn field(value: &str) -> String {
    let needs_quotes =
        value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ');
    if needs_quotes {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

pub(crate) fn cell_field(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) if s.starts_with(['=', '+', '-', '@']) => field(&format!("'{s}")),
        other => field(&other.display()),
    }
}

fn line(out: &mut String, fields: impl IntoIterator<Item = String>) {
    let fields: Vec<String> = fields.into_iter().collect();
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

/// Sections as one CSV file (see the module documentation for the layout).
pub fn sections_to_csv(sections: &[Section]) -> Vec<u8> {
    let mut out = String::new();
    for section in sections {
        line(&mut out, [field(&format!("【{}】", section.title))]);
        line(&mut out, section.columns.iter().map(|c| field(c)));
        for row in &section.rows {
            line(&mut out, row.iter().map(cell_field));
        }
        out.push_str("\r\n");
    }
    let mut bytes = Vec::with_capacity(BOM.len() + out.len());
    bytes.extend_from_slice(BOM);
    bytes.extend_from_slice(out.as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(field("abc"), "abc");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell_field(&Cell::text("=1+1")), "'=1+1");
        assert_eq!(cell_field(&Cell::Int(-3)), "-3");
    }
}
