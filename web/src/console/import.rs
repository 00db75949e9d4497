//! 导入花名册 at the desk: upload an .xlsx or .csv roster, see every row checked (the
//! dry run of the `import` crate, nothing written), confirm, and watch the registration
//! go (the page refreshes itself each second until it is done); then download the
//! rejected rows with their 错误原因 to fix and upload again.
//!
//! An upload is kept as a job of this process (a temporary file and its results),
//! bound to the community and the person who uploaded it. The rows are registered as
//! that person (each row one command, authorized and idempotent as at the desk).

use super::Desk;
use crate::layout;
use axum::extract::{Multipart, Path};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use import::{Outcome, RowStatus, Sheet};
use ledger::ids::CommunityId;
use maud::{html, Markup};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Where a job is.
#[derive(Clone)]
enum Stage {
    Checked(Outcome),
    Running { done: usize, total: usize },
    Done(Outcome),
    Failed(String),
}

/// One uploaded roster.
#[derive(Clone)]
pub struct Job {
    community: String,
    principal: Uuid,
    file: std::path::PathBuf,
    sheet: Sheet,
    stage: Stage,
}

/// The jobs of this process, by their token.
pub type Jobs = Arc<Mutex<HashMap<String, Job>>>;

/// Most jobs kept; the oldest are forgotten beyond.
const KEEP: usize = 200;

fn jobs(desk: &Desk) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
    desk.state.imports.lock().unwrap_or_else(|e| e.into_inner())
}

/// The job of `token`, if it is this desk's.
fn job_of(desk: &Desk, token: &str) -> Option<Job> {
    jobs(desk)
        .get(token)
        .filter(|j| j.community == desk.c && j.principal == desk.session.principal.token_id)
        .cloned()
}

fn set_stage(jobs: &Jobs, token: &str, stage: Stage) {
    if let Some(j) = jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(token)
    {
        j.stage = stage;
    }
}

/// `GET /console/volunteers/import`: the upload form.
pub async fn form(desk: Desk) -> Response {
    upload_page(&desk, None)
}

fn upload_page(desk: &Desk, problem: Option<&str>) -> Response {
    let t = desk.m().import;
    let body = html! {
        @if let Some(p) = problem { p.notice.bad role="alert" { (t.unreadable) (p) } }
        p { (t.intro) }
        p.sub { (t.columns) }
        form.grid method="post" enctype="multipart/form-data" action=(desk.href("/console/volunteers/import")) {
            input type="hidden" name="csrf" value=(desk.session.csrf());
            label for="file" { (t.file) }
            input id="file" name="file" type="file" accept=".xlsx,.csv" required;
            button.button.primary type="submit" { (t.check) }
        }
    };
    desk.page(t.title, body)
}

/// `POST /console/volunteers/import`: keeps the file and checks every row.
pub async fn upload(desk: Desk, mut form: Multipart) -> Response {
    let (mut csrf, mut file) = (String::new(), None);
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                file = field.bytes().await.ok().map(|b| (name, b));
            }
            _ => {}
        }
    }
    let fields = HashMap::from([("csrf".to_string(), csrf)]);
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &fields, "/console") {
        return r;
    }
    let Some((name, bytes)) = file else {
        return upload_page(&desk, Some("?"));
    };
    let ext = if name.to_ascii_lowercase().ends_with(".csv") {
        "csv"
    } else {
        "xlsx"
    };
    let token = Uuid::new_v4().to_string();
    let dir = std::env::temp_dir().join("timebank-imports");
    let path = dir.join(format!("{token}.{ext}"));
    let read = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&path, &bytes))
        .map_err(|e| e.to_string())
        .and_then(|_| import::sheet::read(&path).map_err(|e| e.to_string()));
    let sheet = match read {
        Ok(s) => s,
        Err(e) => {
            std::fs::remove_file(&path).ok();
            return upload_page(&desk, Some(&e));
        }
    };
    let Ok(community) = Uuid::parse_str(&desk.c) else {
        return desk.failed("NOT_FOUND");
    };
    let handler = &desk.state.api.app.handler;
    let actor = &desk.session.principal.actor;
    let checked = import::import_roster(
        handler,
        actor,
        CommunityId(community),
        &sheet,
        &[],
        true,
        &mut |_, _| {},
    )
    .await;
    let outcome = match checked {
        Ok(o) => o,
        Err(e) => return upload_page(&desk, Some(&e.to_string())),
    };
    {
        let mut all = jobs(&desk);
        if all.len() >= KEEP {
            all.clear();
        }
        all.insert(
            token.clone(),
            Job {
                community: desk.c.clone(),
                principal: desk.session.principal.token_id,
                file: path,
                sheet,
                stage: Stage::Checked(outcome),
            },
        );
    }
    layout::redirect(
        &desk.href(&format!("/console/volunteers/import/{token}")),
        &[],
    )
}

