//! The routing proxy delivers Azure's host names to the fakes and refuses everything else.

use std::time::{Duration, Instant};

use harness::serve::{Bench, Options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn bench() -> (Bench, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let bench = Bench::start(Options {
        state_dir: dir.path().to_owned(),
        directory: None,
        vaults: None,
        proxy_listen: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .expect("bench starts");
    (bench, dir)
}

fn env(bench: &Bench, key: &str) -> String {
    bench
        .env()
        .into_iter()
        .find_map(|(k, v)| (k == key).then_some(v))
        .unwrap_or_else(|| panic!("{key} is exported"))
}

#[tokio::test]
async fn login_host_reaches_fake_aad_through_the_proxy_with_tls_for_the_real_name() {
    let (bench, dir) = bench().await;
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .proxy(reqwest::Proxy::https(bench.proxy().url()).unwrap())
        .build()
        .unwrap();
    let tenant = env(&bench, "AZURE_TENANT_ID");
    let response = client
        .post(format!(
            "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
        ))
        .form(&[
            ("client_id", env(&bench, "AZURE_CLIENT_ID")),
            ("client_secret", env(&bench, "AZURE_CLIENT_SECRET")),
            ("scope", "https://vault.azure.net/.default".to_owned()),
            ("grant_type", "client_credentials".to_owned()),
        ])
        .send()
        .await
        .expect("tunnelled request");
    assert_eq!(response.status(), 200);
    let config: serde_json::Value = client
        .get(format!(
            "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        config["issuer"],
        format!("https://login.microsoftonline.com/{tenant}/v2.0")
    );
    bench.shutdown().await;
}

#[tokio::test]
async fn other_hosts_are_refused_fast_with_a_clear_message() {
    let (bench, _dir) = bench().await;
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(bench.proxy().addr())
        .await
        .unwrap();
    stream
        .write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer))
        .await
        .expect("answered, not hung")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refusal took {:?}",
        started.elapsed()
    );
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    assert!(answer.contains("refuses example.com:443"), "{answer}");
    assert!(answer.contains("login.microsoftonline.com:443"), "{answer}");
    bench.shutdown().await;
}

#[tokio::test]
async fn imds_address_is_forwarded_over_plain_http() {
    let (bench, _dir) = bench().await;
    let client = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(bench.proxy().url()).unwrap())
        .build()
        .unwrap();
    let response = client
        .get("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net")
        .header("Metadata", "true")
        .send()
        .await
        .expect("forwarded");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    bench.shutdown().await;
}

#[tokio::test]
async fn vault_host_reaches_fake_akv_which_challenges_for_the_bench_tenant() {
    let (bench, dir) = bench().await;
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .proxy(reqwest::Proxy::https(bench.proxy().url()).unwrap())
        .build()
        .unwrap();
    let url = env(&bench, "AZURE_KEYVAULT_URL");
    let challenge = client
        .get(format!("{url}/secrets?api-version=7.6"))
        .send()
        .await
        .expect("tunnelled to fake-akv");
    assert_eq!(challenge.status(), 401);
    let tenant = env(&bench, "AZURE_TENANT_ID");
    assert_eq!(
        challenge.headers()["www-authenticate"],
        format!(r#"Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net""#).as_str()
    );
    // The default app holds Key Vault Secrets Officer on my-key-vault.
    let token: serde_json::Value = client
        .post(format!(
            "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
        ))
        .form(&[
            ("client_id", env(&bench, "AZURE_CLIENT_ID")),
            ("client_secret", env(&bench, "AZURE_CLIENT_SECRET")),
            ("scope", "https://vault.azure.net/.default".to_owned()),
            ("grant_type", "client_credentials".to_owned()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap();
    let set = client
        .put(format!("{url}/secrets/myapp-password?api-version=7.6"))
        .bearer_auth(bearer)
        .json(&serde_json::json!({ "value": "super-secret-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let got: serde_json::Value = client
        .get(format!("{url}/secrets/myapp-password/?api-version=7.0"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["value"], "super-secret-password");
    assert!(
        got["id"]
            .as_str()
            .unwrap()
            .starts_with("https://my-key-vault.vault.azure.net/secrets/myapp-password/")
    );
    bench.shutdown().await;
}
