//! The JSON report format (`--json`): one line per event (the event as serialised by
//! [`crate::event`]), then one summary line shaped by [`Summary`]. Consumers check
//! `formatVersion` before reading further.

use serde::Serialize;

use crate::event::{RunStats, ScenarioResult};

/// The version of this format. Bump it when a field changes meaning or goes away.
pub const FORMAT_VERSION: u32 = 1;

/// The last line of the JSON report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Always `"summary"`, so line readers can tell it from events.
    pub event: &'static str,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Totals.
    pub stats: RunStats,
    /// `harness run`'s exit code.
    pub exit_code: u8,
    /// Every scenario, in run order (file order, however they finished).
    pub scenarios: Vec<ScenarioSummary>,
}

/// One scenario in the summary.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioSummary {
    /// Name.
    pub name: String,
    /// File.
    pub file: String,
    /// How it ended.
    pub result: ScenarioResult,
    /// Seconds.
    pub duration: f64,
    /// Steps that ran, passed, failed (incl. timeouts), errored and were skipped.
    pub steps: StepCounts,
    /// The failure dump of its failed step (namespace events and conditions, ESO and
    /// Reloader log lines, the fakes' audit records for its principals), if one failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dump: Option<String>,
}

/// Step totals of a scenario.
#[derive(Clone, Copy, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepCounts {
    /// Passed.
    pub passed: usize,
    /// Failed or timed out.
    pub failed: usize,
    /// Could not run.
    pub errors: usize,
    /// Not run.
    pub skipped: usize,
}
