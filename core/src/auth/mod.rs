//! Credentials and how they reach requests.
//!
//! (Filled in by the HTTP/auth issue: schemes, OAuth2, login flows.)

/// Tokens obtained at run time (OAuth2, login flows), cached per service.
#[derive(Debug, Default)]
pub struct Sessions {}
