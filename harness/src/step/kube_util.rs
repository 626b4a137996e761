//! Helpers the Kubernetes steps share: dynamic APIs through discovery, and partial-object
//! comparison with a readable diff.

use kube::api::{Api, DynamicObject};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use serde_json::Value;

use super::StepError;
use crate::scenario::spec::ObjectRef;

/// The API of `reference`'s kind, namespaced to its namespace (or `default_ns`).
pub(super) async fn api_for(
    client: &kube::Client,
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    default_ns: &str,
) -> Result<Api<DynamicObject>, StepError> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, capabilities) = discovery::pinned_kind(client, &gvk)
        .await
        .map_err(|e| StepError::kube(format!("discover {api_version} {kind}"), e))?;
    Ok(match capabilities.scope {
        Scope::Namespaced => {
            Api::namespaced_with(client.clone(), namespace.unwrap_or(default_ns), &resource)
        }
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    })
}

/// [`api_for`] of an [`ObjectRef`].
pub(super) async fn api_for_ref(
    client: &kube::Client,
    reference: &ObjectRef,
    default_ns: &str,
) -> Result<Api<DynamicObject>, StepError> {
    api_for(
        client,
        &reference.api_version,
        &reference.kind,
        reference.namespace.as_deref(),
        default_ns,
    )
    .await
}

/// `kind namespace/name` for messages.
pub(super) fn shown(reference: &ObjectRef, default_ns: &str) -> String {
    format!(
        "{} {}/{}",
        reference.kind,
        reference.namespace.as_deref().unwrap_or(default_ns),
        reference.name
    )
}

/// Where `actual` differs from the partial object `expected`: every field of `expected` must
/// be present and equal in `actual`; arrays compare element by element and must have the
/// same length. Each line is `path: wanted X, got Y`.
#[must_use]
pub fn subset_diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("", expected, actual, &mut out);
    out
}

fn diff_at(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for (key, value) in want {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match got.get(key) {
                    Some(found) => diff_at(&here, value, found, out),
                    None => out.push(format!("{here}: wanted {}, absent", compact(value))),
                }
            }
        }
        (Value::Array(want), Value::Array(got)) if want.len() == got.len() => {
            for (index, (w, g)) in want.iter().zip(got).enumerate() {
                diff_at(&format!("{path}[{index}]"), w, g, out);
            }
        }
        _ if loosely_equal(expected, actual) => {}
        _ => out.push(format!(
            "{}: wanted {}, got {}",
            if path.is_empty() { "." } else { path },
            compact(expected),
            compact(actual)
        )),
    }
}

/// YAML authors write `status: True` and `replicas: "1"`; compare scalars by their text.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    };
    if a == b {
        return true;
    }
    match (text(a), text(b)) {
        (Some(x), Some(y)) if a.is_boolean() || b.is_boolean() => x.eq_ignore_ascii_case(&y),
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(120).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_diff_is_empty_for_a_matching_subset() {
        let want = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let got = json!({"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "SecretSynced"}]}, "spec": {}});
        assert!(subset_diff(&want, &got).is_empty());
    }

    #[test]
    fn subset_diff_names_each_mismatch() {
        let want = json!({"data": {"a": "1", "b": "2"}, "spec": {"replicas": 2}});
        let got = json!({"data": {"a": "9"}, "spec": {"replicas": "2"}});
        assert_eq!(
            subset_diff(&want, &got),
            vec![
                r#"data.a: wanted "1", got "9""#.to_owned(),
                r#"data.b: wanted "2", absent"#.to_owned(),
            ]
        );
    }

    #[test]
    fn subset_diff_accepts_unquoted_booleans() {
        assert!(subset_diff(&json!({"s": true}), &json!({"s": "True"})).is_empty());
    }
}
