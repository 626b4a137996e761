//! The Azure clouds the fakes can stand in for, and every host name, audience and issuer that
//! differs between them: one table, read by fake-aad (login hosts, instance discovery, token
//! issuer), fake-akv (vault DNS suffix, challenge, audience), the local CA's leaf and the
//! routing proxy.
//!
//! Sources, cited again beside each value:
//! - Login endpoint, ARM endpoint and audiences, Key Vault DNS suffix: the ARM metadata
//!   embedded in Azure/azure-sdk-for-go `sdk/azcore/cloud/cloud.go` (`armMetadata`:
//!   `loginEndpoint`, `resourceManager`, `authentication.audiences`, `suffixes.keyVaultDns`).
//! - Key Vault resource (token audience): go-autorest `autorest/azure/environments.go`
//!   `ResourceIdentifiers.KeyVault` (= `KeyVaultEndpoint` minus its trailing slash), what
//!   External Secrets Operator's legacy path asks tokens for (v0.20.4
//!   `pkg/provider/azure/keyvault/keyvault.go` `kvResourceForProviderConfig`, trailing slash
//!   trimmed); its Azure SDK path maps `environmentType` to azure-sdk-for-go's
//!   `cloud.AzureGovernment`/`cloud.AzureChina` (`keyvault_new_sdk.go` `getCloudConfiguration`).
//! - Login host aliases and instance-discovery metadata: the instance-discovery answer of
//!   `login.microsoftonline.com/common/discovery/instance` (api-version 1.1) recorded in
//!   Azure/azure-sdk-for-js test recordings (`preferred_network`, `preferred_cache`, `aliases`);
//!   the authority hosts also appear in MSAL Python `msal/authority.py`
//!   `WELL_KNOWN_AUTHORITY_HOSTS`.
//! - v1 issuer host: `sts.windows.net` for the global cloud and Azure Government,
//!   `sts.chinacloudapi.cn` for Azure China (Microsoft Q&A "What are the token issuers for the
//!   sovereign cloud", learn.microsoft.com/answers/questions/1190472; Azure China's SAML and
//!   OBO samples in MicrosoftDocs carry `https://sts.chinacloudapi.cn/{tid}/`). The v2 issuer is
//!   `https://{authority host}/{tid}/v2.0` in every cloud, which fake-aad builds from the host
//!   the client used.
//!
//! Azure Germany (`GermanCloud`, `login.microsoftonline.de`) closed on 2021-10-29 (Microsoft
//! Learn `authentication-national-cloud`); naming it is refused with an error that says so.

use std::fmt;
use std::str::FromStr;

/// One Azure cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cloud {
    /// The global cloud (`AzureCloud`, ESO `PublicCloud`).
    Public,
    /// Azure Government (`AzureUSGovernment`, ESO `USGovernmentCloud`).
    UsGovernment,
    /// Azure operated by 21Vianet (`AzureChinaCloud`, ESO `ChinaCloud`).
    China,
}

/// A cloud name that is not one of [`Cloud`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    /// Azure Germany is closed, so no client can reach it any more.
    #[error(
        "{0}: Azure Germany closed on 2021-10-29 (its tenants moved to the global cloud); use public"
    )]
    Retired(String),
    /// Not a cloud name at all.
    #[error("unknown cloud '{0}': expected public, usgov or china")]
    Unknown(String),
}

impl Cloud {
    /// Every cloud, the global one first.
    pub const ALL: [Cloud; 3] = [Cloud::Public, Cloud::UsGovernment, Cloud::China];

