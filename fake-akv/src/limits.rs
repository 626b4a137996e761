//! Key Vault's service limits, opt in per vault (`serviceLimits` in the vault's spec): every
//! request costs units of one or more budgets, and a request that would overdraw a budget in
//! the current window fails with 429 `Throttled` and costs nothing.
//!
//! The budgets and weights are Microsoft's ("Azure Key Vault service limits",
//! learn.microsoft.com/azure/key-vault/general/service-limits, "Resource type: vault"),
//! per vault per 10-second window:
//! - secrets, managed storage account keys and vault transactions: 4,000; of these, secret
//!   creates, certificate imports and key imports together: 300;
//! - key transactions other than create, weighted by key type ("The throttling thresholds are
//!   weighted, and enforcement is on their sum"): RSA 2,048-bit and ECC software keys 4,000,
//!   RSA 3,072-bit 1,000, RSA 4,096-bit 500, each half that for HSM keys; so in units of the
//!   4,000 budget a GET of a software RSA 4,096-bit key costs 8 and of an HSM one 16;
//! - key creates: 20 for software keys, 10 for HSM keys (an HSM create costs 2 of 20).
//!
//! "Failed requests that return a 429 do not count towards the throttle limits tracked by Key
//! Vault" (Azure Key Vault throttling guidance, learn.microsoft.com/azure/key-vault/general/
//! overview-throttling). Neither page promises a `Retry-After` header and the captured 429
//! had none, so one is sent only when the vault asks for it (`retryAfter: true`), with the
//! seconds left in the window.

use serde::{Deserialize, Serialize};

/// A vault's limits; every field defaults to Microsoft's figure.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceLimits {
    /// Length of a window, seconds (10).
    #[serde(default = "defaults::window")]
    pub window_seconds: u32,
    /// Secret, certificate and vault transactions per window (4,000).
    #[serde(default = "defaults::transactions")]
    pub transactions: u32,
    /// Secret creates, certificate imports and key imports per window (300), also counted as
    /// transactions (or key transactions, for key imports).
    #[serde(default = "defaults::creates")]
    pub creates: u32,
    /// Key transactions other than create per window, in RSA 2,048-bit software-key units
    /// (4,000).
    #[serde(default = "defaults::transactions")]
    pub key_transactions: u32,
    /// Key creates per window, in software-key units (20).
    #[serde(default = "defaults::key_creates")]
    pub key_creates: u32,
    /// Send `Retry-After` (the seconds left in the window) with a 429.
    #[serde(default)]
    pub retry_after: bool,
}

mod defaults {
    pub fn window() -> u32 {
        10
    }
    pub fn transactions() -> u32 {
        4_000
    }
    pub fn creates() -> u32 {
        300
    }
    pub fn key_creates() -> u32 {
        20
    }
}

impl Default for ServiceLimits {
    fn default() -> Self {
        Self {
            window_seconds: defaults::window(),
            transactions: defaults::transactions(),
            creates: defaults::creates(),
            key_transactions: defaults::transactions(),
            key_creates: defaults::key_creates(),
            retry_after: false,
        }
    }
}

/// What one request costs of each budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Secret, certificate and vault transactions.
    pub transactions: u32,
    /// Secret creates, certificate imports, key imports.
    pub creates: u32,
    /// Key transactions other than create, in RSA 2,048-bit software-key units.
    pub key_transactions: u32,
    /// Key creates, in software-key units.
    pub key_creates: u32,
}

/// The kind of key a key operation is about, which sets its weight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyProfile {
    /// An HSM-protected key (`RSA-HSM`, `EC-HSM`).
    pub hsm: bool,
    /// The RSA modulus size; `None` for ECC keys.
    pub rsa_bits: Option<u32>,
}

