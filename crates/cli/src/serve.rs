//! `custody serve` and `custody key`: thin. The server is the
//! custody-server crate; this opens the engines and runs it.

use anyhow::{bail, Context, Result};
use custody_engine::keys::KeyRole;
use custody_server::{AppState, Config};

use crate::args::{KeyCommand, ServeArgs};
use crate::output::print_json;
use crate::Paths;

pub fn run(paths: &Paths, a: &ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Open once here, so a missing or wrong signing key fails before listening.
    drop(paths.open()?);
    let (db, key) = (paths.db.clone(), paths.key.clone());
    let opener: custody_server::Opener<custody_store::AnyStore> = Box::new(move || {
        let store = custody_store::AnyStore::open(&db)?;
        let signer = custody_engine::log::signing_key::load(&key)?;
        custody_engine::Engine::open(store, signer)
    });
    let config = Config {
        max_body: a.max_body,
        max_upload: a.max_upload,
        readers: a.readers,
        secure_cookies: a.secure_cookies,
        trusted_proxies: a.trusted_proxies.clone(),
        ..Config::default()
    };
    let state = AppState::new(opener, config)?;
    // The engines outlive the runtime: PostgreSQL's blocking client must not
    // be dropped on a runtime thread, so the last reference goes after it.
    let engines = state.clone();
    let app = custody_server::router(state);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("listening on {}", a.listen))?;
        tracing::info!(address = %listener.local_addr()?, db = %custody_store::AnyStore::location(&paths.db), "custody serving");
        eprintln!("custody serving on http://{}", listener.local_addr()?);
        let limits = custody_server::Limits {
            header_timeout: a.header_timeout,
            body_timeout: a.body_timeout,
            max_connections: a.max_connections,
        };
        custody_server::serve(listener, app, limits, custody_server::shutdown_signal()).await?;
        Ok::<(), anyhow::Error>(())
    })?;
    drop(rt);
    drop(engines);
    Ok(())
}

pub fn key(paths: &Paths, c: KeyCommand) -> Result<()> {
    let mut engine = paths.open()?;
    match c {
        KeyCommand::Create {
            org,
            role,
            regulator,
            json,
        } => {
            let role: KeyRole = if regulator {
                KeyRole::Regulator
            } else {
                role.parse().map_err(anyhow::Error::msg)?
            };
            if role == KeyRole::Regulator && !regulator {
                bail!("a regulator key belongs to no organisation: use `custody key create --regulator`");
            }
            let k = engine.create_api_key(org.as_deref(), role)?;
            if json {
                print_json(&k);
            } else {
                println!("{}", k.token);
                eprintln!(
                    "created {} key {} for {} (shown once: only its hash is kept)",
                    role.as_str(),
                    k.key.id,
                    k.key.org.as_deref().unwrap_or("the regulator")
                );
            }
        }
        KeyCommand::List {
            org,
            regulator: _,
            json,
        } => {
            let keys = engine.api_keys(org.as_deref())?;
            if json {
                print_json(&keys);
            } else {
                for k in keys {
                    println!(
                        "{}\t{}\t{}\t{}",
                        k.id,
                        k.role.as_str(),
                        k.created_at,
                        if k.revoked { "revoked" } else { "live" }
                    );
                }
            }
        }
        KeyCommand::Revoke { id } => {
            engine.revoke_api_key(&id)?;
            println!("revoked {id}");
        }
    }
    Ok(())
}
