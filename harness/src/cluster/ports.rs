//! Free loopback ports.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// A port that was free a moment ago on 127.0.0.1 (the OS picks it). Another process may still
/// take it before the child binds; start-up then fails loudly with the child's stderr.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// True if nothing listens on 127.0.0.1:`port` (it can be bound now).
#[must_use]
pub fn is_free(port: u16) -> bool {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).is_ok()
        && TcpListener::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).is_ok()
}
