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
    let measure = step(
        "3",
        "measure 2 rotations of db-password through ExternalSecret db (force-sync)",
        "measureRotations",
    );
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
        RunEventKind::StepStarted {
            scenario: passing.clone(),
            step: measure.clone(),
        },
        // Figures show whether the step passed or not.
        RunEventKind::StepOutput {
            scenario: passing.clone(),
            step: measure.clone(),
            stream: OutputStream::Figures,
            text: "2 rotations of db-password (force-sync), milliseconds\nend to end  150.0  180.0  180.0\n".into(),
        },
        RunEventKind::StepFinished {
            scenario: passing.clone(),
            step: measure,
            result: StepResult::Passed,
            duration: Duration::from_millis(331),
        },
        RunEventKind::ScenarioFinished {
            scenario: passing,
            result: ScenarioResult::Passed,
            duration: Duration::from_millis(751),
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
        RunEventKind::StepOutput {
            scenario: failing.clone(),
            step: check.clone(),
            stream: OutputStream::Dump,
            text: failure_dump(),
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

/// The dump of a step that failed because the app holds the wrong role, as
/// `runner::dump` renders it (ids as a real run's, but fixed).
fn failure_dump() -> String {
    let app = "0b1c2d3e-0000-4000-8000-000000000001";
    crate::runner::dump::Dump {
        namespace: "h-expired-client-secret-1a2b".into(),
        cluster: Ok(vec![
            "event Warning UpdateFailed ExternalSecret/db (x3): error processing spec.data[0] \
             (key: db-password), err: ForbiddenByRbac"
                .into(),
            "ExternalSecret/db: Ready=False SecretSyncedError: could not get secret data from \
             provider"
                .into(),
        ]),
        eso_log: Ok(vec![
            "error Reconciler error controller=externalsecret name=db: error processing \
             spec.data[0] (key: db-password), err: ForbiddenByRbac (x3)"
                .into(),
        ]),
        reloader_log: None,
        akv_audit: vec![format!(
            "GET GetSecret my-key-vault-1a2b/db-password -> 403 (appid {app}) (x3)"
        )],
        aad_audit: vec![format!(
            "v2 client_secret client {app} for https://vault.azure.net/.default -> success"
        )],
    }
    .render()
}

fn feed(sink: impl ReportSink + 'static) {
    feed_events(sink, events());
}

fn feed_events(sink: impl ReportSink + 'static, events: Vec<RunEvent>) {
    let mut reporter = Reporter::new();
    reporter.add(sink);
    for event in events {
        reporter.event(&event).unwrap();
    }
    reporter.finish().unwrap();
}

/// [`events`] as two jobs would send them: the first two scenarios run at once, their events
/// interleaved, and the second finishes first.
fn parallel_events() -> Vec<RunEvent> {
    let all = events();
    let scenario_of = |e: &RunEvent| match &e.kind {
        RunEventKind::ScenarioStarted { scenario }
        | RunEventKind::StepStarted { scenario, .. }
        | RunEventKind::StepOutput { scenario, .. }
        | RunEventKind::StepFinished { scenario, .. }
        | RunEventKind::ScenarioFinished { scenario, .. } => Some(scenario.index),
        RunEventKind::RunStarted { .. } | RunEventKind::RunFinished { .. } => None,
    };
    let of = |index| -> Vec<RunEvent> {
        all.iter()
            .filter(|e| scenario_of(e) == Some(index))
            .cloned()
            .collect()
    };
    let (first, second) = (of(0), of(1));
    let mut out = vec![all[0].clone()];
    // The first scenario's finish waits until the second has finished.
    let (first_body, first_end) = first.split_at(first.len() - 1);
    let mut a = first_body.iter();
    let mut b = second.iter();
    loop {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y).cloned()),
        }
    }
    out.extend(first_end.iter().cloned());
    out.extend(of(2));
    out.push(all.last().unwrap().clone());
    out
}

#[test]
fn terminal_report_prints_each_scenario_as_one_block_when_grouped() {
    let out = Shared::default();
    let mut sink = TerminalSink::new(out.clone(), false);
    sink.group_by_scenario(true);
    feed_events(sink, parallel_events());
    let text = out.text();
    // Blocks in the order scenarios finished, each whole.
    let second = text.find("\nexpired client secret (").unwrap();
    let first = text.find("\nrotate db password (").unwrap();
    assert!(second < first, "{text}");
    assert!(
        !text[second..first].contains("rotate db password"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn junit_and_json_keep_run_order_whatever_order_scenarios_finish_in() {
    let junit = Shared::default();
    feed_events(JunitSink::new(junit.clone()), parallel_events());
    let xml = junit.text();
    let rotate = xml.find("testsuite name=\"rotate db password\"").unwrap();
    let expired = xml
        .find("testsuite name=\"expired client secret\"")
        .unwrap();
    assert!(rotate < expired, "{xml}");
    let sequential = Shared::default();
    feed(JunitSink::new(sequential.clone()));
    assert_eq!(
        suites_without_times(&xml),
        suites_without_times(&sequential.text())
    );

    let json = Shared::default();
    feed_events(JsonSink::new(json.clone()), parallel_events());
    let text = json.text();
    let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let names: Vec<&str> = summary["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["rotate db password", "expired client secret", "eso sync"]
    );
    assert_eq!(summary["scenarios"][1]["steps"]["failed"], 2);
    let dump = summary["scenarios"][1]["dump"].as_str().unwrap();
    assert!(
        dump.contains("-> 403") && dump.contains("ForbiddenByRbac"),
        "{dump}"
    );
    assert!(summary["scenarios"][0].get("dump").is_none());
}

/// The JUnit report with the run's and suites' times removed (the event times differ).
fn suites_without_times(xml: &str) -> String {
    xml.lines()
        .filter(|l| !l.contains("<testsuites") && !l.contains("timestamp"))
        .map(|l| {
            l.split(' ')
                .filter(|w| !w.starts_with("time="))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
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