/// `POST /console/volunteers/import/{token}`: registers the valid rows, in the
/// background; the page shows how far it has got.
pub async fn confirm(
    desk: Desk,
    Path(token): Path<String>,
    axum::Form(f): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &f, "/console") {
        return r;
    }
    let Some(job) = job_of(&desk, &token) else {
        return gone(&desk);
    };
    if let Stage::Checked(_) = job.stage {
        let Ok(community) = Uuid::parse_str(&desk.c) else {
            return desk.failed("NOT_FOUND");
        };
        set_stage(
            &desk.state.imports,
            &token,
            Stage::Running { done: 0, total: 0 },
        );
        let (jobs, handler) = (
            desk.state.imports.clone(),
            desk.state.api.app.handler.clone(),
        );
        let actor = desk.session.principal.actor.clone();
        let t = token.clone();
        tokio::spawn(async move {
            let progress_jobs = jobs.clone();
            let progress_token = t.clone();
            let mut progress = move |done: usize, total: usize| {
                set_stage(
                    &progress_jobs,
                    &progress_token,
                    Stage::Running { done, total },
                );
            };
            let run = import::import_roster(
                &handler,
                &actor,
                CommunityId(community),
                &job.sheet,
                &[],
                false,
                &mut progress,
            )
            .await;
            let stage = match run {
                Ok(o) => Stage::Done(o),
                Err(e) => Stage::Failed(e.to_string()),
            };
            set_stage(&jobs, &t, stage);
        });
    }
    layout::redirect(
        &desk.href(&format!("/console/volunteers/import/{token}")),
        &[],
    )
}

fn gone(desk: &Desk) -> Response {
    let t = desk.m().import;
    desk.page(
        t.title,
        html! { p.notice.bad { (t.gone) } a.button href=(desk.href("/console/volunteers/import")) { (t.again) } },
    )
}

/// The rows of an outcome as a table.
fn rows(desk: &Desk, o: &Outcome) -> Markup {
    let t = desk.m().import;
    html! {
        table {
            thead { tr { th { (t.row) } th { (t.name) } th { (t.result) } } }
            tbody {
                @for r in &o.rows {
                    @let (class, what) = match &r.status {
                        RowStatus::Registered { volunteer_number: Some(n) } => ("good", format!("{} {n}", t.registered)),
                        RowStatus::Registered { volunteer_number: None } => ("good", t.will_register.to_string()),
                        RowStatus::AlreadyImported { volunteer_number } => ("", format!("{} {volunteer_number}", t.imported_before)),
                        RowStatus::AlreadyRegistered { volunteer_number } => ("", format!("{} {volunteer_number}", t.registered_before)),
                        RowStatus::Rejected { reason } => ("bad", reason.clone()),
                    };
                    tr { td { (r.row) } td { (r.name) } td class=(class) { (what) } }
                }
            }
        }
    }
}

fn counts(desk: &Desk, o: &Outcome, token: &str) -> Markup {
    let t = desk.m().import;
    let (new, before, bad) = o.counts();
    html! {
        p.counts {
            (if o.dry_run { t.would } else { t.registered }) " " b { (new) } "　"
            (t.already) " " b { (before) } "　"
            (t.rejected) " " b { (bad) }
        }
        @if bad > 0 {
            p { a href=(desk.href(&format!("/console/volunteers/import/{token}/rejected"))) { (t.download) } }
        }
    }
}

/// `GET /console/volunteers/import/{token}`: the check, the progress or the result.
pub async fn job(desk: Desk, Path(token): Path<String>) -> Response {
    let t = desk.m().import;
    let Some(job) = job_of(&desk, &token) else {
        return gone(&desk);
    };
    match &job.stage {
        Stage::Checked(o) => {
            let body = html! {
                h2 { (t.preview) }
                (counts(&desk, o, &token))
                @if o.counts().0 > 0 {
                    form method="post" action=(desk.href(&format!("/console/volunteers/import/{token}"))) {
                        input type="hidden" name="csrf" value=(desk.session.csrf());
                        button.button.primary type="submit" { (t.confirm) " " (o.counts().0) }
                    }
                } @else {
                    p { (t.nothing_to_do) }
                }
                (rows(&desk, o))
            };
            desk.page(t.title, body)
        }
        Stage::Running { done, total } => {
            let body = html! {
                p.notice role="status" { (t.running) " " b { (done) " / " (total) } }
                progress max=(total.max(&1)) value=(done) {}
            };
            let mut r = desk.page(t.title, body);
            r.headers_mut()
                .insert(header::REFRESH, HeaderValue::from_static("1"));
            r
        }
        Stage::Done(o) => {
            let body = html! {
                p.notice.good role="status" { (t.done) }
                (counts(&desk, o, &token))
                p { a.button href=(desk.href("/console/volunteers/import")) { (t.again) } }
                (rows(&desk, o))
            };
            desk.page(t.title, body)
        }
        Stage::Failed(e) => upload_page(&desk, Some(e)),
    }
}

/// `GET /console/volunteers/import/{token}/rejected`: the rejected rows, in the format
/// uploaded, with a 错误原因 column.
pub async fn rejected(desk: Desk, Path(token): Path<String>) -> Response {
    let Some(job) = job_of(&desk, &token) else {
        return gone(&desk);
    };
    let (Stage::Checked(o) | Stage::Done(o)) = &job.stage else {
        return gone(&desk);
    };
    let ext = if job.sheet.format == import::Format::Csv {
        "csv"
    } else {
        "xlsx"
    };
    let out = job.file.with_extension(format!("rejected.{ext}"));
    let written = import::sheet::write_rejected(&job.sheet, &o.rejected(&job.sheet), &out)
        .map_err(|e| e.to_string())
        .and_then(|_| std::fs::read(&out).map_err(|e| e.to_string()));
    match written {
        Ok(bytes) => {
            let kind = if ext == "csv" {
                "text/csv; charset=utf-8"
            } else {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            };
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, kind.to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"rejected.{ext}\"; filename*=UTF-8''%E9%94%99%E8%AF%AF%E8%A1%8C.{ext}"),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => upload_page(&desk, Some(&e)),
    }
}
