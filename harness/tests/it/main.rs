//! The harness's own pieces over real sockets: the routing proxy and `harness serve`.

mod proxy;
mod serve;
