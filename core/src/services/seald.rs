//! Seald dashboard: a hosted service with an API key header; lists page by
//! cursor once `use_cursor` is set (page numbers are deprecated there).

use serde_json::Value;

use super::ServiceProfile;
use crate::model::Method;
use crate::model::{LoginFlow, Placement, Route, TokenSource};
use crate::services::Paging;

/// The Seald profile.
pub fn profile() -> ServiceProfile {
    ServiceProfile {
        service: "seald".into(),
        default_base_url: Some("https://dashboard.seald.io".into()),
        // Without an API key, the password login opens a `sessionid` cookie session.
        login: Some(LoginFlow {
            username_field: "email".into(),
            schemes: vec!["DashboardSession".into(), "DashboardApiKey".into()],
            ..LoginFlow::new(
                Route::Path(Method::Post, "/dashboardapi/v2/admin/login/".into()),
                TokenSource::Cookie("sessionid".into()),
                Placement::Cookie("sessionid".into()),
            )
        }),
        paging: Some(Paging::Cursor {
            param: "cursor".into(),
            next: "/next_cursor".into(),
            items: "/results".into(),
            switch: vec![("use_cursor".into(), Value::String("true".into()))],
        }),
        not_found: Some(serde_json::json!({"detail": "{message}"})),
        ..ServiceProfile::default()
    }
}
