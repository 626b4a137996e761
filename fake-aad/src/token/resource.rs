//! Which resource a request is for: `resource=` on v1, `scope=.../.default` on v2.

use fake_kit::Cloud;

use crate::directory::Tenant;
use crate::error::AadError;

/// App ID URIs of Microsoft resources the fake issues tokens for, besides each cloud's Key
/// Vault and ARM ([`Cloud`]). Entra knows them as first-party service principals present in
/// every tenant.
const KNOWN_RESOURCES: &[&str] = &[
    "https://graph.microsoft.com",
    "https://graph.windows.net",
    "https://storage.azure.com",
    "https://database.windows.net",
];

/// Scopes MSAL adds to every request; they name no resource.
const OIDC_SCOPES: &[&str] = &["openid", "offline_access", "profile", "email"];

/// The audience for a v1 request: the resource exactly as sent.
pub fn from_resource(resource: Option<&str>, tenant: &Tenant) -> Result<String, AadError> {
    let resource = resource
        .filter(|r| !r.is_empty())
        .ok_or(AadError::MissingParameter { name: "resource" })?;
    check_known(resource, tenant)?;
    Ok(resource.to_owned())
}

/// The audience for a v2 request: the one `<resource>/.default` scope, minus `/.default`.
pub fn from_scope(scope: Option<&str>, tenant: &Tenant) -> Result<String, AadError> {
    let scope = scope
        .filter(|s| !s.trim().is_empty())
        .ok_or(AadError::MissingParameter { name: "scope" })?;
    let resource_scopes: Vec<&str> = scope
        .split_whitespace()
        .filter(|s| !OIDC_SCOPES.contains(&s.to_ascii_lowercase().as_str()))
        .collect();
    let [single] = resource_scopes.as_slice() else {
        return Err(AadError::InvalidScope {
            scope: scope.to_owned(),
        });
    };
    let Some(resource) = single.strip_suffix("/.default") else {
        return Err(AadError::ScopeWithoutDefault {
            scope: scope.to_owned(),
        });
    };
    check_known(resource, tenant)?;
    Ok(resource.to_owned())
}

/// Refuses another cloud's Key Vault or ARM resource on a cloud's login host: each cloud's Entra
/// only has its own cloud's first-party service principals, so a client that asks the wrong
/// cloud fails as it would against Azure (AADSTS500011) instead of passing by accident. A
/// request that came in on no login host (the fake reached directly) is not checked.
pub fn check_cloud(audience: &str, cloud: Option<Cloud>, tenant: &Tenant) -> Result<(), AadError> {
    let normalized = audience.trim_end_matches('/').to_ascii_lowercase();
    let owner = Cloud::ALL.into_iter().find(|c| {
        c.vault_resource() == normalized || c.arm_audiences().contains(&normalized.as_str())
    });
    match (cloud, owner) {
        (Some(cloud), Some(owner)) if cloud != owner => Err(AadError::ResourceNotFound {
            resource: audience.to_owned(),
            tenant: tenant.display_name.clone(),
        }),
        _ => Ok(()),
    }
}

fn check_known(resource: &str, tenant: &Tenant) -> Result<(), AadError> {
    let normalized = resource.trim_end_matches('/').to_ascii_lowercase();
    let known = KNOWN_RESOURCES.contains(&normalized.as_str())
        || Cloud::ALL.iter().any(|cloud| {
            cloud.vault_resource() == normalized
                || cloud.arm_audiences().contains(&normalized.as_str())
        })
        || tenant.apps.iter().any(|app| {
            let id = app.app_id.to_string();
            normalized == id || normalized == format!("api://{id}")
        });
    if known {
        Ok(())
    } else {
        Err(AadError::ResourceNotFound {
            resource: resource.to_owned(),
            tenant: tenant.display_name.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        Tenant {
            id: uuid::Uuid::nil(),
            display_name: "Contoso".into(),
            domains: vec![],
            apps: vec![],
            managed_identities: vec![],
        }
    }

    #[test]
    fn msal_scopes_resolve_to_the_resource() {
        let aud = from_scope(
            Some("https://vault.azure.net/.default openid offline_access profile"),
            &tenant(),
        );
        assert_eq!(aud.unwrap(), "https://vault.azure.net");
        // The Azure CLI asks for ARM with a double slash.
        let aud = from_scope(
            Some("https://management.core.windows.net//.default"),
            &tenant(),
        );
        assert_eq!(aud.unwrap(), "https://management.core.windows.net/");
    }

    #[test]
    fn another_clouds_resource_is_unknown_on_a_clouds_login_host() {
        let t = tenant();
        let gov = Some(Cloud::UsGovernment);
        assert!(check_cloud("https://vault.usgovcloudapi.net/", gov, &t).is_ok());
        assert!(check_cloud("https://graph.microsoft.com", gov, &t).is_ok());
        assert!(check_cloud("https://vault.azure.net", None, &t).is_ok());
        assert_eq!(
            check_cloud("https://vault.azure.net", gov, &t)
                .unwrap_err()
                .code(),
            500011
        );
        assert_eq!(
            check_cloud(
                "https://management.usgovcloudapi.net/",
                Some(Cloud::Public),
                &t
            )
            .unwrap_err()
            .code(),
            500011
        );
    }

    #[test]
    fn scope_errors_carry_their_aadsts_codes() {
        let t = tenant();
        assert_eq!(
            from_scope(Some("openid profile"), &t).unwrap_err().code(),
            70011
        );
        assert_eq!(
            from_scope(Some("https://vault.azure.net/user_impersonation"), &t)
                .unwrap_err()
                .code(),
            1002012
        );
        assert_eq!(
            from_scope(Some("https://nope.example/.default"), &t)
                .unwrap_err()
                .code(),
            500011
        );
        assert_eq!(from_scope(None, &t).unwrap_err().code(), 900144);
        assert_eq!(
            from_resource(Some("https://vault.azure.net/"), &t).unwrap(),
            "https://vault.azure.net/"
        );
    }
}
