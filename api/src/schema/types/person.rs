//! How much of a person a caller sees ([`Visibility`]: everything, masked, or the
//! shortened name of public displays), and the personal data a field shows.

use super::loaders::People;
use crate::auth::{shorten_name, Principal};
use async_graphql::Context;
use ledger::command::Role;
use ledger::ids::CommunityId;
use ledger::store::Person;
use uuid::Uuid;

/// How much of a person the caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Staff of the person's own community: everything.
    Full,
    /// Everyone else: phone and ID number masked.
    Masked,
    /// Public displays: names shortened, no phone or ID number.
    Public,
}

impl Visibility {
    pub fn for_caller(p: &Principal, community: Option<CommunityId>) -> Visibility {
        if p.role() == Role::Display {
            Visibility::Public
        } else if p.sees_personal_data_of(community) {
            Visibility::Full
        } else {
            Visibility::Masked
        }
    }
}

/// Personal data shown of a person (absent once erased).
pub async fn person_fields(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Option<Person>> {
    let loader = ctx.data_unchecked::<People>();
    Ok(loader
        .load_one(id)
        .await
        .map_err(|e| async_graphql::Error::new(e.public_message()))?
        .flatten())
}

pub fn show_name(p: &Option<Person>, vis: Visibility) -> Option<String> {
    p.as_ref().map(|p| match vis {
        Visibility::Public => shorten_name(&p.name),
        _ => p.name.clone(),
    })
}
