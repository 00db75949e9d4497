//! The organisation above communities (街道, 区): every community, street and district
//! by name, and which street a community belonged to (and which district a street)
//! from which day. Small (a district has a few hundred units), so a query reads it
//! whole ([`org`]) and answers in memory: the communities of a street or district on a
//! day, the street of a community on a day.
//!
//! A roll-up of a period takes the organisation as it was on the period's last day
//! ([`Org::day_of`]: today for the period in progress), the way a report of a past
//! year rolls up grids as they were.

use crate::common::{day_key, parse_day, Period};
use crate::db::{Db, Tx, Val};
use crate::error::{ProjectionError, Result};
use crate::projection::{Envelope, Names, Projection, TableDef};
use chrono::NaiveDate;
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::{CommunityId, DistrictId, StreamKind, StreetId};
use std::collections::HashMap;
use uuid::Uuid;

pub const NAME: &str = "org";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_org_units",
        columns: "unit_id TEXT NOT NULL PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_org_links",
        columns: "child TEXT NOT NULL, position BIGINT NOT NULL, parent TEXT NOT NULL, from_day TEXT NOT NULL,
            PRIMARY KEY (child, position)",
        indexes: &[],
    },
];

/// What a unit of the organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitKind {
    Community,
    Street,
    District,
}

impl UnitKind {
    fn as_str(self) -> &'static str {
        match self {
            UnitKind::Community => "community",
            UnitKind::Street => "street",
            UnitKind::District => "district",
        }
    }
}

/// The organisation projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Organisation;

impl Projection for Organisation {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        1
    }
    fn tables(&self) -> &'static [TableDef] {
        TABLES
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(apply(tx, names, events))
    }
}

async fn apply(tx: &mut Tx<'_>, names: &Names, events: &[Envelope]) -> Result<()> {
    let units = names.t("pj_org_units");
    let links = names.t("pj_org_links");
    for ev in events {
        let unit = |kind: UnitKind, id: Uuid, name: &str| {
            Some((
                format!(
                    "INSERT INTO {units} (unit_id, kind, name) VALUES (?, ?, ?)
                     ON CONFLICT (unit_id) DO UPDATE SET name = excluded.name"
                ),
                vec![
                    Val::from(id.to_string()),
                    Val::from(kind.as_str()),
                    Val::from(name.to_string()),
                ],
            ))
        };
        let renamed = |name: &str| {
            Some((
                format!("UPDATE {units} SET name = ? WHERE unit_id = ?"),
                vec![
                    Val::from(name.to_string()),
                    Val::from(ev.stream_id.to_string()),
                ],
            ))
        };
        // A membership from `from` of the stream's own unit (a community or a street).
        let link = |kind: StreamKind, parent: Option<Uuid>, from: NaiveDate| {
            ev.stream_of(kind).map(|child| {
                (
                    format!(
                        "INSERT INTO {links} (child, position, parent, from_day) VALUES (?, ?, ?, ?)"
                    ),
                    vec![
                        Val::from(child.to_string()),
                        Val::from(ev.position as i64),
                        Val::from(parent.map(|p| p.to_string()).unwrap_or_default()),
                        Val::from(day_key(from)),
                    ],
                )
            })
        };
        let write = match &ev.event {
            Event::CommunityEstablished { community_id, name } => {
                unit(UnitKind::Community, community_id.0, name)
            }
            Event::StreetEstablished(e) => unit(UnitKind::Street, e.street_id.0, &e.name),
            Event::DistrictEstablished(e) => unit(UnitKind::District, e.district_id.0, &e.name),
            Event::StreetRenamed(e) => renamed(&e.name),
            Event::DistrictRenamed(e) => renamed(&e.name),
            Event::CommunityJoinedStreet(e) => {
                link(StreamKind::Community, Some(e.street_id.0), e.from)
            }
            Event::CommunityLeftStreet(e) => link(StreamKind::Community, None, e.from),
            Event::StreetJoinedDistrict(e) => {
                link(StreamKind::Street, Some(e.district_id.0), e.from)
            }
            Event::StreetLeftDistrict(e) => link(StreamKind::Street, None, e.from),
            _ => None,
        };
        let Some((sql, vals)) = write else { continue };
        tx.exec(&sql, &vals).await?;
    }
    Ok(())
}

/// A unit of the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: Uuid,
    pub kind: UnitKind,
    pub name: String,
}

