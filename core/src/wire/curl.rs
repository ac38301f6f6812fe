//! A request as a copy-pasteable curl command, for `--dry-run`.
//!
//! The rendering starts from the same [`Request`] the transport sends, so
//! what is shown is what would go out, except that every sensitive header or
//! query value is replaced by [`REDACTED`](crate::wire::REDACTED).

use crate::wire::{PartData, Payload, Request};

/// Quotes `s` for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The curl command that sends `request`, secrets redacted.
pub fn render(request: &Request) -> String {
    let mut out = vec!["curl".to_owned()];
    if request.method != crate::model::Method::Get {
        out.push(format!("-X {}", request.method));
    }
    out.push(quote(&request.redacted_url()));
    for h in &request.headers {
        out.push(format!("-H {}", quote(&format!("{}: {}", h.name, h.shown()))));
    }
    match &request.body {
        Payload::Empty => {}
        Payload::Bytes { content_type, data } => {
            out.push(format!("-H {}", quote(&format!("Content-Type: {content_type}"))));
            match std::str::from_utf8(data) {
                Ok(text) => out.push(format!("--data-binary {}", quote(text))),
                Err(_) => out.push(format!("--data-binary @- # {} bytes of binary data", data.len())),
            }
        }
        Payload::File { content_type, path } => {
            out.push(format!("-H {}", quote(&format!("Content-Type: {content_type}"))));
            out.push(format!("--data-binary {}", quote(&format!("@{}", path.display()))));
        }
        Payload::Multipart(parts) => {
            for p in parts {
                let mut spec = match &p.data {
                    PartData::File(path) => format!("{}=@{}", p.name, path.display()),
                    PartData::Bytes(_) if p.filename.is_some() => format!("{}=@-", p.name),
                    PartData::Bytes(b) => format!("{}={}", p.name, String::from_utf8_lossy(b)),
                };
                if let Some(f) = &p.filename {
                    spec.push_str(&format!(";filename={f}"));
                }
                if let Some(ct) = &p.content_type {
                    spec.push_str(&format!(";type={ct}"));
                }
                out.push(format!("-F {}", quote(&spec)));
            }
        }
    }
    out.join(" \\\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Method;
    use crate::wire::Pair;

    #[test]
    fn secrets_are_redacted_and_quotes_escaped() {
        let url = url::Url::parse("https://h.example/api/x").expect("url");
        let mut r = Request::new("s.g.o", Method::Post, url);
        r.push_query("q", "it's");
        r.set_secret_query("access_token", "SECRET1");
        r.headers.push(Pair::secret("Authorization", "Bearer SECRET2"));
        r.headers.push(Pair::plain("X-Trace", "abc"));
        r.body = Payload::Bytes { content_type: "application/json".into(), data: bytes::Bytes::from(r#"{"a":"b'c"}"#) };
        let cmd = render(&r);
        assert!(!cmd.contains("SECRET"), "{cmd}");
        assert_eq!(
            cmd,
            "curl \\\n  -X POST \\\n  'https://h.example/api/x?q=it%27s&access_token=<redacted>' \\\n  \
             -H 'Authorization: <redacted>' \\\n  -H 'X-Trace: abc' \\\n  -H 'Content-Type: application/json' \\\n  \
             --data-binary '{\"a\":\"b'\\''c\"}'"
        );
    }
}
