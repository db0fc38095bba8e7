//! The page shell every page shares (head, skip link, navigation, footer),
//! the error page, and the pieces pages are built of: charts with their
//! figures beside them, reason lists, tables that scroll on a phone.

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use serde::Serialize;

use crate::auth::Principal;
use crate::problem::Problem;
use crate::web::assets;

/// Scripts and styles come from this server only; charts are configured by
/// JSON in `data-` attributes, never by inline script.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A whole page, as an HTML response.
pub struct Html {
    status: StatusCode,
    markup: Markup,
}

impl IntoResponse for Html {
    fn into_response(self) -> Response {
        let mut res = (self.status, self.markup.into_string()).into_response();
        let h = res.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        // Pages show personal data: never keep them in a shared cache.
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
        res
    }
}

fn nav(who: &Principal) -> Markup {
    html! {
        nav aria-label="Main" {
            a.brand href="/" { "custody" }
            ul {
                @match who {
                    Principal::Subject(_) => {
                        li { a href="/me" { "My data" } }
                    }
                    Principal::Key(k) => {
                        @if let Some(org) = &k.org {
                            li { a href={ "/orgs/" (org) } { "My organisation" } }
                        }
                        li { a href="/orgs" { "Organisations" } }
                    }
                    Principal::Anonymous => {}
                }
                li { a href="/log" { "Log" } }
                @if !matches!(who, Principal::Anonymous) {
                    li {
                        form.inline method="post" action="/session/end" {
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
            }
        }
    }
}

/// A page in the shell, 200 OK.
pub fn page(title: &str, who: &Principal, body: Markup) -> Html {
    shell(title, who, body, false)
}

/// A page laid out for printing (the audit report): no navigation.
pub fn document(title: &str, body: Markup) -> Html {
    shell(title, &Principal::Anonymous, body, true)
}

fn shell(title: &str, who: &Principal, body: Markup, document: bool) -> Html {
    let markup = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · custody" }
                link rel="stylesheet" href=(assets::url("custody.css"));
                script src=(assets::url("chart.umd.min.js")) defer {}
                script src=(assets::url("cytoscape.min.js")) defer {}
                script src=(assets::url("custody.js")) defer {}
            }
            body.document[document] {
                @if !document {
                    a.skip href="#main" { "Skip to content" }
                    header.site { (nav(who)) }
                }
                main #main tabindex="-1" { (body) }
                @if !document {
                    footer {
                        p {
                            "custody: a chain of custody for personal data. Every decision shown here is in a "
                            a href="/log" { "tamper-evident log" } "."
                        }
                    }
                }
            }
        }
    };
    Html {
        status: StatusCode::OK,
        markup,
    }
}

/// An error, as a page.
pub struct PageError {
    status: StatusCode,
    title: String,
    detail: String,
    /// Boxed: an error travels in every page's `Result`, and is rare.
    who: Box<Principal>,
    retry_after: Option<u64>,
}

impl PageError {
    pub fn new(status: StatusCode, title: &str, detail: &str) -> PageError {
        PageError {
            status,
            title: title.into(),
            detail: detail.into(),
            who: Box::new(Principal::Anonymous),
            retry_after: None,
        }
    }

    pub fn too_many(wait: u64) -> PageError {
        PageError {
            retry_after: Some(wait),
            ..PageError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many tries",
                "Too many codes or keys from this address were wrong. Wait a little and try again.",
            )
        }
    }

    pub fn with(mut self, who: Principal) -> PageError {
        self.who = Box::new(who);
        self
    }
}

impl From<Problem> for PageError {
    fn from(p: Problem) -> PageError {
        PageError::new(p.status(), &p.title, p.detail.as_deref().unwrap_or(""))
    }
}

impl From<custody_engine::Error> for PageError {
    fn from(e: custody_engine::Error) -> PageError {
        Problem::from(e).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = html! {
            h1 { (self.title) }
            p { (self.detail) }
            p { a href="/" { "Back to the start" } }
        };
        let mut page = page(&self.title, &self.who, body);
        page.status = self.status;
        let mut res = page.into_response();
        if let Some(wait) = self.retry_after {
            res.headers_mut()
                .insert("retry-after", HeaderValue::from(wait));
        }
        res
    }
}

/// What `custody.js` draws: a Chart.js bar or line chart.
#[derive(Debug, Serialize)]
pub struct Chart {
    /// bar, line
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What the labels are ("Reason", "Month"): the head of the table's
    /// first column.
    #[serde(skip)]
    pub axis: &'static str,
    pub labels: Vec<String>,
    pub datasets: Vec<Series>,
    pub stacked: bool,
    /// Bars run left to right (long reason names read better).
    pub horizontal: bool,
}

#[derive(Debug, Serialize)]
pub struct Series {
    pub label: String,
    pub data: Vec<u64>,
}

/// A chart and, beside it, the same figures as a table (for screen
/// readers, for print, and for anyone who would rather read).
pub fn chart(id: &str, title: &str, chart: &Chart) -> Markup {
    let spec = serde_json::to_string(chart).expect("charts serialise");
    html! {
        figure.chart aria-labelledby={ (id) "-title" } {
            figcaption #{ (id) "-title" } { (title) }
            div.canvas { canvas #(id) data-chart=(spec) role="img" aria-label=(title) {} }
            details {
                summary { "The figures" }
                (scroll(html! {
                    table {
                        thead { tr {
                            th scope="col" { (chart.axis) }
                            @for s in &chart.datasets { th scope="col" .num { (s.label) } }
                        } }
                        tbody {
                            @for (i, label) in chart.labels.iter().enumerate() {
                                tr {
                                    th scope="row" { (label) }
                                    @for s in &chart.datasets {
                                        td.num { (num(s.data.get(i).copied().unwrap_or(0))) }
                                    }
                                }
                            }
                        }
                    }
                }, title))
            }
        }
    }
}

/// A wide table in a region that scrolls sideways on a narrow screen, and
/// can be scrolled with the keyboard.
pub fn scroll(table: Markup, label: &str) -> Markup {
    html! {
        div.scroll role="region" tabindex="0" aria-label=(label) { (table) }
    }
}

pub use custody_core::figure::grouped as num;

/// A reason: its plain words, and the provisions it rests on.
pub fn reason(message: &str, provisions: &[&str]) -> Markup {
    html! {
        (message)
        " "
        span.provisions { "(" (provisions.join("; ")) ")" }
    }
}

pub use custody_core::figure::counted as count;

/// A reason told to the person, with the law behind it one click away.
pub fn reason_to_you(message: &str, provisions: &[&str]) -> Markup {
    html! {
        (message)
        " "
        details.provisions {
            summary { "The law behind this" }
            (provisions.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_carries_its_figures_as_a_table() {
        let c = Chart {
            kind: "bar",
            axis: "Reason",
            labels: vec!["no-consent".into()],
            datasets: vec![Series {
                label: "records".into(),
                data: vec![1_065_220],
            }],
            stacked: false,
            horizontal: true,
        };
        let html = chart("c", "Refusals <by> reason", &c).into_string();
        assert!(html.contains("1,065,220"));
        assert!(
            html.contains("Refusals &lt;by&gt; reason"),
            "titles are escaped"
        );
        assert!(html.contains("data-chart=\"{&quot;type&quot;:&quot;bar&quot;"));
    }
}