/// The whole organisation, as read by [`org`].
#[derive(Debug, Clone, Default)]
pub struct Org {
    units: HashMap<Uuid, Unit>,
    /// child → (from, parent) in the order recorded.
    links: HashMap<Uuid, Vec<(NaiveDate, Option<Uuid>)>>,
}

impl Org {
    /// The day a period's roll-up takes the organisation on: its last day, or `today`
    /// while it is in progress (all time: today).
    pub fn day_of(period: Period, today: NaiveDate) -> NaiveDate {
        period
            .span()
            .and_then(|(_, after)| after.pred_opt())
            .map_or(today, |last| last.min(today))
    }

    pub fn unit(&self, id: Uuid) -> Option<&Unit> {
        self.units.get(&id)
    }

    /// Units of a kind, by name.
    pub fn units(&self, kind: UnitKind) -> Vec<&Unit> {
        let mut v: Vec<&Unit> = self.units.values().filter(|u| u.kind == kind).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        v
    }

    /// What `child` belonged to on `day`.
    pub fn parent_on(&self, child: Uuid, day: NaiveDate) -> Option<Uuid> {
        self.links
            .get(&child)?
            .iter()
            .rev()
            .find(|(from, _)| *from <= day)
            .and_then(|(_, p)| *p)
    }

    fn children_on(&self, kind: UnitKind, parent: Uuid, day: NaiveDate) -> Vec<&Unit> {
        self.units(kind)
            .into_iter()
            .filter(|u| self.parent_on(u.id, day) == Some(parent))
            .collect()
    }

    /// The communities of a street on `day`, by name.
    pub fn communities_of_street(&self, street: StreetId, day: NaiveDate) -> Vec<&Unit> {
        self.children_on(UnitKind::Community, street.0, day)
    }

    /// The streets of a district on `day`, by name.
    pub fn streets_of_district(&self, district: DistrictId, day: NaiveDate) -> Vec<&Unit> {
        self.children_on(UnitKind::Street, district.0, day)
    }

    /// The communities of a district on `day`: those of its streets then.
    pub fn communities_of_district(&self, district: DistrictId, day: NaiveDate) -> Vec<&Unit> {
        let streets: Vec<Uuid> = self
            .streets_of_district(district, day)
            .iter()
            .map(|s| s.id)
            .collect();
        self.units(UnitKind::Community)
            .into_iter()
            .filter(|c| {
                self.parent_on(c.id, day)
                    .is_some_and(|s| streets.contains(&s))
            })
            .collect()
    }

    /// The street of a community on `day`.
    pub fn street_of(&self, community: CommunityId, day: NaiveDate) -> Option<StreetId> {
        self.parent_on(community.0, day).map(StreetId)
    }
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| ProjectionError::corrupt(NAME, e))
}

/// The whole organisation (two small reads).
pub async fn org(db: &Db) -> Result<Org> {
    let mut o = Org::default();
    for r in db
        .fetch("SELECT unit_id, kind, name FROM pj_org_units", &[])
        .await?
    {
        let id = uuid(&r.text(0)?)?;
        let kind = match r.text(1)?.as_str() {
            "community" => UnitKind::Community,
            "street" => UnitKind::Street,
            "district" => UnitKind::District,
            other => return Err(ProjectionError::corrupt(NAME, format!("unit kind {other}"))),
        };
        o.units.insert(
            id,
            Unit {
                id,
                kind,
                name: r.text(2)?,
            },
        );
    }
    for r in db
        .fetch(
            "SELECT child, parent, from_day FROM pj_org_links ORDER BY child, position",
            &[],
        )
        .await?
    {
        let parent = r.text(1)?;
        let from =
            parse_day(&r.text(2)?).ok_or_else(|| ProjectionError::corrupt(NAME, "a link's day"))?;
        o.links.entry(uuid(&r.text(0)?)?).or_default().push((
            from,
            (!parent.is_empty()).then(|| uuid(&parent)).transpose()?,
        ));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_period_rolls_up_as_the_organisation_was_on_its_last_day() {
        let today = d(2026, 5, 20);
        assert_eq!(Org::day_of(Period::Year(2025), today), d(2025, 12, 31));
        assert_eq!(Org::day_of(Period::Year(2026), today), today);
        assert_eq!(Org::day_of(Period::Quarter(2026, 1), today), d(2026, 3, 31));
        assert_eq!(Org::day_of(Period::Month(2024, 2), today), d(2024, 2, 29));
        assert_eq!(Org::day_of(Period::AllTime, today), today);
    }
}
