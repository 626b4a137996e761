//! The Key Vault built-in roles and their data actions. Role definitions: MicrosoftDocs/azure-docs
//! `articles/role-based-access-control/built-in-roles/security.md` (the Key Vault roles'
//! `DataActions`).

/// Built-in role definition ids (the `name` of each definition in `security.md`), so that an
/// assignment may name its role as ARM does.
const ROLE_IDS: &[(&str, &str)] = &[
    (
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "key vault administrator",
    ),
    (
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        "key vault secrets officer",
    ),
    (
        "4633458b-17de-408a-b874-0445c86b69e6",
        "key vault secrets user",
    ),
    ("21090545-7ca7-4776-b22c-e363652d74d2", "key vault reader"),
    (
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "key vault crypto officer",
    ),
    (
        "12338af0-0e69-4776-bea7-57ae8d297424",
        "key vault crypto user",
    ),
    (
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "key vault crypto service encryption user",
    ),
    (
        "a4417e6f-fecd-4de8-b567-7b0420556985",
        "key vault certificates officer",
    ),
    (
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        "key vault certificate user",
    ),
];

/// DataActions of the Key Vault built-in roles, by name or definition id (a full
/// `/providers/Microsoft.Authorization/roleDefinitions/{id}` path is accepted too).
pub(super) fn role_actions(role: &str) -> Option<&'static [&'static str]> {
    let lower = role.to_ascii_lowercase();
    let id = lower.rsplit('/').next().unwrap_or_default();
    let name = ROLE_IDS
        .iter()
        .find(|(guid, _)| *guid == id)
        .map_or(lower.as_str(), |(_, name)| name);
    let actions: &'static [&'static str] = match name {
        "key vault administrator" => &["Microsoft.KeyVault/vaults/*"],
        "key vault secrets officer" => &["Microsoft.KeyVault/vaults/secrets/*"],
        "key vault crypto service encryption user" => &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
        ],
        "key vault secrets user" => &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
        "key vault reader" => &[
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
        "key vault crypto officer" => &[
            "Microsoft.KeyVault/vaults/keys/*",
            "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        ],
        "key vault crypto user" => &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/update/action",
            "Microsoft.KeyVault/vaults/keys/backup/action",
            "Microsoft.KeyVault/vaults/keys/encrypt/action",
            "Microsoft.KeyVault/vaults/keys/decrypt/action",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/verify/action",
        ],
        "key vault certificates officer" => &[
            "Microsoft.KeyVault/vaults/certificatecas/*",
            "Microsoft.KeyVault/vaults/certificates/*",
            "Microsoft.KeyVault/vaults/certificatecontacts/write",
        ],
        "key vault certificate user" => &[
            "Microsoft.KeyVault/vaults/certificates/read",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            "Microsoft.KeyVault/vaults/keys/read",
        ],
        _ => return None,
    };
    Some(actions)
}

/// Whether `role` names a built-in role the fake knows.
#[must_use]
pub fn is_known_role(role: &str) -> bool {
    role_actions(role).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_found_by_name_or_definition_id() {
        assert!(is_known_role("Key Vault Secrets User"));
        assert!(is_known_role("4633458b-17de-408a-b874-0445c86b69e6"));
        assert!(is_known_role(
            "/providers/Microsoft.Authorization/roleDefinitions/4633458B-17DE-408A-B874-0445C86B69E6"
        ));
        assert!(!is_known_role("Owner"));
    }
}
