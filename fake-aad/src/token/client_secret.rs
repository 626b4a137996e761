//! `client_secret` credentials.

use time::OffsetDateTime;

use crate::directory::App;
use crate::error::AadError;

/// Accepts `secret` if it is one of `app`'s secrets and valid at `now`. A presented secret that
/// exists but has expired answers AADSTS7000222; anything else AADSTS7000215.
pub fn verify(app: &App, secret: &str, now: OffsetDateTime) -> Result<(), AadError> {
    let Some(found) = app.secrets.iter().find(|s| s.value == secret) else {
        return Err(AadError::InvalidClientSecret {
            client_id: app.app_id,
        });
    };
    if found.end.is_some_and(|end| end <= now) {
        return Err(AadError::ExpiredClientSecret {
            client_id: app.app_id,
        });
    }
    if found.start.is_some_and(|start| start > now) {
        return Err(AadError::InvalidClientSecret {
            client_id: app.app_id,
        });
    }
    Ok(())
}
