//! Mutations of the service record beyond services (服务档案): training attended,
//! commendations, their withdrawal, and the served resident's evaluation of a service.

use super::{exec, id, parse_id, payload, Res};
use crate::scalars::HoursScalar;
use async_graphql::{Context, Object, ID};
use chrono::NaiveDate;
use ledger::command::{self as cmd, CommandOutcome, RecordRef};
use ledger::event::ReportEvidence;
use ledger::ids::*;

payload!(RecordPayload {
    volunteer_id: ID,
    record_id: ID
});
payload!(EvaluationPayload {
    volunteer_id: ID,
    service_id: ID,
    satisfaction: i32
});

fn record(o: CommandOutcome<RecordRef>) -> RecordPayload {
    RecordPayload {
        volunteer_id: id(o.result.volunteer_id),
        record_id: id(o.result.record_id),
        position: o.position,
        replayed: o.replayed,
    }
}

#[derive(Default)]
pub struct RecordMutation;

#[Object]
impl RecordMutation {
    /// Records training attended (培训, staff): its hours are counted apart from
    /// service hours (they bank nothing and count for no star).
    async fn record_training(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        course: String,
        hours: HoursScalar,
        date: NaiveDate,
    ) -> Res<RecordPayload> {
        let c = cmd::RecordTraining {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            course,
            hours: hours.decimal(),
            date,
        };
        Ok(record(exec(ctx, &idempotency_key, c).await?))
    }

    /// Gives a commendation (表彰, staff), e.g. 年度优秀志愿者; `reportYear` and
    /// `reportPosition` name the annual report it rests on (the position it was pinned
    /// to, already in the log).
    #[allow(clippy::too_many_arguments)]
    async fn give_commendation(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        title: String,
        date: NaiveDate,
        report_year: Option<i32>,
        report_position: Option<u64>,
    ) -> Res<RecordPayload> {
        let evidence = match (report_year, report_position) {
            (Some(year), Some(position)) => Some(ReportEvidence { year, position }),
            (None, None) => None,
            _ => {
                return Err(crate::errors::gql_error(
                    "INVALID_INPUT",
                    "reportYear and reportPosition are given together",
                ))
            }
        };
        let c = cmd::GiveCommendation {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            title,
            date,
            evidence,
        };
        Ok(record(exec(ctx, &idempotency_key, c).await?))
    }

    /// Withdraws a training or a commendation recorded in error (staff), with the
    /// reason; it stays on the record, marked withdrawn.
    async fn withdraw_record(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        record_id: ID,
        reason: String,
    ) -> Res<RecordPayload> {
        let c = cmd::WithdrawRecord {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            record_id: RecordId(parse_id(&record_id, "recordId")?),
            reason,
        };
        Ok(record(exec(ctx, &idempotency_key, c).await?))
    }

    /// The served resident's evaluation of a service (群众评事): 满意度 1–5 and a
    /// comment, once per service; by staff, or by the volunteer who received the
    /// service for their hours (ALREADY_EVALUATED the second time).
    async fn evaluate_service(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        service_id: ID,
        satisfaction: i32,
        #[graphql(default)] comment: String,
    ) -> Res<EvaluationPayload> {
        let satisfaction = u8::try_from(satisfaction).unwrap_or(0);
        let c = cmd::EvaluateService {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            service_id: ServiceId(parse_id(&service_id, "serviceId")?),
            satisfaction,
            comment,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(EvaluationPayload {
            volunteer_id: id(o.result.volunteer_id),
            service_id: id(o.result.service_id),
            satisfaction: i32::from(o.result.satisfaction),
            position: o.position,
            replayed: o.replayed,
        })
    }
}
