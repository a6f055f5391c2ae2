//! Prometheus metrics: requests by route and status, latency, loaded
//! features of the layers the scraper may see, and backups.

use layers::LayerIndex;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The server's instruments.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    backup_last_success: IntGauge,
    backup_failures: IntCounter,
    backup_bytes: IntGauge,
    ogc_requests: IntCounterVec,
    ogc_features: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers the instruments.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "bsc_http_requests_total",
                "HTTP requests answered, by route, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "bsc_http_request_duration_seconds",
                "Time to the response head, by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let backup_last_success = IntGauge::new(
            "bsc_backup_last_success_timestamp_seconds",
            "When the last checked backup was taken (Unix seconds; 0: none yet)",
        )
        .expect("valid metric");
        let backup_failures = IntCounter::new(
            "bsc_backup_failures_total",
            "Backups that failed (writing or checking) since the server started",
        )
        .expect("valid metric");
        let backup_bytes = IntGauge::new("bsc_backup_bytes", "Size of the last checked backup")
            .expect("valid metric");
        for m in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(backup_last_success.clone()),
            Box::new(backup_failures.clone()),
            Box::new(backup_bytes.clone()),
        ] {
            registry.register(m).expect("metric registered once");
        }
        let ogc_requests = IntCounterVec::new(
            Opts::new(
                "bsc_ogc_items_requests_total",
                "OGC API items pages served, by the filters the client sent: cql2 (a filter parameter), property (property=value parameters), datetime, bbox, joined by +; none for none",
            ),
            &["filter"],
        )
        .expect("valid metric");
        let ogc_features = IntCounterVec::new(
            Opts::new(
                "bsc_ogc_items_features_total",
                "Features sent in OGC API items pages, by the filter the client sent",
            ),
            &["filter"],
        )
        .expect("valid metric");
        for m in [&ogc_requests, &ogc_features] {
            registry
                .register(Box::new(m.clone()))
                .expect("metric registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            backup_last_success,
            backup_failures,
            backup_bytes,
            ogc_requests,
            ogc_features,
        }
    }

    /// Notes a checked backup taken at `unix` seconds, of `bytes`.
    pub fn backup_succeeded(&self, unix: i64, bytes: u64) {
        self.backup_last_success.set(unix);
        self.backup_bytes
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Counts a failed backup.
    pub fn backup_failed(&self) {
        self.backup_failures.inc();
    }

    /// Counts one OGC API items page of `features` features, by the kind
    /// of filter the client sent: what shows that a client pushed its
    /// filter to the server and how much travelled.
    pub fn record_ogc_items(&self, filter: &str, features: usize) {
        let filter = if filter.is_empty() { "none" } else { filter };
        self.ogc_requests.with_label_values(&[filter]).inc();
        self.ogc_features
            .with_label_values(&[filter])
            .inc_by(features as u64);
    }

    /// Counts one answered request under its route template (never the
    /// raw path, which would let clients create unbounded label values).
    pub fn record(&self, route: &str, method: &str, status: &str, elapsed: std::time::Duration) {
        self.latency
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
        self.requests
            .with_label_values(&[route, method, status])
            .inc();
    }

    /// Renders the registry plus per-layer gauges of `visible`, the layers
    /// the caller may see.
    pub fn render(&self, visible: &[&LayerIndex]) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        let mut text = String::from_utf8(out).unwrap_or_default();
        text.push_str(
            "# HELP bsc_layer_features Features loaded in the served version of each layer.\n",
        );
        text.push_str("# TYPE bsc_layer_features gauge\n");
        for l in visible {
            text.push_str(&format!(
                "bsc_layer_features{{layer=\"{}\"}} {}\n",
                l.meta.id,
                l.data.len()
            ));
        }
        text.push_str("# HELP bsc_features_loaded Features loaded in all layers listed above.\n");
        text.push_str("# TYPE bsc_features_loaded gauge\n");
        text.push_str(&format!(
            "bsc_features_loaded {}\n",
            visible.iter().map(|l| l.data.len()).sum::<usize>()
        ));
        text.push_str(
            "# HELP bsc_layers_loaded Layers listed above.\n# TYPE bsc_layers_loaded gauge\n",
        );
        text.push_str(&format!("bsc_layers_loaded {}\n", visible.len()));
        let last = self.backup_last_success.get();
        if last > 0 {
            text.push_str(
                "# HELP bsc_backup_last_age_seconds Seconds since the last checked backup was taken.\n\
                 # TYPE bsc_backup_last_age_seconds gauge\n",
            );
            text.push_str(&format!(
                "bsc_backup_last_age_seconds {}\n",
                (layers::clock::unix_seconds() - last).max(0)
            ));
        }
        text
    }
}
