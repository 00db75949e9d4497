//! Who may open which page, over HTTP against the real server (no browser needed): a
//! page does what the same person could do through the API and nothing more. A
//! volunteer cannot open the console, a display cannot open a phone page, staff see
//! only their own community, an admin sees phone numbers masked, a form without its
//! CSRF token changes nothing; the session cookie opens downloads (GET) but never
//! runs GraphQL; a logged-out browser is sent to the login notice.

use api::{AppState, Role, ServeConfig};
use ledger::command::*;
use ledger::ids::{CommunityId, VolunteerId};
use std::time::Duration;
use uuid::Uuid;

struct Site {
    base: String,
    store: ledger::Store,
    client: reqwest::Client,
    _dir: ledger::testing::TempDir,
}

async fn site() -> (Site, CommunityId, CommunityId, VolunteerId) {
    let (store, dir) = ledger::testing::sqlite_store().await;
    let handler = CommandHandler::new(store.clone());
    let admin = Actor::admin(Uuid::new_v4());
    let mut communities = Vec::new();
    let mut first = None;
    for (i, name) in ["海棠社区", "枫林社区"].iter().enumerate() {
        let c = handler
            .run(
                &admin,
                &format!("c{i}"),
                EstablishCommunity {
                    name: name.to_string(),
                },
            )
            .await
            .unwrap()
            .result
            .community_id;
        let g = handler
            .run(
                &admin,
                &format!("g{i}"),
                AddGrid {
                    community_id: c,
                    name: "一网格".into(),
                    parent: None,
                },
            )
            .await
            .unwrap()
            .result
            .grid_id;
        let s = handler
            .run(
                &admin,
                &format!("s{i}"),
                RegisterStairwell {
                    community_id: c,
                    grid_id: g,
                    building: "1栋".into(),
                    unit: "1单元".into(),
                    households: 10,
                },
            )
            .await
            .unwrap()
            .result
            .stairwell_id;
        let v = handler
            .run(
                &admin,
                &format!("v{i}"),
                RegisterVolunteer {
                    community_id: c,
                    name: format!("{name}志愿者"),
                    phone: Some("13812345678".into()),
                    id_number: None,
                    stairwell_id: s,
                    tags: vec![],
                    teams: vec![],
                    household: None,
                },
            )
            .await
            .unwrap()
            .result
            .volunteer_id;
        first.get_or_insert(v);
        communities.push(c);
    }
    let projections = projections::start(store.clone()).await;
    let head = store.head().await.unwrap();
    projections
        .wait_for(head, Duration::from_secs(30))
        .await
        .unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(_tx);
    let state = AppState::with_handler(handler, &ServeConfig::default(), rx, Some(projections));
    let app = api::router(state.clone()).merge(web::routes(state, web::WebConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let site = Site {
        base,
        store,
        client,
        _dir: dir,
    };
    (site, communities[0], communities[1], first.unwrap())
}

impl Site {
    /// A session cookie for `role` (by a one-time link, used as a browser would).
    async fn session(
        &self,
        role: Role,
        community: Option<CommunityId>,
        volunteer: Option<VolunteerId>,
    ) -> String {
        let maker = api::auth::Principal {
            street_communities: Vec::new(),
            token_id: Uuid::new_v4(),
            actor: Actor::admin(Uuid::new_v4()),
            label: "test".into(),
        };
        let grant = web::links::Grant {
            street: None,
            role,
            community: community.map(|c| c.0),
            volunteer: volunteer.map(|v| v.0),
            label: "测试".into(),
        };
        let code = web::links::create(&self.store, &maker, grant, chrono::Utc::now())
            .await
            .unwrap();
        let r = self
            .client
            .post(format!("{}/login/{code}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        cookie.split(';').next().unwrap().to_string()
    }

    /// GET `path` with `cookie`: the status, the Location, the body.
    async fn get(&self, cookie: &str, path: &str) -> (u16, String, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, location, r.text().await.unwrap())
    }

    async fn post(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, location, r.text().await.unwrap())
    }
}

/// The CSRF token a page's forms carry.
fn csrf(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a form with its CSRF token")
        + 19;
    body[at..at + 32].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_person_opens_only_their_pages() {
    let (site, a, b, v) = site().await;
    let volunteer = site.session(Role::Volunteer, Some(a), Some(v)).await;
    let display = site.session(Role::Display, Some(a), None).await;
    let staff = site.session(Role::Staff, Some(a), None).await;
    let admin = site.session(Role::Admin, None, None).await;

    // No session: to the login notice.
    let (status, location, _) = site.get("", "/console").await;
    assert_eq!((status, location.as_str()), (303, "/"));
    // A volunteer: their phone page, never the console.
    assert_eq!(site.get(&volunteer, "/m").await.0, 200);
    for path in [
        "/console",
        "/console/volunteers",
        "/console/points",
        "/console/shop",
        "/console/sessions",
        "/console/volunteers/import",
        "/console/volunteers/import/00000000-0000-0000-0000-000000000000",
    ] {
        let (status, _, body) = site.get(&volunteer, path).await;
        assert_eq!(status, 403, "{path}");
        assert!(body.contains("您没有权限"), "{path}: {body}");
    }
    let (status, _, _) = site
        .post(
            &volunteer,
            "/console/points/many",
            &[("numbers", "TB-000001"), ("points", "5"), ("reason", "x")],
        )
        .await;
    assert_eq!(status, 403);
    // A display: the hall, not a phone page or the console.
    assert_eq!(site.get(&display, "/hall").await.0, 200);
    assert_eq!(site.get(&display, "/m").await.0, 403);
    assert_eq!(site.get(&display, "/m/shop").await.0, 403);
    assert_eq!(site.get(&display, "/console").await.0, 403);
    assert_eq!(site.get(&display, "/console/shop").await.0, 403);
    // The points shop: the volunteer's on the phone, the outlet's at the desk.
    assert_eq!(site.get(&volunteer, "/m/shop").await.0, 200);
    assert_eq!(site.get(&staff, "/console/shop").await.0, 200);
    // A roster upload is its uploader's: another's token (or none) shows nothing of it.
    let (status, _, body) = site
        .get(
            &staff,
            "/console/volunteers/import/00000000-0000-0000-0000-000000000000",
        )
        .await;
    assert!(status == 200 && body.contains("这次导入已过期"), "{body}");
    // Staff of 海棠: their community, whatever `?c=` says; phones whole.
    let (status, _, body) = site
        .get(&staff, &format!("/console/volunteers?c={}", b.0))
        .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("海棠社区志愿者") && !body.contains("枫林社区志愿者"),
        "{body}"
    );
    assert!(body.contains("13812345678"));
    assert_eq!(site.get(&staff, "/m").await.0, 403);
    // An admin: any community by `?c=`, phones masked.
    let (_, _, body) = site
        .get(&admin, &format!("/console/volunteers?c={}", b.0))
        .await;
    assert!(
        body.contains("枫林社区志愿者") && body.contains("138****5678"),
        "{body}"
    );
    assert!(!body.contains("13812345678"));
    // Without `?c=`, the admin chooses a community.
    let (_, _, body) = site.get(&admin, "/console").await;
    assert!(
        body.contains("海棠社区") && body.contains("枫林社区") && body.contains("建立社区"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forms_need_their_token_and_the_cookie_runs_no_graphql() {
    let (site, a, _, v) = site().await;
    let staff = site.session(Role::Staff, Some(a), None).await;
    let volunteer = site.session(Role::Volunteer, Some(a), Some(v)).await;
    let head = site.store.head().await.unwrap();
    // A form without its CSRF token (or with another session's) changes nothing.
    let (status, _, body) = site
        .post(
            &staff,
            "/console/points/many",
            &[
                ("numbers", "TB-000001"),
                ("points", "5"),
                ("reason", "奖励"),
                ("key", "k1"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert!(body.contains("页面已过期"), "{body}");
    let (_, _, page) = site.get(&volunteer, "/m").await;
    let theirs = csrf(&page);
    let (status, _, _) = site
        .post(
            &staff,
            "/console/points/many",
            &[
                ("csrf", &theirs),
                ("numbers", "TB-000001"),
                ("points", "5"),
                ("reason", "奖励"),
                ("key", "k1"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(site.store.head().await.unwrap(), head);
    // With it, the award goes through once, however often the form is sent.
    let (_, _, page) = site.get(&staff, "/console/points").await;
    let token = csrf(&page);
    let form = [
        ("csrf", token.as_str()),
        ("numbers", "TB-000001"),
        ("points", "5"),
        ("reason", "奖励"),
        ("key", "k1"),
    ];
    for _ in 0..2 {
        let (status, location, _) = site.post(&staff, "/console/points/many", &form).await;
        assert_eq!(status, 303);
        assert!(location.contains("ok=awardPointsToMany"), "{location}");
    }
    assert_eq!(site.store.head().await.unwrap(), head + 1);
    // The cookie alone runs no GraphQL (a page elsewhere could post there)…
    let r = site
        .client
        .post(format!("{}/graphql", site.base))
        .header("cookie", &volunteer)
        .json(&serde_json::json!({ "query": "{ me { role } }" }))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    // …but opens the volunteer's own download, and not another's.
    let (status, _, body) = site
        .get(
            &volunteer,
            &format!("/documents/statement?volunteerId={}&format=csv", v.0),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("奖励"), "{body}");
    let (status, _, _) = site
        .get(
            &volunteer,
            &format!(
                "/documents/statement?volunteerId={}&format=csv",
                Uuid::new_v4()
            ),
        )
        .await;
    assert_ne!(status, 200);
}
