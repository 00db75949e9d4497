//! A volunteer's service record beyond services (服务档案): training attended,
//! commendations, and the evaluations of their services (群众评事), folded from their
//! account as the commands see it.

use super::ServiceKind;
use crate::scalars::{DecimalScalar, HoursScalar};
use crate::schema::args::id;
use async_graphql::{SimpleObject, ID};
use chrono::NaiveDate;
use ledger::domain::local_date;
use ledger::domain::volunteer::{ServiceStatus, VolunteerState};

/// A training attended (培训).
#[derive(SimpleObject, Clone)]
pub struct TrainingRecord {
    pub record_id: ID,
    pub course: String,
    /// Counted apart from service hours.
    pub hours: HoursScalar,
    pub date: NaiveDate,
    /// Why it was withdrawn, once withdrawn (recorded in error).
    pub withdrawn_reason: Option<String>,
}

/// A commendation (表彰).
#[derive(SimpleObject, Clone)]
pub struct CommendationRecord {
    pub record_id: ID,
    pub title: String,
    pub date: NaiveDate,
    /// The annual report (年度表彰) it rests on: its year and the position it was
    /// pinned to.
    pub report_year: Option<i32>,
    pub report_position: Option<u64>,
    pub withdrawn_reason: Option<String>,
}

/// A service of the volunteer, with its evaluation when it has one.
#[derive(SimpleObject, Clone)]
pub struct EvaluatedService {
    pub service_id: ID,
    pub kind: ServiceKind,
    /// The service's day (UTC+8).
    pub date: NaiveDate,
    pub hours: HoursScalar,
    /// 满意度 1–5; null while not evaluated.
    pub satisfaction: Option<i32>,
    pub comment: Option<String>,
    /// Given by the volunteer who received the service (not recorded by staff).
    pub by_resident: bool,
}

/// A service of another volunteer this one received for hours, which they may
/// evaluate.
#[derive(SimpleObject, Clone)]
pub struct ReceivedService {
    pub service_id: ID,
    /// Who gave it.
    pub provider_id: ID,
    pub description: String,
    pub hours: HoursScalar,
    /// The evaluation given (by anyone), null while none.
    pub satisfaction: Option<i32>,
}

/// Training, commendations and evaluations of a volunteer.
#[derive(SimpleObject, Clone)]
pub struct ServiceRecord {
    /// Hours of training not withdrawn (apart from service hours).
    pub training_hours: HoursScalar,
    /// Oldest first.
    pub trainings: Vec<TrainingRecord>,
    pub commendations: Vec<CommendationRecord>,
    /// Evaluated services, newest first.
    pub evaluations: Vec<EvaluatedService>,
    /// The mean 满意度 of the evaluations (two decimals), null without any.
    pub satisfaction: Option<DecimalScalar>,
    pub evaluation_count: i32,
    /// The newest services (logged or verified, not rejected) without an evaluation,
    /// at most 20.
    pub awaiting_evaluation: Vec<EvaluatedService>,
    /// Services received for hours, newest first, at most 20.
    pub received: Vec<ReceivedService>,
}

impl From<&VolunteerState> for ServiceRecord {
    fn from(v: &VolunteerState) -> ServiceRecord {
        let r = &v.record;
        let service = |sid: &ledger::ids::ServiceId| {
            v.services.get(sid).map(|s| EvaluatedService {
                service_id: id(sid.0),
                kind: s.kind.into(),
                date: local_date(s.started_at),
                hours: HoursScalar(s.hours),
                satisfaction: None,
                comment: None,
                by_resident: false,
            })
        };
        let mut evaluations: Vec<EvaluatedService> = r
            .evaluations
            .iter()
            .filter_map(|e| {
                service(&e.service_id).map(|s| EvaluatedService {
                    satisfaction: Some(i32::from(e.satisfaction)),
                    comment: Some(e.comment.clone()),
                    by_resident: e.by_resident,
                    ..s
                })
            })
            .collect();
        evaluations.sort_by_key(|e| std::cmp::Reverse(e.date));
        let mut awaiting: Vec<(chrono::DateTime<chrono::Utc>, EvaluatedService)> = v
            .services
            .iter()
            .filter(|(sid, s)| s.status != ServiceStatus::Rejected && r.evaluation(**sid).is_none())
            .filter_map(|(sid, s)| service(sid).map(|e| (s.started_at, e)))
            .collect();
        awaiting.sort_by_key(|a| std::cmp::Reverse(a.0));
        let (mean, count) = r.satisfaction().map_or((None, 0), |(m, n)| (Some(m), n));
        ServiceRecord {
            training_hours: HoursScalar(r.training_hours()),
            trainings: r
                .trainings
                .iter()
                .map(|t| TrainingRecord {
                    record_id: id(t.record_id.0),
                    course: t.course.clone(),
                    hours: HoursScalar(t.hours),
                    date: t.date,
                    withdrawn_reason: t.withdrawn.clone(),
                })
                .collect(),
            commendations: r
                .commendations
                .iter()
                .map(|c| CommendationRecord {
                    record_id: id(c.record_id.0),
                    title: c.title.clone(),
                    date: c.date,
                    report_year: c.evidence.map(|e| e.year),
                    report_position: c.evidence.map(|e| e.position),
                    withdrawn_reason: c.withdrawn.clone(),
                })
                .collect(),
            evaluations,
            satisfaction: mean.map(DecimalScalar),
            evaluation_count: count as i32,
            awaiting_evaluation: awaiting.into_iter().take(20).map(|(_, e)| e).collect(),
            received: r
                .received
                .iter()
                .rev()
                .take(20)
                .map(|x| ReceivedService {
                    service_id: id(x.service_id.0),
                    provider_id: id(x.provider.0),
                    description: x.description.clone(),
                    hours: HoursScalar(x.hours),
                    satisfaction: None,
                })
                .collect(),
        }
    }
}
