//! Key Vault's service limits on a vault that opts in (`serviceLimits`, here far below
//! Microsoft's figures so a test reaches them): 429 `Throttled` past a budget, nothing charged
//! for a refusal, a fresh budget in the next window, key operations weighted by key type.

use reqwest::Method;
use serde_json::json;

use crate::support::{Env, OFFICER, within};

const THROTTLED: &str = "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached";

/// `transactions: 3, creates: 2`: two sets use both creates, a third set is refused and costs
/// nothing, so one get still fits; then gets are refused until the window ends.
#[tokio::test]
async fn budgets_refuse_with_throttled_charge_nothing_for_refusals_and_reset_per_window() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let base = env.vault("kv-limited");
        let secret = format!("{base}/secrets/limited?api-version=7.6");
        let call = |method: Method, body| env.call_with_token(Some(&token), method, &secret, body);
        call(Method::PUT, Some(json!({"value": "a"})))
            .await
            .expect(200);
        call(Method::PUT, Some(json!({"value": "b"})))
            .await
            .expect(200);
        let refused = call(Method::PUT, Some(json!({"value": "c"})))
            .await
            .expect(429);
        assert_eq!(
            refused.body,
            json!({"error": {"code": "Throttled", "message": THROTTLED}})
        );
        let left: u32 = refused
            .header("retry-after")
            .expect("retryAfter: true sends Retry-After")
            .parse()
            .unwrap();
        assert!((1..=10).contains(&left), "{left}");
        let read = call(Method::GET, None).await.expect(200);
        assert_eq!(read.body["value"], "b");
        call(Method::GET, None).await.expect(429);

        env.clock.advance(time::Duration::seconds(10));
        call(Method::PUT, Some(json!({"value": "d"})))
            .await
            .expect(200);
        let read = call(Method::GET, None).await.expect(200);
        assert_eq!(read.body["value"], "d");
    })
    .await;
}

/// `keyTransactions: 16, keyCreates: 2`: a GET of an RSA 4,096-bit software key costs 8
/// (4,000 / 500), so two fit and a third is refused while an EC key's GET (1) still fits;
/// creates have their own budget.
#[tokio::test]
async fn key_transactions_are_weighted_by_key_type_and_creates_have_their_own_budget() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let base = env.vault("kv-limited");
        let call = |method: Method, path: &str, body| {
            let url = format!("{base}/keys/{path}?api-version=7.6");
            let token = token.clone();
            let env = &env;
            async move { env.call_with_token(Some(&token), method, &url, body).await }
        };
        call(
            Method::POST,
            "big/create",
            Some(json!({"kty": "RSA", "key_size": 4096})),
        )
        .await
        .expect(200);
        call(Method::POST, "small/create", Some(json!({"kty": "EC"})))
            .await
            .expect(200);
        let refused = call(Method::POST, "third/create", Some(json!({"kty": "EC"})))
            .await
            .expect(429);
        assert_eq!(refused.body["error"]["code"], "Throttled");

        call(Method::GET, "big", None).await.expect(200);
        call(Method::GET, "big", None).await.expect(200);
        call(Method::GET, "big", None).await.expect(429);
        // A refusal costs nothing, and 16 - 8 - 8 = 0 units are left for anything heavier
        // than nothing: the EC key's GET (1 unit) is refused too, until the window ends.
        call(Method::GET, "small", None).await.expect(429);
        env.clock.advance(time::Duration::seconds(10));
        call(Method::GET, "small", None).await.expect(200);
        call(Method::GET, "big", None).await.expect(200);
    })
    .await;
}
