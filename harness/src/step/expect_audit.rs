//! `expectAudit`: counts fake-akv audit entries since the scenario started (e.g. how many
//! times ESO read a secret), polling until the count holds or the step times out.

use std::ops::ControlFlow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{References, Step, StepContext, StepError, StepOutcome};

/// Counts Key Vault requests for one secret, or for any, in the audit log.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectAudit {
    /// The vault; the scenario's first vault when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// The secret name; requests for any object of the vault when absent (e.g. every 429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The swagger operationId (default `GetSecret`).
    #[serde(default = "default_operation")]
    pub operation: String,
    /// Only requests answered with this HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Exactly this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// At least this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<usize>,
    /// At most this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<usize>,
}

fn default_operation() -> String {
    "GetSecret".into()
}

impl ExpectAudit {
    fn holds(&self, n: usize) -> bool {
        self.count.is_none_or(|c| n == c)
            && self.at_least.is_none_or(|c| n >= c)
            && self.at_most.is_none_or(|c| n <= c)
    }

    fn wanted(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.count {
            parts.push(format!("exactly {c}"));
        }
        if let Some(c) = self.at_least {
            parts.push(format!("at least {c}"));
        }
        if let Some(c) = self.at_most {
            parts.push(format!("at most {c}"));
        }
        parts.join(" and ")
    }
}

impl Step for ExpectAudit {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        if self.count.is_none() && self.at_least.is_none() && self.at_most.is_none() {
            return Err(StepError::Invalid(
                "expectAudit needs count, atLeast or atMost".into(),
            ));
        }
        let vault = cx.vault(self.vault.as_deref())?.spec().name.clone();
        let looked = cx
            .poll(async || {
                let n = cx
                    .bench
                    .akv()
                    .state()
                    .audit()
                    .since(cx.audit_mark)
                    .iter()
                    .filter(|e| {
                        e.is(&vault, &self.operation, self.secret.as_deref())
                            && self.status.is_none_or(|s| s == e.status)
                    })
                    .count();
                Ok(if self.holds(n) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(n)
                })
            })
            .await?;
        Ok(match looked {
            Ok(()) => StepOutcome::Passed,
            Err(n) => StepOutcome::failed(format!(
                "{} {} of {}{}: wanted {}, saw {n}",
                self.operation,
                if n == 1 { "request" } else { "requests" },
                match &self.secret {
                    Some(secret) => format!("{vault}/{secret}"),
                    None => format!("any secret in {vault}"),
                },
                self.status
                    .map(|s| format!(" answered {s}"))
                    .unwrap_or_default(),
                self.wanted()
            )),
        })
    }

    fn describe(&self) -> String {
        format!(
            "expect {} {} of {}",
            self.wanted(),
            self.operation,
            self.secret.as_deref().unwrap_or("any secret")
        )
    }

    fn references(&self) -> References<'_> {
        References {
            vault: self.vault.as_deref(),
            ..References::default()
        }
    }
}
