//! Where the fakes' control API (`/_emulator`) answers: only to requests addressed to the fake
//! itself, at a loopback IP or `localhost`, as the harness, its CLI and tests send them.
//! Requests addressed to an Azure host name, which is how anything reaches a fake through the
//! routing proxy (ESO, a pod, a script, an SDK), meet what Azure answers for a path it does not
//! serve, so code under test can neither read the directory's secrets nor move the clock.

/// The prefix of every control route; Azure serves nothing under it.
pub const PREFIX: &str = "/_emulator";

/// True if `path` is under [`PREFIX`]: `/_emulator` itself or below it, not merely a path
/// that starts with the same letters (a tenant segment `_emulatorX` is Entra's to answer).
#[must_use]
pub fn is_control_path(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// True if `request` is addressed to the fake itself: its authority (HTTP/2) or `Host`
/// header (HTTP/1.1) names a loopback IP or `localhost`.
#[must_use]
pub fn addressed_locally<B>(request: &axum::http::Request<B>) -> bool {
    let host = request.uri().host().map(str::to_owned).or_else(|| {
        let value = request
            .headers()
            .get(axum::http::header::HOST)?
            .to_str()
            .ok()?;
        let authority: axum::http::uri::Authority = value.parse().ok()?;
        Some(authority.host().to_owned())
    });
    host.is_some_and(|host| is_local(&host))
}

fn is_local(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_prefix_and_below_are_control_paths() {
        assert!(is_control_path("/_emulator"));
        assert!(is_control_path("/_emulator/clock"));
        // Found by fuzzing: a tenant segment that merely starts with the prefix.
        assert!(!is_control_path("/_emulatorX/oauth2/v2.0/token"));
        assert!(!is_control_path("/secrets/_emulator"));
    }

    fn request(uri: &str, host: Option<&str>) -> axum::http::Request<()> {
        let mut builder = axum::http::Request::get(uri);
        if let Some(host) = host {
            builder = builder.header(axum::http::header::HOST, host);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn loopback_and_localhost_are_local_azure_names_are_not() {
        for local in ["127.0.0.1:8443", "localhost", "[::1]:443", "LOCALHOST:1"] {
            assert!(
                addressed_locally(&request("/_emulator/audit", Some(local))),
                "{local}"
            );
        }
        for remote in [
            "login.microsoftonline.com",
            "my-vault.vault.azure.net:443",
            "login.microsoftonline.us",
            "10.0.0.5:8443",
            "127.0.0.1.nip.io",
        ] {
            assert!(
                !addressed_locally(&request("/_emulator/audit", Some(remote))),
                "{remote}"
            );
        }
        assert!(!addressed_locally(&request("/_emulator/audit", None)));
        // HTTP/2 carries the authority in the URI, which wins over a Host header.
        assert!(!addressed_locally(&request(
            "https://my-vault.vault.azure.net/_emulator/audit",
            Some("127.0.0.1")
        )));
        assert!(addressed_locally(&request(
            "https://127.0.0.1:9/_emulator/audit",
            None
        )));
    }
}
