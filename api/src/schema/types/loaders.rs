//! The DataLoaders of a request or a connection: personal data and volunteer profiles,
//! loaded for a whole list at once ([`prefetch`]) and read by the rows' fields.

use crate::errors::ApiError;
use crate::reads::{Profile, ReadSide};
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::Context;
use ledger::store::Person;
use ledger::Store;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Personal data of a request, batched and kept for the request: a list resolver loads
/// its whole page at once ([`prefetch`]), and its rows' fields then read what it
/// loaded, so that a page costs one query however large it is.
pub type People = DataLoader<PersonLoader, HashMapCache>;

/// Volunteer profiles of a request, batched and kept like [`People`].
pub type Profiles = DataLoader<ProfileLoader, HashMapCache>;

/// The loaders of one HTTP request (kept for the request).
pub fn request_loaders(store: Store, reads: ReadSide) -> (People, Profiles) {
    (
        DataLoader::with_cache(PersonLoader(store), tokio::spawn, HashMapCache::default()),
        DataLoader::with_cache(ProfileLoader(reads), tokio::spawn, HashMapCache::default()),
    )
}

/// The loaders of a WebSocket connection: batched, but nothing kept (a connection may
/// live for days).
pub fn connection_loaders(store: Store, reads: ReadSide) -> (People, Profiles) {
    let (people, profiles) = request_loaders(store, reads);
    people.enable_all_cache(false);
    profiles.enable_all_cache(false);
    (people, profiles)
}

/// Loads, in one batch each, the personal data and the profiles of `ids` that a list
/// is about to show (`None` for what its selection does not ask).
pub async fn prefetch(
    ctx: &Context<'_>,
    ids: &[Uuid],
    people: bool,
    profiles: bool,
) -> async_graphql::Result<()> {
    let err = |e: Arc<ApiError>| async_graphql::Error::new(e.public_message());
    let load_people = async {
        if people {
            ctx.data_unchecked::<People>()
                .load_many(ids.iter().copied())
                .await
                .map_err(err)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let load_profiles = async {
        if profiles {
            ctx.data_unchecked::<Profiles>()
                .load_many(ids.iter().copied())
                .await
                .map_err(err)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let (a, b) = futures::join!(load_people, load_profiles);
    a.and(b)
}

/// Whether the selection of the field being resolved asks, under `path` (fields of its
/// result, outermost first), for any of `fields`.
pub fn selects(ctx: &Context<'_>, path: &[&str], fields: &[&str]) -> bool {
    let mut at = ctx.look_ahead();
    for p in path {
        at = at.field(p);
    }
    fields.iter().any(|f| at.field(f).exists())
}

/// Fields of a [`Volunteer`](super::Volunteer) that read personal data.
pub const PERSON_FIELDS: [&str; 4] = ["name", "phone", "idNumber", "erased"];

/// Fields of a [`Volunteer`](super::Volunteer) that read its profile.
pub const PROFILE_FIELDS: [&str; 5] = ["stairwellId", "gridId", "tags", "teamIds", "departed"];

/// Batches personal-data lookups (one query for a whole list). Every key gets an
/// answer (`None` once erased), so that an absence is kept too.
pub struct PersonLoader(pub Store);

impl Loader<Uuid> for PersonLoader {
    type Value = Option<Person>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Option<Person>>, Self::Error> {
        let mut out: HashMap<Uuid, Option<Person>> = keys.iter().map(|k| (*k, None)).collect();
        if keys.is_empty() {
            return Ok(out);
        }
        let wrap = |e: sqlx::Error| Arc::new(ApiError::Database(e));
        if let Some(pool) = self.0.sqlite_pool() {
            let marks = vec!["?"; keys.len()].join(",");
            let sql = format!(
                "SELECT volunteer_id, name, phone, id_number FROM persons WHERE volunteer_id IN ({marks})"
            );
            let mut q = sqlx::query(&sql);
            for k in keys {
                q = q.bind(k.to_string());
            }
            for r in q.fetch_all(pool).await.map_err(wrap)? {
                let id: String = r.try_get("volunteer_id").map_err(wrap)?;
                if let Ok(id) = Uuid::parse_str(&id) {
                    out.insert(
                        id,
                        Some(Person {
                            volunteer_id: id,
                            name: r.try_get("name").map_err(wrap)?,
                            phone: r.try_get("phone").map_err(wrap)?,
                            id_number: r.try_get("id_number").map_err(wrap)?,
                        }),
                    );
                }
            }
        } else if let Some(pool) = self.0.postgres_pool() {
            let rows = sqlx::query(
                "SELECT volunteer_id, name, phone, id_number FROM persons WHERE volunteer_id = ANY($1)",
            )
            .bind(keys.to_vec())
            .fetch_all(pool)
            .await
            .map_err(wrap)?;
            for r in rows {
                let id: Uuid = r.try_get("volunteer_id").map_err(wrap)?;
                out.insert(
                    id,
                    Some(Person {
                        volunteer_id: id,
                        name: r.try_get("name").map_err(wrap)?,
                        phone: r.try_get("phone").map_err(wrap)?,
                        id_number: r.try_get("id_number").map_err(wrap)?,
                    }),
                );
            }
        }
        Ok(out)
    }
}

/// Batches volunteer profiles (stairwell, grid, teams, tags, departed): one query of
/// the log's attribution events for a whole list.
pub struct ProfileLoader(pub ReadSide);

impl Loader<Uuid> for ProfileLoader {
    type Value = Profile;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Profile>, Self::Error> {
        let mut found = self.0.profiles(keys).await.map_err(Arc::new)?;
        // Every key gets an answer, so that an unknown volunteer is kept too.
        for k in keys {
            found.entry(*k).or_default();
        }
        Ok(found)
    }
}