    /// The short name used on the command line (`public`, `usgov`, `china`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::UsGovernment => "usgov",
            Cloud::China => "china",
        }
    }

    /// The authority host SDKs use by default (`AZURE_AUTHORITY_HOST`): `loginEndpoint` of
    /// azure-sdk-for-go's `armMetadata`.
    #[must_use]
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Public => "login.microsoftonline.com",
            Cloud::UsGovernment => "login.microsoftonline.us",
            Cloud::China => "login.chinacloudapi.cn",
        }
    }

    /// Every host the cloud's Entra answers to: the instance-discovery `aliases` (recorded
    /// answer, api-version 1.1), which include the authority host.
    #[must_use]
    pub fn login_hosts(self) -> &'static [&'static str] {
        match self {
            Cloud::Public => &[
                "login.microsoftonline.com",
                "login.windows.net",
                "login.microsoft.com",
                "sts.windows.net",
            ],
            Cloud::UsGovernment => &["login.microsoftonline.us", "login.usgovcloudapi.net"],
            Cloud::China => &["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
        }
    }

    /// Instance discovery's `preferred_network` (recorded answer).
    #[must_use]
    pub fn preferred_network(self) -> &'static str {
        match self {
            Cloud::Public => "login.microsoftonline.com",
            Cloud::UsGovernment => "login.microsoftonline.us",
            Cloud::China => "login.partner.microsoftonline.cn",
        }
    }

    /// Instance discovery's `preferred_cache` (recorded answer).
    #[must_use]
    pub fn preferred_cache(self) -> &'static str {
        match self {
            Cloud::Public => "login.windows.net",
            Cloud::UsGovernment => "login.microsoftonline.us",
            Cloud::China => "login.partner.microsoftonline.cn",
        }
    }

    /// Host of the `iss` of v1 access tokens (the only version Key Vault is issued).
    #[must_use]
    pub fn v1_issuer_host(self) -> &'static str {
        match self {
            Cloud::Public | Cloud::UsGovernment => "sts.windows.net",
            Cloud::China => "sts.chinacloudapi.cn",
        }
    }

    /// The v1 issuer of `tenant`'s tokens: `https://{v1 issuer host}/{tenant}/`.
    #[must_use]
    pub fn v1_issuer(self, tenant: impl fmt::Display) -> String {
        format!("https://{}/{tenant}/", self.v1_issuer_host())
    }

    /// The DNS suffix of vault hosts, `{vault}.{suffix}` (`suffixes.keyVaultDns`).
    #[must_use]
    pub fn vault_dns_suffix(self) -> &'static str {
        match self {
            Cloud::Public => "vault.azure.net",
            Cloud::UsGovernment => "vault.usgovcloudapi.net",
            Cloud::China => "vault.azure.cn",
        }
    }

    /// Key Vault's resource, the audience of its tokens and the `resource` of its 401
    /// challenge (go-autorest `ResourceIdentifiers.KeyVault`, ESO `kvResourceForProviderConfig`).
    #[must_use]
    pub fn vault_resource(self) -> &'static str {
        match self {
            Cloud::Public => "https://vault.azure.net",
            Cloud::UsGovernment => "https://vault.usgovcloudapi.net",
            Cloud::China => "https://vault.azure.cn",
        }
    }

    /// Azure Resource Manager's host (`resourceManager`).
    #[must_use]
    pub fn arm_host(self) -> &'static str {
        match self {
            Cloud::Public => "management.azure.com",
            Cloud::UsGovernment => "management.usgovcloudapi.net",
            Cloud::China => "management.chinacloudapi.cn",
        }
    }

    /// The audiences ARM accepts, as `authentication.audiences` lists them (trailing slash
    /// dropped); the Azure CLI asks for the first.
    #[must_use]
    pub fn arm_audiences(self) -> &'static [&'static str] {
        match self {
            Cloud::Public => &[
                "https://management.core.windows.net",
                "https://management.azure.com",
            ],
            Cloud::UsGovernment => &[
                "https://management.core.usgovcloudapi.net",
                "https://management.usgovcloudapi.net",
            ],
            Cloud::China => &[
                "https://management.core.chinacloudapi.cn",
                "https://management.chinacloudapi.cn",
            ],
        }
    }

    /// `https://{vault}.{suffix}`.
    #[must_use]
    pub fn vault_url(self, vault: &str) -> String {
        format!("https://{vault}.{}", self.vault_dns_suffix())
    }

    /// The names a TLS leaf needs to impersonate this cloud: its login hosts, its vaults
    /// (wildcard and bare suffix) and ARM, which tools like the Azure CLI touch on start-up.
    #[must_use]
    pub fn tls_names(self) -> Vec<String> {
        let mut names: Vec<String> = self.login_hosts().iter().map(|h| (*h).to_owned()).collect();
        names.push(format!("*.{}", self.vault_dns_suffix()));
        names.push(self.vault_dns_suffix().to_owned());
        names.push(self.arm_host().to_owned());
        names
    }

    /// The cloud whose Entra answers to `host` (a port is ignored).
    #[must_use]
    pub fn for_login_host(host: &str) -> Option<Cloud> {
        let host = strip_port(host);
        Cloud::ALL.into_iter().find(|cloud| {
            cloud
                .login_hosts()
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
        })
    }

    /// The cloud of a vault host `{vault}.{suffix}` (a port is ignored).
    #[must_use]
    pub fn for_vault_host(host: &str) -> Option<Cloud> {
        let host = strip_port(host).to_ascii_lowercase();
        Cloud::ALL.into_iter().find(|cloud| {
            host.strip_suffix(cloud.vault_dns_suffix())
                .is_some_and(|label| label.len() > 1 && label.ends_with('.'))
        })
    }

    /// The cloud whose Key Vault resource `resource` is (trailing slash ignored).
    #[must_use]
    pub fn for_vault_resource(resource: &str) -> Option<Cloud> {
        let resource = resource.trim_end_matches('/');
        Cloud::ALL
            .into_iter()
            .find(|cloud| cloud.vault_resource().eq_ignore_ascii_case(resource))
    }
}

