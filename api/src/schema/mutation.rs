//! Mutations: one per command. Each takes a client-generated `idempotencyKey` (a retry
//! with the same key returns the original result and writes nothing) and returns what
//! it changed plus the log `position` to pass as `atLeast` to later reads.
// The resolvers' arguments are the operation's GraphQL arguments.
#![allow(clippy::too_many_arguments)]

use super::args::{id, parse_id};
use super::types::{ServiceKind, TokenRole, WishStatus};
use super::{app, principal};
use crate::errors::{gql_error, ApiError};
use crate::scalars::{DecimalScalar, HoursScalar, PointsScalar};
use async_graphql::{Context, ErrorExtensions, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::command::{self as cmd, Command, CommandOutcome, Role};
use ledger::ids::*;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Instant;
use uuid::Uuid;

type Res<T> = async_graphql::Result<T>;

/// Runs a command as the caller, recording its latency.
async fn exec(ctx: &Context<'_>, key: &str, command: Command) -> Res<CommandOutcome> {
    let p = principal(ctx)?;
    let app = app(ctx);
    let name = command.name();
    let started = Instant::now();
    // Run on its own task: a client that disconnects or times out cannot cancel a
    // command half-way (its retry with the same key gets the stored result).
    let handler = app.handler.clone();
    let actor = p.actor.clone();
    let key = key.to_string();
    let result = tokio::spawn(async move { handler.execute(&actor, &key, command).await })
        .await
        .map_err(|e| gql_error("INTERNAL", format!("command task failed: {e}")))?;
    app.metrics.command(name, result.is_ok(), started.elapsed());
    result.map_err(|e| ApiError::Command(e).extend())
}

fn get<T: DeserializeOwned>(o: &CommandOutcome, field: &str) -> Res<T> {
    let v = o.result.get(field).cloned().unwrap_or(Value::Null);
    serde_json::from_value(v).map_err(|e| {
        gql_error(
            "INTERNAL",
            format!("command result field {field} is unreadable: {e}"),
        )
    })
}

macro_rules! payload {
    ($(#[$doc:meta])* $name:ident { $( $(#[$fdoc:meta])* $field:ident : $ty:ty ),* $(,)? }) => {
        $(#[$doc])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// Log position of the command's last event: pass it as `atLeast`.
            pub position: u64,
            /// True when this is the stored result of an earlier call with the same key.
            pub replayed: bool,
            $( $(#[$fdoc])* pub $field: $ty, )*
        }
    };
}

payload!(CommunityPayload { community_id: ID });
payload!(GridPayload { grid_id: ID });
payload!(StairwellPayload {
    stairwell_id: ID,
    grid_id: ID
});
payload!(TeamPayload { team_id: ID });
payload!(RulesPayload {
    /// The new version of the rules.
    version: i32
});
payload!(RegisterVolunteerPayload {
    volunteer_id: ID,
    volunteer_number: String
});
payload!(VolunteerChangePayload { volunteer_id: ID });
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
payload!(GiftHoursPayload {
    entry_id: ID,
    hours_balance: HoursScalar
});
payload!(WishPayload {
    wish_id: ID,
    status: WishStatus
});
payload!(ConfirmWishPayload {
    wish_id: ID,
    volunteer_id: ID,
    service_id: ID,
    entry_id: ID,
    points: PointsScalar,
});
payload!(InspectionPayload {
    stairwell_id: ID,
    month: String,
    total: DecimalScalar
});
payload!(StairwellIssuePayload { issue_id: ID });
payload!(
    /// Personal data erased; events and totals stay.
    ErasePayload {
        volunteer_id: ID,
        /// False when there was nothing left to erase.
        erased: bool,
    }
);

/// A token, shown once.
#[derive(SimpleObject)]
pub struct IssuedTokenPayload {
    pub token_id: ID,
    /// The bearer token. Only its hash is stored: it cannot be shown again.
    pub token: String,
}

#[derive(InputObject)]
pub struct CoefficientInput {
    pub kind: ServiceKind,
    pub coefficient: DecimalScalar,
}

#[derive(InputObject)]
pub struct ScoreInput {
    /// Rubric item key (cleanliness, clutter, fire_safety, …).
    pub item: String,
    pub score: DecimalScalar,
}

#[derive(InputObject)]
pub struct RubricItemInput {
    pub key: String,
    pub name: String,
    pub max: DecimalScalar,
}

fn wish_status(o: &CommandOutcome) -> Res<WishStatus> {
    let s: String = get(o, "status")?;
    WishStatus::parse(&s).ok_or_else(|| gql_error("INTERNAL", format!("unknown wish status {s}")))
}

fn entry_payload(o: CommandOutcome) -> Res<EntryPayload> {
    Ok(EntryPayload {
        entry_id: id(get::<Uuid>(&o, "entry_id")?),
        points_balance: PointsScalar(get(&o, "points_balance")?),
        hours_balance: HoursScalar(get(&o, "hours_balance")?),
        flagged: get(&o, "flagged")?,
        position: o.position,
        replayed: o.replayed,
    })
}

fn wish_payload(o: CommandOutcome) -> Res<WishPayload> {
    Ok(WishPayload {
        wish_id: id(get::<Uuid>(&o, "wish_id")?),
        status: wish_status(&o)?,
        position: o.position,
        replayed: o.replayed,
    })
}

/// The volunteer a volunteer token acts for, or the one named.
fn acting_volunteer(ctx: &Context<'_>, given: Option<&ID>) -> Res<VolunteerId> {
    match given {
        Some(v) => Ok(VolunteerId(parse_id(v, "volunteerId")?)),
        None => principal(ctx)?
            .actor
            .volunteer_id
            .ok_or_else(|| gql_error("INVALID_INPUT", "volunteerId is required")),
    }
}

#[derive(Default)]
pub struct Mutation;

#[Object(name = "CommandMutation")]
impl Mutation {
    /// 建立社区 (admin).
    async fn establish_community(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        name: String,
    ) -> Res<CommunityPayload> {
        let o = exec(
            ctx,
            &idempotency_key,
            cmd::EstablishCommunity { name }.into(),
        )
        .await?;
        Ok(CommunityPayload {
            community_id: id(get::<Uuid>(&o, "community_id")?),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Adds a grid (网格), or a micro-grid (微网格) under `parentId`.
    async fn add_grid(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        name: String,
        parent_id: Option<ID>,
    ) -> Res<GridPayload> {
        let parent = parent_id
            .as_ref()
            .map(|p| parse_id(p, "parentId").map(GridId))
            .transpose()?;
        let c = cmd::AddGrid {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            name,
            parent,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(GridPayload {
            grid_id: id(get::<Uuid>(&o, "grid_id")?),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Registers a stairwell (楼道). Without `gridId` it goes in the community's
    /// default grid (默认网格), created on first use.
    #[allow(clippy::too_many_arguments)]
    async fn register_stairwell(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        grid_id: Option<ID>,
        building: String,
        unit: String,
        households: i32,
    ) -> Res<StairwellPayload> {
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        let households = u32::try_from(households)
            .map_err(|_| gql_error("INVALID_INPUT", "households must not be negative"))?;
        let grid = match grid_id {
            Some(g) => GridId(parse_id(&g, "gridId")?),
            None => {
                let key = format!("timebank:default-grid:{}", community.0);
                let c = cmd::AddGrid {
                    community_id: community,
                    name: "默认网格".to_string(),
                    parent: None,
                };
                let o = exec(ctx, &key, c.into()).await?;
                GridId(get::<Uuid>(&o, "grid_id")?)
            }
        };
        let c = cmd::RegisterStairwell {
            community_id: community,
            grid_id: grid,
            building,
            unit,
            households,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(StairwellPayload {
            stairwell_id: id(get::<Uuid>(&o, "stairwell_id")?),
            grid_id: id(grid),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Forms a volunteer team (志愿服务队).
    async fn form_team(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        name: String,
    ) -> Res<TeamPayload> {
        let c = cmd::FormTeam {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            name,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(TeamPayload {
            team_id: id(get::<Uuid>(&o, "team_id")?),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// New point rules (admin): points per verified hour × a coefficient per kind.
    async fn set_point_rules(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        points_per_hour: PointsScalar,
        #[graphql(default)] coefficients: Vec<CoefficientInput>,
        max_hours_per_record: HoursScalar,
        effective_from: NaiveDate,
    ) -> Res<RulesPayload> {
        let mut map = BTreeMap::new();
        for c in coefficients {
            map.insert(c.kind.into(), c.coefficient.0);
        }
        let c = cmd::SetPointRules {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            points_per_hour: points_per_hour.decimal(),
            coefficients: map,
            max_hours_per_record: max_hours_per_record.decimal(),
            effective_from,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(RulesPayload {
            version: get(&o, "version")?,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// New star thresholds (admin): five ascending cumulative hours.
    async fn set_star_thresholds(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        thresholds: Vec<HoursScalar>,
        effective_from: NaiveDate,
    ) -> Res<RulesPayload> {
        let c = cmd::SetStarThresholds {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            thresholds: thresholds.into_iter().map(|h| h.decimal()).collect(),
            effective_from,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(RulesPayload {
            version: get(&o, "version")?,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// New stairwell rubric (admin).
    async fn set_rubric(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        items: Vec<RubricItemInput>,
        participation_max: DecimalScalar,
        effective_from: NaiveDate,
    ) -> Res<RulesPayload> {
        let c = cmd::SetRubric {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            items: items
                .into_iter()
                .map(|i| ledger::event::RubricItem {
                    key: i.key,
                    name: i.name,
                    max: i.max.0,
                })
                .collect(),
            participation_max: participation_max.0,
            effective_from,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(RulesPayload {
            version: get(&o, "version")?,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Registers a volunteer. Name, phone and ID number are kept beside the log.
    /// `household` names the volunteer's household (户) in the stairwell, e.g. room
    /// "3-2-201" (at most 30 characters): 邻里互助 participation counts households, and
    /// a volunteer without one counts as a household of their own.
    #[allow(clippy::too_many_arguments)]
    async fn register_volunteer(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        name: String,
        phone: Option<String>,
        id_number: Option<String>,
        #[graphql(default)] tags: Vec<String>,
        #[graphql(default)] team_ids: Vec<ID>,
        household: Option<String>,
    ) -> Res<RegisterVolunteerPayload> {
        for (field, v) in [("phone", &phone), ("idNumber", &id_number)] {
            if v.as_ref().is_some_and(|s| s.chars().count() > 32) {
                return Err(gql_error(
                    "INVALID_INPUT",
                    format!("{field} is longer than 32 characters"),
                ));
            }
        }
        let c = cmd::RegisterVolunteer {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            name,
            phone,
            id_number,
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            tags,
            teams: team_ids
                .iter()
                .map(|t| parse_id(t, "teamIds").map(TeamId))
                .collect::<Res<_>>()?,
            household,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(RegisterVolunteerPayload {
            volunteer_id: id(get::<Uuid>(&o, "volunteer_id")?),
            volunteer_number: get(&o, "volunteer_number")?,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Moves a volunteer to another stairwell, or to another household of the same
    /// one; `household` is the household moved into (none: a household of their own).
    async fn move_volunteer(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        stairwell_id: ID,
        household: Option<String>,
    ) -> Res<VolunteerChangePayload> {
        let c = cmd::MoveVolunteer {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            household,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(VolunteerChangePayload {
            volunteer_id,
            position: o.position,
            replayed: o.replayed,
        })
    }

    async fn join_team(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        team_id: ID,
    ) -> Res<VolunteerChangePayload> {
        let c = cmd::JoinTeam {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            team_id: TeamId(parse_id(&team_id, "teamId")?),
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(VolunteerChangePayload {
            volunteer_id,
            position: o.position,
            replayed: o.replayed,
        })
    }

    async fn leave_team(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        team_id: ID,
    ) -> Res<VolunteerChangePayload> {
        let c = cmd::LeaveTeam {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            team_id: TeamId(parse_id(&team_id, "teamId")?),
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(VolunteerChangePayload {
            volunteer_id,
            position: o.position,
            replayed: o.replayed,
        })
    }

    async fn depart_volunteer(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        reason: String,
    ) -> Res<VolunteerChangePayload> {
        let c = cmd::DepartVolunteer {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            reason,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(VolunteerChangePayload {
            volunteer_id,
            position: o.position,
            replayed: o.replayed,
        })
    }

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
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(ServicePayload {
            service_id: id(get::<Uuid>(&o, "service_id")?),
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
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(VerifyServicePayload {
            service_id,
            entry_id: id(get::<Uuid>(&o, "entry_id")?),
            points: PointsScalar(get(&o, "points")?),
            hours: HoursScalar(get(&o, "hours")?),
            points_balance: PointsScalar(get(&o, "points_balance")?),
            hours_balance: HoursScalar(get(&o, "hours_balance")?),
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
        let c = cmd::RejectService {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            service_id: ServiceId(parse_id(&service_id, "serviceId")?),
            reason,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
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
        entry_payload(exec(ctx, &idempotency_key, c.into()).await?)
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
        entry_payload(exec(ctx, &idempotency_key, c.into()).await?)
    }

    /// Reverses (冲正) an earlier entry, saying why (staff). At most once per entry.
    async fn reverse_entry(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        entry_id: ID,
        reason: String,
    ) -> Res<EntryPayload> {
        let c = cmd::ReverseEntry {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            entry_id: EntryId(parse_id(&entry_id, "entryId")?),
            reason,
        };
        entry_payload(exec(ctx, &idempotency_key, c.into()).await?)
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
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(GiftHoursPayload {
            entry_id: id(get::<Uuid>(&o, "entry_id")?),
            hours_balance: HoursScalar(get(&o, "hours_balance")?),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Spends banked hours on receiving a service; never overdraws.
    async fn spend_hours(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: Option<ID>,
        hours: HoursScalar,
        description: String,
    ) -> Res<EntryPayload> {
        let c = cmd::SpendHours {
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
            hours: hours.decimal(),
            description,
        };
        entry_payload(exec(ctx, &idempotency_key, c.into()).await?)
    }

    /// Posts a resident's small wish (小心愿) to the wish board (staff).
    async fn post_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        category: String,
        description: String,
        resident_label: String,
    ) -> Res<WishPayload> {
        let c = cmd::PostWish {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            category,
            description,
            resident_label,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(WishPayload {
            wish_id: id(get::<Uuid>(&o, "wish_id")?),
            status: WishStatus::Open,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Claims a wish (认领); exactly one volunteer wins. A volunteer token claims for
    /// itself; staff name the volunteer.
    async fn claim_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
        volunteer_id: Option<ID>,
    ) -> Res<WishPayload> {
        let c = cmd::ClaimWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
        };
        wish_payload(exec(ctx, &idempotency_key, c.into()).await?)
    }

    /// Releases a claimed wish (its claimer, or staff).
    async fn release_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
    ) -> Res<WishPayload> {
        let c = cmd::ReleaseWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
        };
        wish_payload(exec(ctx, &idempotency_key, c.into()).await?)
    }

    /// The claimer reports a wish fulfilled.
    #[allow(clippy::too_many_arguments)]
    async fn fulfil_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
        volunteer_id: Option<ID>,
        hours: HoursScalar,
        #[graphql(default)] note: String,
        fulfilled_at: Option<DateTime<Utc>>,
    ) -> Res<WishPayload> {
        let c = cmd::FulfilWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
            hours: hours.decimal(),
            note,
            fulfilled_at,
        };
        wish_payload(exec(ctx, &idempotency_key, c.into()).await?)
    }

    /// Staff confirm a fulfilled wish; the service is recorded on the claimer's account.
    async fn confirm_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
    ) -> Res<ConfirmWishPayload> {
        let c = cmd::ConfirmWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(ConfirmWishPayload {
            wish_id,
            volunteer_id: id(get::<Uuid>(&o, "volunteer_id")?),
            service_id: id(get::<Uuid>(&o, "service_id")?),
            entry_id: id(get::<Uuid>(&o, "entry_id")?),
            points: PointsScalar(get(&o, "points")?),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Cancels a wish (staff).
    async fn cancel_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
        reason: String,
    ) -> Res<WishPayload> {
        let c = cmd::CancelWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
            reason,
        };
        wish_payload(exec(ctx, &idempotency_key, c.into()).await?)
    }

    /// A monthly 文明楼道 inspection (staff): a score per inspected rubric item. 邻里互助
    /// (participation) is not scored: it is computed from the households whose
    /// volunteers served in the month.
    #[allow(clippy::too_many_arguments)]
    async fn record_inspection(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        month: String,
        scores: Vec<ScoreInput>,
        #[graphql(default)] note: String,
    ) -> Res<InspectionPayload> {
        let c = cmd::RecordInspection {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            month,
            scores: scores.into_iter().map(|s| (s.item, s.score.0)).collect(),
            note,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(InspectionPayload {
            stairwell_id,
            month: get(&o, "month")?,
            total: DecimalScalar(get(&o, "total")?),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Reports a stairwell issue with a deduction (staff).
    async fn report_stairwell_issue(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        description: String,
        deduction: DecimalScalar,
    ) -> Res<StairwellIssuePayload> {
        let c = cmd::ReportStairwellIssue {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            description,
            deduction: deduction.0,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(StairwellIssuePayload {
            issue_id: id(get::<Uuid>(&o, "issue_id")?),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Resolves a stairwell issue (staff).
    async fn resolve_stairwell_issue(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        issue_id: ID,
        #[graphql(default)] note: String,
    ) -> Res<StairwellIssuePayload> {
        let c = cmd::ResolveStairwellIssue {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            issue_id: IssueId(parse_id(&issue_id, "issueId")?),
            note,
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(StairwellIssuePayload {
            issue_id,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Erases a volunteer's personal data (name, phone, ID number) on request
    /// (admin, or staff of the volunteer's community), and records the erasure in the
    /// log (`PersonalDataErased`, naming no one but the volunteer's id). Events and
    /// totals stay; the volunteer shows as erased. Erasing again is harmless
    /// (`erased: false`).
    async fn erase_volunteer_personal_data(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
    ) -> Res<ErasePayload> {
        let c = cmd::ErasePersonalData {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
        };
        let o = exec(ctx, &idempotency_key, c.into()).await?;
        Ok(ErasePayload {
            volunteer_id,
            erased: get(&o, "erased")?,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Issues an API token (admin). The plaintext is returned once. Staff tokens need
    /// `communityId`, and may name the staff member's own `volunteerId` in it (they then
    /// cannot verify their own service or confirm a wish they fulfilled); volunteer
    /// tokens need `volunteerId`.
    async fn issue_token(
        &self,
        ctx: &Context<'_>,
        role: TokenRole,
        community_id: Option<ID>,
        volunteer_id: Option<ID>,
        #[graphql(default)] label: String,
    ) -> Res<IssuedTokenPayload> {
        let p = principal(ctx)?;
        if p.role() != Role::Admin {
            return Err(ApiError::forbidden("only administrators issue tokens").extend());
        }
        let community = community_id
            .as_ref()
            .map(|c| parse_id(c, "communityId"))
            .transpose()?;
        let volunteer = volunteer_id
            .as_ref()
            .map(|v| parse_id(v, "volunteerId"))
            .transpose()?;
        let t = crate::auth::issue(&app(ctx).store, role.into(), community, volunteer, &label)
            .await
            .map_err(|e| e.extend())?;
        Ok(IssuedTokenPayload {
            token_id: id(t.token_id),
            token: t.token,
        })
    }

    /// Revokes an API token by id (admin).
    async fn revoke_token(&self, ctx: &Context<'_>, token_id: ID) -> Res<bool> {
        let p = principal(ctx)?;
        if p.role() != Role::Admin {
            return Err(ApiError::forbidden("only administrators revoke tokens").extend());
        }
        let app = app(ctx);
        let tid = parse_id(&token_id, "tokenId")?;
        let revoked = crate::auth::revoke(&app.store, &tid.to_string())
            .await
            .map_err(|e| e.extend())?;
        app.auth.clear();
        Ok(revoked)
    }
}
