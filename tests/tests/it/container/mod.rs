//! The bench's image and its testcontainers module (`akv-e2e-testcontainers`): the image built
//! from this workspace's harness into a real Docker daemon (the user's, or one the harness
//! starts), started by the module, used by real clients through the container's proxy.

mod python;
mod rust_client;
mod support;
