//! `schakel`: operate a Schakel region from the command line.

mod accounts;
mod audit;
mod clock;
mod deliveries;
mod directory;
mod explain;
mod import;
mod topics;
mod vault;
mod whatif;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use schakel_core::runtime::shutdown::exit;
use schakel_core::Config;

/// Operate a Schakel region: topics, clock ticks, the directory of contacts, explanations.
///
/// Every command reads the region config named by SCHAKEL_CONFIG (SCHAKEL_* variables override
/// single keys, e.g. SCHAKEL_KAFKA__BOOTSTRAP=127.0.0.1:9092). Without SCHAKEL_CONFIG, inside a
/// Schakel checkout, it uses the demo region's infra/demo/region.toml and says so.
#[derive(Parser)]
#[command(name = "schakel", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the topics of schemas/topics.toml (services never auto-create topics).
    Topics {
        #[command(subcommand)]
        action: TopicsAction,
    },
    /// Produce clock ticks: time is an event, rules fire on ticks.
    Clock {
        #[command(subcommand)]
        action: ClockAction,
    },
    /// Inspect the delivery ledger and re-drive dead letters.
    Deliveries {
        #[command(subcommand)]
        action: DeliveriesAction,
    },
    /// Publish the directory of institutions and contact persons.
    Directory {
        #[command(subcommand)]
        action: DirectoryAction,
    },
    /// Explain why a signal fired: its rule, steps, facts (event ids) and policy values.
    /// Shows no BSN or name (the log holds neither) and no care details.
    Explain {
        /// The signalId, as in a webhook or on hub.signals.v1.
        signal_id: String,
        /// Language of the explanation: nl (default) or en.
        #[arg(long, default_value = "nl", value_parser = ["nl", "en"])]
        lang: String,
    },
    /// Import a CSV export (enrolments, placements, verzuim, vrijstellingen, thuiszitters)
    /// through ingest, with progress. Valid rows are written, every rejected row is listed
    /// with its line and reasons. Interrupted? Run the same command again: rows already
    /// written are skipped. Columns per kind: docs/imports.md.
    Import {
        /// enrolments, placements, verzuim, vrijstellingen or thuiszitters
        kind: String,
        /// The CSV file (`,` or `;` separated, UTF-8 or Windows-1252, header row).
        file: PathBuf,
        /// Ingest's base URL (default: http://<ingest.listen>).
        #[arg(long)]
        url: Option<String>,
        /// The source system's bearer token.
        #[arg(long, env = "SCHAKEL_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// The monitor's local accounts (the embedded default, without an OpenID provider).
    Accounts {
        #[command(subcommand)]
        action: AccountsAction,
    },
    /// What if the policy changed: fold the region's log (from its beginning to where it ends
    /// now) under its policy and under OTHER, ticking each day, and report which signal steps
    /// appear, disappear or move, per rule, step, municipality and month, and the workload per
    /// role. Counts only, never a child; counts from 1 to 4 show as <5. Reads with a reader of
    /// its own: writes nothing to the log and commits no offset.
    Whatif {
        /// A TOML file with the other policy: `[policy.*]` tables as in the region's config.
        #[arg(long)]
        policy: PathBuf,
        /// First day whose signal steps are compared (default: a year before --to).
        #[arg(long)]
        from: Option<jiff::civil::Date>,
        /// Last day ticked and compared (default: today).
        #[arg(long)]
        to: Option<jiff::civil::Date>,
        /// text (default), csv or json.
        #[arg(long, default_value = "text", value_parser = ["text", "csv", "json"])]
        format: String,
        /// Also save the report for the monitor's what-if page (`/whatif`, for the Leerplein's
        /// roles and `beleid`), in `[monitor] whatif_dir`.
        #[arg(long)]
        save: bool,
    },
    /// The audit log: who saw which child's data, when, in which role and why.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The identity vault: erase a child's identity for good, apply the retention term, or
    /// reveal an identity to an entitled person. Every action is written to hub.audit.v1.
    Vault {
        #[command(subcommand)]
        action: VaultAction,
    },
}

#[derive(Subcommand)]
enum AccountsAction {
    /// Add an account for contact LOGIN (a contact id of the directory), or set its password;
    /// the password is read as one line from standard input and stored as an argon2id hash.
    Add { login: String },
    /// Remove the account of LOGIN.
    Remove { login: String },
}

