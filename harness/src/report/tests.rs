use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::macros::datetime;

use super::*;
use crate::event::{
    OutputStream, RunEvent, RunEventKind, RunStats, ScenarioRef, ScenarioResult, StepRef,
    StepResult,
};

/// A writer the test can read after the sink took it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// A run with a frozen clock: every event 250ms after the previous one.
#[allow(clippy::too_many_lines)] // One literal run, read top to bottom.
fn events() -> Vec<RunEvent> {
    let passing = ScenarioRef {
        index: 0,
        name: "rotate db password".into(),
        file: "scenarios/rotate.yaml".into(),
    };
    let failing = ScenarioRef {
        index: 1,
        name: "expired client secret".into(),
        file: "scenarios/expired.yaml".into(),
    };
    let blocked = ScenarioRef {
        index: 2,
        name: "eso sync".into(),
        file: "scenarios/eso.yaml".into(),
    };
    let step = |path: &str, name: &str, kind: &str| StepRef {
        path: path.into(),
        name: name.into(),
        kind: kind.into(),
    };
    let set = step("1", "set vault secret db-password", "setVaultSecret");
    let read = step("2", "script: sh kv.sh db-password", "script");
    let expire = step(
        "1.try.1",
        "expire client secret of eso-app",
        "expireClientSecret",
    );
    let check = step("1.try.2", "expect Secret db-password", "expectSecret");
    let dump = step("1.catch.1", "script: kubectl get es -o yaml", "script");
    let clear = step("1.finally.1", "clear Key Vault faults", "clearFaults");
    let after = step("2", "sleep 1s", "sleep");
    let kinds = vec![
        RunEventKind::RunStarted { scenarios: 3 },
        RunEventKind::ScenarioStarted {
            scenario: passing.clone(),
        },
        RunEventKind::StepStarted {
            scenario: passing.clone(),
            step: set.clone(),
        },
        RunEventKind::StepFinished {
            scenario: passing.clone(),
            step: set,
            result: StepResult::Passed,
            duration: Duration::from_millis(3),
        },
        RunEventKind::StepStarted {
            scenario: passing.clone(),
            step: read.clone(),
        },
        RunEventKind::StepOutput {
            scenario: passing.clone(),
            step: read.clone(),
            stream: OutputStream::Stdout,
            text: "v2\n".into(),
        },
        RunEventKind::StepFinished {
            scenario: passing.clone(),
            step: read,
            result: StepResult::Passed,
            duration: Duration::from_millis(412),
        },
        RunEventKind::ScenarioFinished {
            scenario: passing,
            result: ScenarioResult::Passed,
            duration: Duration::from_millis(420),
        },
        RunEventKind::ScenarioStarted {
            scenario: failing.clone(),
        },
        RunEventKind::StepStarted {
            scenario: failing.clone(),
            step: expire.clone(),
        },
        RunEventKind::StepFinished {
            scenario: failing.clone(),
            step: expire,
            result: StepResult::Passed,
            duration: Duration::from_millis(1),
        },
        RunEventKind::StepStarted {
            scenario: failing.clone(),
            step: check.clone(),
        },
        RunEventKind::StepOutput {
            scenario: failing.clone(),
            step: check.clone(),
            stream: OutputStream::Log,
            text: "last seen Secret db-password:\ndata:\n  password: djE=\n".into(),
        },
        RunEventKind::StepFinished {
            scenario: failing.clone(),
            step: check,
            result: StepResult::Failed {
                reason: "Secret ns/db-password:\n  password: wanted \"v2\", got \"v1\"".into(),
                tolerated: false,
            },
            duration: Duration::from_secs(30),
        },
        RunEventKind::StepStarted {
            scenario: failing.clone(),
            step: dump.clone(),
        },
        RunEventKind::StepOutput {
            scenario: failing.clone(),
            step: dump.clone(),
            stream: OutputStream::Stderr,
            text: "error: the server doesn't have a resource type \"es\"".into(),
        },
        RunEventKind::StepFinished {
            scenario: failing.clone(),
            step: dump,
            result: StepResult::Error {
                message: "spawn sh: No such file or directory".into(),
                tolerated: false,
            },
            duration: Duration::from_millis(2),
        },
        RunEventKind::StepStarted {
            scenario: failing.clone(),
            step: clear.clone(),
        },
        RunEventKind::StepFinished {
            scenario: failing.clone(),
            step: clear,
            result: StepResult::TimedOut {
                after: Duration::from_secs(5),
                tolerated: true,
            },
            duration: Duration::from_secs(7),
        },
        RunEventKind::StepFinished {
            scenario: failing.clone(),
            step: after,
            result: StepResult::Skipped,
            duration: Duration::ZERO,
        },
        RunEventKind::ScenarioFinished {
            scenario: failing,
            result: ScenarioResult::Failed {
                reason: "step 1.try.2 (expect Secret db-password): Secret ns/db-password: ..."
                    .into(),
            },
            duration: Duration::from_millis(37_010),
        },
        RunEventKind::ScenarioStarted {
            scenario: blocked.clone(),
        },
        RunEventKind::ScenarioFinished {
            scenario: blocked,
            result: ScenarioResult::Error {
                message: "needs a Kubernetes cluster: the run has none".into(),
            },
            duration: Duration::ZERO,
        },
        RunEventKind::RunFinished {
            stats: RunStats {
                scenarios: 3,
                passed: 1,
                failed: 1,
                errors: 1,
            },
        },
    ];
    let start = datetime!(2026-01-02 03:04:05 UTC);
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| {
            let elapsed = Duration::from_millis(250 * i as u64);
            RunEvent {
                at: start + elapsed,
                elapsed,
                kind,
            }
        })
        .collect()
}

fn feed(sink: impl ReportSink + 'static) {
    let mut reporter = Reporter::new();
    reporter.add(sink);
    for event in events() {
        reporter.event(&event).unwrap();
    }
    reporter.finish().unwrap();
}

#[test]
fn terminal_report_is_plain_without_a_tty() {
    let out = Shared::default();
    feed(TerminalSink::new(out.clone(), false));
    insta::assert_snapshot!(out.text());
}

#[test]
fn terminal_report_is_coloured_on_a_tty() {
    let out = Shared::default();
    feed(TerminalSink::new(out.clone(), true));
    let text = out.text();
    assert!(text.contains("\x1b[32mPASS"));
    assert!(text.contains("\x1b[31mFAIL"));
    insta::assert_snapshot!(text.replace('\x1b', "<ESC>"));
}

#[test]
fn junit_report_has_a_suite_per_scenario_and_a_case_per_step() {
    let out = Shared::default();
    feed(JunitSink::new(out.clone()));
    insta::assert_snapshot!(out.text());
}

#[test]
fn json_report_is_one_line_per_event_and_a_summary() {
    let out = Shared::default();
    feed(JsonSink::new(out.clone()));
    let text = out.text();
    assert_eq!(text.lines().count(), events().len() + 1);
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    insta::assert_snapshot!(text);
}

#[test]
fn exit_code_follows_the_stats() {
    let stats = |passed, failed, errors| RunStats {
        scenarios: passed + failed + errors,
        passed,
        failed,
        errors,
    };
    assert_eq!(stats(2, 0, 0).exit_code(), 0);
    assert_eq!(stats(1, 1, 0).exit_code(), 1);
    assert_eq!(stats(1, 1, 1).exit_code(), 1);
    assert_eq!(stats(1, 0, 1).exit_code(), 2);
}
