//! The frame of the small, self-contained HTML pages that stand in for the vendors'
//! end-user pages: no scripts, no external assets, every dynamic value escaped.

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;

/// A whole page: `title` is text, `body` is HTML the caller has escaped.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let title = escape(title);
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main><p class=\"tag\">idv-gateway sandbox &middot; simulated vendor</p>\
         <h1>{title}</h1>{body}</main></body></html>\n"
    );
    (status, Html(html)).into_response()
}

/// A page that only says something: `message` is text.
pub(crate) fn notice(status: StatusCode, title: &str, message: &str) -> Response {
    page(status, title, &format!("<p>{}</p>", escape(message)))
}

/// A form that POSTs to `action` with one submit button; `fields` is HTML.
pub(crate) fn form(action: &str, fields: &str, button: &str, class: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\">{fields}<button type=\"submit\" class=\"{}\">{}</button></form>",
        escape(action),
        escape(class),
        escape(button)
    )
}

/// Escapes text for HTML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}\
main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:12px;\
box-shadow:0 2px 12px rgba(0,0,0,.08)}h1{font-size:1.4rem;margin-top:.2rem}\
.tag{color:#6b7280;font-size:.8rem;text-transform:uppercase;letter-spacing:.05em}\
form{margin:1rem 0}button{font-size:1rem;padding:.6rem 1.4rem;border:0;border-radius:8px;\
cursor:pointer;color:#fff}.ok{background:#15803d}.bad{background:#b91c1c}\
select{font-size:1rem;padding:.4rem;margin-right:.6rem}code{background:#eef;padding:0 .3rem}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dt{color:#6b7280}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        let f = form("/x?a=1&b=\"2\"", "", "Go", "ok");
        assert!(f.contains("action=\"/x?a=1&amp;b=&quot;2&quot;\""), "{f}");
    }
}
