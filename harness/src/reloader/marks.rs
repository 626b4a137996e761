//! What Reloader writes into a pod template when it reloads a workload, read back so steps can
//! say which strategy restarted it and for which Secret.
//!
//! Facts from Reloader v1.4.22's source: the `env-vars` strategy adds
//! `STAKATER_<NAME>_SECRET` (`handler/upgrade.go` `getEnvVarName`, `util.ConvertToEnvVarName`)
//! holding the SHA-1 of the Secret's data (`util.GetSHAfromSecret`, `crypto.GenerateSHA`);
//! the `annotations` strategy writes the JSON annotation [`LAST_RELOADED_FROM`]
//! (`pkg/common/reload_source.go`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use sha1::{Digest, Sha1};

/// The pod-template annotation of the `annotations` strategy.
pub const LAST_RELOADED_FROM: &str = "reloader.stakater.com/last-reloaded-from";

/// The env var the `env-vars` strategy sets for Secret `name`: upper case, each run of
/// characters outside `[A-Z0-9]` one `_` (none at the start).
#[must_use]
pub fn env_var_name(secret: &str) -> String {
    let mut out = String::from("STAKATER_");
    let mut last_valid = false;
    for c in secret.to_ascii_uppercase().bytes() {
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            out.push(char::from(c));
            last_valid = true;
        } else {
            if last_valid {
                out.push('_');
            }
            last_valid = false;
        }
    }
    out.push_str("_SECRET");
    out
}

/// The hash Reloader records for a Secret: SHA-1 (hex) of its `key=value` entries, sorted,
/// joined with `;`.
#[must_use]
pub fn secret_hash(data: &BTreeMap<String, ByteString>) -> String {
    let mut entries: Vec<Vec<u8>> = data
        .iter()
        .map(|(k, v)| [k.as_bytes(), b"=", &v.0].concat())
        .collect();
    // Go sorts the strings bytewise, as Vec<u8> does.
    entries.sort();
    let digest = Sha1::digest(entries.join(&b';'));
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Reloader's marks on one pod template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    /// `(container, variable, value)` of every `STAKATER_*` env var.
    pub env_vars: Vec<(String, String, String)>,
    /// The `last-reloaded-from` annotation, as written.
    pub annotation: Option<String>,
}

impl Marks {
    /// The marks on `template`.
    #[must_use]
    pub fn of(template: &PodTemplateSpec) -> Self {
        let env_vars = template
            .spec
            .iter()
            .flat_map(|spec| &spec.containers)
            .flat_map(|c| {
                c.env
                    .iter()
                    .flatten()
                    .filter(|e| e.name.starts_with("STAKATER_"))
                    .map(|e| {
                        (
                            c.name.clone(),
                            e.name.clone(),
                            e.value.clone().unwrap_or_default(),
                        )
                    })
            })
            .collect();
        let annotation = template
            .metadata
            .as_ref()
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(LAST_RELOADED_FROM))
            .cloned();
        Self {
            env_vars,
            annotation,
        }
    }

    /// The hash the `env-vars` strategy recorded for Secret `name`, if any.
    #[must_use]
    pub fn env_hash(&self, secret: &str) -> Option<&str> {
        let name = env_var_name(secret);
        self.env_vars
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(_, _, v)| v.as_str())
    }

    /// `(type, name, hash)` from the `annotations` strategy's annotation, if present.
    #[must_use]
    pub fn annotation_source(&self) -> Option<(String, String, String)> {
        let value: serde_json::Value = serde_json::from_str(self.annotation.as_ref()?).ok()?;
        let text = |key: &str| value.get(key)?.as_str().map(str::to_owned);
        Some((text("type")?, text("name")?, text("hash")?))
    }

    /// One line for reports.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .env_vars
            .iter()
            .map(|(c, n, v)| format!("env {n}={v} (container {c})"))
            .collect();
        if let Some(annotation) = &self.annotation {
            parts.push(format!("annotation {LAST_RELOADED_FROM}={annotation}"));
        }
        if parts.is_empty() {
            "no Reloader mark".into()
        } else {
            parts.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names_follow_reloaders_conversion() {
        assert_eq!(env_var_name("db-creds"), "STAKATER_DB_CREDS_SECRET");
        assert_eq!(env_var_name("app-secrets"), "STAKATER_APP_SECRETS_SECRET");
        assert_eq!(env_var_name("a..b"), "STAKATER_A_B_SECRET");
        assert_eq!(env_var_name("-x"), "STAKATER_X_SECRET");
        assert_eq!(env_var_name("x-"), "STAKATER_X__SECRET");
    }

    #[test]
    fn secret_hash_is_sha1_of_sorted_entries() {
        let data: BTreeMap<String, ByteString> = [
            ("username".to_owned(), ByteString(b"admin-user".to_vec())),
            ("password".to_owned(), ByteString(b"hunter2".to_vec())),
        ]
        .into();
        // printf 'password=hunter2;username=admin-user' | sha1sum
        assert_eq!(
            secret_hash(&data),
            "a1f5f99421707f864bc572d463259edcf4f94962"
        );
    }
}
