use anyhow::Context;
use clap::Parser;
use fake_aad::config::Args;
use fake_aad::{AppState, FakeAad, Options};
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
    let directory = args.directory()?;
    let ca = CertificateAuthority::load_or_generate(&args.state_dir)
        .context("cannot prepare the local CA")?;
    let tls = ca.issue_default(&args.tls_names)?.server_config()?;
    let state = AppState::new(directory, Clock::system(), args.settings())?;
    let identity_header = state_identity_header(&args, &state);
    fake_kit::serve::serve_connections_per_core().context("cannot start connection threads")?;
    let aad = FakeAad::start(
        Options {
            listen: args.listen,
            imds_listen: args.imds_listen,
            tls,
        },
        state,
    )
    .await?;
    println!("fake-aad listening on {}", aad.url());
    println!(
        "managed identity on {}/metadata/identity/oauth2/token",
        aad.imds_url()
    );
    println!("IDENTITY_HEADER={identity_header}");
    println!(
        "CA certificate: {}",
        args.state_dir.join("ca.pem").display()
    );
    fake_kit::serve::shutdown_signal().await;
    aad.shutdown().await;
    Ok(())
}

fn state_identity_header(args: &Args, state: &AppState) -> String {
    args.identity_header
        .clone()
        .unwrap_or_else(|| state.settings().identity_header.clone())
}
