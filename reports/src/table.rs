//! The neutral table model shared by the renderers: a document is a list of
//! [`Section`]s (one sheet in XLSX, one block in CSV, one table in HTML), each with
//! Chinese column headers and rows of typed [`Cell`]s, so that numbers stay numbers
//! and dates stay dates in every format.

use crate::annual::{AnnualReport, VolunteerLine};
use crate::labels::{hours_text, local_datetime_text, points_text, star_label};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use rust_decimal::Decimal;

/// A typed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Hours (a number of hours, two decimals).
    Hours(Hours),
    /// Points (two decimals).
    Points(Points),
    /// A score or another decimal (two decimals).
    Decimal(Decimal),
    Date(NaiveDate),
    /// A month: (year, month).
    Month(i32, u32),
    /// An instant, shown in China Standard Time.
    DateTime(DateTime<Utc>),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The cell as text (CSV and HTML): decimals with a dot, dates as `2025-03-01`,
    /// months as `2025-03`, instants as `2025-03-01 08:00:00` (China Standard Time).
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Hours(h) => hours_text(*h),
            Cell::Points(p) => points_text(*p),
            Cell::Decimal(d) => d.normalize().to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Month(y, m) => format!("{y:04}-{m:02}"),
            Cell::DateTime(t) => local_datetime_text(*t),
            Cell::Empty => String::new(),
        }
    }

    /// Whether the cell is a number (right-aligned in HTML).
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Cell::Int(_) | Cell::Hours(_) | Cell::Points(_) | Cell::Decimal(_)
        )
    }
}

