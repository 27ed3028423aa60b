//! `metrica-s2s serve`: flags to a running mock.

use crate::exit;
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use metrica_s2s_mock::{Config, MockServer, Mode, TlsListen, Trackers};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Tracker file (TOML): ids, names, platforms, store URLs. See fixtures/trackers.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address for clicks (AppMetrica's redirect. host). Port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value_t = Config::default().click_listen)]
    click_listen: SocketAddr,
    /// Address for impressions (AppMetrica's impression. host).
    #[arg(long, value_name = "ADDR", default_value_t = Config::default().impression_listen)]
    impression_listen: SocketAddr,
    /// strict: requests breaking error rules get 400 problem+json; lenient: 204 always.
    #[arg(long, value_enum, default_value_t = ModeArg::Strict)]
    mode: ModeArg,
    /// Journal entries kept in memory; the oldest are dropped first, and counted.
    #[arg(long, value_name = "N", default_value_t = Config::default().journal.capacity, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    journal_capacity: usize,
    /// Bytes the journal's texts may take in memory (targets, User-Agents, hosts); beyond it
    /// the oldest entries are dropped first, and counted, however few entries are kept.
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().journal.max_bytes, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=(1 << 34)))]
    journal_max_bytes: usize,
    /// Click ids remembered for click-id-duplicate (7-day window); beyond it the oldest are
    /// forgotten early, and counted in /metrics.
    #[arg(long, value_name = "N", default_value_t = Config::default().click_id_capacity, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=Config::MAX_CLICK_ID_CAPACITY as u64))]
    click_id_capacity: usize,
    /// Also append every journal entry to this file as one JSON line.
    #[arg(long, value_name = "PATH")]
    journal_file: Option<PathBuf>,
    /// Divide every postback retry delay and attribution window by F, for tests that cannot
    /// wait 3 minutes or 10 days (the 5 s answer timeout stays).
    #[arg(long, value_name = "F", default_value_t = Config::default().postbacks.time_scale, value_parser = time_scale)]
    postback_time_scale: f64,
    /// Postback deliveries waiting for an attempt or a retry at once; beyond it new ones are
    /// dropped, and counted in /metrics.
    #[arg(long, value_name = "N", default_value_t = Config::default().postbacks.queue_capacity, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    postback_queue: usize,
    /// Also append a JSON line per postback change to this file: the delivery when made, then
    /// each attempt and each change of state (the last line of an id is its final state).
    #[arg(long, value_name = "PATH")]
    postbacks_file: Option<PathBuf>,
    /// Also trust the CA certificates in this PEM file for https postback URLs (a receiver
    /// with a local certificate).
    #[arg(long, value_name = "FILE")]
    postback_ca: Option<PathBuf>,
    /// Also serve HTTPS here: one listener for both hosts (by SNI and Host), HTTP/2 and
    /// HTTP/1.1, with a certificate from a local CA (see `metrica-s2s ca`).
    #[arg(long, value_name = "ADDR")]
    tls_listen: Option<SocketAddr>,
    /// Where the local CA and the certificate live [default: the platform's data directory;
    /// METRICA_S2S_TLS_DIR overrides it].
    #[arg(long, value_name = "DIR")]
    tls_dir: Option<PathBuf>,
    /// Seed for fault probabilities: the same requests in the same order are faulted alike in
    /// every run.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Bearer token for the admin API and /metrics. Without it they answer on loopback
    /// listeners only; with it, on every listener, to `Authorization: Bearer <token>` only.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "METRICA_S2S_ADMIN_TOKEN",
        hide_env_values = true,
        value_parser = admin_token
    )]
    admin_token: Option<String>,
    /// Connections open at once.
    #[arg(long, value_name = "N", default_value_t = Config::default().limits.max_connections, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    max_connections: usize,
    /// Seconds a client has to send a whole request head, idle keep-alive time included;
    /// slower clients (slowloris) are disconnected.
    #[arg(long, value_name = "SECS", default_value_t = Config::default().limits.header_read_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_read_timeout: u64,
}

/// A token that can protect: not empty, no spaces or control characters (it travels in a
/// header).
fn admin_token(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("the admin token is empty: an empty token would protect nothing; give one (`openssl rand -hex 16` makes one), or leave the flag and METRICA_S2S_ADMIN_TOKEN unset for a loopback-only admin API".into());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the admin token has a space or a control character; it travels in an Authorization header, so use printable characters only".into());
    }
    Ok(text.to_owned())
}