fn strip_port(host: &str) -> &str {
    host.rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cloud {
    type Err = CloudError;

    /// Our short names plus the names Azure tools use: the Azure CLI (`AzureCloud`,
    /// `AzureUSGovernment`, `AzureChinaCloud`), azure-sdk-for-go (`AzurePublicCloud`,
    /// `AzureGovernment`, `AzureChina`) and ESO's `environmentType` (`PublicCloud`,
    /// `USGovernmentCloud`, `ChinaCloud`, `GermanCloud`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let key = text.trim().to_ascii_lowercase();
        match key.as_str() {
            "public" | "azurecloud" | "azurepubliccloud" | "publiccloud" => Ok(Cloud::Public),
            "usgov"
            | "azureusgovernment"
            | "azureusgovernmentcloud"
            | "azuregovernment"
            | "usgovernmentcloud" => Ok(Cloud::UsGovernment),
            "china" | "azurechinacloud" | "azurechina" | "chinacloud" => Ok(Cloud::China),
            "german" | "germancloud" | "azuregermancloud" | "azuregermany" => {
                Err(CloudError::Retired(text.to_owned()))
            }
            _ => Err(CloudError::Unknown(text.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_map_back_to_their_cloud() {
        for cloud in Cloud::ALL {
            assert_eq!(Cloud::for_login_host(cloud.authority_host()), Some(cloud));
            assert_eq!(
                Cloud::for_vault_host(&format!("kv1.{}:443", cloud.vault_dns_suffix())),
                Some(cloud)
            );
            assert_eq!(
                Cloud::for_vault_resource(cloud.vault_resource()),
                Some(cloud)
            );
            assert_eq!(cloud.name().parse::<Cloud>(), Ok(cloud));
        }
        assert_eq!(Cloud::for_vault_host("vault.azure.net"), None);
        assert_eq!(Cloud::for_vault_host("evilvault.azure.net"), None);
        assert_eq!(Cloud::for_login_host("login.microsoftonline.de"), None);
        assert_eq!(
            Cloud::for_vault_resource("https://vault.usgovcloudapi.net/"),
            Some(Cloud::UsGovernment)
        );
    }

    #[test]
    fn tool_names_parse_and_germany_is_refused_as_retired() {
        assert_eq!("USGovernmentCloud".parse(), Ok(Cloud::UsGovernment));
        assert_eq!("AzureChinaCloud".parse(), Ok(Cloud::China));
        assert_eq!("AzureCloud".parse(), Ok(Cloud::Public));
        let german = "GermanCloud".parse::<Cloud>().unwrap_err();
        assert!(matches!(german, CloudError::Retired(_)));
        assert!(german.to_string().contains("closed on 2021-10-29"));
        assert!(matches!(
            "mars".parse::<Cloud>(),
            Err(CloudError::Unknown(_))
        ));
    }
}
