//! DRACOON: one tenant per customer, so the base URL is always configured
//! (`https://<tenant>/api`). Lists page by offset and report `range.total`.

use serde_json::{Map, Value};

use super::ServiceProfile;
use crate::model::Method;
use crate::model::{LoginFlow, Placement, Route, TokenSource};
use crate::services::Paging;

/// The DRACOON profile.
pub fn profile() -> ServiceProfile {
    ServiceProfile {
        service: "dracoon".into(),
        base_url_hint: Some("https://<tenant>/api".into()),
        // OAuth2 (password or client-credentials grant) when a client id is
        // configured; the token endpoint sits beside the API, not under it.
        token_url: Some("/oauth/token".into()),
        // Otherwise the (deprecated) login, whose token goes in X-Sds-Auth-Token.
        login: Some(LoginFlow {
            username_field: "userName".into(),
            extra: Map::from_iter([("authType".to_owned(), Value::String("basic".into()))]),
            ..LoginFlow::new(
                Route::Path(Method::Post, "/v4/auth/login".into()),
                TokenSource::Json("/token".into()),
                Placement::Header { name: "X-Sds-Auth-Token".into(), prefix: String::new() },
            )
        }),
        paging: Some(Paging::Offset {
            offset: "offset".into(),
            limit: "limit".into(),
            items: "/items".into(),
            total: Some("/range/total".into()),
        }),
        not_found: Some(
            serde_json::json!({"code": 404, "message": "{message}", "debugInfo": "{message}", "errorCode": -40000}),
        ),
        ..ServiceProfile::default()
    }
}
