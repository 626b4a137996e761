//! The harness's own pieces over real sockets: the routing proxy, `harness serve` and the
//! local control plane.

mod admin_cli;
mod durability;
mod plane;
mod proxy;
mod real_node;
mod scenarios;
mod serve;
mod served;
mod state_export;
mod supervise;
