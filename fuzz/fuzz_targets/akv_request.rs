//! fake-akv's whole request path: a raw HTTP/1.1 request (method, path, query, headers,
//! body; `$TOKEN` becomes a valid bearer token) through the real router: host-to-vault
//! selection, authentication, routing, api-version and name checks, JSON bodies, handlers.
#![no_main]

use akv_e2e_fuzz::{akv::Fixture, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fixture = Fixture::lock();
    let Some(request) = wire::request(data, &fixture.placeholders()) else {
        return;
    };
    let control = fake_kit::control::is_control_path(request.uri().path())
        && fake_kit::control::addressed_locally(&request);
    let reply = wire::send(fixture.router(control), request);
    fixture.check(&reply, control);
});
