//! Structured logs with `tracing`, and OpenTelemetry traces over OTLP (off unless the config
//! names an endpoint).
//!
//! `SCHAKEL_LOG` overrides the configured log filter. Spans are made with [`span`]: without
//! an endpoint they cost a few nanoseconds and only carry the trace context on (a child span
//! id for what they write); with one they are exported in batches to
//! `<otlp_endpoint>/v1/traces` as OTLP/HTTP protobuf. Span names and attributes follow the
//! OpenTelemetry conventions for messaging (`send`, `process`) and HTTP; no attribute holds a
//! key, a value, a BSN, a name or a care detail.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
    TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SdkTracer, SdkTracerProvider};
use tracing_subscriber::EnvFilter;

use crate::log::trace::{SpanRef, TraceParent};
use crate::runtime::config::{LogFormat, TelemetryConfig};

pub use opentelemetry::KeyValue as Attr;

/// Installs the global log subscriber; logs go to stderr.
pub fn init(cfg: &TelemetryConfig) {
    let filter = std::env::var("SCHAKEL_LOG")
        .ok()
        .or_else(|| cfg.filter.clone())
        .unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match cfg.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
    // a second init (tests) keeps the first subscriber
    let _ = result;
}

static TRACER: OnceLock<SdkTracer> = OnceLock::new();

/// Keeps the trace exporter running; dropping it sends what is still queued.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Drop for Traces {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown_with_timeout(Duration::from_secs(5)) {
            tracing::warn!(error = %e, "the last spans were not exported");
        }
    }
}

/// Starts exporting traces when the config names an OTLP endpoint (or, without one in the
/// config, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set); `service` becomes `service.name`.
/// Requests go out on the given runtime.
pub fn start_traces(
    cfg: &TelemetryConfig,
    service: &'static str,
    runtime: tokio::runtime::Handle,
) -> anyhow::Result<Option<Traces>> {
    let Some(base) = cfg
        .otlp_endpoint
        .clone()
        .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
        .filter(|e| !e.trim().is_empty())
    else {
        return Ok(None);
    };
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    let url = format!("{}/v1/traces", base.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(&url)
        .with_timeout(Duration::from_secs(10))
        .with_http_client(OnRuntime {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            runtime,
        })
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_id_generator(PlannedIds::default())
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("schakel");
    if TRACER.set(tracer).is_err() {
        anyhow::bail!("traces were started twice");
    }
    tracing::info!(endpoint = %url, "exporting traces");
    Ok(Some(Traces { provider }))
}

/// Whether spans are exported.
pub fn tracing_on() -> bool {
    TRACER.get().is_some()
}

/// The exporter's HTTP client: the batch processor exports from its own thread, so each
/// request is run on the service's runtime.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OnRuntime {
    async fn send_bytes(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let (parts, body) = request.into_parts();
        let mut req = self.client.request(parts.method, parts.uri.to_string());
        for (k, v) in &parts.headers {
            req = req.header(k, v);
        }
        let req = req.body(body);
        let answer = self
            .runtime
            .spawn(async move {
                let res = req.send().await?;
                let status = res.status();
                let body = res.bytes().await?;
                Ok::<_, reqwest::Error>((status, body))
            })
            .await??;
        let mut res = http::Response::new(answer.1);
        *res.status_mut() = answer.0;
        Ok(res)
    }
}

thread_local! {
    static PLANNED: Cell<Option<[u8; 8]>> = const { Cell::new(None) };
}

/// Span ids from the SDK's generator, except where a span's id was planned (a record's span
/// id follows from its content; see `log::trace`); never an id with nine decimal digits in a
/// row (`log::trace::id_ok`).
#[derive(Debug, Default)]
struct PlannedIds(RandomIdGenerator);

impl IdGenerator for PlannedIds {
    fn new_trace_id(&self) -> TraceId {
        loop {
            let id = self.0.new_trace_id();
            if crate::log::trace::id_ok(&id.to_bytes()) {
                return id;
            }
        }
    }

    fn new_span_id(&self) -> SpanId {
        if let Some(planned) = PLANNED.with(Cell::take) {
            return SpanId::from_bytes(planned);
        }
        loop {
            let id = self.0.new_span_id();
            if crate::log::trace::id_ok(&id.to_bytes()) {
                return id;
            }
        }
    }
}

/// What a span does, as OpenTelemetry names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Server,
    Client,
    Producer,
    Consumer,
    Internal,
}

impl From<Kind> for SpanKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Server => SpanKind::Server,
            Kind::Client => SpanKind::Client,
            Kind::Producer => SpanKind::Producer,
            Kind::Consumer => SpanKind::Consumer,
            Kind::Internal => SpanKind::Internal,
        }
    }
}

/// A span about to start: see [`span`].
pub struct SpanStart<'a> {
    kind: Kind,
    parent: Option<&'a TraceParent>,
    planned: Option<SpanRef>,
    links: Vec<&'a TraceParent>,
}

