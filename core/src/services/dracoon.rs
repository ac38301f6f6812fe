//! DRACOON: one tenant per customer, so the base URL is always configured
//! (`https://<tenant>/api`). Lists page by offset and report `range.total`.

use super::Profile;
use crate::paginate::Paging;

/// The DRACOON profile.
pub fn profile() -> Profile {
    Profile {
        service: "dracoon".into(),
        base_url_hint: Some("https://<tenant>/api".into()),
        paging: Some(Paging::Offset {
            offset: "offset".into(),
            limit: "limit".into(),
            items: "/items".into(),
            total: Some("/range/total".into()),
        }),
        ..Profile::default()
    }
}
