//! The shape every service binary shares: parse arguments, load config, start telemetry, run
//! until a signal or a failure, exit with a code that says which.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use crate::runtime::config::{Config, ConfigError};
use crate::runtime::shutdown::{exit, supervise, Shutdown};

/// Runs a service binary. `about` is printed for `--help`; `check` reads the service's own
/// sections of the config, so a mistake there exits with the config code before anything
/// starts.
pub fn service_main<C, F, Fut>(name: &'static str, about: &str, check: C, run: F) -> ExitCode
where
    C: FnOnce(&Config) -> Result<(), ConfigError>,
    F: FnOnce(Config, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{name} {}\n\n{about}\n\nUsage: {name}\n\nEnvironment:\n  SCHAKEL_CONFIG   path of the region config file (required)\n  SCHAKEL_<KEY>__<KEY>=value   override one config key, e.g. SCHAKEL_KAFKA__BOOTSTRAP\n  SCHAKEL_LOG      log filter, e.g. info or {name}=debug\n\nExit codes: 0 stopped, 1 failed, 2 bad config, 3 drain deadline passed", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version" || a == "-V") {
        println!("{name} {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Some(a) = args.first() {
        eprintln!("{name}: unexpected argument {a:?}; see {name} --help");
        return ExitCode::from(exit::CONFIG);
    }
    let cfg = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    if let Err(e) = check(&cfg) {
        eprintln!("{name}: {e}");
        return ExitCode::from(exit::CONFIG);
    }
    crate::runtime::telemetry::init(&cfg.telemetry);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    let _traces =
        match crate::runtime::telemetry::start_traces(&cfg.telemetry, name, rt.handle().clone()) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{name}: [telemetry] otlp_endpoint: {e}");
                return ExitCode::from(exit::CONFIG);
            }
        };
    rt.block_on(async move {
        let shutdown = Shutdown::new();
        shutdown.on_signals();
        tracing::info!(
            service = name,
            version = env!("CARGO_PKG_VERSION"),
            "starting"
        );
        let fut = run(cfg, shutdown.clone());
        supervise(name, shutdown, Duration::from_secs(20), fut).await
    })
}
