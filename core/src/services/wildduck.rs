//! WildDuck: self-hosted, so the base URL is configured. Lists page by
//! cursor: `next` takes the `nextCursor` of the previous answer.

use super::ServiceProfile;
use crate::services::Paging;

/// The WildDuck profile.
pub fn profile() -> ServiceProfile {
    ServiceProfile {
        service: "wildduck".into(),
        base_url_hint: Some("http://<host>:8080".into()),
        paging: Some(Paging::Cursor {
            param: "next".into(),
            next: "/nextCursor".into(),
            items: "/results".into(),
            switch: Vec::new(),
        }),
        not_found: Some(serde_json::json!({"error": "{message}", "code": "NotFound"})),
        ..ServiceProfile::default()
    }
}
