//! [`StepEntry`]: one item of a scenario's `steps` list, an action plus the fields every step
//! shares, or a `try`/`catch`/`finally` block.
//!
//! serde cannot combine `flatten` with `deny_unknown_fields`, so the map is read by hand: the
//! shared keys are fields, `try`/`catch`/`finally` make a block, and any other key must be a
//! step kind (read through [`StepKind`]'s own `Deserialize`, so unknown kinds and unknown
//! fields are reported with the YAML location of the offending key).

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::StepKind;
use crate::duration::DurationSpec;

/// One step, with its shared fields.
#[derive(Clone, Debug)]
pub struct StepEntry {
    /// A name for reports; the step's description when absent.
    pub name: Option<String>,
    /// Timeout of the step (of each step inside a block); the scenario's when absent.
    pub timeout: Option<DurationSpec>,
    /// Record a failure but carry on with the next step.
    pub continue_on_error: bool,
    /// What runs.
    pub body: StepBody,
}

/// An action or a block.
#[derive(Clone, Debug)]
pub enum StepBody {
    /// One action.
    Action(StepKind),
    /// `try` runs in order until a step fails; then `catch` runs; `finally` always runs.
    Block {
        /// The steps under test.
        try_: Vec<StepEntry>,
        /// Run when a `try` step failed (diagnostics, dumps).
        catch: Vec<StepEntry>,
        /// Always run (cleanup).
        finally: Vec<StepEntry>,
    },
}

const SHARED: &[&str] = &[
    "name",
    "timeout",
    "continueOnError",
    "try",
    "catch",
    "finally",
];

impl<'de> Deserialize<'de> for StepEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = StepEntry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a step: a map with one step kind (e.g. `setVaultSecret: {...}`) or `try`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StepEntry, A::Error> {
        let mut name = None;
        let mut timeout = None;
        let mut continue_on_error = None;
        let mut try_: Option<Vec<StepEntry>> = None;
        let mut catch: Option<Vec<StepEntry>> = None;
        let mut finally: Option<Vec<StepEntry>> = None;
        let mut action: Option<(String, StepKind)> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => set(&mut name, &key, map.next_value()?)?,
                "timeout" => set(&mut timeout, &key, map.next_value()?)?,
                "continueOnError" => set(&mut continue_on_error, &key, map.next_value()?)?,
                "try" => set(&mut try_, &key, map.next_value()?)?,
                "catch" => set(&mut catch, &key, map.next_value()?)?,
                "finally" => set(&mut finally, &key, map.next_value()?)?,
                _ => {
                    if let Some((first, _)) = &action {
                        return Err(de::Error::custom(format_args!(
                            "a step has exactly one action, found `{first}` and `{key}`"
                        )));
                    }
                    if !StepKind::NAMES.contains(&key.as_str()) {
                        let mut expected: Vec<&str> = SHARED.to_vec();
                        expected.extend_from_slice(StepKind::NAMES);
                        return Err(de::Error::unknown_field(&key, leak(expected)));
                    }
                    let kind = map.next_value_seed(KindSeed { key: &key })?;
                    action = Some((key, kind));
                }
            }
        }
        let body = match (action, try_) {
            (Some((key, _)), Some(_)) => {
                return Err(de::Error::custom(format_args!(
                    "a step is either an action (`{key}`) or a `try` block, not both"
                )));
            }
            (Some((key, kind)), None) => {
                if catch.is_some() || finally.is_some() {
                    return Err(de::Error::custom(format_args!(
                        "`catch` and `finally` belong to a `try` block, not to `{key}`"
                    )));
                }
                StepBody::Action(kind)
            }
            (None, Some(try_)) => StepBody::Block {
                try_,
                catch: catch.unwrap_or_default(),
                finally: finally.unwrap_or_default(),
            },
            (None, None) => {
                return Err(de::Error::custom(
                    "a step needs one action (e.g. `setVaultSecret: {...}`) or a `try` block",
                ));
            }
        };
        Ok(StepEntry {
            name,
            timeout,
            continue_on_error: continue_on_error.unwrap_or(false),
            body,
        })
    }
}

