//! Server-side apply of arbitrary manifests: YAML documents become `DynamicObject`s, discovery
//! finds each kind's resource and scope, and everything is applied with the field manager
//! `harness` (forced, so the harness owns what it declares).

use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use serde::Deserialize;

/// The field manager of every harness write.
pub const FIELD_MANAGER: &str = "harness";

/// A manifest could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A YAML document is not a Kubernetes object.
    #[error("document {index}: {reason}")]
    Parse {
        /// 0-based document index.
        index: usize,
        /// Why.
        reason: String,
    },
    /// Discovery does not know the kind.
    #[error("{api_version} {kind}: unknown to the API server: {source}")]
    Discovery {
        /// apiVersion.
        api_version: String,
        /// kind.
        kind: String,
        /// The underlying error.
        #[source]
        source: kube::Error,
    },
    /// The API server refused the object.
    #[error("apply {kind} {name}: {source}")]
    Apply {
        /// kind.
        kind: String,
        /// namespace/name.
        name: String,
        /// The underlying error.
        #[source]
        source: kube::Error,
    },
}

/// Applies every document of `yaml` in order; returns the objects as the server stored them.
/// Namespaced objects without a namespace go to `default`.
pub async fn apply_yaml(client: &Client, yaml: &str) -> Result<Vec<DynamicObject>, ApplyError> {
    let mut objects = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(yaml).enumerate() {
        let value = serde_yaml_ng::Value::deserialize(document).map_err(|e| ApplyError::Parse {
            index,
            reason: e.to_string(),
        })?;
        if value.is_null() {
            continue;
        }
        let object: DynamicObject =
            serde_yaml_ng::from_value(value).map_err(|e| ApplyError::Parse {
                index,
                reason: e.to_string(),
            })?;
        objects.push((index, object));
    }
    let mut applied = Vec::new();
    for (index, object) in objects {
        applied.push(apply_object(client, object, index).await?);
    }
    Ok(applied)
}

/// Applies one object.
pub async fn apply_object(
    client: &Client,
    object: DynamicObject,
    index: usize,
) -> Result<DynamicObject, ApplyError> {
    let types = object.types.clone().ok_or_else(|| ApplyError::Parse {
        index,
        reason: "missing apiVersion or kind".into(),
    })?;
    let name = object
        .metadata
        .name
        .clone()
        .ok_or_else(|| ApplyError::Parse {
            index,
            reason: "missing metadata.name".into(),
        })?;
    let gvk = GroupVersionKind::try_from(&types).map_err(|e| ApplyError::Parse {
        index,
        reason: e.to_string(),
    })?;
    let (resource, capabilities) =
        discovery::pinned_kind(client, &gvk)
            .await
            .map_err(|source| ApplyError::Discovery {
                api_version: types.api_version.clone(),
                kind: types.kind.clone(),
                source,
            })?;
    let (api, shown): (Api<DynamicObject>, String) = match capabilities.scope {
        Scope::Namespaced => {
            let namespace = object
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into());
            let shown = format!("{namespace}/{name}");
            (
                Api::namespaced_with(client.clone(), &namespace, &resource),
                shown,
            )
        }
        Scope::Cluster => (Api::all_with(client.clone(), &resource), name.clone()),
    };
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&object),
    )
    .await
    .map_err(|source| ApplyError::Apply {
        kind: types.kind,
        name: shown,
        source,
    })
}
