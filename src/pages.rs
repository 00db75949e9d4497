//! Before `serve` listens: on a database with no login yet, a one-time link for the
//! first admin; with `--demo`, the demo communities (on an empty database: two, in one
//! street) with this week's activities, awards and inspections around today, and
//! one-time links for a staff member, a volunteer, the hall display and the street
//! office, so that a new user sees the product from the first command.

use crate::cli::ServeArgs;
use api::Role;
use ledger::Store;
use uuid::Uuid;

/// The address people open (a server listening on every interface is reached on
/// this machine at 127.0.0.1).
fn base(args: &ServeArgs) -> String {
    let mut addr = args.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}

pub async fn before_serving(store: &Store, args: &ServeArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    if args.demo {
        return demo(store, args).await;
    }
    if api::auth::active_tokens(store).await? == 0 && !web::links::any_open(store, now).await? {
        let code = web::links::create_first_admin(store, now).await?;
        println!(
            "首次启动：请用这个一次性链接登录管理后台（24 小时内有效，只能使用一次）：\n\n    {}/login/{code}\n",
            base(args)
        );
    }
    Ok(())
}

/// The demo community (when the log is empty) and its login links.
async fn demo(store: &Store, args: &ServeArgs) -> anyhow::Result<()> {
    let admin = ledger::command::Actor::admin(Uuid::nil());
    let handler = ledger::command::CommandHandler::new(store.clone());
    // The street the demo communities are in (a replay after the first start).
    let establish = ledger::command::EstablishStreet {
        name: "和平街道".into(),
    };
    if store.head().await? == 0 {
        eprintln!("loading the demo communities…");
        let opts = ledger::demo::DemoOptions {
            communities: 2,
            ..ledger::demo::DemoOptions::default()
        };
        let summary = ledger::demo::generate(&handler, opts, |_| {}).await?;
        let street = handler
            .run(&admin, "demo-street", establish.clone())
            .await?;
        for (i, c) in summary.community_ids.iter().enumerate() {
            let join = ledger::command::JoinStreet {
                community_id: *c,
                street_id: street.result.street_id,
                from: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default(),
            };
            handler.run(&admin, &format!("demo-join-{i}"), join).await?;
        }
    }
    let street = handler
        .run(&admin, "demo-street", establish)
        .await?
        .result
        .street_id;
    // This week around today: an activity under way, this month's red flag, awards,
    // wishes to confirm (once a day: a restart on the same day adds nothing).
    let day = ledger::demo::present(&handler, chrono::Utc::now()).await?;
    let (community, volunteer) = (day.community_id.0, day.volunteer_id.0);
    let server = api::auth::Principal {
        street_communities: Vec::new(),
        token_id: Uuid::nil(),
        actor: ledger::command::Actor::admin(Uuid::nil()),
        label: "demo".into(),
    };
    let now = chrono::Utc::now();
    let link = |role: Role, volunteer: Option<Uuid>, label: &str| web::links::Grant {
        street: None,
        role,
        community: Some(community),
        volunteer,
        label: label.into(),
    };
    let base = base(args);
    println!("演示社区已就绪。一次性登录链接（24 小时内有效，各用一次）：\n");
    for (what, grant) in [
        (
            "社区工作人员（工作台）",
            link(Role::Staff, None, "演示工作人员"),
        ),
        (
            "志愿者（手机页面）",
            link(Role::Volunteer, Some(volunteer), "演示志愿者"),
        ),
        ("服务大厅大屏", link(Role::Display, None, "演示大屏")),
        (
            "街道办（街道工作台）",
            web::links::Grant {
                street: Some(street.0),
                role: Role::Street,
                community: None,
                volunteer: None,
                label: "演示街道办".into(),
            },
        ),
    ] {
        let code = web::links::create(store, &server, grant, now)
            .await
            .map_err(|e| anyhow::anyhow!("demo login link: {e:?}"))?;
        println!("    {what}: {base}/login/{code}");
    }
    println!();
    Ok(())
}
