//! `issueCertificate`: a numbered certificate, issued once per idempotency key.

use super::certificate::{CertificateDocument, CertificateIssuer};
use crate::documents::report_error;
use crate::errors::gql_error;
use crate::schema::args::{community_of, forbidden, parse_id};
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, ID};
use ledger::ids::VolunteerId;
use std::time::Instant;

type Res<T> = async_graphql::Result<T>;

#[derive(Default)]
pub struct DocumentMutation;

#[Object]
impl DocumentMutation {
    /// Issues a numbered 志愿服务记录证明 for a volunteer (admin and the community's
    /// staff), pinned to the current log position. A retry with the same
    /// `idempotencyKey` returns the same certificate.
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn issue_certificate(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        issuer: CertificateIssuer,
    ) -> Res<CertificateDocument> {
        let p = principal(ctx)?;
        let key = idempotency_key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(gql_error(
                "INVALID_INPUT",
                "idempotencyKey must be 1 to 200 characters",
            ));
        }
        let vid = VolunteerId(parse_id(&volunteer_id, "volunteerId")?);
        let community = community_of(ctx, vid).await?;
        if !p.manages(community) {
            return Err(forbidden(
                "certificates are issued by admin and the community's staff",
            ));
        }
        let app = app(ctx);
        let issuer = reports::IssuingOrganisation {
            organisation: issuer.organisation,
            person_in_charge: issuer.person_in_charge,
            handler: issuer.handler,
            contact: issuer.contact,
        };
        // Keys are the caller's own: scoped by the token's principal.
        let scoped = format!("{}:{key}", p.actor.principal);
        let store = app.store.clone();
        let issued_by = p.actor.principal;
        let started = Instant::now();
        // On its own task: a client that goes away cannot cancel it half-way.
        let result = tokio::spawn(async move {
            reports::issue_certificate(&store, vid, issued_by, &issuer, Some(&scoped)).await
        })
        .await
        .map_err(|e| gql_error("INTERNAL", format!("certificate task failed: {e}")))?;
        app.metrics
            .command("IssueCertificate", result.is_ok(), started.elapsed());
        let cert = result.map_err(|e| report_error(e).extend())?;
        Ok((&cert).into())
    }
}
