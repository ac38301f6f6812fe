//! Kitsu (Zou): self-hosted. List routes answer a plain array, or an envelope
//! (`data`, `total`, `nb_pages`, ...) when `page` is given, so paging always
//! sends `page`. They also filter on any field in the query string, which the
//! catalog marks with `open_query`.

use super::Profile;
use crate::paginate::Paging;

/// The Kitsu profile.
pub fn profile() -> Profile {
    Profile {
        service: "kitsu".into(),
        base_url_hint: Some("http://<host>/api".into()),
        paging: Some(Paging::Page {
            page: "page".into(),
            limit: Some("limit".into()),
            items: "/data".into(),
            pages: Some("/nb_pages".into()),
            first: 1,
        }),
        ..Profile::default()
    }
}
