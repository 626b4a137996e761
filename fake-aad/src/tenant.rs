//! The `{tenant}` path segment every Entra endpoint starts with, read as Entra reads it.

use crate::error::AadError;

/// The tenant segment of a `/{tenant}/...` path, as Entra reads it: percent-decoded, and a
/// GUID, a domain name, `common` or `organizations`; anything else (a name without a dot,
/// bytes that are not UTF-8) is AADSTS900023 in Entra's error body rather than a bare 400.
#[derive(Debug)]
pub struct TenantSegment(pub String);

impl TenantSegment {
    fn parse(raw: &str) -> Result<Self, AadError> {
        let bytes: Vec<u8> = percent_decode(raw);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let valid = std::str::from_utf8(&bytes).is_ok()
            && (uuid::Uuid::parse_str(&text).is_ok()
                || ["common", "organizations"]
                    .iter()
                    .any(|w| text.eq_ignore_ascii_case(w))
                || (text.contains('.')
                    && text.split('.').all(|label| {
                        !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
                    })));
        if valid {
            Ok(Self(text))
        } else {
            Err(AadError::InvalidTenantIdentifier { tenant: text })
        }
    }
}

/// `%XX` escapes decoded; anything malformed kept as written.
fn percent_decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(u8::try_from(hi * 16 + lo).expect("two hex digits"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for TenantSegment {
    type Rejection = AadError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let raw = parts
            .uri
            .path()
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        Self::parse(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::TenantSegment;

    #[test]
    fn tenant_segments_are_guids_domains_or_the_two_aliases() {
        for ok in [
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "contoso.onmicrosoft.com",
            "Common",
            "organizations",
        ] {
            assert!(TenantSegment::parse(ok).is_ok(), "{ok}");
        }
        // The first three from Microsoft's captures (AADSTS900023 for 'authorize', 'token',
        // 'undefined'); the last found by fuzzing: bytes that are not UTF-8.
        for bad in [
            "authorize",
            "token",
            "undefined",
            "a..b",
            "72f988bf-86f1-41af%91ab-2d7c",
        ] {
            assert!(TenantSegment::parse(bad).is_err(), "{bad}");
        }
    }
}
