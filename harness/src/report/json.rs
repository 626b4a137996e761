//! `--json FILE`: one JSON line per event, then a versioned summary ([`super::model`]).

use std::io::Write;

use super::ReportSink;
use super::model::{FORMAT_VERSION, ScenarioSummary, StepCounts, Summary};
use crate::event::{RunEvent, RunEventKind, StepResult};

/// Writes JSON lines to `W`.
pub struct JsonSink<W: Write + Send> {
    out: W,
    scenarios: Vec<ScenarioSummary>,
    counts: StepCounts,
}

impl<W: Write + Send> JsonSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out,
            scenarios: Vec::new(),
            counts: StepCounts::default(),
        }
    }

    /// The writer back (tests).
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> ReportSink for JsonSink<W> {
    fn event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")?;
        match &event.kind {
            RunEventKind::RunStarted { .. }
            | RunEventKind::StepStarted { .. }
            | RunEventKind::StepOutput { .. } => {}
            RunEventKind::ScenarioStarted { .. } => self.counts = StepCounts::default(),
            RunEventKind::StepFinished { result, .. } => match result {
                StepResult::Passed => self.counts.passed += 1,
                StepResult::Failed { .. } | StepResult::TimedOut { .. } => self.counts.failed += 1,
                StepResult::Error { .. } => self.counts.errors += 1,
                StepResult::Skipped => self.counts.skipped += 1,
            },
            RunEventKind::ScenarioFinished {
                scenario,
                result,
                duration,
            } => self.scenarios.push(ScenarioSummary {
                name: scenario.name.clone(),
                file: scenario.file.clone(),
                result: result.clone(),
                duration: (duration.as_secs_f64() * 1000.0).round() / 1000.0,
                steps: self.counts,
            }),
            RunEventKind::RunFinished { stats } => {
                let summary = Summary {
                    event: "summary",
                    format_version: FORMAT_VERSION,
                    stats: *stats,
                    exit_code: stats.exit_code(),
                    scenarios: std::mem::take(&mut self.scenarios),
                };
                serde_json::to_writer(&mut self.out, &summary)?;
                self.out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
