package dev.thaw.trace;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;

import java.util.HashMap;
import java.util.Map;

/**
 * The daemon's tracing: an OpenTelemetry SDK tracer whose spans go to the in-memory
 * {@link TraceStore} (always) and to an OTLP/HTTP endpoint (when configured), plus W3C
 * {@code traceparent} handling so a caller's trace continues through thaw.
 */
public final class Tracing implements AutoCloseable {
    private final SdkTracerProvider provider;
    private final Tracer tracer;
    private final TraceStore store;

    /**
     * @param maxTraces    traces kept in memory for {@code GET /traces}
     * @param otlpEndpoint e.g. {@code http://collector:4318/v1/traces}, or null for none
     */
    public Tracing(int maxTraces, String otlpEndpoint) {
        this.store = new TraceStore(maxTraces);
        SdkTracerProviderBuilder b = SdkTracerProvider.builder()
                .setResource(Resource.create(Attributes.of(io.opentelemetry.api.common.AttributeKey.stringKey("service.name"), "thaw")))
                .addSpanProcessor(SimpleSpanProcessor.create(store));
        if (otlpEndpoint != null && !otlpEndpoint.isBlank()) {
            b.addSpanProcessor(BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder().setEndpoint(otlpEndpoint).build()).build());
        }
        this.provider = b.build();
        this.tracer = provider.get("dev.thaw");
    }

    public Tracer tracer() {
        return tracer;
    }

    public TraceStore store() {
        return store;
    }

    /** The context a {@code traceparent} header carries (the root context when absent or malformed). */
    public static Context extract(String traceparent) {
        if (traceparent == null || traceparent.isBlank()) return Context.root();
        Map<String, String> carrier = Map.of("traceparent", traceparent.trim());
        return W3CTraceContextPropagator.getInstance().extract(Context.root(), carrier, new TextMapGetter<>() {
            @Override
            public Iterable<String> keys(Map<String, String> c) {
                return c.keySet();
            }

            @Override
            public String get(Map<String, String> c, String key) {
                return c == null ? null : c.get(key);
            }
        });
    }

    /** The {@code traceparent} value naming a span. */
    public static String traceparent(SpanContext span) {
        Map<String, String> carrier = new HashMap<>();
        W3CTraceContextPropagator.getInstance().inject(Context.root().with(io.opentelemetry.api.trace.Span.wrap(span)), carrier, Map::put);
        return carrier.get("traceparent");
    }

    @Override
    public void close() {
        provider.close();
    }
}
