//! Mutations of service records and of an account's points and hours: log, verify and
//! reject services; award (to one or to many), redeem, reverse; gift and spend hours.

use super::super::types::ServiceKind;
use super::{acting_volunteer, exec, id, parse_id, payload, Res};
use crate::scalars::{HoursScalar, PointsScalar};
use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};
use ledger::command::{self as cmd, BalanceEntry, CommandOutcome};
use ledger::ids::*;

payload!(ServicePayload { service_id: ID });
payload!(VerifyServicePayload {
    service_id: ID,
    entry_id: ID,
    points: PointsScalar,
    hours: HoursScalar,
    points_balance: PointsScalar,
    hours_balance: HoursScalar,
});
payload!(
    /// A balance-changing entry and the balances after it.
    EntryPayload {
        entry_id: ID,
        points_balance: PointsScalar,
        hours_balance: HoursScalar,
        flagged: bool,
    }
);
/// One award of an award to many.
#[derive(async_graphql::SimpleObject)]
pub struct AwardMade {
    pub volunteer_id: ID,
    pub entry_id: ID,
}
payload!(
    /// An award to many: each volunteer's entry, in the order named.
    AwardsPayload {
        awards: Vec<AwardMade>,
        points: PointsScalar,
    }
);
payload!(GiftHoursPayload {
    entry_id: ID,
    hours_balance: HoursScalar
});

impl From<CommandOutcome<BalanceEntry>> for EntryPayload {
    fn from(o: CommandOutcome<BalanceEntry>) -> EntryPayload {
        EntryPayload {
            entry_id: id(o.result.entry_id),
            points_balance: PointsScalar(o.result.points_balance),
            hours_balance: HoursScalar(o.result.hours_balance),
            flagged: o.result.flagged,
            position: o.position,
            replayed: o.replayed,
        }
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Logs a service awaiting verification (a volunteer logs their own; staff anyone's).
    #[allow(clippy::too_many_arguments)]
    async fn log_service(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: Option<ID>,
        kind: ServiceKind,
        started_at: DateTime<Utc>,
        hours: HoursScalar,
        #[graphql(default)] place: String,
        #[graphql(default)] note: String,
    ) -> Res<ServicePayload> {
        let c = cmd::LogService {
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
            kind: kind.into(),
            started_at,
            hours: hours.decimal(),
            place,
            note,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(ServicePayload {
            service_id: id(o.result.service_id),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Verifies a service: banks its hours and credits points under the rules in force
    /// on the service date (staff; not their own service).
    async fn verify_service(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        service_id: ID,
    ) -> Res<VerifyServicePayload> {
        let c = cmd::VerifyService {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            service_id: ServiceId(parse_id(&service_id, "serviceId")?),
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(VerifyServicePayload {
            service_id,
            entry_id: id(o.result.entry_id),
            points: PointsScalar(o.result.points),
            hours: HoursScalar(o.result.hours),
            points_balance: PointsScalar(o.result.points_balance),
            hours_balance: HoursScalar(o.result.hours_balance),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Rejects a service, with a reason (staff).
    async fn reject_service(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        service_id: ID,
        reason: String,
    ) -> Res<ServicePayload> {
        let (vid, sid) = (
            VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            ServiceId(parse_id(&service_id, "serviceId")?),
        );
        // The preview when it can be read (a refusal is the command's to give).
        let impact = crate::schema::query::impact::rejection_note(ctx, vid, sid)
            .await
            .ok();
        let c = cmd::RejectService {
            volunteer_id: vid,
            service_id: sid,
            reason,
            impact,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(ServicePayload {
            service_id,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// 积分奖励 (staff); a reason is required.
    async fn award_points(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        points: PointsScalar,
        reason: String,
    ) -> Res<EntryPayload> {
        let c = cmd::AwardPoints {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            points: points.decimal(),
            reason,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// 积分奖励 to many volunteers at once (staff), with one reason: up to 500, every
    /// award or none (one departed or unknown volunteer refuses them all).
    async fn award_points_to_many(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_ids: Vec<ID>,
        points: PointsScalar,
        reason: String,
    ) -> Res<AwardsPayload> {
        let c = cmd::AwardPointsToMany {
            volunteer_ids: volunteer_ids
                .iter()
                .map(|v| parse_id(v, "volunteerIds").map(VolunteerId))
                .collect::<Res<_>>()?,
            points: points.decimal(),
            reason,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(AwardsPayload {
            awards: o
                .result
                .awards
                .iter()
                .map(|a| AwardMade {
                    volunteer_id: id(a.volunteer_id),
                    entry_id: id(a.entry_id),
                })
                .collect(),
            points: PointsScalar(o.result.points),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Redemption at the points shop (积分超市, staff); never overdraws.
    async fn redeem_points(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        points: PointsScalar,
        item: String,
    ) -> Res<EntryPayload> {
        let c = cmd::RedeemPoints {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            points: points.decimal(),
            item,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// Reverses (冲正) an earlier entry, saying why (staff). At most once per entry. What
    /// it changes (`correctionImpact`, read just before) is kept on the correction's
    /// event.
    async fn reverse_entry(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        entry_id: ID,
        reason: String,
    ) -> Res<EntryPayload> {
        let volunteer_id = VolunteerId(parse_id(&volunteer_id, "volunteerId")?);
        let entry_id = EntryId(parse_id(&entry_id, "entryId")?);
        // The preview when it can be read (a refusal is the command's to give).
        let impact = crate::schema::query::impact::note(ctx, volunteer_id, entry_id)
            .await
            .ok();
        let c = cmd::ReverseEntry {
            volunteer_id,
            entry_id,
            reason,
            impact,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// Gifts banked hours to another volunteer (a relative); never overdraws.
    async fn gift_hours(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        from_volunteer_id: Option<ID>,
        to_volunteer_id: ID,
        hours: HoursScalar,
    ) -> Res<GiftHoursPayload> {
        let c = cmd::GiftHours {
            from: acting_volunteer(ctx, from_volunteer_id.as_ref())?,
            to: VolunteerId(parse_id(&to_volunteer_id, "toVolunteerId")?),
            hours: hours.decimal(),
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(GiftHoursPayload {
            entry_id: id(o.result.entry_id),
            hours_balance: HoursScalar(o.result.hours_balance),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Spends banked hours on receiving a service; never overdraws. When a volunteer of
    /// the community gave it (`providerId`), their service of `kind` (OTHER when not
    /// said) is recorded on their account in the same step and named on the debit:
    /// verified at once when staff record it, waiting for staff when the volunteer does.
    #[allow(clippy::too_many_arguments)]
    async fn spend_hours(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: Option<ID>,
        hours: HoursScalar,
        description: String,
        provider_id: Option<ID>,
        kind: Option<ServiceKind>,
    ) -> Res<EntryPayload> {
        let c = cmd::SpendHours {
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
            hours: hours.decimal(),
            description,
            provider: provider_id
                .map(|p| parse_id(&p, "providerId").map(VolunteerId))
                .transpose()?,
            kind: kind.map(Into::into),
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }
}
