use anyhow::Context;
use clap::Parser;
use fake_akv::config::Args;
use fake_akv::{AppState, FakeAkv, Options};
use fake_kit::{CertificateAuthority, Clock};

// glibc malloc was the largest user-space cost under load (about 15% of CPU in bench-akv).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let config = args.emulator_config()?;
    let ca = CertificateAuthority::load_or_generate(&args.state_dir)
        .context("cannot prepare the local CA")?;
    let saved = match &args.state_file {
        Some(path) => fake_akv::Snapshot::load(path)?,
        None => None,
    };
    let state = match saved {
        Some(snapshot) => AppState::from_snapshot(snapshot, Clock::system(), args.settings())
            .context("invalid state file")?,
        None => AppState::new(config, Clock::system(), args.settings())
            .context("invalid vault configuration")?,
    };
    state.persist().context("cannot write the state file")?;
    // rustls-webpki (and other verifiers) refuse `*.localhost`, a wildcard over a single
    // label, so each vault's `{name}.localhost` goes on the certificate by name.
    let mut names = args.tls_names.clone();
    names.extend(
        state
            .vault_names()
            .iter()
            .map(|name| format!("{name}.localhost")),
    );
    let tls = ca.issue_default(&names)?.server_config()?;
    if args.aad_url.is_none() {
        tracing::warn!("no --aad-url: every bearer token will be refused");
    }
    fake_kit::serve::serve_connections_per_core().context("cannot start connection threads")?;
    let akv = FakeAkv::start(
        Options {
            listen: args.listen,
            tls,
            aad_url: args.aad_url.clone(),
            aad_ca_pem: Some(args.aad_ca_pem(ca.cert_pem())?),
        },
        state,
    )
    .await?;
    println!("fake-akv listening on {}", akv.url());
    for name in akv.state().vault_names() {
        println!("vault {name}: {}", akv.vault_url(&name));
    }
    println!(
        "CA certificate: {}",
        args.state_dir.join("ca.pem").display()
    );
    shutdown_signal().await;
    akv.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler installs");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
