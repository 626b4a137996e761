//! Entra's errors: one variant per AADSTS code, and the single place that turns them into
//! Entra's OAuth error body.
//!
//! Body shape (`error`, `error_description` starting `AADSTSnnnn:` and ending with the trace,
//! correlation and timestamp, `error_codes`, `timestamp`, `trace_id`, `correlation_id`,
//! `error_uri`): MicrosoftDocs/entra-docs `docs/identity-platform/reference-error-codes.md`,
//! and the captures quoted per variant below. Newer responses separate the trailer with spaces
//! rather than `\r\n` (Azure/azure-sdk-for-go#22386, 2024), which is what this fake sends.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use uuid::Uuid;

tokio::task_local! {
    /// The request's correlation id: the client's `client-request-id` when it sent one, as
    /// Entra echoes it (MSAL logs rely on this), otherwise a fresh GUID.
    pub static CORRELATION_ID: Uuid;
}

/// A token or discovery request Entra would refuse.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AadError {
    /// AADSTS90002 on the token endpoint. Wording: azure-sdk-for-js identity nock recording
    /// (2021), quoted in `azure-wire-facts.md` §4.4.
    #[error(
        "AADSTS90002: Tenant '{tenant}' not found. This may happen if there are no active subscriptions for the tenant. Check to make sure you have the correct tenant ID. Check with your subscription administrator."
    )]
    TenantNotFound {
        /// The tenant segment of the URL.
        tenant: String,
    },
    /// AADSTS900023: the tenant segment is neither a GUID nor a domain name (nor `common` or
    /// `organizations`). Wording and `invalid_request`/400: the full error body quoted in
    /// caddy-dns/azure#3 (2022) and many later captures.
    #[error(
        "AADSTS900023: Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."
    )]
    InvalidTenantIdentifier {
        /// The tenant segment of the URL, decoded (invalid UTF-8 replaced).
        tenant: String,
    },
    /// AADSTS90002 on the OpenID configuration document (`invalid_tenant`). Wording: azidentity
    /// troubleshooting capture, `azure-wire-facts.md` §4.2.
    #[error(
        "AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
    )]
    TenantNotFoundForDiscovery {
        /// The tenant segment of the URL.
        tenant: String,
    },
    /// AADSTS700016. Wording: Microsoft SAP/Pacemaker troubleshooting docs.
    #[error(
        "AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
    )]
    ApplicationNotFound {
        /// `client_id` as sent.
        client_id: String,
        /// Tenant display name.
        tenant: String,
    },
    /// AADSTS7000215. Wording: Azure/azure-sdk-for-go `sdk/azidentity/TROUBLESHOOTING.md` (401).
    #[error(
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
    )]
    InvalidClientSecret {
        /// The app id.
        client_id: Uuid,
    },
    /// AADSTS7000222. Wording: Azure Arc troubleshooting doc (401) and later captures.
    #[error(
        "AADSTS7000222: The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."
    )]
    ExpiredClientSecret {
        /// The app id.
        client_id: Uuid,
    },
    /// AADSTS7000218: neither a secret nor an assertion. Wording and 401: Azure/azure-sdk-for-go#22386.
    #[error(
        "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
    )]
    MissingClientCredential,
    /// AADSTS900144. Wording: `reference-error-codes.md`.
    #[error("AADSTS900144: The request body must contain the following parameter: '{name}'.")]
    MissingParameter {
        /// The parameter name.
        name: &'static str,
    },
    /// AADSTS70003 (`unsupported_grant_type`), `reference-error-codes.md` ("UnsupportedGrantType").
    #[error("AADSTS70003: The app requested an unsupported grant type '{grant_type}'.")]
    UnsupportedGrantType {
        /// The grant type sent.
        grant_type: String,
    },
    /// AADSTS70011. Wording: MicrosoftDocs v2 client-credentials doc sample.
    #[error(
        "AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
    )]
    InvalidScope {
        /// The scope string sent.
        scope: String,
    },
    /// AADSTS1002012: client credentials need `/.default`.
    #[error(
        "AADSTS1002012: The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
    )]
    ScopeWithoutDefault {
        /// The scope string sent.
        scope: String,
    },
    /// AADSTS500011. Wording: `reference-error-codes.md`.
    #[error(
        "AADSTS500011: The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
    )]
    ResourceNotFound {
        /// The resource or scope sent.
        resource: String,
        /// Tenant display name.
        tenant: String,
    },
    /// AADSTS70021. Wording and `invalid_request`/400: Azure/azure-workload-identity
    /// `docs/book/src/troubleshooting.md` (full JSON capture).
    #[error(
        "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{audience}'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation"
    )]
    NoMatchingFederatedCredential {
        /// `iss` of the assertion.
        issuer: String,
        /// `sub` of the assertion.
        subject: String,
        /// `aud` of the assertion.
        audience: String,
    },
    /// AADSTS700024. Wording: AKS troubleshooting capture.
    #[error(
        "AADSTS700024: Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}, expiry time of assertion {exp}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials ."
    )]
    AssertionOutsideValidity {
        /// Current time, ISO 8601 with seven fraction digits.
        now: String,
        /// `nbf` of the assertion.
        nbf: String,
        /// `exp` of the assertion.
        exp: String,
    },
    /// AADSTS700027 for an unregistered certificate. Wording: Microsoft Q&A capture (2025),
    /// "[Reason - The key was not found., Thumbprint of key used by client: '...']".
    #[error(
        "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]"
    )]
    CertificateNotRegistered {
        /// Thumbprint (hex, upper case) from the assertion header.
        thumbprint: String,
        /// The app id.
        client_id: String,
    },
    /// AADSTS700027 for a bad signature or malformed assertion.
    #[error(
        "AADSTS700027: Client assertion failed signature validation. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials ."
    )]
    AssertionSignatureInvalid,
    /// AADSTS700023: assertion `aud` is not this tenant's token endpoint. Wording:
    /// AzureAD/microsoft-authentication-library-for-dotnet#2746 capture.
    #[error(
        "AADSTS700023: Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials ."
    )]
    AssertionAudienceInvalid,
    /// AADSTS700021: assertion `iss`/`sub` is not the `client_id`.
    #[error(
        "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials ."
    )]
    AssertionSubjectMismatch,
    /// AADSTS50027: the assertion is not a JWT.
    #[error("AADSTS50027: JWT token is invalid or malformed.")]
    MalformedAssertion,
    /// AADSTS90061: the external issuer's keys could not be fetched. Wording: azure-workload-identity troubleshooting.
    #[error("AADSTS90061: Request to External OIDC endpoint failed.")]
    ExternalOidcUnreachable,
    /// AADSTS50049 for instance discovery of an unknown authority (`invalid_instance`).
    #[error("AADSTS50049: Unknown or invalid instance.")]
    UnknownInstance,
    /// The fake is told to act as if Entra were down (scenario fault injection).
    #[error("AADSTS90033: A transient error has occurred. Please try again.")]
    TemporarilyUnavailable,
}

