//! 导入花名册 and 导入历史记录 at the desk: upload an .xlsx or .csv roster or history
//! sheet, see every row checked (the dry run of the `import` crate, nothing written),
//! confirm, and watch the rows go in (the page refreshes itself each second until it
//! is done); then download the rejected rows with their 错误原因 to fix and upload
//! again. A history import ends with its batch, which can be reversed as one.
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

/// What a sheet is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// 花名册: volunteers to register.
    Roster,
    /// 历史服务记录: past services to record.
    History,
}

impl Kind {
    fn texts(self, desk: &Desk) -> &'static crate::msg::import::Import {
        match self {
            Kind::Roster => desk.m().import,
            Kind::History => desk.m().history,
        }
    }

    /// Where its upload form is.
    fn form(self) -> &'static str {
        match self {
            Kind::Roster => "/console/volunteers/import",
            Kind::History => "/console/volunteers/history",
        }
    }
}

/// The dry run or the real run of `sheet` (uploaded as `name`) as `kind`.
#[allow(clippy::too_many_arguments)]
async fn run(
    kind: Kind,
    handler: &ledger::command::CommandHandler,
    actor: &ledger::command::Actor,
    community: CommunityId,
    name: &str,
    sheet: &Sheet,
    dry_run: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Outcome, import::ImportError> {
    match kind {
        Kind::Roster => {
            import::import_roster(handler, actor, community, sheet, &[], dry_run, progress).await
        }
        Kind::History => {
            import::import_history(
                handler,
                actor,
                community,
                name,
                sheet,
                &[],
                dry_run,
                progress,
            )
            .await
        }
    }
}

/// One uploaded sheet.
#[derive(Clone)]
pub struct Job {
    kind: Kind,
    /// The file's name as uploaded.
    name: String,
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

/// `GET /console/volunteers/import`: the roster's upload form.
pub async fn form(desk: Desk) -> Response {
    upload_page(&desk, Kind::Roster, None)
}

/// `GET /console/volunteers/history`: the history's upload form.
pub async fn history_form(desk: Desk) -> Response {
    upload_page(&desk, Kind::History, None)
}

fn upload_page(desk: &Desk, kind: Kind, problem: Option<&str>) -> Response {
    let t = kind.texts(desk);
    let body = html! {
        @if let Some(p) = problem { p.notice.bad role="alert" { (t.unreadable) (p) } }
        p { (t.intro) }
        p.sub { (t.columns) }
        @if kind == Kind::History { p { a href=(desk.href("/console/imports")) { (desk.m().batch.list_title) } } }
        form.grid method="post" enctype="multipart/form-data" action=(desk.href(kind.form())) {
            input type="hidden" name="csrf" value=(desk.session.csrf());
            label for="file" { (t.file) }
            input id="file" name="file" type="file" accept=".xlsx,.csv" required;
            button.button.primary type="submit" { (t.check) }
        }
    };
    desk.page(t.title, body)
}

/// `POST /console/volunteers/import`: keeps the roster and checks every row.
pub async fn upload(desk: Desk, form: Multipart) -> Response {
    upload_as(desk, form, Kind::Roster).await
}

/// `POST /console/volunteers/history`: keeps the history sheet and checks every row.
pub async fn upload_history(desk: Desk, form: Multipart) -> Response {
    upload_as(desk, form, Kind::History).await
}

async fn upload_as(desk: Desk, mut form: Multipart, kind: Kind) -> Response {
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
        return upload_page(&desk, kind, Some("?"));
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
            return upload_page(&desk, kind, Some(&e));
        }
    };
    let Ok(community) = Uuid::parse_str(&desk.c) else {
        return desk.failed("NOT_FOUND");
    };
    let handler = &desk.state.api.app.handler;
    let actor = &desk.session.principal.actor;
    let checked = run(
        kind,
        handler,
        actor,
        CommunityId(community),
        &name,
        &sheet,
        true,
        &mut |_, _| {},
    )
    .await;
    let outcome = match checked {
        Ok(o) => o,
        Err(e) => return upload_page(&desk, kind, Some(&e.to_string())),
    };
    {
        let mut all = jobs(&desk);
        if all.len() >= KEEP {
            all.clear();
        }
        all.insert(
            token.clone(),
            Job {
                kind,
                name,
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
            let done = run(
                job.kind,
                &handler,
                &actor,
                CommunityId(community),
                &job.name,
                &job.sheet,
                false,
                &mut progress,
            )
            .await;
            let stage = match done {
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
        html! { p.notice.bad { (t.gone) } a.button href=(desk.href("/console/volunteers")) { (t.again) } },
    )
}

/// The rows of an outcome as a table.
fn rows(desk: &Desk, kind: Kind, o: &Outcome) -> Markup {
    let t = kind.texts(desk);
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
                        RowStatus::Recorded { volunteer_number } if o.dry_run => ("good", format!("{} {volunteer_number}", t.will_register)),
                        RowStatus::Recorded { volunteer_number } => ("good", format!("{} {volunteer_number}", t.registered)),
                        RowStatus::Rejected { reason } => ("bad", reason.clone()),
                    };
                    tr { td { (r.row) } td { (r.name) } td class=(class) { (what) } }
                }
            }
        }
    }
}

fn counts(desk: &Desk, kind: Kind, o: &Outcome, token: &str) -> Markup {
    let t = kind.texts(desk);
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
    let Some(job) = job_of(&desk, &token) else {
        return gone(&desk);
    };
    let (kind, t) = (job.kind, job.kind.texts(&desk));
    match &job.stage {
        Stage::Checked(o) => {
            let body = html! {
                h2 { (t.preview) }
                (counts(&desk, kind, o, &token))
                @if o.counts().0 > 0 {
                    form method="post" action=(desk.href(&format!("/console/volunteers/import/{token}"))) {
                        input type="hidden" name="csrf" value=(desk.session.csrf());
                        button.button.primary type="submit" { (t.confirm) " " (o.counts().0) }
                    }
                } @else {
                    p { (t.nothing_to_do) }
                }
                (rows(&desk, kind, o))
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
                (counts(&desk, kind, o, &token))
                @if let Some(batch) = o.batch.filter(|_| o.counts().0 > 0) {
                    p { (t.batch) " " code { (batch) } "　" a href=(desk.href(&format!("/console/imports/{batch}"))) { (t.undo) } }
                }
                p { a.button href=(desk.href(kind.form())) { (t.again) } }
                (rows(&desk, kind, o))
            };
            desk.page(t.title, body)
        }
        Stage::Failed(e) => upload_page(&desk, kind, Some(e)),
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
        Err(e) => upload_page(&desk, job.kind, Some(&e)),
    }
}
