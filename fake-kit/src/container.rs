//! The bench image's contract, shared by the harness that builds and runs it and by the
//! testcontainers module that starts it: fixed ports, the state directory, the user and the
//! line that says it is ready.

/// The routing proxy's port in the container (clients' `HTTPS_PROXY` and `HTTP_PROXY`).
pub const PROXY_PORT: u16 = 4000;
/// The front door's port in the container: `GET /ca.pem`, `/env`, `/env.json` over plain HTTP.
pub const INFO_PORT: u16 = 4001;
/// The state directory in the container: the CA, the directory journal, every vault write.
pub const STATE_DIR: &str = "/state";
/// The unprivileged user the container runs as unless told otherwise.
pub const USER: u32 = 65532;
/// The image's name; its tag is the workspace's version.
pub const IMAGE_NAME: &str = "akv-e2e-bench";
/// What `harness serve` prints on stderr once every listener answers.
pub const READY_LINE: &str = "harness serve: ready";
