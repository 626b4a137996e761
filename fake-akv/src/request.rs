//! What a handler knows of its request: the vault, the host it was addressed by, the
//! validated `api-version`, the query and the time, with the answers built from them (ids,
//! next links, paging, Key Vault's error for a refused operation). A leaf: the dataplane builds
//! it and the handlers read it, so neither imports the other.

use std::collections::BTreeMap;

use crate::error::AkvError;
use crate::extract::RequestHost;
use crate::kind::ObjectKind;
use crate::operations::OpError;
use crate::paging::{PageRequest, encode_component};
use crate::state::{AppState, Vault};
use crate::wire::Recovery;

/// What a handler needs to know about its request.
pub struct RequestContext<'a> {
    /// The state (clock, backup key).
    pub state: &'a AppState,
    /// The vault addressed.
    pub vault: &'a Vault,
    /// The host the request was sent to, for ids and links.
    pub host: &'a RequestHost,
    /// The validated `api-version`.
    pub api_version: &'a str,
    /// Query parameters.
    pub query: &'a BTreeMap<String, String>,
    /// Now, on the fake's clock (Unix seconds).
    pub now: i64,
}

impl RequestContext<'_> {
    /// Base of object ids.
    #[must_use]
    pub fn id_base(&self) -> String {
        self.host.id_base()
    }

    /// The absolute link base for the next page of `path`.
    #[must_use]
    pub fn link_base(&self, path: &str) -> String {
        format!(
            "{}{path}?api-version={}",
            self.host.link_base(),
            encode_component(self.api_version)
        )
    }

    /// Paging parameters of this request.
    pub fn page_request(&self) -> Result<PageRequest, AkvError> {
        PageRequest::from_query(
            self.query.get("maxresults").map(String::as_str),
            self.query.get("$skiptoken").map(String::as_str),
        )
    }

    /// Turns a refused operation (or store error) into Key Vault's answer for `kind`; the id
    /// base is only built when there is an error.
    pub fn refused<E: Into<OpError>>(&self, kind: ObjectKind) -> impl Fn(E) -> AkvError + '_ {
        move |e| AkvError::from_op(e.into(), &self.id_base(), kind)
    }

    /// The vault's recovery level and days.
    #[must_use]
    pub fn recovery(&self) -> Recovery {
        let retention = self.vault.retention();
        Recovery::new(retention.days, retention.purge_protection)
    }
}
