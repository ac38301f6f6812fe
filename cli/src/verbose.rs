//! `-v`: the request and response headers of every try, printed on stderr
//! from core's tracing events (`opdeck::wire` "request" and "response",
//! whose headers core has already redacted), so there is one logging path.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Prints the wire events as `> GET url` / `< 200` blocks, curl's way.
struct Headers;

#[derive(Default)]
struct Fields {
    message: String,
    method: String,
    url: String,
    status: String,
    headers: String,
    operation: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            "message" => &mut self.message,
            "method" => &mut self.method,
            "url" => &mut self.url,
            "headers" => &mut self.headers,
            "operation" => &mut self.operation,
            _ => return,
        };
        value.clone_into(slot);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        // Display fields (`%url`) come here as their text.
        self.record_str(field, &text);
    }
}

/// The block `-v` prints for one event, or nothing for other events.
fn render(f: &Fields) -> Option<String> {
    let (mark, first) = match f.message.as_str() {
        "request" => ('>', format!("{} {}", f.method, f.url)),
        "response" => ('<', format!("{} ({})", f.status, f.operation)),
        _ => return None,
    };
    let mut out = format!("{mark} {first}\n");
    for line in f.headers.lines() {
        let _ = writeln!(out, "{mark} {line}");
    }
    out.push_str(&format!("{mark}\n"));
    Some(out)
}

impl<S: Subscriber> Layer<S> for Headers {
    fn enabled(&self, meta: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        meta.target() == "opdeck::wire" && *meta.level() <= Level::DEBUG
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(text) = render(&fields) {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}

/// Turns `-v` on for this process.
pub fn install() {
    let subscriber = tracing_subscriber::registry().with(Headers);
    // Only `main` installs one, once.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_and_a_response_print_as_curl_does() {
        let request = Fields {
            message: "request".into(),
            method: "GET".into(),
            url: "http://h/x".into(),
            headers: "Accept: application/json\nX-Access-Token: <redacted>\n".into(),
            ..Fields::default()
        };
        assert_eq!(
            render(&request).as_deref(),
            Some("> GET http://h/x\n> Accept: application/json\n> X-Access-Token: <redacted>\n>\n")
        );
        let response =
            Fields { message: "response".into(), status: "200".into(), operation: "a.b.c".into(), ..Fields::default() };
        assert_eq!(render(&response).as_deref(), Some("< 200 (a.b.c)\n<\n"));
        assert_eq!(render(&Fields { message: "call".into(), ..Fields::default() }), None);
    }
}
