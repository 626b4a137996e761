//! The routing proxy delivers Azure's host names to the fakes and refuses everything else.

use std::time::{Duration, Instant};

use fake_kit::Cloud;
use harness::serve::{Bench, Options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn bench() -> (Bench, tempfile::TempDir) {
    bench_for(&[Cloud::Public]).await
}

async fn bench_for(clouds: &[Cloud]) -> (Bench, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let bench = Bench::start_with_clouds(
        Options {
            state_dir: dir.path().to_owned(),
            directory: None,
            vaults: None,
            proxy_listen: "127.0.0.1:0".parse().unwrap(),
        },
        clouds,
    )
    .await
    .expect("bench starts");
    (bench, dir)
}

/// The proxy's answer to `CONNECT host:443` (only the status line and, for a refusal, the
/// message: a 200 is followed by the fake's TLS, which this does not speak).
async fn connect(bench: &Bench, host: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(bench.proxy().addr())
        .await
        .unwrap();
    stream
        .write_all(format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buffer = vec![0_u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
        .await
        .expect("answered, not hung")
        .unwrap();
    String::from_utf8_lossy(&buffer[..read]).into_owned()
}

/// Each cloud's hosts are tunnelled only when that cloud is configured; the others are refused
/// with the proxy's message like any foreign host.
#[tokio::test]
async fn sovereign_hosts_are_routed_only_for_the_configured_clouds() {
    let (gov, _dir) = bench_for(&[Cloud::UsGovernment]).await;
    for host in [
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
        "my-key-vault.vault.usgovcloudapi.net",
        "management.usgovcloudapi.net",
    ] {
        let answer = connect(&gov, host).await;
        assert!(answer.starts_with("HTTP/1.1 200 "), "{host}: {answer}");
    }
    for host in [
        "login.microsoftonline.com",
        "my-key-vault.vault.azure.net",
        "login.chinacloudapi.cn",
        "my-key-vault.vault.azure.cn",
    ] {
        let answer = connect(&gov, host).await;
        assert!(
            answer.starts_with("HTTP/1.1 403 Forbidden\r\n"),
            "{host}: {answer}"
        );
        assert!(answer.contains(&format!("refuses {host}:443")), "{answer}");
        assert!(answer.contains("*.vault.usgovcloudapi.net:443"), "{answer}");
    }
    gov.shutdown().await;

    let (both, _dir) = bench_for(&[Cloud::Public, Cloud::China]).await;
    for host in [
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "kv.vault.azure.cn",
        "login.microsoftonline.com",
    ] {
        let answer = connect(&both, host).await;
        assert!(answer.starts_with("HTTP/1.1 200 "), "{host}: {answer}");
    }
    let answer = connect(&both, "login.microsoftonline.us").await;
    assert!(answer.starts_with("HTTP/1.1 403 "), "{answer}");
    both.shutdown().await;
}

/// A government token request through the proxy: TLS for `login.microsoftonline.us` from the
/// local CA, the v1 issuer Azure Government uses, the government Key Vault audience; the gov
/// vault's challenge then names the government authority and resource.
#[tokio::test]
async fn gov_login_and_vault_hosts_reach_the_fakes_with_gov_issuer_and_challenge() {
    let (bench, dir) = bench_for(&[Cloud::UsGovernment]).await;
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let client = test_support::trusting(&ca)
        .proxy(reqwest::Proxy::https(bench.proxy().url()).unwrap())
        .build()
        .unwrap();
    let tenant = env(&bench, "AZURE_TENANT_ID");
    let config: serde_json::Value = client
        .get(format!(
            "https://login.microsoftonline.us/{tenant}/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        config["issuer"],
        format!("https://sts.windows.net/{tenant}/")
    );
    assert_eq!(
        config["token_endpoint"],
        format!("https://login.microsoftonline.us/{tenant}/oauth2/token")
    );
    let challenge = client
        .get("https://my-key-vault.vault.usgovcloudapi.net/secrets?api-version=7.6")
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.status(), 401);
    assert_eq!(
        challenge.headers()["www-authenticate"].to_str().unwrap(),
        format!(
            "Bearer authorization=\"https://login.microsoftonline.us/{tenant}\", resource=\"https://vault.usgovcloudapi.net\""
        )
    );
    bench.shutdown().await;
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
    let client = test_support::trusting(&ca)
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
    let client = test_support::trusting(&ca)
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

/// The fakes' control API never answers under an Azure host name, in any cloud, over
/// HTTP/1.1 or HTTP/2: through the proxy a reader of `/_emulator` gets what Azure answers for
/// a path it does not serve (Entra: 404; Key Vault: its 401 challenge, as for any unknown path
/// without a token), and a write changes nothing. The same paths answer at the fakes' own
/// loopback addresses, where the harness and its CLI call them.
#[tokio::test]
async fn control_api_is_unreachable_under_every_azure_host_name() {
    let (bench, dir) = bench_for(&Cloud::ALL).await;
    let ca = std::fs::read(dir.path().join("ca.pem")).expect("the bench CA");
    let through_proxy = |http2: bool| {
        let mut builder = test_support::trusting(&ca)
            .proxy(reqwest::Proxy::https(format!("http://{}", bench.proxy().addr())).unwrap())
            .timeout(Duration::from_secs(10));
        if http2 {
            builder = builder.http2_prior_knowledge();
        }
        builder.build().unwrap()
    };
    let clock_before = bench.akv().state().clock().unix();
    let paths = [
        "/_emulator/directory",
        "/_emulator/audit",
        "/_emulator/clock",
        "/_emulator/vaults",
        "/_emulator/vaults/my-key-vault/secrets",
        "/_emulator/faults",
    ];
    for http2 in [false, true] {
        let client = through_proxy(http2);
        for cloud in Cloud::ALL {
            let hosts = cloud
                .login_hosts()
                .iter()
                .map(|h| ((*h).to_owned(), true))
                .chain([(format!("my-key-vault.{}", cloud.vault_dns_suffix()), false)]);
            for (host, is_login) in hosts {
                for path in paths {
                    let url = format!("https://{host}{path}");
                    let read = client.get(&url).send().await.expect("answered");
                    let status = read.status().as_u16();
                    let body = read.text().await.unwrap_or_default();
                    if is_login {
                        assert_eq!(status, 404, "{url} (http2 {http2}): {body}");
                    } else {
                        assert_eq!(status, 401, "{url} (http2 {http2}): {body}");
                    }
                    assert!(
                        !body.contains("clientSecret") && !body.contains("tenants"),
                        "{url} leaks the directory: {body}"
                    );
                    let write = client
                        .post(format!("https://{host}/_emulator/clock"))
                        .json(&serde_json::json!({ "advanceSeconds": 86400 }))
                        .send()
                        .await
                        .expect("answered");
                    assert!(!write.status().is_success(), "{host}: {}", write.status());
                }
            }
        }
    }
    assert!(
        bench.akv().state().clock().unix() - clock_before < 60,
        "nobody moved the clock"
    );
    // At the fakes' own addresses the control API answers (the harness's way in).
    let direct = test_support::trusting(&ca).build().unwrap();
    for (name, base) in [
        ("fake-aad", env(&bench, "FAKE_AAD_ENDPOINT")),
        ("fake-akv", env(&bench, "FAKE_AKV_ENDPOINT")),
    ] {
        let response = direct
            .get(format!("{base}/_emulator/audit"))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 200, "{name} at {base}");
    }
    bench.shutdown().await;
}
