//! Variables and `${name}` substitution.

use std::collections::BTreeMap;

/// A `${name}` that names no variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown variable `${{{name}}}`")]
pub struct UnknownVariable {
    /// The name.
    pub name: String,
}

/// Variable values by name: the scenario's `vars` plus generated ones (`namespace`,
/// `tenantId`, `vaultUrl`, `clientId`, `clientSecret`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bindings {
    values: BTreeMap<String, String>,
}

impl Bindings {
    /// Sets `name`.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values.insert(name.into(), value.into());
    }

    /// The value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Every binding, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Replaces every `${name}` in `text`; `$${` is a literal `${`.
    pub fn substitute(&self, text: &str) -> Result<String, UnknownVariable> {
        let mut out = String::with_capacity(text.len());
        for piece in scan(text) {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(name) => {
                    out.push_str(self.get(name).ok_or_else(|| UnknownVariable {
                        name: name.to_owned(),
                    })?);
                }
            }
        }
        Ok(out)
    }

    /// [`Bindings::substitute`] over every string (not keys) of a JSON value.
    pub fn substitute_json(&self, value: &mut serde_json::Value) -> Result<(), UnknownVariable> {
        match value {
            serde_json::Value::String(s) => *s = self.substitute(s)?,
            serde_json::Value::Array(items) => {
                for item in items {
                    self.substitute_json(item)?;
                }
            }
            serde_json::Value::Object(map) => {
                for item in map.values_mut() {
                    self.substitute_json(item)?;
                }
            }
            serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {
            }
        }
        Ok(())
    }
}

/// The variable names `text` refers to.
#[must_use]
pub fn references(text: &str) -> Vec<&str> {
    scan(text)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(name) => Some(name),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Every string of a JSON value.
pub fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
    }
}

enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn scan(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let after = &rest[at..];
        if after.starts_with("$${") {
            pieces.push(Piece::Text(&rest[..at]));
            pieces.push(Piece::Text("${"));
            rest = &rest[at + 3..];
        } else if let Some(body) = after.strip_prefix("${")
            && let Some(end) = body.find('}')
        {
            pieces.push(Piece::Text(&rest[..at]));
            pieces.push(Piece::Var(body[..end].trim()));
            rest = &body[end + 1..];
        } else {
            pieces.push(Piece::Text(&rest[..=at]));
            rest = &rest[at + 1..];
        }
    }
    pieces.push(Piece::Text(rest));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bindings() -> Bindings {
        let mut b = Bindings::default();
        b.set("namespace", "ns-1");
        b.set("vault.kv.url", "https://kv.vault.azure.net");
        b
    }

    #[test]
    fn substitute_replaces_known_variables() {
        let b = bindings();
        assert_eq!(
            b.substitute("${namespace}/${ vault.kv.url }/x").unwrap(),
            "ns-1/https://kv.vault.azure.net/x"
        );
    }

    #[test]
    fn substitute_keeps_escapes_and_lone_dollars() {
        let b = bindings();
        assert_eq!(
            b.substitute("$${namespace} costs $5").unwrap(),
            "${namespace} costs $5"
        );
        assert_eq!(b.substitute("${unterminated").unwrap(), "${unterminated");
    }

    #[test]
    fn substitute_refuses_unknown_variables() {
        assert_eq!(
            bindings().substitute("${nope}").unwrap_err(),
            UnknownVariable {
                name: "nope".into()
            }
        );
    }

    #[test]
    fn substitute_json_walks_strings_only() {
        let mut value = serde_json::json!({"a": ["${namespace}", 3], "${namespace}": true});
        bindings().substitute_json(&mut value).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": ["ns-1", 3], "${namespace}": true})
        );
    }

    #[test]
    fn references_lists_variable_names() {
        assert_eq!(references("${a} $${b} ${c}"), vec!["a", "c"]);
    }
}
