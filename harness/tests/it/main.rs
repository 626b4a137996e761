//! The harness's own pieces over real sockets: the routing proxy, `harness serve` and the
//! local control plane.

mod plane;
mod proxy;
mod serve;
mod supervise;
