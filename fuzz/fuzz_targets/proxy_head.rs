//! The routing proxy's request-head parsing: whatever a client sends before the blank line.
//! Besides "no panic": a tunnel or forward only ever goes to a configured fake, and a
//! forwarded head is one request line, `name: value` lines and one blank line at the end, so
//! nothing a client sends can smuggle a second request to a fake.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;

use harness::proxy::{Backends, Plan, Route, azure_routes, plan};
use libfuzzer_sys::fuzz_target;

fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        azure_routes(
            &fake_kit::Cloud::ALL,
            Backends {
                aad: at(1),
                akv: Some(at(2)),
                arm: Some(at(3)),
                imds: at(4),
            },
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let head = String::from_utf8_lossy(data);
    let routes = routes();
    match plan(&head, routes) {
        Plan::Tunnel { backend } => assert!(routes.iter().any(|r| r.backend == backend)),
        Plan::Forward { backend, head } => {
            assert!(routes.iter().any(|r| r.backend == backend));
            let (lines, tail) = head.split_once("\r\n\r\n").expect("a blank line");
            assert!(tail.is_empty(), "bytes after the forwarded head: {head:?}");
            let mut lines = lines.split("\r\n");
            let request_line = lines.next().expect("a request line");
            assert_eq!(request_line.split(' ').count(), 3, "{request_line:?}");
            for line in lines {
                assert!(
                    line.contains(':') && !line.contains(['\r', '\n']),
                    "{line:?}"
                );
            }
        }
        Plan::Refuse { status, .. } => assert!(status == 400 || status == 403),
    }
});