/// Begins a span of `kind` under `parent` (None: a new trace).
pub fn span(kind: Kind, parent: Option<&TraceParent>) -> SpanStart<'_> {
    SpanStart {
        kind,
        parent,
        planned: None,
        links: Vec::new(),
    }
}

fn context_of(t: &TraceParent) -> SpanContext {
    let ids = t.ids();
    SpanContext::new(
        TraceId::from_bytes(ids.trace),
        SpanId::from_bytes(ids.span),
        TraceFlags::SAMPLED,
        true,
        t.tracestate()
            .and_then(|s| s.parse::<TraceState>().ok())
            .unwrap_or_default(),
    )
}

impl<'a> SpanStart<'a> {
    /// The span gets exactly these ids (their trace must be the parent's).
    pub fn planned(mut self, ids: SpanRef) -> Self {
        self.planned = Some(ids);
        self
    }

    /// A link to another span (of this trace or another) that caused this one too.
    pub fn link(mut self, other: &'a TraceParent) -> Self {
        self.links.push(other);
        self
    }

    /// Starts the span; `describe` (its name and attributes) is only called when spans are
    /// exported.
    pub fn start(self, describe: impl FnOnce() -> (Cow<'static, str>, Vec<KeyValue>)) -> Span {
        let Some(tracer) = TRACER.get() else {
            let ctx = match (self.parent, self.planned) {
                (Some(p), Some(ids)) => p.with_ids(ids),
                (Some(p), None) => p.child(),
                (None, Some(ids)) => ids.into(),
                (None, None) => TraceParent::new_root(),
            };
            return Span { ctx, inner: None };
        };
        let (name, attributes) = describe();
        let parent_cx = match self.parent {
            Some(p) => Context::new().with_remote_span_context(context_of(p)),
            None => Context::new(),
        };
        let links = self
            .links
            .iter()
            .map(|l| Link::with_context(context_of(l)))
            .collect();
        let builder = tracer
            .span_builder(name)
            .with_kind(self.kind.into())
            .with_attributes(attributes)
            .with_links(links);
        PLANNED.with(|p| p.set(self.planned.map(|ids| ids.span)));
        let inner = tracer.build_with_context(builder, &parent_cx);
        PLANNED.with(|p| p.set(None));
        let sc = inner.span_context();
        let ids = SpanRef {
            trace: sc.trace_id().to_bytes(),
            span: sc.span_id().to_bytes(),
        };
        let ctx = match self.parent {
            Some(p) => p.with_ids(ids),
            None => ids.into(),
        };
        Span {
            ctx,
            inner: Some(inner),
        }
    }
}

/// A started span; it ends when dropped.
pub struct Span {
    ctx: TraceParent,
    inner: Option<opentelemetry_sdk::trace::Span>,
}

impl Span {
    /// The span's context, to pass on (`traceparent` of what it writes or calls).
    pub fn context(&self) -> &TraceParent {
        &self.ctx
    }

    /// Adds attributes; `attrs` is only called when spans are exported.
    pub fn record(&mut self, attrs: impl FnOnce() -> Vec<KeyValue>) {
        if let Some(s) = &mut self.inner {
            s.set_attributes(attrs());
        }
    }

    /// Marks the span failed; `why` must not hold personal data.
    pub fn fail(&mut self, why: impl FnOnce() -> String) {
        if let Some(s) = &mut self.inner {
            s.set_status(Status::error(why()));
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(s) = &mut self.inner {
            s.end();
        }
    }
}

/// The messaging attributes of a span about Kafka records of `topic` (its full name).
pub fn kafka_attrs(operation: &'static str, topic: &str) -> Vec<KeyValue> {
    vec![
        KeyValue::new("messaging.system", "kafka"),
        KeyValue::new("messaging.operation.type", operation),
        KeyValue::new("messaging.operation.name", operation),
        KeyValue::new("messaging.destination.name", topic.to_owned()),
    ]
}

/// Where a record is: its partition and offset.
pub fn kafka_position(partition: i32, offset: i64) -> Vec<KeyValue> {
    vec![
        KeyValue::new("messaging.destination.partition.id", partition.to_string()),
        KeyValue::new("messaging.kafka.offset", offset),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_an_endpoint_a_span_passes_the_trace_on() {
        let parent = TraceParent::new_root();
        let s = span(Kind::Internal, Some(&parent)).start(|| unreachable!("not exported"));
        assert_eq!(s.context().trace_id(), parent.trace_id());
        assert_ne!(s.context().span_id(), parent.span_id());
        let planned = parent.record_child("x");
        let s = span(Kind::Producer, Some(&parent))
            .planned(planned.ids())
            .start(|| unreachable!("not exported"));
        assert_eq!(s.context(), &planned);
    }
}
