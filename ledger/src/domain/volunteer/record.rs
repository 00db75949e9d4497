//! The service record beyond services (服务档案): training attended (培训), commendations
//! (表彰) and the served resident's evaluation of each service (群众评事, 满意度 1–5).
//!
//! - Training and commendations are recorded by staff; either is withdrawn (with a
//!   reason) when it was recorded in error, never deleted. Training hours are counted
//!   apart from service hours: they bank nothing and count for no star.
//! - A commendation may name the annual report (年度表彰) it rests on: its year and the
//!   log position the report was pinned to, which must already be in the log.
//! - A service gets one evaluation: by staff (who heard the resident, e.g. on a return
//!   call), or by the volunteer who received the service for their hours. A rejected
//!   service is not evaluated.

use super::super::*;
use super::VolunteerState;
use crate::event::ReportEvidence;
use chrono::Datelike;
use serde::{Deserialize, Serialize};

/// Records training attended (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordTraining {
    pub volunteer_id: VolunteerId,
    pub course: String,
    pub hours: Decimal,
    pub date: NaiveDate,
}

/// Gives a commendation (staff), optionally resting on an annual report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GiveCommendation {
    pub volunteer_id: VolunteerId,
    pub title: String,
    pub date: NaiveDate,
    #[serde(default)]
    pub evidence: Option<ReportEvidence>,
}

/// Withdraws a training or a commendation recorded in error (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithdrawRecord {
    pub volunteer_id: VolunteerId,
    pub record_id: RecordId,
    pub reason: String,
}

/// Records the served resident's evaluation of a service (staff, or the volunteer who
/// received it for their hours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluateService {
    /// Whose service it is.
    pub volunteer_id: VolunteerId,
    pub service_id: ServiceId,
    /// 满意度, 1 (very unsatisfied) to 5 (very satisfied).
    pub satisfaction: u8,
    #[serde(default)]
    pub comment: String,
}

/// Most hours one training record holds.
pub const MAX_TRAINING_HOURS: i64 = 200;
/// Longest evaluation comment, in characters.
pub const MAX_COMMENT: usize = 200;

/// A training attended.
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    pub record_id: RecordId,
    pub course: String,
    pub hours: Hours,
    pub date: NaiveDate,
    /// The reason, once withdrawn.
    pub withdrawn: Option<String>,
}

/// A commendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Commendation {
    pub record_id: RecordId,
    pub title: String,
    pub date: NaiveDate,
    pub evidence: Option<ReportEvidence>,
    pub withdrawn: Option<String>,
}

/// An evaluation of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub service_id: ServiceId,
    pub satisfaction: u8,
    pub comment: String,
    pub by_resident: bool,
}

/// A service of another volunteer received for hours (时间银行兑换).
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub service_id: ServiceId,
    pub provider: VolunteerId,
    pub description: String,
    pub hours: Hours,
}

/// The record as folded from the volunteer's stream, in the order it was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceRecord {
    pub trainings: Vec<Training>,
    pub commendations: Vec<Commendation>,
    pub evaluations: Vec<Evaluation>,
    /// Services of other volunteers this one received for hours (and may evaluate).
    pub received: Vec<Received>,
}

impl ServiceRecord {
    pub fn evolve(&mut self, event: &Event) {
        match event {
            Event::TrainingRecorded {
                record_id,
                course,
                hours,
                date,
                ..
            } => self.trainings.push(Training {
                record_id: *record_id,
                course: course.clone(),
                hours: *hours,
                date: *date,
                withdrawn: None,
            }),
            Event::CommendationGiven {
                record_id,
                title,
                date,
                evidence,
                ..
            } => self.commendations.push(Commendation {
                record_id: *record_id,
                title: title.clone(),
                date: *date,
                evidence: *evidence,
                withdrawn: None,
            }),
            Event::RecordWithdrawn {
                record_id, reason, ..
            } => {
                let t = self
                    .trainings
                    .iter_mut()
                    .find(|t| t.record_id == *record_id);
                if let Some(t) = t {
                    t.withdrawn = Some(reason.clone());
                } else if let Some(c) = self
                    .commendations
                    .iter_mut()
                    .find(|c| c.record_id == *record_id)
                {
                    c.withdrawn = Some(reason.clone());
                }
            }
            Event::ServiceEvaluated {
                service_id,
                satisfaction,
                comment,
                by_resident,
                ..
            } => self.evaluations.push(Evaluation {
                service_id: *service_id,
                satisfaction: *satisfaction,
                comment: comment.clone(),
                by_resident: *by_resident,
            }),
            Event::HoursSpent {
                provider: Some(p),
                description,
                hours,
                ..
            } => self.received.push(Received {
                service_id: p.service_id,
                provider: p.volunteer_id,
                description: description.clone(),
                hours: *hours,
            }),
            _ => {}
        }
    }

    /// Hours of training not withdrawn.
    pub fn training_hours(&self) -> Hours {
        Hours::from_minutes(
            self.trainings
                .iter()
                .filter(|t| t.withdrawn.is_none())
                .map(|t| t.hours.minutes())
                .sum(),
        )
    }

    /// The evaluation of a service, if it has one.
    pub fn evaluation(&self, service: ServiceId) -> Option<&Evaluation> {
        self.evaluations.iter().find(|e| e.service_id == service)
    }

