use std::sync::Arc;

use fake_kit::Clock;
use uuid::Uuid;

use super::*;
use crate::secrets::store::{NewSecretVersion, SecretValue};
use crate::state::{AppState, Settings, Vault};
use crate::store::StoreError;
use crate::vault::{Authorization, EmulatorConfig};

fn vault(yaml: &str) -> Arc<Vault> {
    let state = AppState::new(
        EmulatorConfig::from_yaml(yaml).unwrap(),
        Clock::system(),
        Settings::default(),
    )
    .unwrap();
    state.vault("kv1").unwrap()
}

fn rbac() -> Arc<Vault> {
    vault(
        "vaults: [{name: kv1, tenantId: 11111111-1111-1111-1111-111111111111, purgeProtection: true}]",
    )
}

fn value(text: &str) -> NewSecretVersion {
    NewSecretVersion {
        payload: SecretValue {
            value: text.to_owned(),
            content_type: None,
        },
        ..NewSecretVersion::default()
    }
}

#[test]
fn set_secret_keeps_key_vaults_limits_and_names() {
    let vault = rbac();
    let too_large = "x".repeat(MAX_VALUE_BYTES + 1);
    assert!(matches!(
        vault.set_secret("big", value(&too_large), 1),
        Err(OpError::BadParameter(m)) if m.contains("too large")
    ));
    assert_eq!(
        vault.set_secret("a.b", value("v"), 1),
        Err(OpError::InvalidName("a.b".into()))
    );
    let mut tagged = value("v");
    tagged.tags = Some(
        (0..=MAX_TAGS)
            .map(|i| (i.to_string(), String::new()))
            .collect(),
    );
    assert!(matches!(
        vault.set_secret("tags", tagged, 1),
        Err(OpError::BadParameter(_))
    ));
    // Nothing refused was written.
    assert_eq!(vault.secrets().list().count(), 0);
    let (name, _) = vault
        .set_secret("ok", value(&"x".repeat(MAX_VALUE_BYTES)), 1)
        .unwrap();
    assert_eq!(name, "ok");
}

#[test]
fn purge_protection_binds_users_but_not_the_operator() {
    let vault = rbac();
    vault.set_secret("s", value("v"), 1).unwrap();
    vault.delete::<SecretValue>("s", 2).unwrap();
    assert_eq!(
        vault.purge::<SecretValue>("s", 3, Purge::AsUser),
        Err(OpError::Store(StoreError::PurgeProtected))
    );
    vault
        .purge::<SecretValue>("s", 3, Purge::AsOperator)
        .unwrap();
    assert!(vault.secrets().deleted("s").is_err());
}

#[test]
fn concurrent_grants_lose_none_and_a_repeat_grant_changes_nothing() {
    let vault = rbac();
    let principals: Vec<Uuid> = (0..16).map(|_| Uuid::new_v4()).collect();
    std::thread::scope(|scope| {
        for principal in &principals {
            let vault = &vault;
            scope.spawn(move || {
                let change = AccessChange {
                    principal_id: *principal,
                    role: Some("Key Vault Secrets User".into()),
                    ..AccessChange::default()
                };
                let first = vault.grant(&change).unwrap();
                assert_eq!(vault.grant(&change).unwrap(), first);
            });
        }
    });
    let spec = vault.spec();
    assert_eq!(spec.role_assignments.len(), principals.len());
    assert!(
        principals
            .iter()
            .all(|p| spec.role_assignments.iter().any(|a| a.principal_id == *p))
    );
}

#[test]
fn revoking_without_a_scope_removes_the_role_at_every_scope() {
    let vault = rbac();
    let principal = Uuid::new_v4();
    for scope in ["/", "/secrets/one"] {
        vault
            .grant(&AccessChange {
                principal_id: principal,
                role: Some("Key Vault Secrets User".into()),
                scope: Some(scope.into()),
                ..AccessChange::default()
            })
            .unwrap();
    }
    let change = AccessChange {
        principal_id: principal,
        role: Some("key vault secrets user".into()),
        ..AccessChange::default()
    };
    assert_eq!(vault.revoke(&change), Ok(2));
    assert!(matches!(
        vault.revoke(&change),
        Err(AccessError::NotHeld { .. })
    ));
    let unknown = AccessChange {
        role: Some("Owner".into()),
        ..change
    };
    assert!(matches!(vault.grant(&unknown), Err(AccessError::Spec(_))));
    assert!(vault.spec().role_assignments.is_empty());
}

#[test]
fn access_policies_take_permissions_not_roles() {
    let vault = vault(
        "vaults: [{name: kv1, tenantId: 11111111-1111-1111-1111-111111111111, authorization: accessPolicies}]",
    );
    assert_eq!(vault.spec().authorization, Authorization::AccessPolicies);
    let principal = Uuid::new_v4();
    let grant = |secrets: &[&str]| AccessChange {
        principal_id: principal,
        secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
        ..AccessChange::default()
    };
    assert_eq!(vault.grant(&grant(&["get"])), Ok(Granted::Policy));
    vault.grant(&grant(&["GET", "list"])).unwrap();
    assert_eq!(
        vault.spec().access_policies[0].permissions.secrets,
        ["get", "list"]
    );
    assert_eq!(vault.revoke(&grant(&["get"])), Ok(1));
    let with_role = AccessChange {
        role: Some("Key Vault Secrets User".into()),
        ..grant(&[])
    };
    assert_eq!(
        vault.grant(&with_role),
        Err(AccessError::RoleOnPolicyVault("kv1".into()))
    );
    assert_eq!(vault.revoke(&grant(&[])), Ok(1));
    assert!(vault.spec().access_policies.is_empty());
}
