//! The real External Secrets Operator (built from the Go module proxy) on the local control
//! plane, reading the fake Key Vault through the routing proxy under Azure's real host names:
//! its default (legacy, api-version 7.0, adal) path, its Azure SDK path (`useAzureSDK: true`,
//! challenge handshake, MSAL), and workload identity (a projected service-account token
//! exchanged at the fake Entra ID through a federated credential).

use std::time::{Duration, Instant};

use e2e::vault::VaultClient;
use fake_aad::directory::{FederatedCredential, ManagedIdentity, TrustedIssuer};
use fake_akv::vault::RoleAssignment;
use harness::cluster::{Cluster, LocalPlane, PlaneOptions};
use harness::deps::{Assets, Binaries, DepsConfig};
use harness::k8s::wait::is_deployment_rolled_out;
use harness::k8s::wait_for;
use harness::serve::{Bench, DEFAULT_VAULT, Options};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;

const NAMESPACE: &str = "azure-eso-test";

fn var(env: &[(&'static str, String)], key: &str) -> String {
    env.iter()
        .find_map(|(k, v)| (*k == key).then(|| v.clone()))
        .unwrap_or_else(|| panic!("{key} is exported"))
}

/// The seed article's manifests (002), plus an SDK-path twin of the store and a workload
/// identity store; `${...}` are filled from the bench.
const MANIFESTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: azure-eso-test
---
apiVersion: v1
kind: Secret
metadata:
  name: azure-credentials
  namespace: azure-eso-test
stringData:
  client-id: "${CLIENT_ID}"
  client-secret: "${CLIENT_SECRET}"
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata:
  name: azure-secret-store
  namespace: azure-eso-test
spec:
  provider:
    azurekv:
      authType: ServicePrincipal
      vaultUrl: "https://my-key-vault.vault.azure.net"
      tenantId: "${TENANT_ID}"
      authSecretRef:
        clientId:
          name: azure-credentials
          key: client-id
        clientSecret:
          name: azure-credentials
          key: client-secret
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata:
  name: azure-secret-store-sdk
  namespace: azure-eso-test
spec:
  provider:
    azurekv:
      authType: ServicePrincipal
      useAzureSDK: true
      vaultUrl: "https://my-key-vault.vault.azure.net"
      tenantId: "${TENANT_ID}"
      authSecretRef:
        clientId:
          name: azure-credentials
          key: client-id
        clientSecret:
          name: azure-credentials
          key: client-secret
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: eso-sa
  namespace: azure-eso-test
  annotations:
    azure.workload.identity/client-id: "${IDENTITY_CLIENT_ID}"
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata:
  name: azure-secret-store-wi
  namespace: azure-eso-test
spec:
  provider:
    azurekv:
      authType: WorkloadIdentity
      vaultUrl: "https://my-key-vault.vault.azure.net"
      serviceAccountRef:
        name: eso-sa
"#;

/// The store manifests with the bench's tenant and credentials filled in.
fn manifests(bench: &Bench, identity_client_id: &str) -> String {
    let env = bench.env();
    MANIFESTS
        .replace("${CLIENT_ID}", &var(&env, "AZURE_CLIENT_ID"))
        .replace("${CLIENT_SECRET}", &var(&env, "AZURE_CLIENT_SECRET"))
        .replace("${TENANT_ID}", &var(&env, "AZURE_TENANT_ID"))
        .replace("${IDENTITY_CLIENT_ID}", identity_client_id)
}

/// The ExternalSecrets of the test namespace.
fn external_secrets(client: &kube::Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("external-secrets.io", "v1", "ExternalSecret");
    Api::namespaced_with(client.clone(), NAMESPACE, &ApiResource::from_gvk(&gvk))
}

/// `kubectl annotate externalsecret NAME force-sync=$(date +%s) --overwrite`, as the seed does.
async fn force_sync(externals: &Api<DynamicObject>, name: &str) {
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let patch = serde_json::json!({ "metadata": { "annotations": { "force-sync": stamp } } });
    externals
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
}

fn external_secret(name: &str, store: &str) -> String {
    format!(
        r#"
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {name}
  namespace: azure-eso-test
spec:
  refreshInterval: 1h
  secretStoreRef:
    name: {store}
    kind: SecretStore
  target:
    name: {name}
    creationPolicy: Owner
    template:
      metadata:
        annotations:
          reloader.stakater.com/match: "true"
  data:
    - secretKey: username
      remoteRef:
        key: myapp-username
    - secretKey: password
      remoteRef:
        key: myapp-password
"#
    )
}

async fn wait_for_value(
    secrets: &Api<Secret>,
    name: &str,
    key: &str,
    want: &str,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    let mut last = String::from("(absent)");
    while Instant::now() < deadline {
        if let Some(secret) = secrets.get_opt(name).await.expect("GET secret") {
            let value = secret
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|v| String::from_utf8_lossy(&v.0).into_owned());
            if value.as_deref() == Some(want) {
                return;
            }
            last = format!("{value:?}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("Secret {name} key {key}: wanted {want:?}, last saw {last} after {timeout:?}");
}

fn ready_reason(es: &DynamicObject) -> Option<String> {
    es.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .map(|c| {
            format!(
                "{}/{}",
                c["status"].as_str().unwrap_or(""),
                c["reason"].as_str().unwrap_or("")
            )
        })
}

/// The bench (fakes + proxy) with the seed secrets, and the plane with ESO pointed at it.
async fn start_world(state: &std::path::Path) -> (Bench, LocalPlane, VaultClient) {
    let bench = Bench::start(Options {
        state_dir: state.join("bench"),
        directory: None,
        vaults: None,
        proxy_listen: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .expect("bench starts");
    let env = bench.env();
    let ca = std::fs::read_to_string(state.join("bench/ca.pem")).unwrap();
    let vault = VaultClient::from_env(&env, &ca)
        .await
        .expect("vault client");
    vault.set("myapp-username", "admin-user").await.unwrap();
    vault
        .set("myapp-password", "super-secret-password")
        .await
        .unwrap();

    // ESO runs as a process with the bench's proxy and trust; AZURE_TENANT_ID is what the
    // workload-identity webhook injects into ESO's pod on AKS.
    let config = DepsConfig::from_env();
    let binaries = Binaries::ensure(&config).expect("control-plane binaries build");
    let assets = Assets::locate(&config).expect("ESO CRDs and kwok stages");
    let mut options = PlaneOptions::new(state.join("plane"), binaries, assets);
    options.eso_env = bench.eso_env();
    options.eso_env.push((
        "AZURE_TENANT_ID".into(),
        var(&env, "AZURE_TENANT_ID").into(),
    ));
    let plane = LocalPlane::start(options).await.expect("plane starts");
    (bench, plane, vault)
}

/// Workload identity: the managed identity trusts the plane's service-account issuer for
/// `eso-sa`, and may read the vault's secrets. Returns the identity.
async fn federate(bench: &Bench, plane: &LocalPlane) -> ManagedIdentity {
    let jwks = plane.service_account_jwks().await.expect("issuer keys");
    let issuer = plane.issuer().to_owned();
    let identity = bench.aad().state().directory().tenants[0].managed_identities[0].clone();
    let aad = bench.aad().state();
    aad.trust_issuer(TrustedIssuer {
        issuer: issuer.clone(),
        jwks_uri: None,
        keys: Some(jwks),
    })
    .unwrap();
    let tenant = aad.directory().tenants[0].id.to_string();
    aad.federate(
        &tenant,
        &identity.client_id.to_string(),
        FederatedCredential {
            name: "eso-federated-credential".into(),
            issuer: issuer.clone(),
            subject: format!("system:serviceaccount:{NAMESPACE}:eso-sa"),
            audiences: vec!["api://AzureADTokenExchange".into()],
        },
    )
    .unwrap();
    let akv = bench.akv().state();
    let mut spec = (*akv.vault(DEFAULT_VAULT).expect("default vault").spec()).clone();
    spec.role_assignments.push(RoleAssignment {
        id: uuid::Uuid::new_v4(),
        principal_id: identity.principal_id,
        role: "Key Vault Secrets User".into(),
        scope: "/".into(),
    });
    akv.put_vault(spec).unwrap();
    identity
}

const STORES: [(&str, &str); 3] = [
    ("app-secrets", "azure-secret-store"),
    ("app-secrets-sdk", "azure-secret-store-sdk"),
    ("app-secrets-wi", "azure-secret-store-wi"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eso_syncs_and_rotates_on_both_code_paths_and_with_workload_identity() {
    let state = tempfile::tempdir().expect("temp dir");
    let (bench, mut plane, vault) = start_world(state.path()).await;
    let identity = federate(&bench, &plane).await;
    plane
        .apply(&manifests(&bench, &identity.client_id.to_string()))
        .await
        .expect("stores apply");
    for (name, store) in STORES {
        plane
            .apply(&external_secret(name, store))
            .await
            .expect("ExternalSecret applies");
    }

    let client = plane.client();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    let externals = external_secrets(&client);
    for (name, _) in STORES {
        wait_for_value(
            &secrets,
            name,
            "password",
            "super-secret-password",
            Duration::from_secs(90),
        )
        .await;
        wait_for_value(
            &secrets,
            name,
            "username",
            "admin-user",
            Duration::from_secs(5),
        )
        .await;
        let es = externals.get(name).await.unwrap();
        assert_eq!(
            ready_reason(&es).as_deref(),
            Some("True/SecretSynced"),
            "{name}: {:?}",
            es.data["status"]
        );
        let target = secrets.get(name).await.unwrap();
        assert_eq!(
            target
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("reloader.stakater.com/match"))
                .map(String::as_str),
            Some("true"),
            "the template annotation lands on the Secret"
        );
    }

    // Rotation, picked up by a forced sync (refreshInterval is 1h).
    vault
        .set("myapp-password", "new-rotated-password")
        .await
        .unwrap();
    for (name, _) in STORES {
        force_sync(&externals, name).await;
    }
    for (name, _) in STORES {
        wait_for_value(
            &secrets,
            name,
            "password",
            "new-rotated-password",
            Duration::from_secs(60),
        )
        .await;
    }

    assert_vault_saw_every_path(&bench, &identity);
    plane.shutdown().await;
    bench.shutdown().await;
}

/// Waits until the Secret `name` has `key` and returns its bytes.
async fn wait_for_bytes(
    secrets: &Api<Secret>,
    name: &str,
    key: &str,
    timeout: Duration,
) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(value) = secrets
            .get_opt(name)
            .await
            .expect("GET secret")
            .and_then(|s| s.data)
            .and_then(|d| d.get(key).cloned())
        {
            return value.0;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("Secret {name} has no key {key} after {timeout:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eso_reads_a_certificate_as_der_and_its_secret_as_a_pfx_on_both_code_paths() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    let state = tempfile::tempdir().expect("temp dir");
    let (bench, mut plane, vault) = start_world(state.path()).await;
    let akv = bench.akv().state();
    let mut spec = (*akv.vault(DEFAULT_VAULT).expect("default vault").spec()).clone();
    let principal = spec.role_assignments[0].principal_id;
    spec.role_assignments.push(RoleAssignment {
        id: uuid::Uuid::new_v4(),
        principal_id: principal,
        role: "Key Vault Certificates Officer".into(),
        scope: "/".into(),
    });
    akv.put_vault(spec).unwrap();
    let cert = vault
        .create_certificate(
            "tls-cert",
            serde_json::json!({
                "issuer": {"name": "Self"},
                "x509_props": {"subject": "CN=app.example", "sans": {"dns_names": ["app.example"]}},
                "secret_props": {"contentType": "application/x-pkcs12"},
            }),
        )
        .await
        .expect("certificate created");
    let der = STANDARD
        .decode(cert["cer"].as_str().expect("cer"))
        .expect("cer is base64");

    plane
        .apply(&manifests(&bench, &uuid::Uuid::nil().to_string()))
        .await
        .expect("stores apply");
    let stores = [
        ("tls-legacy", "azure-secret-store"),
        ("tls-sdk", "azure-secret-store-sdk"),
    ];
    for (name, store) in stores {
        plane
            .apply(&format!(
                r"
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {name}
  namespace: {NAMESPACE}
spec:
  refreshInterval: 1h
  secretStoreRef:
    name: {store}
    kind: SecretStore
  target:
    name: {name}
  data:
    - secretKey: tls.der
      remoteRef:
        key: cert/tls-cert
    - secretKey: tls.pfx
      remoteRef:
        key: secret/tls-cert
"
            ))
            .await
            .expect("ExternalSecret applies");
    }
    let secrets: Api<Secret> = Api::namespaced(plane.client(), NAMESPACE);
    for (name, _) in stores {
        let got = wait_for_bytes(&secrets, name, "tls.der", Duration::from_secs(90)).await;
        assert_eq!(got, der, "{name}: cert/ is the raw DER of `cer`");
        let pfx = wait_for_bytes(&secrets, name, "tls.pfx", Duration::from_secs(5)).await;
        let pfx = STANDARD.decode(pfx).expect("secret/ is the base64 PFX");
        let parts = fake_akv::pkcs12::decode(&pfx, "").expect("a PFX");
        assert_eq!(parts.certs, vec![der.clone()], "{name}");
        assert!(
            parts.key.is_some(),
            "{name}: the PFX carries the private key"
        );
    }
    plane.shutdown().await;
    bench.shutdown().await;
}

/// The fake vault saw the service principal (both paths) and the managed identity read the
/// secret, and the SDK path went through the 401 challenge handshake.
fn assert_vault_saw_every_path(bench: &Bench, identity: &ManagedIdentity) {
    let audit = bench.akv().state().audit().since(0);
    let app = bench.aad().state().directory().tenants[0].apps[0]
        .object_id
        .to_string();
    let reads_by = |oid: &str| {
        audit
            .iter()
            .filter(|e| {
                e.caller_oid.as_deref() == Some(oid)
                    && e.object_name.as_deref() == Some("myapp-password")
                    && e.status == 200
                    && e.method == "GET"
            })
            .count()
    };
    assert!(
        reads_by(&app) >= 4,
        "service principal reads: {}",
        reads_by(&app)
    );
    assert!(
        reads_by(&identity.principal_id.to_string()) >= 2,
        "managed identity reads"
    );
    assert!(
        audit.iter().any(|e| e.status == 401 && e.method == "GET"),
        "SDK path challenge"
    );
}

/// Seed 002's Deployment (search mode) and an unannotated neighbour that must stay untouched.
const DEPLOYMENTS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: azure-eso-test-app
  namespace: azure-eso-test
  annotations:
    reloader.stakater.com/search: "true"
spec:
  replicas: 1
  selector:
    matchLabels:
      app: azure-eso-test-app
  template:
    metadata:
      labels:
        app: azure-eso-test-app
    spec:
      containers:
        - name: app
          image: busybox:latest
          command: ["sh", "-c", "while true; do sleep 30; done"]
          env:
            - name: APP_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: app-secrets
                  key: password
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bystander
  namespace: azure-eso-test
spec:
  replicas: 1
  selector:
    matchLabels:
      app: bystander
  template:
    metadata:
      labels:
        app: bystander
    spec:
      containers:
        - name: app
          image: busybox:latest
          env:
            - name: APP_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: app-secrets
                  key: password
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloader_restarts_the_annotated_deployment_exactly_once_after_a_rotation() {
    let state = tempfile::tempdir().expect("temp dir");
    let (bench, mut plane, vault) = start_world(state.path()).await;
    // The real Reloader (tools/go/reloader), with its default flags, watching NAMESPACE.
    let reloader = plane
        .reloaders()
        .expect("the local plane starts Reloaders")
        .start(NAMESPACE, &[])
        .await
        .unwrap_or_else(|e| panic!("Reloader starts: {e}"));
    plane
        .apply(&manifests(&bench, &uuid::Uuid::nil().to_string()))
        .await
        .expect("stores apply");
    plane
        .apply(&external_secret("app-secrets", "azure-secret-store"))
        .await
        .expect("ExternalSecret applies");
    let client = plane.client();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    wait_for_value(
        &secrets,
        "app-secrets",
        "password",
        "super-secret-password",
        Duration::from_secs(90),
    )
    .await;
    plane.apply(DEPLOYMENTS).await.expect("deployments apply");
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), NAMESPACE);
    for name in ["azure-eso-test-app", "bystander"] {
        wait_for(
            deployments.clone(),
            name,
            is_deployment_rolled_out(),
            Duration::from_secs(60),
        )
        .await
        .expect("rolled out");
    }
    let generation = |d: &Deployment| d.metadata.generation.unwrap_or_default();
    let app_before = generation(&deployments.get("azure-eso-test-app").await.unwrap());
    let bystander_before = generation(&deployments.get("bystander").await.unwrap());

    vault
        .set("myapp-password", "new-rotated-password")
        .await
        .unwrap();
    force_sync(&external_secrets(&client), "app-secrets").await;
    wait_for_value(
        &secrets,
        "app-secrets",
        "password",
        "new-rotated-password",
        Duration::from_secs(60),
    )
    .await;

    // Reloader's env-vars strategy adds STAKATER_APP_SECRETS_SECRET to the pod template
    // (reloader.md §2.1): one new generation, rolled out, and nothing else restarted.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let app = deployments.get("azure-eso-test-app").await.unwrap();
        if generation(&app) > app_before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Reloader did not patch the Deployment"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let app = wait_for(
        deployments.clone(),
        "azure-eso-test-app",
        is_deployment_rolled_out(),
        Duration::from_secs(60),
    )
    .await
    .expect("new ReplicaSet rolled out")
    .expect("deployment exists");
    assert_eq!(generation(&app), app_before + 1, "restarted exactly once");
    let env_names: Vec<String> = app.spec.template.spec.as_ref().unwrap().containers[0]
        .env
        .iter()
        .flatten()
        .map(|e| e.name.clone())
        .collect();
    assert!(
        env_names.contains(&"STAKATER_APP_SECRETS_SECRET".to_owned()),
        "{env_names:?}"
    );
    let bystander = deployments.get("bystander").await.unwrap();
    assert_eq!(
        generation(&bystander),
        bystander_before,
        "unannotated Deployment untouched"
    );
    reloader.shutdown(false).await;
    plane.shutdown().await;
    bench.shutdown().await;
}
