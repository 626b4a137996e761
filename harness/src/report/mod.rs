//! Reports: one [`Reporter`] task receives every [`RunEvent`] and passes it to independent
//! [`ReportSink`]s: the live terminal, JUnit XML and JSON lines.

mod json;
mod junit;
pub mod model;
mod terminal;

use tokio::sync::mpsc;

use crate::event::RunEvent;

pub use json::JsonSink;
pub use junit::JunitSink;
pub use terminal::TerminalSink;

/// One output format.
pub trait ReportSink: Send {
    /// Sees one event.
    fn event(&mut self, event: &RunEvent) -> std::io::Result<()>;

    /// The run is over (after `RunFinished`, or when the runner stopped early).
    fn finish(&mut self) -> std::io::Result<()>;
}

/// Fans events out to its sinks.
#[derive(Default)]
pub struct Reporter {
    sinks: Vec<Box<dyn ReportSink>>,
}

impl Reporter {
    /// A reporter with no sinks.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sink.
    pub fn add(&mut self, sink: impl ReportSink + 'static) -> &mut Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Feeds one event to every sink.
    pub fn event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        for sink in &mut self.sinks {
            sink.event(event)?;
        }
        Ok(())
    }

    /// Finishes every sink.
    pub fn finish(&mut self) -> std::io::Result<()> {
        for sink in &mut self.sinks {
            sink.finish()?;
        }
        Ok(())
    }

    /// Consumes events until the channel closes (the reporter task).
    pub async fn consume(
        mut self,
        mut rx: mpsc::UnboundedReceiver<RunEvent>,
    ) -> std::io::Result<()> {
        while let Some(event) = rx.recv().await {
            self.event(&event)?;
        }
        self.finish()
    }
}

#[cfg(test)]
mod tests;
