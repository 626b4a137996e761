//! `--junit FILE`: JUnit XML through quick-junit. A scenario is a `testsuite`, a step a
//! `testcase`; a failed assertion or timeout is a `failure`, a harness error an `error`, and
//! step output rides along as `system-out`/`system-err`. Written at `RunFinished`.

use std::io::Write;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::ReportSink;
use crate::event::{OutputStream, RunEvent, RunEventKind, ScenarioResult, StepResult};

/// Builds the report event by event and writes it to `W` at the end.
pub struct JunitSink<W: Write + Send> {
    out: Option<W>,
    report: Report,
    suite: Option<TestSuite>,
    stdout: String,
    stderr: String,
}

impl<W: Write + Send> JunitSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Some(out),
            report: Report::new("harness"),
            suite: None,
            stdout: String::new(),
            stderr: String::new(),
        }
    }

    fn write(&mut self) -> std::io::Result<()> {
        if let Some(mut out) = self.out.take() {
            self.report
                .serialize(&mut out)
                .map_err(std::io::Error::other)?;
            out.flush()?;
        }
        Ok(())
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
                let mut suite = TestSuite::new(scenario.name.as_str());
                suite.add_property(("file", scenario.file.as_str()));
                self.suite = Some(suite);
            }
            RunEventKind::StepOutput { stream, text, .. } => {
                let buffer = match stream {
                    OutputStream::Stdout | OutputStream::Log => &mut self.stdout,
                    OutputStream::Stderr => &mut self.stderr,
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
                if !self.stdout.is_empty() {
                    case.set_system_out(std::mem::take(&mut self.stdout));
                }
                if !self.stderr.is_empty() {
                    case.set_system_err(std::mem::take(&mut self.stderr));
                }
                if let Some(suite) = &mut self.suite {
                    suite.add_test_case(case);
                }
            }
            RunEventKind::ScenarioFinished {
                scenario,
                result,
                duration,
            } => {
                let mut suite = self
                    .suite
                    .take()
                    .unwrap_or_else(|| TestSuite::new(scenario.name.as_str()));
                // A scenario that could not start has no steps; say why in a case of its own.
                if let ScenarioResult::Error { message } = result {
                    let mut case =
                        TestCase::new("setup", status(NonSuccessKind::Error, message, "harness"));
                    case.set_classname(scenario.name.as_str());
                    suite.add_test_case(case);
                }
                suite.set_time(*duration);
                self.report.add_test_suite(suite);
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