fn set<T, E: de::Error>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(leak_str(key)));
    }
    *slot = Some(value);
    Ok(())
}

// serde's error constructors want `&'static`; the set of keys is fixed and small.
fn leak(names: Vec<&'static str>) -> &'static [&'static str] {
    use std::sync::OnceLock;
    static EXPECTED: OnceLock<Vec<&'static str>> = OnceLock::new();
    EXPECTED.get_or_init(|| names)
}

fn leak_str(key: &str) -> &'static str {
    SHARED
        .iter()
        .find(|k| **k == key)
        .copied()
        .unwrap_or("field")
}

/// Reads the value under `key` as the `StepKind` variant named `key`.
struct KindSeed<'a> {
    key: &'a str,
}

impl<'de> DeserializeSeed<'de> for KindSeed<'_> {
    type Value = StepKind;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<StepKind, D::Error> {
        StepKind::deserialize(Keyed {
            key: self.key,
            value: deserializer,
        })
    }
}

/// A deserializer presenting `{key: value}` as an externally tagged enum.
struct Keyed<'a, D> {
    key: &'a str,
    value: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Keyed<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

impl<'de, 'a, D: Deserializer<'de>> de::EnumAccess<'de> for Keyed<'a, D> {
    type Error = D::Error;
    type Variant = Value<D>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Value<D>), D::Error> {
        let key: de::value::StrDeserializer<'a, D::Error> = self.key.into_deserializer();
        let variant = seed.deserialize(key)?;
        Ok((variant, Value(self.value)))
    }
}

struct Value<D>(D);

impl<'de, D: Deserializer<'de>> de::VariantAccess<'de> for Value<D> {
    type Error = D::Error;

    fn unit_variant(self) -> Result<(), D::Error> {
        de::IgnoredAny::deserialize(self.0).map(|_| ())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, D::Error> {
        seed.deserialize(self.0)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct("", fields, visitor)
    }
}

impl JsonSchema for StepEntry {
    fn schema_name() -> Cow<'static, str> {
        "StepEntry".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let shared = |generator: &mut SchemaGenerator| {
            let timeout = generator.subschema_for::<DurationSpec>();
            serde_json::json!({
                "name": { "type": "string", "description": "A name for reports; the step's description when absent." },
                "timeout": { "allOf": [timeout], "description": "Timeout of the step (of each step inside a block); the scenario's when absent." },
                "continueOnError": { "type": "boolean", "description": "Record a failure but carry on with the next step.", "default": false },
            })
        };
        // Each variant of StepKind's (externally tagged) schema, plus the shared fields.
        let kinds = StepKind::json_schema(generator);
        let variants = kinds
            .get("oneOf")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut one_of = Vec::new();
        for mut variant in variants {
            if let Some(props) = variant
                .get_mut("properties")
                .and_then(serde_json::Value::as_object_mut)
                && let serde_json::Value::Object(extra) = shared(generator)
            {
                props.extend(extra);
            }
            one_of.push(variant);
        }
        let steps = generator.subschema_for::<Vec<StepEntry>>();
        let mut block = shared(generator);
        let block_props = block.as_object_mut().expect("shared fields are an object");
        block_props.insert(
            "try".into(),
            serde_json::json!({ "allOf": [steps.clone()], "description": "Run in order until a step fails." }),
        );
        block_props.insert(
            "catch".into(),
            serde_json::json!({ "allOf": [steps.clone()], "description": "Run when a `try` step failed." }),
        );
        block_props.insert(
            "finally".into(),
            serde_json::json!({ "allOf": [steps], "description": "Always run." }),
        );
        one_of.push(serde_json::json!({
            "type": "object",
            "description": "A block: `try` runs in order until a step fails; then `catch` runs; `finally` always runs.",
            "properties": block,
            "required": ["try"],
            "additionalProperties": false,
        }));
        json_schema!({
            "description": "One step: an action (exactly one step kind as the key) or a `try`/`catch`/`finally` block.",
            "oneOf": one_of,
        })
    }
}
