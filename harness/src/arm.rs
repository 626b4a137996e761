//! Just enough of Azure Resource Manager for `az login --service-principal
//! --allow-no-subscriptions` to finish: it lists subscriptions (none here) and tenants. Key
//! Vault's data plane never touches ARM; this exists so the Azure CLI can log in at all.
//! Shapes: ARM REST reference, "Subscriptions - List" and "Tenants - List" (api-version 2022-12-01).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use fake_aad::AppState;

/// Routes served as `management.azure.com`.
pub fn router(aad: AppState) -> Router {
    Router::new()
        .route("/subscriptions", get(subscriptions))
        .route("/tenants", get(tenants))
        .fallback(not_found)
        .with_state(aad)
}

async fn subscriptions() -> Json<Value> {
    Json(json!({ "value": [], "count": { "type": "Total", "value": 0 } }))
}

async fn tenants(State(aad): State<AppState>) -> Json<Value> {
    let value: Vec<Value> = aad
        .directory()
        .tenants
        .iter()
        .map(|t| {
            json!({
                "id": format!("/tenants/{}", t.id),
                "tenantId": t.id,
                "tenantCategory": "Home",
                "displayName": t.display_name,
                "domains": t.domains,
                "defaultDomain": t.domains.first(),
                "tenantType": "AAD",
            })
        })
        .collect();
    Json(json!({ "value": value }))
}

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        Json(json!({
            "error": {
                "code": "NotSupportedByHarness",
                "message": "The harness serves only GET /subscriptions and GET /tenants of Azure Resource Manager."
            }
        })),
    )
}
