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
//!
//! [rubric]                 # 文明楼道: the year's inspections rescaled, the red flags
//! participation_max = "20"
//! items = [{ key = "cleanliness", name = "楼道卫生", max = "40" },
//!          { key = "clutter", name = "杂物清理", max = "20" },
//!          { key = "fire_safety", name = "消防安全", max = "20" }]
//! ```
//!
//! What the file leaves out stays as in force; the rubric is tried on `--year` (this
//! year when not given).

use anyhow::{anyhow, bail, Context};
use ledger::amount::{Hours, Points};
use ledger::event::{RubricItem, ServiceKind};
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
    rubric: Option<RubricSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RubricSection {
    participation_max: Num,
    items: Vec<RubricRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RubricRow {
    key: String,
    name: String,
    max: Num,
}

/// A rules file: point rules and stars, and a rubric.
pub struct Rules {
    pub proposal: reports::Proposal,
    pub rubric: Option<reports::RubricProposal>,
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

/// What a rules file proposes.
pub fn rules(text: &str) -> anyhow::Result<Rules> {
    let file: File = toml::from_str(text)?;
    let rubric = match file.rubric {
        None => None,
        Some(r) => {
            let given = r
                .items
                .iter()
                .map(|i| {
                    Ok(RubricItem {
                        key: i.key.clone(),
                        name: i.name.clone(),
                        max: i.max.decimal()?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let pmax = r.participation_max.decimal()?;
            let items = ledger::domain::community::checked_rubric(&given, pmax)
                .map_err(|e| anyhow!("rubric: {e}"))?;
            Some(reports::RubricProposal {
                items,
                participation_max: pmax,
            })
        }
    };
    Ok(Rules {
        proposal: proposal(file.points, file.stars)?,
        rubric,
    })
}

fn proposal(
    points: Option<PointsSection>,
    stars: Option<StarsSection>,
) -> anyhow::Result<reports::Proposal> {
    let point_rules = match points {
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
    let stars = match stars {
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
    let Rules { proposal, rubric } =
        self::rules(&text).with_context(|| format!("{}", rules.display()))?;
    let started = std::time::Instant::now();
    let today = ledger::domain::local_date(chrono::Utc::now());
    let w = reports::what_if(store, CommunityId(community), &proposal, year, today).await?;
    let flags = match &rubric {
        Some(r) => {
            let y = year.unwrap_or_else(|| chrono::Datelike::year(&today));
            Some(reports::rubric_what_if(store, CommunityId(community), r, y).await?)
        }
        None => None,
    };
    if json {
        let mut out = serde_json::to_value(&w)?;
        if let (Some(f), Some(o)) = (&flags, out.as_object_mut()) {
            o.insert("rubric".into(), serde_json::to_value(f)?);
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
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
    if let Some(f) = flags {
        print_rubric(&f);
    }
    Ok(())
}

fn print_rubric(f: &reports::RubricWhatIf) {
    println!("评分细则试算 · {}年 · 流动红旗：现行 → 试算", f.year);
    let holder = |h: &Option<(String, Decimal)>| {
        h.as_ref().map_or("—".to_string(), |(label, score)| {
            format!("{label}（{score}）")
        })
    };
    for m in &f.red_flags {
        let mark = if m.changes_hands { "易手" } else { "不变" };
        println!(
            "  {:>2}月 {} → {} {mark}",
            m.month,
            holder(&m.before),
            holder(&m.after)
        );
    }
    println!("楼道年度平均分：现行 → 试算");
    let avg = |a: Option<Decimal>| a.map_or("未评分".to_string(), |a| a.to_string());
    for s in &f.stairwells {
        println!(
            "  {} {} → {}",
            s.label,
            avg(s.average_before),
            avg(s.average_after)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_file_says_the_proposal() {
        let p = rules(
            r#"
            [points]
            per_hour = "15"
            coefficients = { elderly_visit = 2, patrol = 1.5 }
            [stars]
            hours = ["50", "150", "300", "500", "800"]
            "#,
        )
        .unwrap()
        .proposal;
        let (rate, coef) = p.point_rules.unwrap();
        assert_eq!(rate, Points::whole(15));
        assert_eq!(coef[&ServiceKind::Patrol], Decimal::new(15, 1));
        assert_eq!(p.stars.unwrap().0[4], Hours::whole(800));
        assert!(rules("[stars]\nhours = [\"1\"]").is_err());
        assert!(rules("[points]\nper_hour = 10\ncoefficients = { dancing = 2 }").is_err());
        assert!(rules("[pointz]").is_err());
        let r = rules(
            "[rubric]\nparticipation_max = 10\nitems = [{ key = \"clean\", name = \"楼道卫生\", max = 90 }]",
        )
        .unwrap();
        assert_eq!(r.rubric.unwrap().items[0].max, Decimal::from(90));
        // Checked as a new rubric version is: a reserved key is refused.
        assert!(rules(
            "[rubric]\nparticipation_max = 10\nitems = [{ key = \"participation\", name = \"x\", max = 1 }]"
        )
        .is_err());
    }
}
