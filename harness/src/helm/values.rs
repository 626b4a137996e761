//! What the bench adds to a release's values, and nothing more: for ESO's controller, the
//! routing proxy as its `HTTPS_PROXY` (and `HTTP_PROXY`, for IMDS) and the bench's CA as the roots it trusts, so it reaches
//! the fakes under Azure's names as the host-process ESO does. The user's own lists
//! (`extraEnv`, `extraVolumes`, `extraVolumeMounts`) are kept: the bench's entries are added to
//! them, since Helm replaces a list where it merges a map.

use serde_json::{Value, json};

use super::ChartKind;

/// The ConfigMap holding the bench's CA in a release's namespace, and its volume's name.
pub const CA_CONFIG_MAP: &str = "akv-e2e-bench-ca";
/// Where the CA is mounted.
const CA_DIR: &str = "/etc/akv-e2e";

/// The values the bench adds to `user` (the user's values, merged) for `kind`; `api_server`
/// is the cluster's `kubernetes` Service address, which ESO reaches directly.
#[must_use]
pub fn bench_values(kind: ChartKind, user: &Value, pod_proxy: &str, api_server: &str) -> Value {
    match kind {
        ChartKind::ExternalSecrets => {
            let list = |key: &str, added: Value| {
                let mut items = user
                    .get(key)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                items.extend(added.as_array().cloned().unwrap_or_default());
                Value::Array(items)
            };
            json!({
                "extraEnv": list("extraEnv", json!([
                    {"name": "HTTPS_PROXY", "value": pod_proxy},
                    // IMDS (`authType: ManagedIdentity`) is plain HTTP.
                    {"name": "HTTP_PROXY", "value": pod_proxy},
                    // The API server stays direct: in-cluster clients reach it at the
                    // `kubernetes` Service's address.
                    {"name": "NO_PROXY", "value": format!("{api_server},kubernetes.default.svc,.svc,.cluster.local")},
                    {"name": "SSL_CERT_FILE", "value": format!("{CA_DIR}/ca.pem")},
                ])),
                "extraVolumes": list("extraVolumes", json!([
                    {"name": CA_CONFIG_MAP, "configMap": {"name": CA_CONFIG_MAP}},
                ])),
                "extraVolumeMounts": list("extraVolumeMounts", json!([
                    {"name": CA_CONFIG_MAP, "mountPath": CA_DIR, "readOnly": true},
                ])),
            })
        }
        // Reloader talks to the API server only.
        ChartKind::Reloader => json!({}),
    }
}

/// `over` merged into `base` as Helm merges values files: maps key by key, anything else
/// replaced.
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_env_and_volumes_are_kept_and_the_benchs_added() {
        let user = json!({
            "extraEnv": [{"name": "LOG_FORMAT", "value": "json"}],
            "extraVolumes": [{"name": "mine", "emptyDir": {}}],
        });
        let added = bench_values(
            ChartKind::ExternalSecrets,
            &user,
            "http://10.244.9.1:4000",
            "10.43.0.1",
        );
        let names = |key: &str| -> Vec<String> {
            added[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            names("extraEnv"),
            [
                "LOG_FORMAT",
                "HTTPS_PROXY",
                "HTTP_PROXY",
                "NO_PROXY",
                "SSL_CERT_FILE"
            ]
        );
        assert_eq!(names("extraVolumes"), ["mine", CA_CONFIG_MAP]);
        assert_eq!(names("extraVolumeMounts"), [CA_CONFIG_MAP]);
        assert_eq!(added["extraEnv"][1]["value"], "http://10.244.9.1:4000");
        assert!(
            added["extraEnv"][3]["value"]
                .as_str()
                .unwrap()
                .starts_with("10.43.0.1,")
        );
        assert_eq!(
            bench_values(ChartKind::Reloader, &user, "x", "y"),
            json!({})
        );
    }

    #[test]
    fn merging_is_helms_maps_deep_lists_replaced() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x"});
        merge(&mut base, &json!({"a": {"c": [3]}, "e": true}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3]}, "d": "x", "e": true}));
    }
}
