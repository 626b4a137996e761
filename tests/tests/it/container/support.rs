//! Docker with the bench image of this workspace built into it, once per test process.

use std::path::PathBuf;
use std::sync::OnceLock;

use harness::deps::DepsConfig;
use harness::docker::{Docker, DockerError, image};

/// Set (as CI does) to fail instead of skipping when Docker cannot run here.
const REQUIRE: &str = "AKV_E2E_REQUIRE_DOCKER";

/// What the image was built into, kept for the whole test process: a daemon the harness
/// started goes down with the process (its guard runs the teardown).
struct Ready {
    _runtime: tokio::runtime::Runtime,
    _docker: Docker,
}

static READY: OnceLock<Result<Ready, String>> = OnceLock::new();

/// True when the image is built and Docker answers; false, with the reason printed, where
/// Docker cannot run (a failure instead when `AKV_E2E_REQUIRE_DOCKER` is set). A failed build
/// fails the test.
pub fn image_ready() -> bool {
    // Its own thread and runtime: the daemon's log drains must outlive each test's runtime.
    let ready = READY.get_or_init(|| std::thread::spawn(prepare).join().expect("prepare"));
    match ready {
        Ok(_) => true,
        Err(why) if std::env::var_os(REQUIRE).is_some() => panic!("{why} ({REQUIRE} is set)"),
        Err(why) => {
            eprintln!("skipped: {why}");
            false
        }
    }
}

fn prepare() -> Result<Ready, String> {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_bench-image-harness"));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let docker = match runtime.block_on(Docker::connect_or_start(&DepsConfig::from_env())) {
        Ok(docker) => docker,
        Err(unavailable @ DockerError::Unavailable(_)) => return Err(unavailable.to_string()),
        Err(e) => panic!("{e}"),
    };
    let started = std::time::Instant::now();
    let built = image::build(&docker, &binary, image::DEFAULT_TAG).expect("the bench image builds");
    eprintln!(
        "built {} ({:.1} MB) in {:.1} s",
        built.tag,
        built.megabytes(),
        started.elapsed().as_secs_f64()
    );
    Ok(Ready {
        _runtime: runtime,
        _docker: docker,
    })
}
