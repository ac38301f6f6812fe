//! SelfPrivacy: each server answers at `https://api.<domain>`. Several GET
//! routes change the system (reboot, apply, rollback, upgrade, pull, reload),
//! so they are never retried: a retry could reboot a server twice.

use super::ServiceProfile;

/// The SelfPrivacy profile.
pub fn profile() -> ServiceProfile {
    ServiceProfile {
        service: "selfprivacy".into(),
        base_url_hint: Some("https://api.<domain>".into()),
        unsafe_gets: [
            "/system/reboot",
            "/system/configuration/apply",
            "/system/configuration/rollback",
            "/system/configuration/upgrade",
            "/system/configuration/pull",
            "/services/restic/backup/reload",
        ]
        .map(String::from)
        .to_vec(),
        not_found: Some(serde_json::json!({"detail": "{message}"})),
        ..ServiceProfile::default()
    }
}