fn time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && (1.0..=1e9).contains(&f) => Ok(f),
        _ => Err(format!(
            "{text:?} is not a factor from 1 to 1e9 (1: real time; 1000: 3-minute retries every 0.18 s)"
        )),
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    Strict,
    Lenient,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl ServeArgs {
    /// The mock's configuration: every flag, over the defaults of [`Config`].
    fn config(&self, trackers: Trackers) -> Config {
        let mut config = Config {
            click_listen: self.click_listen,
            impression_listen: self.impression_listen,
            tls_dir: self.tls_dir.clone(),
            mode: match self.mode {
                ModeArg::Strict => Mode::Strict,
                ModeArg::Lenient => Mode::Lenient,
            },
            trackers,
            click_id_capacity: self.click_id_capacity,
            seed: self.seed,
            admin_token: self.admin_token.clone(),
            ..Config::default()
        };
        // The one HTTPS listener serves both hosts: SNI and Host tell them apart.
        config.tls.extend(self.tls_listen.map(|addr| TlsListen {
            addr,
            kind: metrica_s2s_rules::Kind::Click,
        }));
        config.journal.capacity = self.journal_capacity;
        config.journal.max_bytes = self.journal_max_bytes;
        config.journal.file.clone_from(&self.journal_file);
        config.postbacks.time_scale = self.postback_time_scale;
        config.postbacks.queue_capacity = self.postback_queue;
        config.postbacks.file.clone_from(&self.postbacks_file);
        config.postbacks.extra_ca.clone_from(&self.postback_ca);
        config.limits.max_connections = self.max_connections;
        config.limits.header_read_timeout = Duration::from_secs(self.header_read_timeout);
        config
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<u8> {
    init_logs(args.log_format);
    let trackers = match &args.config {
        Some(path) => Trackers::load(path)?,
        None => Trackers::default(),
    };
    for w in trackers.warnings() {
        tracing::warn!(code = w.code.as_str(), hint = %w.hint, "{}", w.message);
    }
    let config = args.config(trackers);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async {
        let mock = MockServer::start(config.clone()).await?;
        for (what, addr) in [("clicks", mock.click_addr()), ("impressions", mock.impression_addr())] {
            if !addr.ip().is_loopback() && config.admin_token.is_none() {
                tracing::warn!(
                    listener = what,
                    %addr,
                    "the admin API and /metrics are disabled on this non-loopback listener; set --admin-token (or METRICA_S2S_ADMIN_TOKEN) to enable them with a bearer token"
                );
            }
        }
        let https = mock
            .tls_addrs()
            .first()
            .zip(mock.ca_cert())
            .map(|((_, addr), ca)| (*addr, ca.to_owned()));
        if let Some(note) = https.as_ref().and_then(|(_, ca)| crate::ca::sudo_note(config.tls_dir.as_deref(), ca)) {
            tracing::warn!("{note}");
        }
        // Handled before the banner says the mock is up: a supervisor that stops it as soon
        // as it reads the banner gets a graceful stop, not the default action of a signal.
        let (first, second) = crate::signals::stop_signals()?;
        // A closed stdout (a supervisor that ignores it) must not stop the mock.
        if let Err(e) = banner(&mut std::io::stdout().lock(), &mock.click_addr(), &mock.impression_addr(), https.as_ref(), &config) {
            tracing::warn!(error = %e, "could not print the start-up banner");
        }
        first.await;
        let stopper = mock.stopper();
        tokio::select! {
            stopped = mock.stop() => {
                let stopped = stopped.context("the journal or postbacks file could not be completed")?;
                tracing::info!(journaled = stopped.journaled, dropped = stopped.dropped, "stopped");
                Ok(exit::SUCCESS)
            }
            () = second => {
                // Asked twice: no more grace for connections, only what the files need.
                stopper.close_files(SECOND_SIGNAL_FLUSH).context("the journal file could not be completed")?;
                tracing::warn!("stopped at once on a second signal; connections were cut off");
                Ok(exit::SUCCESS)
            }
        }
    });
    // Tasks still running (connections cut off by a second signal) are not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    outcome
}

/// How long a second signal lets the files take to be completed.
const SECOND_SIGNAL_FLUSH: std::time::Duration = std::time::Duration::from_secs(1);

fn banner(
    out: &mut dyn Write,
    click: &SocketAddr,
    impression: &SocketAddr,
    https: Option<&(SocketAddr, PathBuf)>,
    config: &Config,
) -> std::io::Result<()> {
    writeln!(
        out,
        "metrica-s2s {} mock, {} mode, journal capacity {}",
        env!("CARGO_PKG_VERSION"),
        config.mode.as_str(),
        config.journal.capacity
    )?;
    writeln!(out, "listening  clicks      http://{click}   (stands in for https://redirect.appmetrica.yandex.com)")?;
    writeln!(out, "listening  impressions http://{impression}   (stands in for https://impression.appmetrica.yandex.com)")?;
    if let Some((addr, ca)) = https {
        writeln!(
            out,
            "listening  https       https://{addr}   (both hosts, by SNI and Host; clients trust {})",
            ca.display()
        )?;
    }
    if click.ip().is_loopback() || config.admin_token.is_some() {
        writeln!(
            out,
            "dashboard  http://{click}/   (open it in a browser: every request, live, with its diagnosis)"
        )?;
        writeln!(
            out,
            "journal    http://{click}/__admin/requests   metrics http://{click}/metrics"
        )?;
        writeln!(
            out,
            "postbacks  POST http://{click}/__admin/conversions   deliveries http://{click}/__admin/postbacks"
        )?;
    } else {
        writeln!(
            out,
            "admin      off on {click} (not loopback, no --admin-token): no dashboard, journal, metrics or postbacks API here"
        )?;
    }
    writeln!(out, "try:")?;
    writeln!(
        out,
        "  curl -i \"http://{click}/serve/1234567890123456789?click_id=1&device_ip=5.255.232.147&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)&click_timestamp=$(date +%s)\""
    )?;
    out.flush()
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("METRICA_S2S_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[cfg(test)]
mod tests {
    use super::banner;
    use metrica_s2s_mock::Config;

    fn printed(click: &str, token: Option<&str>) -> String {
        let config = Config {
            admin_token: token.map(str::to_owned),
            ..Config::default()
        };
        let mut out = Vec::new();
        let click = click.parse().expect("addr");
        let impression = "127.0.0.1:18081".parse().expect("addr");
        banner(&mut out, &click, &impression, None, &config).expect("written");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn admin_urls_are_printed_only_where_the_admin_api_answers() {
        assert!(printed("127.0.0.1:18080", None).contains("/__admin/requests"));
        let open = printed("0.0.0.0:18080", None);
        assert!(!open.contains("/__admin/"), "{open}");
        assert!(open.contains("admin      off on 0.0.0.0:18080"), "{open}");
        assert!(printed("0.0.0.0:18080", Some("t0ken")).contains("/__admin/requests"));
    }
}
