//! Docker for the bench's own image: a daemon to talk to ([`Docker`]: the user's, or one the
//! harness starts and takes down with it) and the image of the running harness binary
//! ([`image`]), which `harness serve` runs inside.

mod daemon;
pub mod image;

pub use daemon::{Docker, DockerError};