#[derive(Subcommand)]
enum AuditAction {
    /// List audit records (tab separated, oldest first): who, role, organisation, which
    /// child (ChildKey), what, the categories of data, purpose, legal ground, trace. Shows no
    /// name or BSN.
    List {
        /// Only this child: ChildKey (64 hex), BSN or onderwijsnummer.
        #[arg(long)]
        child: Option<String>,
        /// Only this actor (a contact id, or cli:USER).
        #[arg(long)]
        actor: Option<String>,
        /// From this date (YYYY-MM-DD, Europe/Amsterdam) or moment (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Up to and including this date, or before this moment.
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(Subcommand)]
enum VaultAction {
    /// Destroy CHILD's data key (crypto-shredding): every identity record of the child
    /// becomes unreadable, in the log and in any copy of it.
    Erase {
        /// ChildKey (64 hex), BSN or onderwijsnummer.
        child: String,
        /// Why (e.g. the request or decision it follows); goes to the audit log.
        #[arg(long)]
        reason: String,
        /// Who acts (default cli:$USER).
        #[arg(long)]
        actor: Option<String>,
    },
    /// Erase every child with no identity received for policy.retention.identity_years.
    /// Run it daily (cron or a systemd timer).
    Expire {
        /// Only count who would be erased.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show CHILD's BSN or onderwijsnummer and name, after writing who, why and for whom.
    Reveal {
        /// ChildKey (64 hex), BSN or onderwijsnummer.
        child: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        actor: Option<String>,
        /// The person the actor acts for, when not themselves.
        #[arg(long)]
        on_behalf_of: Option<String>,
    },
}

#[derive(Subcommand)]
enum TopicsAction {
    /// Create missing topics; report existing ones whose partition count differs.
    Apply {
        /// A topics file other than the one built in.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Replication factor (3 on a production cluster).
        #[arg(long)]
        replication_factor: Option<i32>,
    },
}

#[derive(Subcommand)]
enum ClockAction {
    /// Produce one tick for DATE to every partition of hub.clock.v1.
    Tick {
        /// The day that has begun, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The instant the tick stands for (RFC 3339, default now). Notify with
        /// notify.clock = "log" runs on these instants: tests and drills move time this way.
        #[arg(long)]
        at: Option<String>,
    },
    /// Tick every day at clock.tick_at (local time of clock.timezone); ticks today on start
    /// if that time has passed.
    Run,
}

#[derive(Subcommand)]
enum DeliveriesAction {
    /// One line per delivery (signal step × contact × channel) with its status: queued,
    /// in-flight, delivered, retry-scheduled, dead-lettered or retry-requested.
    List {
        /// Only deliveries in this status, e.g. dead-lettered.
        #[arg(long)]
        status: Option<String>,
        /// Only deliveries to this contact id.
        #[arg(long)]
        contact: Option<String>,
        /// Only deliveries of this signalId.
        #[arg(long)]
        signal: Option<String>,
    },
    /// Every step of one delivery: attempts, errors, scheduled retries.
    Show { delivery_id: String },
    /// Re-drive a dead-lettered delivery: notify makes one more attempt with the same id
    /// (the receiver recognises it), after the endpoint was fixed.
    Retry { delivery_id: String },
}

#[derive(Subcommand)]
enum DirectoryAction {
    /// Publish FILE to hub.directory.v1: add and change entries, remove the ones not in FILE.
    Apply { file: PathBuf },
    /// Show what `apply` would change, without changing anything.
    Diff { file: PathBuf },
}

/// The demo region's config, when `SCHAKEL_CONFIG` is unset and the working directory is
/// inside a Schakel checkout: found by walking up to `infra/demo/region.toml`.
fn demo_config() -> Option<PathBuf> {
    if std::env::var_os("SCHAKEL_CONFIG").is_some() {
        return None;
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|d| d.join("infra/demo/region.toml"))
        .find(|p| p.is_file())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = match demo_config() {
        Some(path) => {
            eprintln!(
                "schakel: SCHAKEL_CONFIG is not set; using the demo region's config {}",
                path.display()
            );
            Config::load_from(&path, std::env::vars())
        }
        None => Config::load(),
    };
    let cfg = match loaded {
        Ok(c) => c,
        Err(e) => {
            eprintln!("schakel: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    schakel_core::runtime::telemetry::init(&schakel_core::runtime::config::TelemetryConfig {
        filter: Some(std::env::var("SCHAKEL_LOG").unwrap_or_else(|_| "warn".into())),
        ..cfg.telemetry.clone()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = rt.block_on(async move {
        match cli.command {
            Command::Topics {
                action:
                    TopicsAction::Apply {
                        file,
                        replication_factor,
                    },
            } => topics::apply(&cfg, file.as_deref(), replication_factor).await,
            Command::Clock {
                action: ClockAction::Tick { date, at },
            } => clock::tick(&cfg, &date, at.as_deref()).await,
            Command::Clock {
                action: ClockAction::Run,
            } => clock::run(&cfg).await,
            Command::Deliveries { action } => match action {
                DeliveriesAction::List {
                    status,
                    contact,
                    signal,
                } => deliveries::list(
                    &cfg,
                    &deliveries::Filter {
                        status,
                        contact,
                        signal,
                    },
                ),
                DeliveriesAction::Show { delivery_id } => deliveries::show(&cfg, &delivery_id),
                DeliveriesAction::Retry { delivery_id } => {
                    deliveries::retry(&cfg, &delivery_id).await
                }
            },
            Command::Directory {
                action: DirectoryAction::Apply { file },
            } => directory::apply(&cfg, &file, false).await,
            Command::Directory {
                action: DirectoryAction::Diff { file },
            } => directory::apply(&cfg, &file, true).await,
            Command::Explain { signal_id, lang } => explain::explain(&cfg, &signal_id, &lang).await,
            Command::Whatif {
                policy,
                from,
                to,
                format,
                save,
            } => whatif::run(&cfg, &policy, from, to, &format, save).await,
            Command::Import {
                kind,
                file,
                url,
                token,
            } => import::run(&cfg, &kind, &file, url, token).await,
            Command::Accounts { action } => match action {
                AccountsAction::Add { login } => accounts::add(&cfg, &login),
                AccountsAction::Remove { login } => accounts::remove(&cfg, &login),
            },
            Command::Audit {
                action:
                    AuditAction::List {
                        child,
                        actor,
                        from,
                        to,
                    },
            } => audit::list(
                &cfg,
                &audit::Filter {
                    child,
                    actor,
                    from,
                    to,
                },
            ),
            Command::Vault { action } => match action {
                VaultAction::Erase {
                    child,
                    reason,
                    actor,
                } => vault::erase(&cfg, &child, vault::actor(actor, None, reason)).await,
                VaultAction::Expire { dry_run } => vault::expire(&cfg, dry_run).await,
                VaultAction::Reveal {
                    child,
                    reason,
                    actor,
                    on_behalf_of,
                } => vault::reveal(&cfg, &child, vault::actor(actor, on_behalf_of, reason)).await,
            },
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("schakel: {e:#}");
            ExitCode::from(exit::FAILED)
        }
    }
}
