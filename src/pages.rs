//! Before `serve` listens: on a database with no login yet, a one-time link for the
//! first admin; with `--demo`, the demo community (on an empty database) with this
//! week's activities, awards and inspections around today, and one-time links for a
//! staff member, a volunteer and the hall display, so that a new user sees the product
//! from the first command.

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
    if store.head().await? == 0 {
        eprintln!("loading the demo community…");
        let handler = ledger::command::CommandHandler::new(store.clone());
        ledger::demo::generate(&handler, ledger::demo::DemoOptions::default(), |_| {}).await?;
    }
    // This week around today: an activity under way, this month's red flag, awards,
    // wishes to confirm (once a day: a restart on the same day adds nothing).
    let handler = ledger::command::CommandHandler::new(store.clone());
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
    ] {
        let code = web::links::create(store, &server, grant, now)
            .await
            .map_err(|e| anyhow::anyhow!("demo login link: {e:?}"))?;
        println!("    {what}: {base}/login/{code}");
    }
    println!();
    Ok(())
}
