//! Reading a request: which host (and so which vault) it is for, its `api-version`, and its
//! JSON body, each failing with a Key Vault error body.

use axum::http::{HeaderMap, Uri, header};
use fake_kit::Cloud;
use serde::de::DeserializeOwned;

use crate::error::AkvError;

/// The host a request was sent to: the URI authority (HTTP/2 `:authority`, absolute-form
/// requests) first, then `Host`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHost {
    /// Host name or IP (IPv6 with brackets), lower-cased.
    pub host: String,
    /// Port, when one was given.
    pub port: Option<u16>,
}

impl RequestHost {
    /// Reads the host of a request; `None` without one.
    #[must_use]
    pub fn from_request(uri: &Uri, headers: &HeaderMap) -> Option<Self> {
        let authority = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })?;
        Self::parse(&authority)
    }

    /// Parses `host[:port]` / `[v6][:port]`.
    #[must_use]
    pub fn parse(authority: &str) -> Option<Self> {
        let authority = authority.rsplit('@').next()?.to_ascii_lowercase();
        let (host, port) = if authority.starts_with('[') {
            let end = authority.find(']')?;
            let port = authority[end + 1..].strip_prefix(':');
            (authority[..=end].to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.clone(), None),
            }
        };
        let port = match port {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        (!host.is_empty()).then_some(Self { host, port })
    }

    /// The first DNS label when the host is a name with more than one label
    /// (`kv1.vault.azure.net`, `kv1.localhost`), which names the vault.
    #[must_use]
    pub fn vault_label(&self) -> Option<&str> {
        if self.host.starts_with('[') || self.host.parse::<std::net::Ipv4Addr>().is_ok() {
            return None;
        }
        let (first, _) = self.host.split_once('.')?;
        Some(first)
    }

    /// Whether the host is a vault's own name (`{vault}.vault.azure.net`, the sovereign clouds'
    /// suffixes of [`Cloud`], or `{vault}.localhost`): such a host never falls back to the
    /// default vault, as a wrong vault name never reaches another vault in Azure.
    #[must_use]
    pub fn names_a_vault(&self) -> bool {
        self.vault_label().is_some()
            && (Cloud::for_vault_host(&self.host).is_some() || self.host.ends_with(".localhost"))
    }

    /// The cloud the request came in on: the one whose vault DNS suffix the host carries, the
    /// global cloud for any other host (`{vault}.localhost`, an IP address).
    #[must_use]
    pub fn cloud(&self) -> Cloud {
        Cloud::for_vault_host(&self.host).unwrap_or(Cloud::Public)
    }

    /// The base of object ids: `https://host` plus the port unless it is 443 (§2.5).
    #[must_use]
    pub fn id_base(&self) -> String {
        match self.port {
            Some(port) if port != 443 => format!("https://{}:{port}", self.host),
            _ => format!("https://{}", self.host),
        }
    }

    /// The base of `nextLink`s: always with an explicit port (`:443`), as recorded.
    #[must_use]
    pub fn link_base(&self) -> String {
        format!("https://{}:{}", self.host, self.port.unwrap_or(443))
    }
}

/// API versions of the secrets service: stable ones from `azure-keyvault-secrets` 4.12.0
/// `ApiVersion` and the new-layout swagger folders, previews from `Secrets/main.tsp` and the
/// .NET recordings (`7.6-preview.1`) (§1.1).
pub const API_VERSIONS: &[&str] = &[
    "2016-10-01",
    "7.0",
    "7.1",
    "7.2",
    "7.3",
    "7.4",
    "7.5",
    "7.6-preview.1",
    "7.6-preview.2",
    "7.6",
    "2025-06-01-preview",
    "2025-07-01",
    "2026-01-01-preview",
    "2026-03-01-preview",
    "2026-04-01",
    "2026-05-01-preview",
    "2026-07-01-preview",
];

/// The newest stable version, named in the error for an unknown one.
pub const LATEST_API_VERSION: &str = "2026-04-01";

/// Checks `api-version`: required ("there is no default", `authentication-requests-and-responses.md`)
/// and one of [`API_VERSIONS`]. The real bodies for these 400s are not recorded; the wording is ours.
pub fn api_version(value: Option<&str>) -> Result<String, AkvError> {
    match value {
        None | Some("") => Err(AkvError::BadParameter(
            "The 'api-version' query parameter is required. Supported versions: 7.0 to 7.6, 2016-10-01, 2025-07-01, 2026-04-01 and previews.".to_owned(),
        )),
        Some(v) if API_VERSIONS.contains(&v) => Ok(v.to_owned()),
        Some(v) => Err(AkvError::BadParameter(format!(
            "The specified version ({v}) is not recognized. Consider using the latest supported version ({LATEST_API_VERSION})."
        ))),
    }
}

/// Parses a JSON body into `T`. An empty body reads as `{}` for optional-only types; a body
/// that is not JSON of the right shape is a 400 `BadParameter` (wording unrecorded).
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, AkvError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| AkvError::BadParameter(format!("The request body is not valid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_with_and_without_ports() {
        let h = RequestHost::parse("KV1.vault.azure.net").unwrap();
        assert_eq!(h.vault_label(), Some("kv1"));
        assert_eq!(h.id_base(), "https://kv1.vault.azure.net");
        assert_eq!(h.link_base(), "https://kv1.vault.azure.net:443");
        let h = RequestHost::parse("kv1.localhost:8443").unwrap();
        assert_eq!(h.id_base(), "https://kv1.localhost:8443");
        assert_eq!(h.vault_label(), Some("kv1"));
        let h = RequestHost::parse("127.0.0.1:9000").unwrap();
        assert_eq!(h.vault_label(), None);
        let h = RequestHost::parse("[::1]:9000").unwrap();
        assert_eq!((h.host.as_str(), h.port), ("[::1]", Some(9000)));
        assert_eq!(h.vault_label(), None);
        assert_eq!(RequestHost::parse("localhost").unwrap().vault_label(), None);
        assert!(
            RequestHost::parse("kv1.vault.azure.net")
                .unwrap()
                .names_a_vault()
        );
        assert!(
            RequestHost::parse("kv1.localhost:1")
                .unwrap()
                .names_a_vault()
        );
        assert!(
            !RequestHost::parse("kv1.example.test")
                .unwrap()
                .names_a_vault()
        );
        assert!(!RequestHost::parse("127.0.0.1").unwrap().names_a_vault());
    }

    #[test]
    fn api_version_is_required_and_checked() {
        assert!(api_version(None).is_err());
        assert!(api_version(Some("")).is_err());
        assert!(api_version(Some("9.9")).is_err());
        assert_eq!(api_version(Some("7.0")).unwrap(), "7.0");
        assert_eq!(api_version(Some("2025-07-01")).unwrap(), "2025-07-01");
    }
}