    /// The mean satisfaction (two decimals) and how many evaluations it is of.
    pub fn satisfaction(&self) -> Option<(Decimal, u32)> {
        let n = self.evaluations.len() as u32;
        let sum: u32 = self
            .evaluations
            .iter()
            .map(|e| u32::from(e.satisfaction))
            .sum();
        (n > 0).then(|| ((Decimal::from(sum) / Decimal::from(n)).round_dp(2), n))
    }

    fn withdrawn(&self, id: RecordId) -> Option<Option<&String>> {
        let t = self.trainings.iter().find(|t| t.record_id == id);
        let c = self.commendations.iter().find(|c| c.record_id == id);
        t.map(|t| t.withdrawn.as_ref())
            .or_else(|| c.map(|c| c.withdrawn.as_ref()))
    }
}

fn not_after_today(field: &'static str, date: NaiveDate, ctx: &Ctx) -> DomainResult<()> {
    if date > local_date(ctx.now) {
        return Err(DomainError::InvalidInput {
            field,
            reason: format!("{date} is after today ({})", local_date(ctx.now)),
        });
    }
    Ok(())
}

pub fn record_training(
    v: &VolunteerState,
    cmd: &RecordTraining,
    id: RecordId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    require_staff(ctx.actor)?;
    v.require_active(cmd.volunteer_id)?;
    let course = required_text("course", &cmd.course, MAX_NAME)?;
    let hours = positive_hours("hours", cmd.hours)?;
    if hours.minutes() > MAX_TRAINING_HOURS * 60 {
        return Err(DomainError::InvalidInput {
            field: "hours",
            reason: format!("one training record holds at most {MAX_TRAINING_HOURS} h"),
        });
    }
    not_after_today("date", cmd.date, ctx)?;
    Ok(vec![Event::TrainingRecorded {
        record_id: id,
        course,
        hours,
        date: cmd.date,
        recorded_by: ctx.principal(),
    }])
}

/// `head`: the log's last position, which a report named as evidence must not pass.
pub fn give_commendation(
    v: &VolunteerState,
    cmd: &GiveCommendation,
    id: RecordId,
    head: u64,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    require_staff(ctx.actor)?;
    v.require(cmd.volunteer_id)?;
    let title = required_text("title", &cmd.title, MAX_NAME)?;
    not_after_today("date", cmd.date, ctx)?;
    if let Some(e) = cmd.evidence {
        if e.year < 2000 || e.year > cmd.date.year() {
            return Err(DomainError::InvalidInput {
                field: "evidence",
                reason: format!("the report of {} is not before the commendation", e.year),
            });
        }
        if e.position == 0 || e.position > head {
            return Err(DomainError::InvalidInput {
                field: "evidence",
                reason: format!("position {} is not in the log (head {head})", e.position),
            });
        }
    }
    Ok(vec![Event::CommendationGiven {
        record_id: id,
        title,
        date: cmd.date,
        evidence: cmd.evidence,
        given_by: ctx.principal(),
    }])
}

pub fn withdraw_record(
    v: &VolunteerState,
    cmd: &WithdrawRecord,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    require_staff(ctx.actor)?;
    v.require(cmd.volunteer_id)?;
    match v.record.withdrawn(cmd.record_id) {
        None => return Err(DomainError::not_found("record", cmd.record_id)),
        Some(Some(_)) => {
            return Err(DomainError::AlreadyWithdrawn {
                record_id: cmd.record_id,
            })
        }
        Some(None) => {}
    }
    Ok(vec![Event::RecordWithdrawn {
        record_id: cmd.record_id,
        reason: required_text("reason", &cmd.reason, MAX_TEXT)?,
        withdrawn_by: ctx.principal(),
    }])
}

/// `receiver`: the account of the volunteer evaluating (none for staff).
pub fn evaluate_service(
    v: &VolunteerState,
    receiver: Option<&VolunteerState>,
    cmd: &EvaluateService,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    v.require(cmd.volunteer_id)?;
    let by_resident = !ctx.actor.is_staff_or_admin();
    if by_resident {
        let received = receiver.is_some_and(|r| {
            r.record
                .received
                .iter()
                .any(|x| x.service_id == cmd.service_id && x.provider == cmd.volunteer_id)
        });
        if !received {
            return Err(DomainError::forbidden(
                "only staff, or the volunteer who received the service, evaluate it",
            ));
        }
    }
    let service = v
        .services
        .get(&cmd.service_id)
        .ok_or_else(|| DomainError::not_found("service", cmd.service_id))?;
    if service.status == super::ServiceStatus::Rejected {
        return Err(DomainError::invalid_state(format!(
            "service {} was rejected",
            cmd.service_id
        )));
    }
    if v.record.evaluation(cmd.service_id).is_some() {
        return Err(DomainError::AlreadyEvaluated {
            service_id: cmd.service_id,
        });
    }
    if !(1..=5).contains(&cmd.satisfaction) {
        return Err(DomainError::InvalidInput {
            field: "satisfaction",
            reason: format!("{} is not from 1 to 5", cmd.satisfaction),
        });
    }
    Ok(vec![Event::ServiceEvaluated {
        service_id: cmd.service_id,
        satisfaction: cmd.satisfaction,
        comment: text("comment", cmd.comment.trim(), MAX_COMMENT)?,
        by_resident,
        evaluated_by: ctx.principal(),
    }])
}
