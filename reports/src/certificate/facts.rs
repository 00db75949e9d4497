//! What a certificate states: total verified hours and the content of service by
//! kind, folded from the volunteer's own stream at a position, with the reversals
//! recorded up to a later position applied (the check compares the two).

use crate::error::ReportError;
use crate::fold;
use crate::labels::{hours_text, kind_label, local_date};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::domain::volunteer::ServiceRecord;
use ledger::domain::{Aggregate, CommunityState};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Service of one kind on a certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub kind: ServiceKind,
    pub label: String,
    pub services: i64,
    pub hours: Hours,
}

/// What a certificate states (no personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateFacts {
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    pub community_id: CommunityId,
    pub community_name: String,
    /// Net verified service hours.
    pub total_hours: Hours,
    pub services: i64,
    /// Kinds with at least one service.
    pub by_kind: Vec<ServiceSummary>,
    pub first_service: Option<NaiveDate>,
    pub last_service: Option<NaiveDate>,
    pub star_level: u8,
    pub star_rule_version: u32,
    pub star_thresholds: Vec<Hours>,
    /// The star rule's points thresholds, when it has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub star_points_thresholds: Option<Vec<Points>>,
    /// Points earned net of reversals (what a star rule with points counts).
    #[serde(default)]
    pub star_points: Points,
    /// Hours of training attended (培训), apart from service hours.
    #[serde(default, skip_serializing_if = "Hours::is_zero")]
    pub training_hours: Hours,
    /// Commendations (表彰) not withdrawn: "2024年度优秀志愿者（2025年1月15日）".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commendations: Vec<String>,
    /// The served residents' evaluations (群众评事): mean 满意度 and how many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Satisfaction>,
}

/// The mean 满意度 (1–5, two decimals) of a volunteer's evaluated services.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Satisfaction {
    pub mean: rust_decimal::Decimal,
    pub evaluations: u32,
}

impl CertificateFacts {
    /// "巡逻 12 次 30 小时；维修 2 次 3.5 小时".
    pub fn content_text(&self) -> String {
        if self.by_kind.is_empty() {
            return "暂无经核实的志愿服务记录".into();
        }
        self.by_kind
            .iter()
            .map(|k| format!("{} {} 次 {} 小时", k.label, k.services, hours_text(k.hours)))
            .collect::<Vec<_>>()
            .join("；")
    }

    /// The facts that corrections can change, for comparison.
    pub(super) fn corrected_part(
        &self,
    ) -> (
        Hours,
        i64,
        &[ServiceSummary],
        Option<NaiveDate>,
        Option<NaiveDate>,
        u8,
    ) {
        (
            self.total_hours,
            self.services,
            &self.by_kind,
            self.first_service,
            self.last_service,
            self.star_level,
        )
    }
}

/// A later correction of a record a certificate covered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    pub entry_id: EntryId,
    pub reverses: EntryId,
    pub hours: Hours,
    pub points: Points,
    pub reason: String,
}

