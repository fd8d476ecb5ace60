//! Which URLs a webhook may point at, one rule for the API and `MTGATE_WEBHOOKS_FILE`:
//! `http://` or `https://` with a host (HTTPS trusts the roots of [`crate::outgoing`]).

/// The URL normalised, or why it cannot be a webhook's.
pub fn check_url(raw: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(raw.trim()).map_err(|e| format!("is not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url.to_string()),
        _ => Err("must be an http:// or https:// URL with a host".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_urls_with_a_host_are_accepted() {
        assert_eq!(check_url(" http://h:8080/x ").unwrap(), "http://h:8080/x");
        assert_eq!(
            check_url("https://crm.example/hook").unwrap(),
            "https://crm.example/hook"
        );
        for bad in [
            "ftp://h/x",
            "file:///etc/passwd",
            "https://",
            "mailto:a@b",
            "not a url",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
