//! `--junit FILE`: JUnit XML through quick-junit. A scenario is a `testsuite`, a step a
//! `testcase`; a failed assertion or timeout is a `failure`, a harness error an `error`, and
//! step output rides along as `system-out`/`system-err` (a failed step's dump in
//! `system-out`). Written at `RunFinished`, suites in run order however scenarios finished.

use std::collections::BTreeMap;
use std::io::Write;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::ReportSink;
use crate::event::{OutputStream, RunEvent, RunEventKind, ScenarioRef, ScenarioResult, StepResult};

/// Builds the report event by event and writes it to `W` at the end.
pub struct JunitSink<W: Write + Send> {
    out: Option<W>,
    report: Report,
    /// Suites by scenario index, so the report lists them in run order.
    suites: BTreeMap<usize, Running>,
}

/// A scenario's suite and the output of its running step.
struct Running {
    suite: TestSuite,
    stdout: String,
    stderr: String,
}

impl<W: Write + Send> JunitSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Some(out),
            report: Report::new("harness"),
            suites: BTreeMap::new(),
        }
    }

    fn write(&mut self) -> std::io::Result<()> {
        if let Some(mut out) = self.out.take() {
            // Scenarios cut short by a signal are reported as far as they got.
            for (_, running) in std::mem::take(&mut self.suites) {
                self.report.add_test_suite(running.suite);
            }
            self.report
                .serialize(&mut out)
                .map_err(std::io::Error::other)?;
            out.flush()?;
        }
        Ok(())
    }
}

impl<W: Write + Send> JunitSink<W> {
    /// The suite of `scenario`, begun at its first event.
    fn running(&mut self, scenario: &ScenarioRef) -> &mut Running {
        self.suites
            .entry(scenario.index)
            .or_insert_with(|| Running {
                suite: TestSuite::new(scenario.name.as_str()),
                stdout: String::new(),
                stderr: String::new(),
            })
    }
}

fn status(kind: NonSuccessKind, message: &str, kind_name: &str) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    status.set_message(message.lines().next().unwrap_or_default());
    status.set_description(message);
    status.set_type(kind_name);
    status
}

impl<W: Write + Send> ReportSink for JunitSink<W> {
    fn event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        match &event.kind {
            RunEventKind::RunStarted { .. } | RunEventKind::StepStarted { .. } => {}
            RunEventKind::ScenarioStarted { scenario } => {
                self.running(scenario)
                    .suite
                    .add_property(("file", scenario.file.as_str()));
            }
            RunEventKind::StepOutput {
                scenario,
                stream,
                text,
                ..
            } => {
                let running = self.running(scenario);
                let buffer = match stream {
                    OutputStream::Stdout
                    | OutputStream::Log
                    | OutputStream::Dump
                    | OutputStream::Figures => &mut running.stdout,
                    OutputStream::Stderr => &mut running.stderr,
                };
                buffer.push_str(text);
                if !text.ends_with('\n') {
                    buffer.push('\n');
                }
            }
            RunEventKind::StepFinished {
                scenario,
                step,
                result,
                duration,
            } => {
                let status = match result {
                    StepResult::Passed => TestCaseStatus::success(),
                    StepResult::Skipped => TestCaseStatus::skipped(),
                    StepResult::Failed { reason, .. } => {
                        status(NonSuccessKind::Failure, reason, "assertion")
                    }
                    StepResult::TimedOut { after, .. } => status(
                        NonSuccessKind::Failure,
                        &format!("timed out after {after:?}"),
                        "timeout",
                    ),
                    StepResult::Error { message, .. } => {
                        status(NonSuccessKind::Error, message, "harness")
                    }
                };
                let mut case = TestCase::new(format!("{} {}", step.path, step.name), status);
                case.set_classname(format!("{}.{}", scenario.name, step.kind));
                case.set_time(*duration);
                let running = self.running(scenario);
                if !running.stdout.is_empty() {
                    case.set_system_out(std::mem::take(&mut running.stdout));
                }
                if !running.stderr.is_empty() {
                    case.set_system_err(std::mem::take(&mut running.stderr));
                }
                running.suite.add_test_case(case);
            }
            RunEventKind::ScenarioFinished {
                scenario,
                result,
                duration,
            } => {
                let running = self.running(scenario);
                // A scenario that could not start has no steps; say why in a case of its own.
                if let ScenarioResult::Error { message } = result {
                    let mut case =
                        TestCase::new("setup", status(NonSuccessKind::Error, message, "harness"));
                    case.set_classname(scenario.name.as_str());
                    running.suite.add_test_case(case);
                }
                running.suite.set_time(*duration);
            }
            RunEventKind::RunFinished { .. } => {
                self.report.set_time(event.elapsed);
                self.write()?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        // A run cut short still leaves a report.
        self.write()
    }
}