impl KeyProfile {
    /// `kty` as Key Vault names it, and the RSA modulus size when known.
    #[must_use]
    pub fn new(kty: &str, rsa_bits: Option<u32>) -> Self {
        Self {
            hsm: kty.ends_with("-HSM"),
            rsa_bits: kty.starts_with("RSA").then(|| rsa_bits.unwrap_or(2048)),
        }
    }

    /// Units of the key-transaction budget one transaction costs: 4,000 / the key type's limit.
    #[must_use]
    pub fn transaction_weight(self) -> u32 {
        let size = match self.rsa_bits {
            Some(bits) if bits >= 4096 => 8,
            Some(bits) if bits >= 3072 => 4,
            _ => 1,
        };
        if self.hsm { size * 2 } else { size }
    }

    /// Units of the key-create budget one create costs: 20 / the key type's limit.
    #[must_use]
    pub fn create_weight(self) -> u32 {
        if self.hsm { 2 } else { 1 }
    }
}

/// The current window of one vault.
#[derive(Debug, Default)]
pub struct Window {
    start: i64,
    used: Cost,
}

impl Window {
    /// Charges `cost` at `now` under `limits`; `Err(seconds left in the window)` when a budget
    /// would be overdrawn, in which case nothing is charged.
    pub fn charge(&mut self, limits: &ServiceLimits, cost: Cost, now: i64) -> Result<(), u32> {
        let length = i64::from(limits.window_seconds.max(1));
        if now >= self.start + length || now < self.start {
            *self = Self {
                start: now,
                used: Cost::default(),
            };
        }
        let fits = |used: u32, cost: u32, limit: u32| cost == 0 || used + cost <= limit;
        let used = self.used;
        if !(fits(used.transactions, cost.transactions, limits.transactions)
            && fits(used.creates, cost.creates, limits.creates)
            && fits(
                used.key_transactions,
                cost.key_transactions,
                limits.key_transactions,
            )
            && fits(used.key_creates, cost.key_creates, limits.key_creates))
        {
            return Err(u32::try_from(self.start + length - now).unwrap_or(1).max(1));
        }
        self.used = Cost {
            transactions: used.transactions + cost.transactions,
            creates: used.creates + cost.creates,
            key_transactions: used.key_transactions + cost.key_transactions,
            key_creates: used.key_creates + cost.key_creates,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(transactions: u32) -> ServiceLimits {
        ServiceLimits {
            transactions,
            ..ServiceLimits::default()
        }
    }

    #[test]
    fn a_window_refuses_what_overdraws_charges_nothing_for_it_and_resets() {
        let limits = limits(2);
        let one = Cost {
            transactions: 1,
            ..Cost::default()
        };
        let mut window = Window::default();
        assert_eq!(window.charge(&limits, one, 100), Ok(()));
        assert_eq!(window.charge(&limits, one, 101), Ok(()));
        assert_eq!(window.charge(&limits, one, 103), Err(7));
        assert_eq!(window.charge(&limits, one, 109), Err(1));
        assert_eq!(window.charge(&limits, one, 110), Ok(()));
        assert_eq!(window.charge(&limits, one, 111), Ok(()));
        assert_eq!(window.charge(&limits, one, 112), Err(8));
    }

    #[test]
    fn key_weights_follow_microsofts_table() {
        let weight = |kty, bits| KeyProfile::new(kty, bits).transaction_weight();
        assert_eq!(weight("RSA", Some(2048)), 1);
        assert_eq!(weight("RSA", None), 1);
        assert_eq!(weight("RSA", Some(3072)), 4);
        assert_eq!(weight("RSA", Some(4096)), 8);
        assert_eq!(weight("RSA-HSM", Some(2048)), 2);
        assert_eq!(weight("RSA-HSM", Some(4096)), 16);
        assert_eq!(weight("EC", None), 1);
        assert_eq!(weight("EC-HSM", None), 2);
        assert_eq!(KeyProfile::new("EC-HSM", None).create_weight(), 2);
        assert_eq!(KeyProfile::new("RSA", Some(4096)).create_weight(), 1);
    }
}
