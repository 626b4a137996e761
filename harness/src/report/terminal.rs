//! The live terminal report: a line per scenario start, one line per step with its status
//! and duration, the reason (and any output) under steps that did not pass, a line per
//! scenario result and a summary. Colours only when asked (the CLI asks on a TTY). With
//! scenarios running at once (`--jobs`) each scenario's lines are held back and printed as one
//! block when it finishes, so blocks never interleave.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use super::ReportSink;
use crate::event::{OutputStream, RunEvent, RunEventKind, ScenarioResult, StepRef, StepResult};

/// Prints to `W`.
pub struct TerminalSink<W: Write + Send> {
    out: W,
    color: bool,
    grouped: bool,
    /// Output of each scenario's running step, shown if the step does not pass.
    output: HashMap<usize, Vec<(OutputStream, String)>>,
    /// Each running scenario's lines so far, when grouped.
    blocks: HashMap<usize, String>,
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl<W: Write + Send> TerminalSink<W> {
    /// A sink writing to `out`, with ANSI colours when `color`.
    pub fn new(out: W, color: bool) -> Self {
        Self {
            out,
            color,
            grouped: false,
            output: HashMap::new(),
            blocks: HashMap::new(),
        }
    }

    /// Holds each scenario's lines back until it finishes (for runs with `--jobs` > 1).
    pub fn group_by_scenario(&mut self, grouped: bool) {
        self.grouped = grouped;
    }

    /// Writes `text` now, or into scenario `index`'s block when grouped.
    fn emit(&mut self, index: Option<usize>, text: &str) -> std::io::Result<()> {
        match index.filter(|_| self.grouped) {
            Some(index) => {
                self.blocks.entry(index).or_default().push_str(text);
                Ok(())
            }
            None => self.out.write_all(text.as_bytes()),
        }
    }

    /// The writer back (tests).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl<W: Write + Send> TerminalSink<W> {
    /// A finished step's line, with its reason and output when it did not pass.
    fn step_lines(
        &self,
        step: &StepRef,
        result: &StepResult,
        duration: Duration,
        output: Vec<(OutputStream, String)>,
    ) -> String {
        let style = match result {
            StepResult::Passed => GREEN,
            StepResult::Failed {
                tolerated: true, ..
            }
            | StepResult::TimedOut {
                tolerated: true, ..
            }
            | StepResult::Error {
                tolerated: true, ..
            }
            | StepResult::Skipped => YELLOW,
            StepResult::Failed { .. } | StepResult::TimedOut { .. } | StepResult::Error { .. } => {
                RED
            }
        };
        let label = self.paint(style, &format!("{:<7}", result.label()));
        let time = self.paint(DIM, &secs(duration));
        let mut text = format!("  {label} {:<12} {}  {time}\n", step.path, step.name);
        let detail = match result {
            StepResult::Passed | StepResult::Skipped => None,
            StepResult::Failed { reason, .. } => Some(reason.clone()),
            StepResult::TimedOut { after, .. } => Some(format!("timed out after {after:?}")),
            StepResult::Error { message, .. } => Some(format!("error: {message}")),
        };
        let (figures, output): (Vec<_>, Vec<_>) = output
            .into_iter()
            .partition(|(stream, _)| *stream == OutputStream::Figures);
        for (_, shown) in figures {
            let _ = writeln!(text, "{}", indent(shown.trim_end(), "          "));
        }
        if let Some(detail) = detail {
            let _ = writeln!(text, "{}", indent(&detail, "          "));
            for (stream, shown) in output {
                let tag = match stream {
                    OutputStream::Stdout => "stdout",
                    OutputStream::Stderr => "stderr",
                    OutputStream::Log => "log",
                    OutputStream::Dump => "dump",
                    OutputStream::Figures => unreachable!("printed above"),
                };
                let shown = indent(shown.trim_end(), &format!("          {tag}| "));
                let _ = writeln!(text, "{}", self.paint(DIM, &shown));
            }
        }
        text
    }
}

impl<W: Write + Send> ReportSink for TerminalSink<W> {
    fn event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        match &event.kind {
            RunEventKind::RunStarted { scenarios } => {
                let plural = if *scenarios == 1 { "" } else { "s" };
                self.emit(None, &format!("running {scenarios} scenario{plural}\n"))?;
            }
            RunEventKind::ScenarioStarted { scenario } => {
                let name = self.paint(BOLD, &scenario.name);
                let file = self.paint(DIM, &format!("({})", scenario.file));
                self.emit(Some(scenario.index), &format!("\n{name} {file}\n"))?;
            }
            RunEventKind::StepStarted { scenario, .. } => {
                self.output.remove(&scenario.index);
            }
            RunEventKind::StepOutput {
                scenario,
                stream,
                text,
                ..
            } => {
                self.output
                    .entry(scenario.index)
                    .or_default()
                    .push((*stream, text.clone()));
            }
            RunEventKind::StepFinished {
                scenario,
                step,
                result,
                duration,
            } => {
                let output = self.output.remove(&scenario.index).unwrap_or_default();
                let text = self.step_lines(step, result, *duration, output);
                self.emit(Some(scenario.index), &text)?;
            }
            RunEventKind::ScenarioFinished {
                scenario,
                result,
                duration,
            } => {
                let line = match result {
                    ScenarioResult::Passed => self.paint(GREEN, "passed"),
                    ScenarioResult::Failed { .. } => self.paint(RED, "FAILED"),
                    ScenarioResult::Error { message } => {
                        self.paint(RED, &format!("ERROR (could not run: {message})"))
                    }
                };
                let text = format!("{} {line} in {}\n", scenario.name, secs(*duration));
                self.emit(Some(scenario.index), &text)?;
                if let Some(block) = self.blocks.remove(&scenario.index) {
                    self.out.write_all(block.as_bytes())?;
                    self.out.flush()?;
                }
            }
            RunEventKind::RunFinished { stats } => {
                let text = format!(
                    "\n{} scenarios: {} passed, {} failed, {} could not run ({})\n",
                    stats.scenarios,
                    stats.passed,
                    stats.failed,
                    stats.errors,
                    secs(event.elapsed)
                );
                self.emit(None, &text)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        // A run cut short still shows what its unfinished scenarios did, in run order.
        let mut unfinished: Vec<(usize, String)> = self.blocks.drain().collect();
        unfinished.sort_unstable_by_key(|(index, _)| *index);
        for (_, block) in unfinished {
            self.out.write_all(block.as_bytes())?;
        }
        self.out.flush()
    }
}
