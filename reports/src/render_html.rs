//! A printable HTML page: every section as a table, with inline SVG charts (monthly
//! hours, services by kind, stairwell standings) and print CSS for A4 (`@page { size:
//! A4 }`, the wide stairwell table on a landscape page). The page is well-formed XHTML
//! (every element closed, only the five XML entities), so it can be checked by an XML
//! parser and opened by any browser without scripts or external resources.

use crate::annual::AnnualReport;
use crate::labels::{decimal_f64, hours_f64, local_datetime_text};
use crate::table::{annual_sections, star_rule_text, Section};
use std::fmt::Write as _;

/// Escapes text for XML/HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// Print CSS shared by the report and certificates.
pub const PRINT_CSS: &str = r#"
@page { size: A4; margin: 15mm 12mm; }
@page wide { size: A4 landscape; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif; color: #222; font-size: 10.5pt; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 18pt; text-align: center; color: #b71c1c; margin: 4mm 0 2mm; }
h2 { font-size: 13pt; border-left: 4px solid #b71c1c; padding-left: 6px; margin: 6mm 0 3mm; }
p.meta { text-align: center; color: #555; font-size: 9pt; margin: 0 0 4mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; page-break-inside: auto; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #999; padding: 2px 4px; font-size: 9pt; }
th { background: #f2dcdb; font-weight: bold; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
section { page-break-inside: avoid; }
section.wide { page: wide; max-width: none; }
section.wide th, section.wide td { font-size: 7.5pt; padding: 1px 2px; }
svg { display: block; margin: 2mm auto; max-width: 100%; }
svg text { font-size: 10px; fill: #333; }
.cards { display: flex; flex-wrap: wrap; gap: 3mm; margin: 2mm 0; }
.card { border: 1px solid #e0b4b4; border-radius: 3px; padding: 2mm 3mm; min-width: 40mm; }
.card .v { font-size: 15pt; color: #b71c1c; font-weight: bold; }
.card .k { font-size: 8.5pt; color: #555; }
footer { margin-top: 8mm; font-size: 8pt; color: #777; text-align: center; }
@media print { body { max-width: none; } .noprint { display: none; } }
"#;

const NUMERALS: [&str; 12] = [
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
];

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A vertical bar chart.
fn bar_chart(title: &str, labels: &[String], values: &[f64], unit: &str) -> String {
    let (w, h) = (640.0, 240.0);
    let (left, right, top, bottom) = (48.0, 12.0, 28.0, 30.0);
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1.0);
    let n = values.len().max(1) as f64;
    let slot = (w - left - right) / n;
    let bar = slot * 0.6;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    let _ = write!(
        s,
        r#"<text x="{x}" y="16" text-anchor="middle" style="font-size:12px;font-weight:bold">{t}（{u}）</text>"#,
        x = w / 2.0,
        t = escape(title),
        u = escape(unit)
    );
    let base = h - bottom;
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{base}" x2="{x2}" y2="{base}" stroke="#666" stroke-width="1"/>"##,
        x2 = w - right
    );
    for (i, (label, v)) in labels.iter().zip(values).enumerate() {
        let bh = (v.max(0.0) / max) * (h - top - bottom);
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let y = base - bh;
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{bh:.1}" fill="#c62828"/>"##
        );
        let cx = x + bar / 2.0;
        let _ = write!(
            s,
            r#"<text x="{cx:.1}" y="{ty:.1}" text-anchor="middle">{v}</text>"#,
            ty = y - 3.0,
            v = fmt_num(*v)
        );
        let _ = write!(
            s,
            r#"<text x="{cx:.1}" y="{ly:.1}" text-anchor="middle">{l}</text>"#,
            ly = base + 14.0,
            l = escape(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// A horizontal bar chart.
fn hbar_chart(
    title: &str,
    labels: &[String],
    values: &[f64],
    unit: &str,
    max: Option<f64>,
) -> String {
    let row = 20.0;
    let (w, left, right, top) = (640.0, 150.0, 60.0, 26.0);
    let h = top + row * labels.len().max(1) as f64 + 8.0;
    let max = max
        .unwrap_or_else(|| values.iter().copied().fold(0.0_f64, f64::max))
        .max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    let _ = write!(
        s,
        r#"<text x="{x}" y="16" text-anchor="middle" style="font-size:12px;font-weight:bold">{t}（{u}）</text>"#,
        x = w / 2.0,
        t = escape(title),
        u = escape(unit)
    );
    for (i, (label, v)) in labels.iter().zip(values).enumerate() {
        let y = top + row * i as f64;
        let bw = (v.max(0.0) / max) * (w - left - right);
        let _ = write!(
            s,
            r#"<text x="{lx}" y="{ty:.1}" text-anchor="end">{l}</text>"#,
            lx = left - 6.0,
            ty = y + 13.0,
            l = escape(label)
        );
        let _ = write!(
            s,
            r##"<rect x="{left}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="#c62828"/>"##,
            bh = row - 6.0
        );
        let _ = write!(
            s,
            r#"<text x="{vx:.1}" y="{ty:.1}">{v}</text>"#,
            vx = left + bw + 4.0,
            ty = y + 13.0,
            v = fmt_num(*v)
        );
    }
    s.push_str("</svg>");
    s
}

/// A section's table.
pub fn table_html(section: &Section) -> String {
    let mut s = String::from("<table><thead><tr>");
    for c in &section.columns {
        let _ = write!(s, "<th>{}</th>", escape(c));
    }
    s.push_str("</tr></thead><tbody>");
    if section.rows.is_empty() {
        let _ = write!(
            s,
            r#"<tr><td colspan="{}">（无）</td></tr>"#,
            section.columns.len().max(1)
        );
    }
    for row in &section.rows {
        s.push_str("<tr>");
        for cell in row {
            if cell.is_number() {
                let _ = write!(s, r#"<td class="num">{}</td>"#, escape(&cell.display()));
            } else {
                let _ = write!(s, "<td>{}</td>", escape(&cell.display()));
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// Begins an XHTML page.
pub fn page_start(title: &str, extra_css: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"zh-CN\" xml:lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>{}</title>\n<style>{}{}</style>\n</head>\n<body>\n",
        escape(title),
        PRINT_CSS,
        extra_css
    )
}

/// The annual report as a printable HTML page.
pub fn render_html(r: &AnnualReport) -> String {
    let title = format!("{} {} 年度志愿服务表彰报告", r.community_name, r.year);
    let mut s = page_start(&title, "");
    let _ = write!(s, "<header><h1>{}</h1>", escape(&title));
    let as_of = r
        .as_of
        .map(local_datetime_text)
        .unwrap_or_else(|| "—".into());
    let _ = write!(
        s,
        r#"<p class="meta">日志位置 {} · 数据截至 {}（北京时间）· 星级标准 {}</p></header>"#,
        r.position,
        escape(&as_of),
        escape(&star_rule_text(r))
    );

    let t = &r.totals;
    let cards: [(&str, String); 6] = [
        ("活跃志愿者（人）", t.active_volunteers.to_string()),
        (
            "服务时长（小时）",
            crate::labels::hours_text(t.verified_hours),
        ),
        ("服务次数", t.services.to_string()),
        ("发放积分", t.points_awarded.to_string()),
        ("兑换积分", t.points_redeemed.to_string()),
        ("完成心愿（个）", t.wishes_fulfilled.to_string()),
    ];
    let sections = annual_sections(r);
    for (i, section) in sections.iter().enumerate() {
        let numeral = NUMERALS.get(i).copied().unwrap_or("");
        let class = if section.key == "stairwells" {
            r#" class="wide""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<section id="{}"{}><h2>{}、{}</h2>"#,
            section.key,
            class,
            numeral,
            escape(&section.title)
        );
        match section.key {
            "overview" => {
                s.push_str(r#"<div class="cards">"#);
                for (k, v) in &cards {
                    let _ = write!(
                        s,
                        r#"<div class="card"><div class="v">{}</div><div class="k">{}</div></div>"#,
                        escape(v),
                        escape(k)
                    );
                }
                s.push_str("</div>");
            }
            "services_by_kind" => {
                let labels: Vec<String> =
                    r.services_by_kind.iter().map(|k| k.label.clone()).collect();
                let values: Vec<f64> = r
                    .services_by_kind
                    .iter()
                    .map(|k| hours_f64(k.hours))
                    .collect();
                s.push_str(&hbar_chart("各类服务时长", &labels, &values, "小时", None));
            }
            "stairwells" => {
                let ranked: Vec<_> = r
                    .stairwells
                    .iter()
                    .filter(|x| x.average.is_some())
                    .take(15)
                    .collect();
                let labels: Vec<String> = ranked
                    .iter()
                    .map(|x| format!("{} {}", x.grid_name, x.label()))
                    .collect();
                let values: Vec<f64> = ranked
                    .iter()
                    .map(|x| x.average.map(decimal_f64).unwrap_or(0.0))
                    .collect();
                s.push_str(&hbar_chart(
                    "文明楼道年度平均分（前15名）",
                    &labels,
                    &values,
                    "分",
                    Some(100.0),
                ));
            }
            "months" => {
                let labels: Vec<String> =
                    r.months.iter().map(|m| format!("{}月", m.month)).collect();
                let values: Vec<f64> = r.months.iter().map(|m| hours_f64(m.hours)).collect();
                s.push_str(&bar_chart("每月服务时长", &labels, &values, "小时"));
            }
            _ => {}
        }
        s.push_str(&table_html(section));
        s.push_str("</section>\n");
    }
    let _ = write!(
        s,
        "<footer>本报告根据事件日志第 {} 号位置计算，在该位置可精确复现；更正（冲正）记入被更正记录所在的月份。姓名按个人信息表显示，已删除的个人信息显示为“{}”。</footer>\n</body>\n</html>\n",
        r.position,
        crate::people::ERASED_NAME
    );
    s
}
