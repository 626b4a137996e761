//! The runner-report contract: [`RunEvent`]s, sent by the runner on a channel to one reporter
//! task. Owned data only, so sinks never reach back into the runner.

use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// One thing that happened during a run.
#[derive(Clone, Debug, Serialize)]
pub struct RunEvent {
    /// Wall-clock time.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Time since the run started.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
    /// What happened.
    #[serde(flatten)]
    pub kind: RunEventKind,
}

/// What happened.
#[derive(Clone, Debug, Serialize)]
#[serde(
    tag = "event",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RunEventKind {
    /// The run began.
    RunStarted {
        /// Scenarios selected.
        scenarios: usize,
    },
    /// A scenario began.
    ScenarioStarted {
        /// The scenario.
        scenario: ScenarioRef,
    },
    /// A step began.
    StepStarted {
        /// The scenario.
        scenario: ScenarioRef,
        /// The step.
        step: StepRef,
    },
    /// A step said something (script output, diagnostics).
    StepOutput {
        /// The scenario.
        scenario: ScenarioRef,
        /// The step.
        step: StepRef,
        /// Which stream.
        stream: OutputStream,
        /// The text.
        text: String,
    },
    /// A step ended.
    StepFinished {
        /// The scenario.
        scenario: ScenarioRef,
        /// The step.
        step: StepRef,
        /// How it ended.
        result: StepResult,
        /// How long it took.
        #[serde(serialize_with = "seconds")]
        duration: Duration,
    },
    /// A scenario ended.
    ScenarioFinished {
        /// The scenario.
        scenario: ScenarioRef,
        /// How it ended.
        result: ScenarioResult,
        /// How long it took.
        #[serde(serialize_with = "seconds")]
        duration: Duration,
    },
    /// The run ended.
    RunFinished {
        /// Totals.
        stats: RunStats,
    },
}

/// Which scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioRef {
    /// Position in the run, from 0.
    pub index: usize,
    /// The scenario's name.
    pub name: String,
    /// The file it came from.
    pub file: String,
}

/// Which step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRef {
    /// Where it sits: `3`, or `2.try.1` inside a block (positions from 1).
    pub path: String,
    /// Its name, or its description.
    pub name: String,
    /// Its YAML key (`setVaultSecret`), or `try` for a block.
    pub kind: String,
}

/// A step's output stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OutputStream {
    /// Standard output of a command.
    Stdout,
    /// Standard error of a command.
    Stderr,
    /// Diagnostics from the harness (object dumps, diffs).
    Log,
    /// What a measuring step measured (a table), shown whether it passed or not.
    Figures,
    /// The failure dump gathered when a step failed: the namespace's events and ESO's
    /// conditions, ESO's and Reloader's log lines, the fakes' audit records.
    Dump,
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StepResult {
    /// It passed.
    Passed,
    /// What it checked does not hold (JUnit `failure`).
    Failed {
        /// Why.
        reason: String,
        /// `continueOnError` was set, so the scenario carried on.
        tolerated: bool,
    },
    /// It ran out of time (JUnit `failure`).
    TimedOut {
        /// The limit.
        #[serde(serialize_with = "seconds")]
        after: Duration,
        /// `continueOnError` was set.
        tolerated: bool,
    },
    /// The harness could not do its job (JUnit `error`).
    Error {
        /// Why.
        message: String,
        /// `continueOnError` was set.
        tolerated: bool,
    },
    /// Not run, because an earlier step failed.
    Skipped,
}

impl StepResult {
    /// Whether the step makes its scenario fail.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Passed | Self::Skipped => false,
            Self::Failed { tolerated, .. }
            | Self::TimedOut { tolerated, .. }
            | Self::Error { tolerated, .. } => !tolerated,
        }
    }

    /// A short status word.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Passed => "PASS",
            Self::Failed { .. } => "FAIL",
            Self::TimedOut { .. } => "TIMEOUT",
            Self::Error { .. } => "ERROR",
            Self::Skipped => "SKIP",
        }
    }
}

/// How a scenario ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum ScenarioResult {
    /// Every step passed (or failed with `continueOnError`).
    Passed,
    /// A step failed.
    Failed {
        /// The first fatal step's reason.
        reason: String,
    },
    /// The scenario could not run (no cluster, bad world, harness error).
    Error {
        /// Why.
        message: String,
    },
}

/// Totals of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStats {
    /// Scenarios run.
    pub scenarios: usize,
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed.
    pub failed: usize,
    /// Scenarios that could not run.
    pub errors: usize,
}

impl RunStats {
    /// Counts one finished scenario.
    pub fn record(&mut self, result: &ScenarioResult) {
        self.scenarios += 1;
        match result {
            ScenarioResult::Passed => self.passed += 1,
            ScenarioResult::Failed { .. } => self.failed += 1,
            ScenarioResult::Error { .. } => self.errors += 1,
        }
    }

    /// `main`'s contract: 0 every scenario passed, 1 a scenario failed, 2 one could not run.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        if self.failed > 0 {
            1
        } else if self.errors > 0 {
            2
        } else {
            0
        }
    }
}

fn seconds<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    // Milliseconds are plenty for a report and keep snapshots short.
    serializer.serialize_f64((duration.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// The runner's end of the event channel; stamps each event with the time.
#[derive(Clone, Debug)]
pub struct EventSender {
    tx: mpsc::UnboundedSender<RunEvent>,
    started: Instant,
}

impl EventSender {
    /// A channel whose clock starts now.
    #[must_use]
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<RunEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Self {
                tx,
                started: Instant::now(),
            },
            rx,
        )
    }

    /// Sends `kind` stamped with now. A closed reporter is not the runner's problem.
    pub fn emit(&self, kind: RunEventKind) {
        let _ = self.tx.send(RunEvent {
            at: OffsetDateTime::now_utc(),
            elapsed: self.started.elapsed(),
            kind,
        });
    }
}
