//! The page shell (one stylesheet and, where a page updates live, one script of our
//! own, both embedded), the security headers every page carries, and how dates,
//! hours and points are written for people in China.

use crate::msg::Messages;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use maud::{html, Markup, DOCTYPE};

/// Which page family a page belongs to (its body class sets the layout).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The volunteer's phone page (360 px and up).
    Phone,
    /// The staff console (1366 px and up).
    Console,
    /// The hall's big screen (1920×1080).
    Hall,
}

/// Everything a page needs besides its content.
pub struct Shell<'a> {
    pub m: &'static Messages,
    pub title: &'a str,
    pub kind: Kind,
    pub elder: bool,
    /// A script of ours to load (`/static/...`), for pages that update live.
    pub script: Option<&'static str>,
    /// Reload after this many seconds (the organiser's check-in code), without script.
    pub refresh: Option<u64>,
}

/// A whole page.
pub fn page(shell: &Shell, body: Markup) -> Markup {
    let class = match (shell.kind, shell.elder) {
        (Kind::Phone, true) => "phone elder",
        (Kind::Phone, false) => "phone",
        (Kind::Console, _) => "console",
        (Kind::Hall, _) => "hall",
    };
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(s) = shell.refresh {
                    meta http-equiv="refresh" content=(s);
                }
                title { (shell.title) " · " (shell.m.product) }
                link rel="stylesheet" href="/static/app.css";
                @if let Some(src) = shell.script {
                    script src=(src) defer {}
                }
            }
            body class=(class) { (body) }
        }
    }
}

/// The Content-Security-Policy of every page: nothing from elsewhere, no inline script.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A rendered page with the headers pages carry.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, markup.into_string()).into_response();
    secure_headers(r.headers_mut());
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// The security headers of pages (and their redirects).
pub fn secure_headers(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A login link must never leave in a Referer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
}

/// A "see other" to `to`, optionally setting cookies.
pub fn redirect(to: &str, cookies: &[HeaderValue]) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    secure_headers(r.headers_mut());
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
    );
    for c in cookies {
        r.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    r
}

/// A page that says something went wrong, and the way back.
pub fn error_page(m: &'static Messages, status: StatusCode, text: &str, back: &str) -> Response {
    error_page_coded(m, status, text, None, back)
}

/// [`error_page`] with the API's code, in small type, for whoever helps them.
pub fn error_page_coded(
    m: &'static Messages,
    status: StatusCode,
    text: &str,
    code: Option<&str>,
    back: &str,
) -> Response {
    let shell = Shell {
        m,
        title: m.error_title,
        kind: Kind::Phone,
        elder: false,
        script: None,
        refresh: None,
    };
    respond(
        status,
        page(
            &shell,
            html! {
                main.narrow {
                    h1 { (m.error_title) }
                    p.notice.bad role="alert" { (text) }
                    @if let Some(c) = code { p.sub { (m.error_code) "：" (c) } }
                    a.button href=(back) { (m.back_home) }
                }
            },
        ),
    )
}

/// China Standard Time.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/// "12月6日 周六 08:00", as a notice board writes it.
pub fn when(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&cst());
    format!(
        "{}月{}日 {} {:02}:{:02}",
        l.month(),
        l.day(),
        WEEKDAYS[l.weekday().num_days_from_monday() as usize],
        l.hour(),
        l.minute()
    )
}

/// [`when`], with the year in front when it is not this year ("2025年9月12日 周五 13:00").
pub fn when_dated(t: DateTime<Utc>) -> String {
    let this_year = Utc::now().with_timezone(&cst()).year();
    let l = t.with_timezone(&cst());
    if l.year() == this_year {
        when(t)
    } else {
        format!("{}年{}", l.year(), when(t))
    }
}

/// "08:00".
pub fn clock(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&cst());
    format!("{:02}:{:02}", l.hour(), l.minute())
}

/// "2026年12月3日".
pub fn date(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&cst());
    format!("{}年{}月{}日", l.year(), l.month(), l.day())
}

/// A day of the API ("2026-01-15") as people write it ("2026年1月15日"); as given
/// when it is no day.
pub fn day(s: &str) -> String {
    match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Err(_) => s.to_string(),
    }
}

/// "2026-12-03", the value of a date field (Beijing time).
pub fn date_value(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%d").to_string()
}

/// A decimal of the API ("12.50") as people write it ("12.5"); "0" for nothing.
pub fn num(s: &str) -> String {
    if !s.contains('.') {
        return if s.is_empty() { "0".into() } else { s.into() };
    }
    let t = s.trim_end_matches('0').trim_end_matches('.');
    if t.is_empty() || t == "-" {
        "0".into()
    } else {
        t.into()
    }
}

/// A timestamp of the API.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The 流动红旗: a small red flag drawn in SVG (no emoji font needed).
pub fn flag_icon() -> maud::Markup {
    maud::PreEscaped(
        "<svg class=\"flag-icon\" viewBox=\"0 0 24 24\" role=\"img\" aria-label=\"流动红旗\">\
         <rect x=\"3\" y=\"2\" width=\"2\" height=\"20\" rx=\"1\" fill=\"#8d6e00\"/>\
         <path d=\"M5 3h14l-3 5 3 5H5z\" fill=\"#e53935\"/></svg>"
            .to_string(),
    )
}

/// "★★★☆☆" for 3.
pub fn star_marks(level: i64) -> String {
    let l = level.clamp(0, 5) as usize;
    format!("{}{}", "★".repeat(l), "☆".repeat(5 - l))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_and_numbers_read_as_people_write_them() {
        let t = Utc.with_ymd_and_hms(2026, 12, 6, 0, 30, 0).unwrap();
        assert_eq!(when(t), "12月6日 周日 08:30");
        assert_eq!(date(t), "2026年12月6日");
        assert_eq!(num("12.50"), "12.5");
        assert_eq!(num("3.00"), "3");
        assert_eq!(num("0.00"), "0");
        assert_eq!(num("120"), "120");
        assert_eq!(star_marks(2), "★★☆☆☆");
    }
}
