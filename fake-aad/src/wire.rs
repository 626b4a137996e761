//! Wire shapes: token requests and responses (v1, v2, managed identity) and discovery documents.

use axum::http::{HeaderMap, HeaderValue, header};
use serde::{Deserialize, Serialize};

/// The form posted to either token endpoint. Unknown fields (telemetry such as `x-client-SKU`,
/// `client_info`, `claims`) are accepted and ignored, as Entra does.
#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    /// `client_credentials` is the only grant this fake serves.
    pub grant_type: Option<String>,
    /// Application (client) id.
    pub client_id: Option<String>,
    /// Client secret (`client_secret_post`).
    pub client_secret: Option<String>,
    /// Must be `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` with an assertion.
    pub client_assertion_type: Option<String>,
    /// A signed JWT: certificate credential or federated token.
    pub client_assertion: Option<String>,
    /// v1 endpoint: the resource URI.
    pub resource: Option<String>,
    /// v2 endpoint: space-separated scopes.
    pub scope: Option<String>,
    /// CAE client capabilities (`{"access_token":{"xms_cc":{"values":["cp1"]}}}`).
    pub claims: Option<String>,
}

/// v1 (`/oauth2/token`) success body. Every number is a string, as in Microsoft's v1
/// client-credentials doc and Partner Center samples (`azure-wire-facts.md` §4.1); adal reads
/// `expires_on` to schedule refreshes.
#[derive(Debug, Serialize)]
pub struct TokenResponseV1 {
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: String,
    /// Extended lifetime in seconds.
    pub ext_expires_in: String,
    /// Expiry, Unix seconds.
    pub expires_on: String,
    /// Start of validity, Unix seconds.
    pub not_before: String,
    /// The resource as requested.
    pub resource: String,
    /// The JWT.
    pub access_token: String,
}

/// v2 (`/oauth2/v2.0/token`) success body: numbers as JSON numbers and no `scope`, matching the
/// recorded response in azure-sdk-for-js (`{"token_type","expires_in","ext_expires_in",
/// "access_token"}`). Omitting `scope` makes MSAL assume every requested scope was granted.
#[derive(Debug, Serialize)]
pub struct TokenResponseV2 {
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: i64,
    /// Extended lifetime in seconds.
    pub ext_expires_in: i64,
    /// The JWT.
    pub access_token: String,
}

/// IMDS (`/metadata/identity/oauth2/token`) success body: strings throughout, `client_id`
/// included. Source: MicrosoftDocs `how-to-use-vm-token.md`, "Sample response".
#[derive(Debug, Serialize)]
pub struct ManagedIdentityToken {
    /// The JWT.
    pub access_token: String,
    /// The managed identity's client id.
    pub client_id: String,
    /// Lifetime in seconds.
    pub expires_in: String,
    /// Expiry, Unix seconds.
    pub expires_on: String,
    /// Extended lifetime in seconds.
    pub ext_expires_in: String,
    /// Start of validity, Unix seconds.
    pub not_before: String,
    /// The resource as requested.
    pub resource: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
}

/// The IMDS error body (`{"error","error_description"}`), as in `how-to-use-vm-token.md`'s
/// error table.
#[derive(Debug, Serialize)]
pub struct ManagedIdentityError {
    /// Short code.
    pub error: &'static str,
    /// Human text.
    pub error_description: String,
}

/// Instance discovery (`/common/discovery/instance`) response.
#[derive(Debug, Serialize)]
pub struct InstanceDiscovery {
    /// Where the tenant's v2 OpenID configuration lives.
    pub tenant_discovery_endpoint: String,
    /// Echoes the protocol version.
    #[serde(rename = "api-version")]
    pub api_version: &'static str,
    /// Cloud aliases.
    pub metadata: Vec<CloudAliases>,
}

/// One cloud's host aliases in instance discovery.
#[derive(Debug, Serialize)]
pub struct CloudAliases {
    /// The host clients should use.
    pub preferred_network: String,
    /// The host tokens are cached under.
    pub preferred_cache: String,
    /// Every host name of that cloud.
    pub aliases: Vec<String>,
}

/// Token-endpoint headers Entra sends on every answer: `Cache-Control: no-store, no-cache`,
/// `Pragma: no-cache`, `Expires: -1` (`azure-wire-facts.md` §4.1).
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::EXPIRES, HeaderValue::from_static("-1"));
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "x-ms-ests-server",
        HeaderValue::from_static("2.1.0 - fake-aad"),
    );
}
