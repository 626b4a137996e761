//! The live terminal report: a line per scenario start, one line per step with its status
//! and duration, the reason (and any output) under steps that did not pass, a line per
//! scenario result and a summary. Colours only when asked (the CLI asks on a TTY).

use std::io::Write;
use std::time::Duration;

use super::ReportSink;
use crate::event::{OutputStream, RunEvent, RunEventKind, ScenarioResult, StepResult};

/// Prints to `W`.
pub struct TerminalSink<W: Write + Send> {
    out: W,
    color: bool,
    output: Vec<(OutputStream, String)>,
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
            output: Vec::new(),
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

impl<W: Write + Send> ReportSink for TerminalSink<W> {
    fn event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        match &event.kind {
            RunEventKind::RunStarted { scenarios } => {
                let plural = if *scenarios == 1 { "" } else { "s" };
                writeln!(self.out, "running {scenarios} scenario{plural}")?;
            }
            RunEventKind::ScenarioStarted { scenario } => {
                let name = self.paint(BOLD, &scenario.name);
                let file = self.paint(DIM, &format!("({})", scenario.file));
                writeln!(self.out, "\n{name} {file}")?;
            }
            RunEventKind::StepStarted { .. } => self.output.clear(),
            RunEventKind::StepOutput { stream, text, .. } => {
                self.output.push((*stream, text.clone()));
            }
            RunEventKind::StepFinished {
                step,
                result,
                duration,
                ..
            } => {
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
                    StepResult::Failed { .. }
                    | StepResult::TimedOut { .. }
                    | StepResult::Error { .. } => RED,
                };
                let label = self.paint(style, &format!("{:<7}", result.label()));
                let time = self.paint(DIM, &secs(*duration));
                writeln!(
                    self.out,
                    "  {label} {:<12} {}  {time}",
                    step.path, step.name
                )?;
                let detail = match result {
                    StepResult::Passed | StepResult::Skipped => None,
                    StepResult::Failed { reason, .. } => Some(reason.clone()),
                    StepResult::TimedOut { after, .. } => {
                        Some(format!("timed out after {after:?}"))
                    }
                    StepResult::Error { message, .. } => Some(format!("error: {message}")),
                };
                if let Some(detail) = detail {
                    writeln!(self.out, "{}", indent(&detail, "          "))?;
                    for (stream, text) in std::mem::take(&mut self.output) {
                        let tag = match stream {
                            OutputStream::Stdout => "stdout",
                            OutputStream::Stderr => "stderr",
                            OutputStream::Log => "log",
                        };
                        let shown = indent(text.trim_end(), &format!("          {tag}| "));
                        writeln!(self.out, "{}", self.paint(DIM, &shown))?;
                    }
                }
                self.output.clear();
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
                writeln!(self.out, "{} {line} in {}", scenario.name, secs(*duration))?;
            }
            RunEventKind::RunFinished { stats } => {
                writeln!(
                    self.out,
                    "\n{} scenarios: {} passed, {} failed, {} could not run ({})",
                    stats.scenarios,
                    stats.passed,
                    stats.failed,
                    stats.errors,
                    secs(event.elapsed)
                )?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
