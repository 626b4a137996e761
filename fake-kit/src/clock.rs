//! A wall clock that scenarios can move forward or freeze.
//!
//! Every expiry decision in the fakes (client secrets, tokens, soft-delete purge dates) reads
//! this clock instead of the system time, so a test advances an hour in a microsecond.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// A cheap-to-clone handle on a shared clock: system time plus an offset, optionally frozen.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    inner: Arc<Mutex<ClockState>>,
}

#[derive(Debug, Default)]
struct ClockState {
    offset: Duration,
    frozen_at: Option<OffsetDateTime>,
}

impl Clock {
    /// A clock that follows system time.
    #[must_use]
    pub fn system() -> Self {
        Self::default()
    }

    /// The current time, in UTC.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        let state = self.inner.lock().expect("clock lock poisoned");
        state
            .frozen_at
            .unwrap_or_else(|| OffsetDateTime::now_utc() + state.offset)
    }

    /// The current time as Unix seconds, the unit Azure puts on the wire.
    #[must_use]
    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Moves the clock forward (or back, with a negative duration). A frozen clock stays frozen
    /// at the new instant.
    pub fn advance(&self, by: Duration) {
        let mut state = self.inner.lock().expect("clock lock poisoned");
        state.offset += by;
        if let Some(frozen) = state.frozen_at.as_mut() {
            *frozen += by;
        }
    }

    /// Stops the clock at the current instant until [`Clock::resume`].
    pub fn freeze(&self) {
        let now = self.now();
        self.inner.lock().expect("clock lock poisoned").frozen_at = Some(now);
    }

    /// Lets a frozen clock run again from where it stood.
    pub fn resume(&self) {
        let mut state = self.inner.lock().expect("clock lock poisoned");
        if let Some(frozen) = state.frozen_at.take() {
            state.offset = frozen - OffsetDateTime::now_utc();
        }
    }

    /// The offset from system time and whether the clock is frozen, for the admin APIs.
    #[must_use]
    pub fn status(&self) -> (Duration, bool) {
        let state = self.inner.lock().expect("clock lock poisoned");
        (state.offset, state.frozen_at.is_some())
    }
}

/// The clock as both fakes' admin APIs show it (`GET /_emulator/clock`).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClockStatus {
    /// Unix seconds on this clock.
    pub now: i64,
    /// Seconds ahead of system time.
    pub offset_seconds: i64,
    /// Whether the clock stands still.
    pub frozen: bool,
}

/// A change asked through the admin APIs (`POST /_emulator/clock`):
/// `{"advanceSeconds": 3600}` and/or `{"freeze": true|false}`.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClockChange {
    /// Seconds to move forward (negative moves back).
    pub advance_seconds: Option<i64>,
    /// Freeze (`true`) or resume (`false`).
    pub freeze: Option<bool>,
}

impl Clock {
    /// The clock's state for the admin APIs.
    #[must_use]
    pub fn report(&self) -> ClockStatus {
        let (offset, frozen) = self.status();
        ClockStatus {
            now: self.unix(),
            offset_seconds: offset.whole_seconds(),
            frozen,
        }
    }

    /// Applies an admin change (freeze or resume first, then advance) and reports the result.
    #[must_use = "the admin APIs answer with the resulting status"]
    pub fn apply(&self, change: ClockChange) -> ClockStatus {
        match change.freeze {
            Some(true) => self.freeze(),
            Some(false) => self.resume(),
            None => {}
        }
        if let Some(seconds) = change.advance_seconds {
            self.advance(Duration::seconds(seconds));
        }
        self.report()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_forward() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(Duration::hours(2));
        let moved = clock.now() - before;
        assert!(moved >= Duration::hours(2) && moved < Duration::hours(2) + Duration::seconds(5));
    }

    #[test]
    fn frozen_clock_stands_still_and_advances_in_steps() {
        let clock = Clock::system();
        clock.freeze();
        let t0 = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::seconds(30));
        assert_eq!(clock.now(), t0 + Duration::seconds(30));
        clock.resume();
        assert!(clock.now() >= t0 + Duration::seconds(30));
        assert!(clock.status().0 >= Duration::seconds(29));
    }
}
