//! Retries: exponential backoff with jitter, `Retry-After`, and the rule of
//! what may be retried at all.
//!
//! Only requests that are safe to repeat are retried: idempotent methods that
//! the service profile does not mark as state-changing, or any request when
//! the caller forces it. A retry re-sends the same [`Request`], so files are
//! opened again by the transport.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::HttpSettings;
use crate::error::{Error, Result};
use crate::wire::{Delivery, Request, Response, Transport};

/// Statuses that say "try again later".
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Whether an error is worth another attempt (the request may not have
/// reached the server, or the server did not answer in time).
pub fn retryable_error(e: &Error) -> bool {
    matches!(e, Error::Transport { .. } | Error::Timeout { .. })
}

/// The backoff before retry number `attempt` (0-based): `backoff * 2^attempt`
/// capped at `max_backoff`, with "equal jitter" (half fixed, half random) so
/// that clients that failed together do not retry together.
pub fn backoff(settings: &HttpSettings, attempt: u32) -> Duration {
    let base = settings.backoff.saturating_mul(2u32.saturating_pow(attempt.min(20))).min(settings.max_backoff);
    let half = base / 2;
    half + half.mul_f64(fastrand::f64())
}

/// The wait a `Retry-After` value asks for: delta seconds or an HTTP date.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = parse_http_date(value)?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form
/// RFC 9110 requires senders to use.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let rest = s.split_once(", ")?.1;
    let mut it = rest.split(' ');
    let day: u32 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + sec;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The wait before the next attempt after `response`.
fn wait_after(settings: &HttpSettings, response: &Response, attempt: u32) -> Duration {
    if matches!(response.status, 429 | 503)
        && let Some(wait) = response.header("retry-after").and_then(|v| retry_after(v, SystemTime::now()))
    {
        return wait.min(settings.max_backoff);
    }
    backoff(settings, attempt)
}

tokio::task_local! {
    /// The tries of the call running on this task, counted for its timeout
    /// error (see [`counted`]).
    static TRIES: std::sync::Arc<std::sync::atomic::AtomicU32>;
}

/// Runs `call` counting the tries [`send`] makes in it into `tries`, which
/// outlives `call` when a deadline drops it.
pub async fn counted<F: std::future::Future>(
    tries: std::sync::Arc<std::sync::atomic::AtomicU32>,
    call: F,
) -> F::Output {
    TRIES.scope(tries, call).await
}

fn count_try() {
    let _ = TRIES.try_with(|t| t.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
}

/// Sends `request` once, with the `request` and `response` events that `-v`
/// shows (credentials redacted); auth exchanges (logins, token requests)
/// use it too, so they show as the calls do.
pub async fn send_once(transport: &dyn Transport, request: &Request, delivery: Delivery) -> Result<Response> {
    tracing::debug!(target: "opdeck::wire", operation = &*request.operation, method = request.method.as_str(),
        url = %RequestUrl(request), headers = %RequestHeaders(request), "request");
    let result = transport.send(request, delivery).await;
    if let Ok(resp) = &result {
        tracing::debug!(target: "opdeck::wire", operation = &*request.operation, status = resp.status,
            headers = %ResponseHeaders(&resp.headers), "response");
    }
    result
}

/// Sends `request`, retrying up to `settings.retries` times when `may_retry`.
pub async fn send(
    transport: &dyn Transport,
    request: &Request,
    delivery: Delivery,
    settings: &HttpSettings,
    may_retry: bool,
) -> Result<Response> {
    let retries = if may_retry { settings.retries } else { 0 };
    let mut attempt = 0;
    loop {
        count_try();
        let result = send_once(transport, request, delivery).await;
        let wait = match &result {
            Ok(resp) if attempt < retries && retryable_status(resp.status) => wait_after(settings, resp, attempt),
            Err(e) if attempt < retries && retryable_error(e) => backoff(settings, attempt),
            _ => return result,
        };
        drop(result);
        // Boxed: a timer is large, and only a retry needs one.
        Box::pin(tokio::time::sleep(wait)).await;
        attempt += 1;
    }
}

/// What `-v` shows of a request and a response, formatted only when a
/// subscriber records it (an unwatched call builds no string): the URL
/// redacted, headers one `Name: value` a line with credentials as
/// `<redacted>` ([`Pair::shown`](crate::wire::Pair::shown)).
struct RequestUrl<'a>(&'a Request);

impl std::fmt::Display for RequestUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.redacted_url())
    }
}

/// The request's headers, the body's content type included.
struct RequestHeaders<'a>(&'a Request);

impl std::fmt::Display for RequestHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let request = self.0;
        for pair in &request.headers {
            writeln!(f, "{}: {}", pair.name, pair.shown())?;
        }
        match request.body.content_type().filter(|_| request.header("content-type").is_none()) {
            Some(ct) => writeln!(f, "Content-Type: {ct}"),
            None => Ok(()),
        }
    }
}

/// A response's headers; `Set-Cookie` and other credential-named headers
/// as `<redacted>`.
struct ResponseHeaders<'a>(&'a http::HeaderMap);

impl std::fmt::Display for ResponseHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, value) in self.0 {
            let shown = if crate::wire::redact::is_secret_header(name.as_str(), false) {
                crate::wire::REDACTED
            } else {
                value.to_str().unwrap_or("<binary>")
            };
            writeln!(f, "{name}: {shown}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_to_the_right_instant() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("date");
        assert_eq!(t.duration_since(UNIX_EPOCH).expect("after epoch").as_secs(), 784_111_777);
        assert!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").is_none());
        assert!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").is_none());
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + Duration::from_secs(60)), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let settings = HttpSettings {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            ..HttpSettings::default()
        };
        for _ in 0..50 {
            let b0 = backoff(&settings, 0);
            assert!(b0 >= Duration::from_millis(50) && b0 <= Duration::from_millis(100), "{b0:?}");
            let b1 = backoff(&settings, 1);
            assert!(b1 >= Duration::from_millis(100) && b1 <= Duration::from_millis(200), "{b1:?}");
            let b5 = backoff(&settings, 5);
            assert!(b5 >= Duration::from_millis(150) && b5 <= Duration::from_millis(300), "{b5:?}");
        }
    }
}
