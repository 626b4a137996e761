//! Paging of list operations: `maxresults` (1..=25, default 25) and an absolute `nextLink`
//! carrying `$skiptoken`.
//!
//! Link shape from Azure/azure-rest-api-specs `Microsoft.KeyVault/stable/7.5/examples/GetSecrets-example.json`:
//! `https://myvault.vault.azure.net:443/secrets?api-version=7.2&$skiptoken=<base64 of
//! {"NextMarker":…,"TargetLocation":0}>&maxresults=1` — explicit `:443`, `maxresults` echoed
//! when the client sent it. Clients follow the link verbatim.

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::error::AkvError;
use crate::wire::ListResult;

/// Key Vault's largest (and default) page.
pub const MAX_PAGE: usize = 25;

/// The paging parameters of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// `maxresults` as sent.
    pub max_results: Option<usize>,
    /// The marker decoded from `$skiptoken`: items sort after it.
    pub marker: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct SkipToken {
    #[serde(rename = "NextMarker")]
    next_marker: String,
    #[serde(rename = "TargetLocation")]
    target_location: u32,
}

impl PageRequest {
    /// Reads `maxresults` and `$skiptoken` from the query parameters.
    pub fn from_query(
        max_results: Option<&str>,
        skip_token: Option<&str>,
    ) -> Result<Self, AkvError> {
        let max_results = match max_results {
            None => None,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => Some(n),
                // Unrecorded wording; the swagger declares minimum 1, maximum 25.
                _ => {
                    return Err(AkvError::BadParameter(format!(
                        "The value '{raw}' of parameter 'maxresults' is not valid. It must be an integer between 1 and {MAX_PAGE}."
                    )));
                }
            },
        };
        let marker = match skip_token {
            None => None,
            Some(token) => {
                let decoded = STANDARD
                    .decode(token)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<SkipToken>(&bytes).ok())
                    .ok_or_else(|| {
                        AkvError::BadParameter("The skip token is not valid.".to_owned())
                    })?;
                Some(decoded.next_marker)
            }
        };
        Ok(Self {
            max_results,
            marker,
        })
    }

    /// The largest page the request allows.
    #[must_use]
    pub fn size(&self) -> usize {
        self.max_results.unwrap_or(MAX_PAGE)
    }

    /// The key the previous page ended at.
    #[must_use]
    pub fn marker(&self) -> Option<&str> {
        self.marker.as_deref()
    }

    /// One page of `items` (sorted by their key), with the link to the next page built from
    /// `link_base` (`https://host:port/path?api-version=…`).
    #[must_use]
    pub fn page<T>(&self, items: Vec<(String, T)>, link_base: &str) -> ListResult<T> {
        let mut rest = items
            .into_iter()
            .filter(|(key, _)| self.marker.as_ref().is_none_or(|m| key > m))
            .peekable();
        let value: Vec<(String, T)> = rest.by_ref().take(self.size()).collect();
        let more = rest.peek().is_some();
        self.cut_page(value, more, link_base)
    }

    /// A page the caller already cut after the marker (`more`: items follow it), with its
    /// `nextLink`.
    #[must_use]
    pub fn cut_page<T>(
        &self,
        value: Vec<(String, T)>,
        more: bool,
        link_base: &str,
    ) -> ListResult<T> {
        let last = value.last().map(|(key, _)| key.clone());
        let next_link = match (more, last) {
            (true, Some(marker)) => {
                let token = SkipToken {
                    next_marker: marker,
                    target_location: 0,
                };
                let token = STANDARD.encode(serde_json::to_vec(&token).expect("token serialises"));
                let mut link = format!("{link_base}&$skiptoken={}", encode_component(&token));
                if let Some(n) = self.max_results {
                    let _ = write!(link, "&maxresults={n}");
                }
                Some(link)
            }
            _ => None,
        };
        ListResult {
            value: value.into_iter().map(|(_, item)| item).collect(),
            next_link,
        }
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass through).
#[must_use]
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<(String, usize)> {
        (0..n).map(|i| (format!("{i:03}"), i)).collect()
    }

    #[test]
    fn pages_chain_through_skip_tokens() {
        let base = "https://kv.vault.azure.net:443/secrets?api-version=7.6";
        let first = PageRequest::from_query(Some("2"), None).unwrap();
        let page = first.page(items(5), base);
        assert_eq!(page.value, vec![0, 1]);
        let link = page.next_link.unwrap();
        assert!(
            link.starts_with("https://kv.vault.azure.net:443/secrets?api-version=7.6&$skiptoken=")
        );
        assert!(link.ends_with("&maxresults=2"));
        let token = link
            .split("$skiptoken=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .replace("%3D", "=")
            .replace("%2B", "+")
            .replace("%2F", "/");
        let second = PageRequest::from_query(Some("2"), Some(&token)).unwrap();
        assert_eq!(second.page(items(5), base).value, vec![2, 3]);
    }

    #[test]
    fn last_page_has_no_link_and_default_size_is_25() {
        let page = PageRequest::default().page(items(25), "x");
        assert_eq!(page.value.len(), 25);
        assert!(page.next_link.is_none());
        assert!(
            PageRequest::default()
                .page(items(26), "x")
                .next_link
                .is_some()
        );
    }

    #[test]
    fn maxresults_outside_1_to_25_is_refused() {
        assert!(PageRequest::from_query(Some("0"), None).is_err());
        assert!(PageRequest::from_query(Some("26"), None).is_err());
        assert!(PageRequest::from_query(Some("x"), None).is_err());
        assert!(PageRequest::from_query(None, Some("garbage!")).is_err());
    }
}