/// Facts of the records at or before `position`, with the reversals at or before
/// `corrections_upto` applied, star level by the thresholds in force at `position`.
pub(super) async fn compute_facts(
    store: &Store,
    volunteer_id: VolunteerId,
    position: u64,
    corrections_upto: u64,
) -> Result<(CertificateFacts, Vec<Correction>), ReportError> {
    let not_found = || ReportError::VolunteerNotFound {
        volunteer_id: volunteer_id.0,
        position,
    };
    let events = store
        .read_stream(&volunteer_stream(volunteer_id), 0)
        .await?;
    let mut registration: Option<(String, CommunityId)> = None;
    let mut logged: HashMap<ServiceId, (ServiceKind, NaiveDate)> = HashMap::new();
    let mut entries: HashMap<EntryId, (ServiceKind, NaiveDate, Hours)> = HashMap::new();
    // Points each service or award credited, while not reversed (for a star rule with
    // points).
    let mut credited: HashMap<EntryId, Points> = HashMap::new();
    let mut corrections = Vec::new();
    let mut record = ServiceRecord::default();
    for rec in events.iter().filter(|e| e.position <= corrections_upto) {
        let relevant = matches!(
            rec.event_type.as_str(),
            "VolunteerRegistered"
                | "VolunteerTransferred"
                | "ServiceLogged"
                | "ServiceVerified"
                | "PointsAwarded"
                | "EntryReversed"
        );
        let of_record = matches!(
            rec.event_type.as_str(),
            "TrainingRecorded" | "CommendationGiven" | "RecordWithdrawn" | "ServiceEvaluated"
        );
        if rec.position <= position && of_record {
            record.evolve(&Event::decode(rec)?);
        }
        if !relevant || (rec.position > position && rec.event_type != "EntryReversed") {
            continue;
        }
        match Event::decode(rec)? {
            Event::VolunteerRegistered {
                volunteer_number,
                community_id,
                ..
            } => registration = Some((volunteer_number, community_id)),
            // The record follows the person: the certificate names where they are now.
            Event::VolunteerTransferred(t) => {
                registration = Some((t.volunteer_number, t.community_id))
            }
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                ..
            } => {
                logged.insert(service_id, (kind, local_date(started_at)));
            }
            Event::PointsAwarded {
                entry_id, points, ..
            } => {
                credited.insert(entry_id, points);
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                hours,
                points,
                ..
            } => {
                credited.insert(entry_id, points);
                if let Some((kind, date)) = logged.get(&service_id) {
                    entries.insert(entry_id, (*kind, *date, hours));
                }
            }
            Event::EntryReversed {
                entry_id,
                reverses,
                points,
                hours,
                reason,
                ..
            } => {
                credited.remove(&reverses);
                let covered = entries.remove(&reverses).is_some();
                if covered && rec.position > position {
                    corrections.push(Correction {
                        position: rec.position,
                        recorded_at: rec.recorded_at,
                        entry_id,
                        reverses,
                        hours,
                        points,
                        reason,
                    });
                }
            }
            _ => {}
        }
    }
    let (volunteer_number, community_id) = registration.ok_or_else(not_found)?;

    let mut community = CommunityState::default();
    for rec in store
        .read_stream(&community_stream(community_id), 0)
        .await?
        .iter()
        .filter(|e| e.position <= position)
    {
        community.evolve(&Event::decode(rec)?);
    }
    let rule_date = fold::recorded_at(store, position)
        .await?
        .map(local_date)
        .unwrap_or(NaiveDate::MIN);
    let rule = community.star_thresholds_on(rule_date);

    let mut by_kind: BTreeMap<ServiceKind, (i64, i64)> = BTreeMap::new();
    let mut total = 0i64;
    let mut first: Option<NaiveDate> = None;
    let mut last: Option<NaiveDate> = None;
    for (kind, date, hours) in entries.values() {
        let k = by_kind.entry(*kind).or_default();
        k.0 += 1;
        k.1 += hours.minutes();
        total += hours.minutes();
        first = Some(first.map_or(*date, |f| f.min(*date)));
        last = Some(last.map_or(*date, |l| l.max(*date)));
    }
    let total_hours = Hours::from_minutes(total);
    let star_points = Points::from_hundredths(credited.values().map(|p| p.hundredths()).sum());
    let facts = CertificateFacts {
        volunteer_id,
        volunteer_number,
        community_id,
        community_name: community.name.clone(),
        total_hours,
        services: by_kind.values().map(|(n, _)| n).sum(),
        by_kind: by_kind
            .into_iter()
            .map(|(kind, (services, minutes))| ServiceSummary {
                kind,
                label: kind_label(kind).to_string(),
                services,
                hours: Hours::from_minutes(minutes),
            })
            .collect(),
        first_service: first,
        last_service: last,
        star_level: rule.level(total_hours, star_points),
        star_rule_version: rule.version,
        star_thresholds: rule.thresholds,
        star_points_thresholds: rule.points,
        star_points,
        training_hours: record.training_hours(),
        commendations: record
            .commendations
            .iter()
            .filter(|c| c.withdrawn.is_none())
            .map(|c| format!("{}（{}）", c.title, crate::labels::date_cn(c.date)))
            .collect(),
        satisfaction: record
            .satisfaction()
            .map(|(mean, evaluations)| Satisfaction { mean, evaluations }),
    };
    corrections.sort_by_key(|c| c.position);
    Ok((facts, corrections))
}
