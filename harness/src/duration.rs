//! Durations as scenarios write them: a number and a unit (`500ms`, `30s`, `2m`, `1h`).

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parses `500ms`, `30s`, `2m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || format!("invalid duration `{text}`: use a number and ms, s, m or h (e.g. 30s)");
    let n: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(bad()),
    }
}

/// A duration: a number followed by `ms`, `s`, `m` or `h` (`500ms`, `30s`, `2m`, `1h`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DurationSpec(pub String);

impl JsonSchema for DurationSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DurationSpec".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: a number followed by `ms`, `s`, `m` or `h` (`500ms`, `30s`, `2m`, `1h`).",
            "type": "string",
            "pattern": "^[0-9]+(ms|s|m|h)$",
            "examples": ["30s"],
        })
    }
}

impl DurationSpec {
    /// The duration.
    #[must_use]
    pub fn get(&self) -> std::time::Duration {
        parse_duration(&self.0).expect("checked when deserialised")
    }
}

impl TryFrom<String> for DurationSpec {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        parse_duration(&text)?;
        Ok(Self(text))
    }
}

impl From<DurationSpec> for String {
    fn from(d: DurationSpec) -> Self {
        d.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_duration_accepts_units_and_refuses_the_rest() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("1.5s").is_err());
    }
}
