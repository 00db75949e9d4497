//! Mutations of the organisation above communities (admin): establish and rename streets
//! (街道) and districts (区), put a community in a street and a street in a district,
//! from a day (today in China when not given; an earlier day rolls past periods up
//! with it).

use super::{exec, id, parse_id, payload, Res};
use async_graphql::{Context, Object, ID};
use chrono::NaiveDate;
use ledger::command::{self as cmd, CommandOutcome, MembershipChange};
use ledger::ids::*;

payload!(StreetPayload { street_id: ID });
payload!(DistrictPayload { district_id: ID });
payload!(MembershipPayload {
    /// The day the membership takes effect.
    from: NaiveDate
});

fn membership(o: CommandOutcome<MembershipChange>) -> MembershipPayload {
    MembershipPayload {
        from: o.result.from,
        position: o.position,
        replayed: o.replayed,
    }
}

#[derive(Default)]
pub struct StreetMutation;

#[Object]
impl StreetMutation {
    /// 建立街道 (admin).
    async fn establish_street(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        name: String,
    ) -> Res<StreetPayload> {
        let o = exec(ctx, &idempotency_key, cmd::EstablishStreet { name }).await?;
        Ok(StreetPayload {
            street_id: id(o.result.street_id),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Renames a street (admin, or the street's own office).
    async fn rename_street(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        street_id: ID,
        name: String,
    ) -> Res<StreetPayload> {
        let street_id = StreetId(parse_id(&street_id, "streetId")?);
        let o = exec(ctx, &idempotency_key, cmd::RenameStreet { street_id, name }).await?;
        Ok(StreetPayload {
            street_id: id(o.result.street_id),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// 建立区 (admin).
    async fn establish_district(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        name: String,
    ) -> Res<DistrictPayload> {
        let o = exec(ctx, &idempotency_key, cmd::EstablishDistrict { name }).await?;
        Ok(DistrictPayload {
            district_id: id(o.result.district_id),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Renames a district (admin).
    async fn rename_district(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        district_id: ID,
        name: String,
    ) -> Res<DistrictPayload> {
        let district_id = DistrictId(parse_id(&district_id, "districtId")?);
        let o = exec(
            ctx,
            &idempotency_key,
            cmd::RenameDistrict { district_id, name },
        )
        .await?;
        Ok(DistrictPayload {
            district_id: id(o.result.district_id),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Puts a community in a street from `from` (admin); it leaves the street it was in.
    /// `from` may be in the past, never before the community's last change of street.
    async fn join_street(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        street_id: ID,
        from: Option<NaiveDate>,
    ) -> Res<MembershipPayload> {
        let c = cmd::JoinStreet {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            street_id: StreetId(parse_id(&street_id, "streetId")?),
            from: from.unwrap_or_else(projections::balances::today),
        };
        Ok(membership(exec(ctx, &idempotency_key, c).await?))
    }

    /// Takes a community out of its street from `from` (admin).
    async fn leave_street(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        from: Option<NaiveDate>,
    ) -> Res<MembershipPayload> {
        let c = cmd::LeaveStreet {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            from: from.unwrap_or_else(projections::balances::today),
        };
        Ok(membership(exec(ctx, &idempotency_key, c).await?))
    }

    /// Puts a street in a district from `from` (admin).
    async fn join_district(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        street_id: ID,
        district_id: ID,
        from: Option<NaiveDate>,
    ) -> Res<MembershipPayload> {
        let c = cmd::JoinDistrict {
            street_id: StreetId(parse_id(&street_id, "streetId")?),
            district_id: DistrictId(parse_id(&district_id, "districtId")?),
            from: from.unwrap_or_else(projections::balances::today),
        };
        Ok(membership(exec(ctx, &idempotency_key, c).await?))
    }

    /// Takes a street out of its district from `from` (admin).
    async fn leave_district(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        street_id: ID,
        from: Option<NaiveDate>,
    ) -> Res<MembershipPayload> {
        let c = cmd::LeaveDistrict {
            street_id: StreetId(parse_id(&street_id, "streetId")?),
            from: from.unwrap_or_else(projections::balances::today),
        };
        Ok(membership(exec(ctx, &idempotency_key, c).await?))
    }
}
