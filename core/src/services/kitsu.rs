//! Kitsu (Zou): self-hosted. List routes answer a plain array, or an envelope
//! (`data`, `total`, `nb_pages`, ...) when `page` is given, so paging always
//! sends `page`. They also filter on any field in the query string, which the
//! catalog marks with `open_query`. Its generic `Crud` routes are named by
//! collection and action (`kitsu.projects.list`, `kitsu.persons.create`).

use super::ServiceProfile;
use crate::model::Method;
use crate::model::{Expiry, LoginFlow, Placement, Route, TokenSource};
use crate::naming::CrudRule;
use crate::services::Paging;

/// Zou's answers that mean the token is no longer good: 401 for an expired or
/// revoked token, 422 for one it cannot verify.
const EXPIRED: [(u16, Option<&str>); 4] = [
    (401, None),
    (422, Some("Signature has expired")),
    (422, Some("Signature verification failed")),
    (422, Some("Not enough segments")),
];

/// The Kitsu profile.
pub fn profile() -> ServiceProfile {
    ServiceProfile {
        service: "kitsu".into(),
        base_url_hint: Some("http://<host>/api".into()),
        login: Some(LoginFlow {
            username_field: "email".into(),
            refresh_token: Some("/refresh_token".into()),
            refresh: Some(Route::Path(Method::Get, "/auth/refresh-token".into())),
            expired: EXPIRED
                .iter()
                .map(|(status, m)| Expiry { status: *status, message: m.map(String::from) })
                .collect(),
            ..LoginFlow::new(
                Route::Path(Method::Post, "/auth/login".into()),
                TokenSource::Json("/access_token".into()),
                Placement::Header { name: "Authorization".into(), prefix: "Bearer ".into() },
            )
        }),
        paging: Some(Paging::Page {
            page: "page".into(),
            limit: Some("limit".into()),
            items: "/data".into(),
            pages: Some("/nb_pages".into()),
            first: 1,
        }),
        not_found: Some(serde_json::json!({"error": true, "message": "{message}"})),
        // `POST /data/persons` is `kitsu.persons.create` (formerly
        // `kitsu.crud.postDataPersons`, which still resolves).
        crud: Some(CrudRule { tag: "Crud".into(), prefix: "/data/".into() }),
        ..ServiceProfile::default()
    }
}
