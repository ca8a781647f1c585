//! Prometheus (Debian's 2.x), scraping targets every second or serving backfilled data.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use http::Method;

use crate::http::HttpClient;
use crate::process::{Daemon, http_status, require_tool, run, with_free_port};
use crate::{Error, temp_dir, write};

/// A Prometheus server on 127.0.0.1.
///
/// # Caveats
/// With live scraping, the first sample lands about 5.5 s after start (Prometheus
/// throttles target discovery to every 5 s); poll for `up == 1` before asserting, or use
/// [`Prometheus::start_with_backfill`] for deterministic data and query at a fixed time.
#[derive(Debug)]
pub struct Prometheus {
    daemon: Daemon,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` (job `app`) every second.
    ///
    /// # Errors
    /// [`Error::MissingTool`], [`Error::NotReady`] with the log, [`Error::Io`].
    pub fn start(targets: &[SocketAddr]) -> Result<Self, Error> {
        let dir = temp_dir("prometheus-")?;
        let targets = targets
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let scrape = if targets.is_empty() {
            String::new()
        } else {
            format!(
                "scrape_configs: [ {{ job_name: app, static_configs: [ {{ targets: [{targets}] }} ] }} ]\n"
            )
        };
        Self::launch(dir, &scrape)
    }

    /// Starts Prometheus on data made from `openmetrics` (text ending in `# EOF`, samples
    /// with explicit timestamps in seconds, within the last 15 days) by
    /// `promtool tsdb create-blocks-from openmetrics`; nothing is scraped.
    ///
    /// # Errors
    /// As [`Prometheus::start`], plus [`Error::Command`] when promtool refuses the data.
    pub fn start_with_backfill(openmetrics: &str) -> Result<Self, Error> {
        let dir = temp_dir("prometheus-")?;
        let input = dir.path().join("backfill.om");
        write(&input, openmetrics)?;
        run(Command::new(require_tool("promtool")?)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&input)
            .arg(dir.path().join("data")))?;
        Self::launch(dir, "")
    }

    fn launch(dir: tempfile::TempDir, scrape: &str) -> Result<Self, Error> {
        let prometheus = require_tool("prometheus")?;
        let base: &Path = dir.path();
        let config = base.join("prometheus.yml");
        let mut text = String::from(
            "global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 1s }\n",
        );
        let _ = write!(text, "{scrape}");
        write(&config, text)?;
        let log = base.join("prometheus.log");
        let (daemon, port) = with_free_port(|port| {
            let mut command = Command::new(&prometheus);
            command
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    base.join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--storage.tsdb.retention.time=15d");
            let mut daemon = Daemon::spawn("prometheus", command, &log)?;
            daemon.wait_ready(|| http_status(port, "/-/ready") == Some(200))?;
            Ok((daemon, port))
        })?;
        Ok(Self {
            daemon,
            port,
            _dir: dir,
        })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Prometheus's PID.
    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }
    /// `http://127.0.0.1:<port>`, as in a MetricTemplate's provider address.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs an instant query (at `time`, seconds since the epoch, or now) and returns the
    /// API's `data` object.
    ///
    /// # Errors
    /// [`Error::Http`] when the query fails.
    pub async fn query(&self, promql: &str, time: Option<i64>) -> Result<serde_json::Value, Error> {
        let mut url = format!("{}/api/v1/query?query={}", self.url(), encode(promql));
        if let Some(time) = time {
            let _ = write!(url, "&time={time}");
        }
        let response = HttpClient::new(None)?
            .expect_success(Method::GET, &url, &[], Vec::new())
            .await?;
        let body: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|e| Error::Http {
                context: format!("GET {url}"),
                detail: e.to_string(),
            })?;
        Ok(body["data"].clone())
    }

    /// Stops Prometheus now (also done on drop).
    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}

/// Percent-encodes a query parameter value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}
