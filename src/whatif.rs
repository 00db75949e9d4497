//! `timebank what-if --community ID --rules FILE.toml [--year YYYY] [--json]`: a
//! community's log replayed under proposed rules, writing nothing (规则试算; see
//! [`reports::whatif`]). The file:
//!
//! ```toml
//! [points]                 # as if in force on every service's day
//! per_hour = "15"
//! coefficients = { elderly_visit = "2", patrol = "1.5" }
//!
//! [stars]                  # today's star levels
//! hours = ["50", "150", "300", "500", "800"]
//! points = ["100", "300", "600", "1000", "1500"]   # optional
//! ```
//!
//! What the file leaves out stays as in force.

use anyhow::{anyhow, bail, Context};
use ledger::amount::{Hours, Points};
use ledger::event::ServiceKind;
use ledger::ids::CommunityId;
use ledger::store::Store;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A number as TOML writes it: "15", 15 or 1.5.
#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    Text(String),
    Int(i64),
    Float(f64),
}

impl Num {
    fn decimal(&self) -> anyhow::Result<Decimal> {
        Ok(match self {
            Num::Text(s) => s.trim().parse()?,
            Num::Int(i) => Decimal::from(*i),
            Num::Float(f) => Decimal::try_from(*f)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    points: Option<PointsSection>,
    stars: Option<StarsSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsSection {
    per_hour: Num,
    #[serde(default)]
    coefficients: BTreeMap<String, Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StarsSection {
    hours: Vec<Num>,
    points: Option<Vec<Num>>,
}

/// The proposal a rules file says.
pub fn proposal(text: &str) -> anyhow::Result<reports::Proposal> {
    let file: File = toml::from_str(text)?;
    let point_rules = match file.points {
        None => None,
        Some(p) => {
            let rate = Points::from_decimal(p.per_hour.decimal()?)
                .map_err(|e| anyhow!("points.per_hour: {e}"))?;
            if !rate.is_positive() {
                bail!("points.per_hour must be greater than zero");
            }
            let mut coef = BTreeMap::new();
            for (k, v) in p.coefficients {
                let kind = ServiceKind::parse(&k).ok_or_else(|| {
                    anyhow!("points.coefficients: no kind {k:?} (patrol, repair, elderly_visit, wish, mediation, other)")
                })?;
                let c = v.decimal()?;
                if c.is_sign_negative() {
                    bail!("points.coefficients.{k} must not be negative");
                }
                coef.insert(kind, c);
            }
            Some((rate, coef))
        }
    };
    let stars = match file.stars {
        None => None,
        Some(s) => {
            let hours = s
                .hours
                .iter()
                .map(|h| Hours::from_decimal(h.decimal()?).map_err(|e| anyhow!("stars.hours: {e}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let points = s
                .points
                .map(|p| {
                    p.iter()
                        .map(|x| {
                            Points::from_decimal(x.decimal()?)
                                .map_err(|e| anyhow!("stars.points: {e}"))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()
                })
                .transpose()?;
            if hours.len() != 5 || points.as_ref().is_some_and(|p| p.len() != 5) {
                bail!("stars: five thresholds are needed");
            }
            Some((hours, points))
        }
    };
    Ok(reports::Proposal { point_rules, stars })
}

/// Runs the what-if and prints it (a table, or JSON).
pub async fn run(
    store: &Store,
    community: uuid::Uuid,
    rules: &Path,
    year: Option<i32>,
    json: bool,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(rules).with_context(|| format!("read {}", rules.display()))?;
    let proposal = proposal(&text).with_context(|| format!("{}", rules.display()))?;
    let started = std::time::Instant::now();
    let today = ledger::domain::local_date(chrono::Utc::now());
    let w = reports::what_if(store, CommunityId(community), &proposal, year, today).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&w)?);
        return Ok(());
    }
    let period = year.map_or("全部年份".to_string(), |y| format!("{y}年"));
    println!(
        "规则试算（不写入任何数据）· 社区 {community} · {period} · 日志位置 {} · 用时 {:.2} 秒",
        w.position,
        started.elapsed().as_secs_f64()
    );
    println!("积分合计：{} → {}", w.points_before, w.points_after);
    println!(
        "星级人数（0–5 星）：现行 {:?} → 试算 {:?}",
        w.stars_before, w.stars_after
    );
    println!("积分前 20 名：现行 | 试算");
    for n in 0..w.top_before.len().max(w.top_after.len()) {
        let cell = |p: Option<&reports::whatif::Place>| {
            p.map_or(String::new(), |p| {
                format!("{}. {} {}", p.rank, p.volunteer_number, p.points)
            })
        };
        println!(
            "  {:<28} | {}",
            cell(w.top_before.get(n)),
            cell(w.top_after.get(n))
        );
    }
    println!("积分变化的志愿者 {} 人，变化最大的：", w.changes.len());
    for c in w.changes.iter().take(20) {
        println!("  {} {} → {}", c.volunteer_number, c.before, c.after);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_file_says_the_proposal() {
        let p = proposal(
            r#"
            [points]
            per_hour = "15"
            coefficients = { elderly_visit = 2, patrol = 1.5 }
            [stars]
            hours = ["50", "150", "300", "500", "800"]
            "#,
        )
        .unwrap();
        let (rate, coef) = p.point_rules.unwrap();
        assert_eq!(rate, Points::whole(15));
        assert_eq!(coef[&ServiceKind::Patrol], Decimal::new(15, 1));
        assert_eq!(p.stars.unwrap().0[4], Hours::whole(800));
        assert!(proposal("[stars]\nhours = [\"1\"]").is_err());
        assert!(proposal("[points]\nper_hour = 10\ncoefficients = { dancing = 2 }").is_err());
        assert!(proposal("[pointz]").is_err());
    }
}
