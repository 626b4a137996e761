//! `--json FILE`: one JSON line per event, then a versioned summary ([`super::model`]).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use super::ReportSink;
use super::model::{FORMAT_VERSION, ScenarioSummary, StepCounts, Summary};
use crate::event::{OutputStream, RunEvent, RunEventKind, StepResult};

/// Writes JSON lines to `W`.
pub struct JsonSink<W: Write + Send> {
    out: W,
    /// Finished scenarios by index, so the summary lists them in run order.
    scenarios: BTreeMap<usize, ScenarioSummary>,
    /// Step totals and the failure dump of each running scenario.
    running: HashMap<usize, (StepCounts, Option<String>)>,
}

impl<W: Write + Send> JsonSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out,
            scenarios: BTreeMap::new(),
            running: HashMap::new(),
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
            | RunEventKind::StepOutput {
                stream:
                    OutputStream::Stdout
                    | OutputStream::Stderr
                    | OutputStream::Log
                    | OutputStream::Figures,
                ..
            } => {}
            RunEventKind::StepOutput {
                scenario,
                stream: OutputStream::Dump,
                text,
                ..
            } => {
                self.running.entry(scenario.index).or_default().1 = Some(text.clone());
            }
            RunEventKind::ScenarioStarted { scenario } => {
                self.running.insert(scenario.index, Default::default());
            }
            RunEventKind::StepFinished {
                scenario, result, ..
            } => {
                let counts = &mut self.running.entry(scenario.index).or_default().0;
                match result {
                    StepResult::Passed => counts.passed += 1,
                    StepResult::Failed { .. } | StepResult::TimedOut { .. } => counts.failed += 1,
                    StepResult::Error { .. } => counts.errors += 1,
                    StepResult::Skipped => counts.skipped += 1,
                }
            }
            RunEventKind::ScenarioFinished {
                scenario,
                result,
                duration,
            } => {
                let (steps, dump) = self.running.remove(&scenario.index).unwrap_or_default();
                self.scenarios.insert(
                    scenario.index,
                    ScenarioSummary {
                        name: scenario.name.clone(),
                        file: scenario.file.clone(),
                        result: result.clone(),
                        duration: (duration.as_secs_f64() * 1000.0).round() / 1000.0,
                        steps,
                        dump,
                    },
                );
            }
            RunEventKind::RunFinished { stats } => {
                let summary = Summary {
                    event: "summary",
                    format_version: FORMAT_VERSION,
                    stats: *stats,
                    exit_code: stats.exit_code(),
                    scenarios: std::mem::take(&mut self.scenarios).into_values().collect(),
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