/// One table.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// A stable ASCII key (`overview`, `months`, …).
    pub key: &'static str,
    /// The Chinese title: the sheet name in XLSX (at most 31 characters).
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Section {
    fn new(key: &'static str, title: &str, columns: &[&str]) -> Section {
        Section {
            key,
            title: title.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

/// Column headers of the volunteer lists.
pub const VOLUNTEER_COLUMNS: [&str; 13] = [
    "名次",
    "志愿者编号",
    "姓名",
    "标签",
    "服务次数",
    "服务时长（小时）",
    "积分",
    "累计时长（小时）",
    "星级",
    "本年新晋星级",
    "参加活动（次）",
    "活动签到时长（小时）",
    "补录时长（小时）",
];

fn volunteer_rows(lines: &[VolunteerLine]) -> Vec<Vec<Cell>> {
    lines
        .iter()
        .map(|l| {
            vec![
                Cell::Int(i64::from(l.rank)),
                Cell::text(&l.volunteer_number),
                Cell::text(&l.name),
                Cell::text(l.tags.join("、")),
                Cell::Int(l.services),
                Cell::Hours(l.hours),
                Cell::Points(l.points),
                Cell::Hours(l.cumulative_hours),
                Cell::text(star_label(l.star_level)),
                Cell::text(
                    l.new_stars
                        .iter()
                        .map(|s| star_label(*s))
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                Cell::Int(l.activities),
                Cell::Hours(l.activity_hours),
                Cell::Hours(l.late_hours),
            ]
        })
        .collect()
}

/// "v1 100/300/600/1000/1500 小时".
pub fn star_rule_text(r: &AnnualReport) -> String {
    let t: Vec<String> = r
        .star_rule
        .thresholds
        .iter()
        .map(|h| hours_text(*h))
        .collect();
    let version = if r.star_rule.version == 0 {
        "默认标准".to_string()
    } else {
        format!("第{}版", r.star_rule.version)
    };
    format!("{version}：{} 小时", t.join("/"))
}

/// The sections of an annual report, in order.
pub fn annual_sections(r: &AnnualReport) -> Vec<Section> {
    let t = &r.totals;
    let mut overview = Section::new("overview", "总体情况", &["项目", "数值", "单位"]);
    let row = |item: &str, value: Cell, unit: &str| vec![Cell::text(item), value, Cell::text(unit)];
    overview.rows = vec![
        row("社区", Cell::text(&r.community_name), ""),
        row("年度", Cell::Int(i64::from(r.year)), "年"),
        row(
            "日志位置",
            Cell::Int(i64::try_from(r.position).unwrap_or(i64::MAX)),
            "",
        ),
        row(
            "数据截至",
            r.as_of.map(Cell::DateTime).unwrap_or(Cell::Empty),
            "北京时间",
        ),
        row("星级标准", Cell::text(star_rule_text(r)), ""),
        row(
            "注册志愿者",
            Cell::Int(t.registered_volunteers as i64),
            "人",
        ),
        row("活跃志愿者", Cell::Int(t.active_volunteers as i64), "人"),
        row("服务次数", Cell::Int(t.services), "次"),
        row("服务时长", Cell::Hours(t.verified_hours), "小时"),
        row("服务积分", Cell::Points(t.service_points), "分"),
        row("奖励积分", Cell::Points(t.award_points), "分"),
        row("发放积分合计", Cell::Points(t.points_awarded), "分"),
        row("兑换积分", Cell::Points(t.points_redeemed), "分"),
        row("发布心愿", Cell::Int(t.wishes_posted as i64), "个"),
        row("完成心愿", Cell::Int(t.wishes_fulfilled as i64), "个"),
        row(
            "心愿完成天数（中位数）",
            t.median_days_to_fulfil
                .map(Cell::Decimal)
                .unwrap_or(Cell::Empty),
            "天",
        ),
        row("参与活动", Cell::Int(t.activity_attendances), "人次"),
        row("其中活动签到时长", Cell::Hours(t.activity_hours), "小时"),
        row("其中补录时长", Cell::Hours(t.late_hours), "小时"),
    ];

    let mut kinds = Section::new(
        "services_by_kind",
        "服务类别",
        &["服务类别", "服务次数", "服务时长（小时）", "积分"],
    );
    kinds.rows = r
        .services_by_kind
        .iter()
        .map(|k| {
            vec![
                Cell::text(&k.label),
                Cell::Int(k.services),
                Cell::Hours(k.hours),
                Cell::Points(k.points),
            ]
        })
        .collect();

    let mut by_hours = Section::new("top_by_hours", "服务时长排行", &VOLUNTEER_COLUMNS);
    by_hours.rows = volunteer_rows(&r.top_by_hours);
    let mut by_points = Section::new("top_by_points", "积分排行", &VOLUNTEER_COLUMNS);
    by_points.rows = volunteer_rows(&r.top_by_points);
    let mut stars = Section::new("new_stars", "新晋星级志愿者", &VOLUNTEER_COLUMNS);
    stars.rows = volunteer_rows(&r.new_stars);

    let mut teams = Section::new(
        "teams",
        "服务队",
        &[
            "服务队",
            "活跃志愿者",
            "服务次数",
            "服务时长（小时）",
            "积分",
            "参与活动（人次）",
            "活动签到时长（小时）",
            "补录时长（小时）",
        ],
    );
    teams.rows = r
        .teams
        .iter()
        .map(|t| {
            vec![
                Cell::text(&t.name),
                Cell::Int(t.totals.active_volunteers as i64),
                Cell::Int(t.totals.services),
                Cell::Hours(t.totals.hours),
                Cell::Points(t.totals.points),
                Cell::Int(t.totals.activities),
                Cell::Hours(t.totals.activity_hours),
                Cell::Hours(t.totals.late_hours),
            ]
        })
        .collect();

    let mut grids = Section::new(
        "grids",
        "网格",
        &[
            "网格",
            "上级网格",
            "楼道数",
            "活跃志愿者",
            "服务次数",
            "服务时长（小时）",
            "积分",
        ],
    );
    grids.rows = r
        .grids
        .iter()
        .map(|g| {
            vec![
                Cell::text(&g.name),
                Cell::text(g.parent_name.clone().unwrap_or_default()),
                Cell::Int(g.stairwells as i64),
                Cell::Int(g.totals.active_volunteers as i64),
                Cell::Int(g.totals.services),
                Cell::Hours(g.totals.hours),
                Cell::Points(g.totals.points),
            ]
        })
        .collect();

    let mut cols: Vec<String> = ["名次", "网格", "楼栋", "单元", "户数"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    cols.extend((1..=12).map(|m| format!("{m}月")));
    cols.push("年度平均".into());
    cols.push("流动红旗月份".into());
    let mut stairwells = Section {
        key: "stairwells",
        title: "文明楼道评比".into(),
        columns: cols,
        rows: Vec::new(),
    };
    stairwells.rows = r
        .stairwells
        .iter()
        .map(|s| {
            let mut row = vec![
                s.rank
                    .map(|r| Cell::Int(i64::from(r)))
                    .unwrap_or(Cell::Empty),
                Cell::text(&s.grid_name),
                Cell::text(&s.building),
                Cell::text(&s.unit),
                Cell::Int(i64::from(s.households)),
            ];
            row.extend(
                s.months
                    .iter()
                    .map(|m| m.score.map(Cell::Decimal).unwrap_or(Cell::Empty)),
            );
            row.push(s.average.map(Cell::Decimal).unwrap_or(Cell::Empty));
            row.push(Cell::text(
                s.red_flag_months
                    .iter()
                    .map(|m| format!("{m}月"))
                    .collect::<Vec<_>>()
                    .join("、"),
            ));
            row
        })
        .collect();

    let mut flags = Section::new("red_flags", "流动红旗", &["月份", "得分", "楼道"]);
    flags.rows = r
        .red_flags
        .iter()
        .map(|f| {
            vec![
                Cell::Month(r.year, f.month),
                Cell::Decimal(f.score),
                Cell::text(f.label.clone()),
            ]
        })
        .collect();

    let mut months = Section::new(
        "months",
        "月度统计",
        &[
            "月份",
            "活跃志愿者",
            "服务次数",
            "服务时长（小时）",
            "服务积分",
            "奖励积分",
            "发放积分合计",
            "兑换积分",
        ],
    );
    months.rows = r
        .months
        .iter()
        .map(|m| {
            vec![
                Cell::Month(r.year, m.month),
                Cell::Int(m.active_volunteers as i64),
                Cell::Int(m.services),
                Cell::Hours(m.hours),
                Cell::Points(m.service_points),
                Cell::Points(m.award_points),
                Cell::Points(m.points_awarded),
                Cell::Points(m.points_redeemed),
            ]
        })
        .collect();

    vec![
        overview, kinds, by_hours, by_points, stars, teams, grids, stairwells, flags, months,
    ]
}

/// Display width of text: CJK and other wide characters count as two columns.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}
