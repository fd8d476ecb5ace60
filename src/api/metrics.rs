//! `GET /metrics`: Prometheus text exposition of every account's Telegram metrics and
//! connection state and outbox, each sample labelled with its `account`, plus requests per
//! key name.

use std::fmt::Write;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut parts: Vec<(String, String)> = state
        .accounts
        .all()
        .map(|account| {
            let mut text = account.metrics().render(account.health().state);
            // Which accounts this replica drives (always all of them without replicas).
            let held = state
                .cluster
                .as_ref()
                .is_none_or(|c| c.holds(account.name()));
            text.push_str(&format!(
                "# HELP mtgate_lease_held Whether this replica holds the account's lease (drives its connection).\n\
                 # TYPE mtgate_lease_held gauge\nmtgate_lease_held {}\n",
                u8::from(held)
            ));
            (account.name().to_owned(), text)
        })
        .collect();
    for (account, text) in &mut parts {
        if let Some(outbox) = state.outboxes.get(account) {
            match outbox.render_metrics().await {
                Ok(more) => text.push_str(&more),
                Err(e) => tracing::error!(error = %e, "could not read the outbox's queue depth"),
            }
        }
    }
    let mut body = merge_by_account(&parts);
    body.push_str(&state.key_metrics.render());
    body.push_str(&state.edge.render());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

/// One metric family: its `# HELP` / `# TYPE` lines and, per account, its samples.
struct Family {
    header: Vec<String>,
    samples: Vec<String>,
}

/// Joins each account's exposition into one, every family's header written once (Prometheus
/// refuses a repeated `# TYPE`) and every sample given an `account="…"` label. Account names
/// are `[a-z0-9_-]`, so they need no escaping.
pub fn merge_by_account(parts: &[(String, String)]) -> String {
    let mut families: Vec<(String, Family)> = Vec::new();
    for (account, text) in parts {
        let mut current: Option<usize> = None;
        for line in text.lines() {
            if let Some(rest) = line
                .strip_prefix("# HELP ")
                .or_else(|| line.strip_prefix("# TYPE "))
            {
                let name = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let index = match families.iter().position(|(n, _)| *n == name) {
                    Some(index) => index,
                    None => {
                        families.push((
                            name,
                            Family {
                                header: Vec::new(),
                                samples: Vec::new(),
                            },
                        ));
                        families.len() - 1
                    }
                };
                let family = &mut families[index].1;
                if !family.header.iter().any(|h| h == line) && family.samples.is_empty() {
                    family.header.push(line.to_owned());
                }
                current = Some(index);
            } else if !line.trim().is_empty() && !line.starts_with('#') {
                let sample = labelled(line, account);
                match current {
                    Some(index) => families[index].1.samples.push(sample),
                    None => families.push((
                        String::new(),
                        Family {
                            header: Vec::new(),
                            samples: vec![sample],
                        },
                    )),
                }
            }
        }
    }
    let mut out = String::new();
    for (_, family) in families {
        for line in family.header.iter().chain(&family.samples) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// `name{a="b"} 1` → `name{account="x",a="b"} 1`; `name 1` → `name{account="x"} 1`.
fn labelled(sample: &str, account: &str) -> String {
    let name_end = sample.find(['{', ' ']).unwrap_or(sample.len());
    let (name, rest) = sample.split_at(name_end);
    match rest.strip_prefix('{') {
        Some(labels) if labels.starts_with('}') => format!("{name}{{account=\"{account}\"{labels}"),
        Some(labels) => format!("{name}{{account=\"{account}\",{labels}"),
        None => format!("{name}{{account=\"{account}\"}}{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_get_an_account_label_in_every_form() {
        assert_eq!(labelled("up 1", "a"), "up{account=\"a\"} 1");
        assert_eq!(
            labelled("calls{method=\"x\"} 2", "a"),
            "calls{account=\"a\",method=\"x\"} 2"
        );
        assert_eq!(labelled("calls{} 2", "a"), "calls{account=\"a\"} 2");
    }

    #[test]
    fn each_family_header_appears_once_with_every_accounts_samples() {
        let text = |n: u32| {
            format!(
                "# HELP up Whether connected.\n# TYPE up gauge\nup {n}\n\
                 # HELP calls Calls.\n# TYPE calls counter\ncalls{{method=\"m\"}} {n}\n"
            )
        };
        let merged = merge_by_account(&[("default".into(), text(1)), ("alice".into(), text(0))]);
        assert_eq!(
            merged,
            "# HELP up Whether connected.\n# TYPE up gauge\nup{account=\"default\"} 1\n\
             up{account=\"alice\"} 0\n# HELP calls Calls.\n# TYPE calls counter\n\
             calls{account=\"default\",method=\"m\"} 1\ncalls{account=\"alice\",method=\"m\"} 0\n"
        );
    }
}
