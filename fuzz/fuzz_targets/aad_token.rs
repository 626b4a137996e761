//! fake-aad's token endpoints and the JWTs they parse: a raw HTTP/1.1 request through the real
//! router (`$ASSERTION` becomes a valid certificate assertion, `$FEDERATED` a trusted service
//! account token), so form bodies, client assertions, federated tokens, Basic auth, discovery
//! and, for `Host: 169.254.169.254`, the managed-identity endpoints are all reached.
#![no_main]

use akv_e2e_fuzz::{aad::Fixture, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fixture = Fixture::lock();
    let Some(request) = wire::request(data, &fixture.placeholders()) else {
        return;
    };
    let imds = request
        .headers()
        .get(http::header::HOST)
        .is_some_and(|host| host.as_bytes().starts_with(b"169.254.169.254"));
    // `/{tenant}/oauth2/token` or `/{tenant}/oauth2/v2.0/token`: Entra's own error body.
    let segments: Vec<&str> = request.uri().path().split('/').skip(1).collect();
    // A HEAD answer carries no body, by HTTP's rules.
    let token_endpoint = request.method() != http::Method::HEAD
        && matches!(
            segments.as_slice(),
            [_, "oauth2", "token"] | [_, "oauth2", "v2.0", "token"]
        );
    let reply = wire::send(fixture.router(imds), request);
    Fixture::check(&reply, token_endpoint && !imds);
});