impl AadError {
    /// (AADSTS number, OAuth `error`, HTTP status).
    #[must_use]
    pub fn parts(&self) -> (u32, &'static str, StatusCode) {
        use AadError as E;
        use StatusCode as S;
        match self {
            E::TenantNotFound { .. } => (90002, "invalid_request", S::BAD_REQUEST),
            E::InvalidTenantIdentifier { .. } => (900023, "invalid_request", S::BAD_REQUEST),
            E::TenantNotFoundForDiscovery { .. } => (90002, "invalid_tenant", S::BAD_REQUEST),
            E::ApplicationNotFound { .. } => (700016, "unauthorized_client", S::BAD_REQUEST),
            E::InvalidClientSecret { .. } => (7000215, "invalid_client", S::UNAUTHORIZED),
            E::ExpiredClientSecret { .. } => (7000222, "invalid_client", S::UNAUTHORIZED),
            E::MissingClientCredential => (7000218, "invalid_client", S::UNAUTHORIZED),
            E::MissingParameter { .. } => (900144, "invalid_request", S::BAD_REQUEST),
            E::UnsupportedGrantType { .. } => (70003, "unsupported_grant_type", S::BAD_REQUEST),
            E::InvalidScope { .. } => (70011, "invalid_scope", S::BAD_REQUEST),
            E::ScopeWithoutDefault { .. } => (1002012, "invalid_scope", S::BAD_REQUEST),
            E::ResourceNotFound { .. } => (500011, "invalid_resource", S::BAD_REQUEST),
            E::NoMatchingFederatedCredential { .. } => (70021, "invalid_request", S::BAD_REQUEST),
            E::AssertionOutsideValidity { .. } => (700024, "invalid_client", S::BAD_REQUEST),
            E::CertificateNotRegistered { .. } | E::AssertionSignatureInvalid => {
                (700027, "invalid_client", S::UNAUTHORIZED)
            }
            E::AssertionAudienceInvalid => (700023, "invalid_client", S::UNAUTHORIZED),
            E::AssertionSubjectMismatch => (700021, "invalid_client", S::UNAUTHORIZED),
            E::MalformedAssertion => (50027, "invalid_request", S::BAD_REQUEST),
            E::ExternalOidcUnreachable => (90061, "invalid_request", S::BAD_REQUEST),
            E::UnknownInstance => (50049, "invalid_instance", S::BAD_REQUEST),
            E::TemporarilyUnavailable => (90033, "temporarily_unavailable", S::SERVICE_UNAVAILABLE),
        }
    }

    /// The AADSTS number, for audit entries.
    #[must_use]
    pub fn code(&self) -> u32 {
        self.parts().0
    }
}

/// The OAuth error body Entra sends.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    error: &'static str,
    error_description: String,
    error_codes: [u32; 1],
    timestamp: String,
    trace_id: Uuid,
    correlation_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_uri: Option<String>,
}

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let (code, error, status) = self.parts();
        let trace_id = Uuid::new_v4();
        let correlation_id = CORRELATION_ID
            .try_with(|c| *c)
            .unwrap_or_else(|_| Uuid::new_v4());
        let timestamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]Z"
            ))
            .expect("timestamp formats");
        let body = ErrorBody {
            error,
            error_description: format!(
                "{self} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}"
            ),
            error_codes: [code],
            timestamp,
            trace_id,
            correlation_id,
            // AADSTS90061 is the one recorded without a lookup page.
            error_uri: (code != 90061)
                .then(|| format!("https://login.microsoftonline.com/error?code={code}")),
        };
        let mut response = (status, Json(body)).into_response();
        crate::wire::no_store(response.headers_mut());
        response
    }
}
