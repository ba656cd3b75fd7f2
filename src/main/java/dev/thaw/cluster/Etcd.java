package dev.thaw.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * thaw's view of etcd: string keys and values, a few operations, and every call bounded by a
 * timeout, over the official Java client (jetcd, gRPC).
 *
 * <p>Everything the cluster shares lives under {@code /thaw/}: nodes under leases (a node that
 * stops renewing drops out by itself), the function registry and code bundles without one. The
 * wrapper exists so the rest of the cluster code speaks in keys and JSON strings, and so an
 * unreachable etcd is an {@link EtcdException} after {@link #TIMEOUT} rather than a call that
 * hangs: a node must keep serving what it has while etcd is away. Tests against a real etcd on a
 * loaded machine pass a longer bound: there an answer that comes late is still the answer the
 * test is about, and a lease grant waits for etcd's fsync, which a busy disk can hold for seconds.
 */
public final class Etcd implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(3);
    public static final String NODES = "/thaw/nodes/";
    public static final String FUNCTIONS = "/thaw/functions/";
    public static final String BUNDLES = "/thaw/bundles/";

    /** A change seen by a watch: a put (value set) or a delete (value null). */
    public record Event(String key, String value) {
        public boolean deleted() {
            return value == null;
        }
    }

    public static final class EtcdException extends RuntimeException {
        EtcdException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static {
        // gRPC's netty reaches for sun.misc.Unsafe, which JDK 25 warns about on stderr; its plain path is fast enough for etcd.
        if (System.getProperty("io.netty.noUnsafe") == null) System.setProperty("io.netty.noUnsafe", "true");
    }

    private final Client client;
    private final List<String> endpoints;
    private final Duration timeout;

    private Etcd(List<String> endpoints, Duration timeout) {
        this.endpoints = List.copyOf(endpoints);
        this.timeout = timeout;
        this.client = Client.builder().endpoints(endpoints.toArray(String[]::new))
                .connectTimeout(Duration.ofSeconds(2)).waitForReady(false)
                .retryMaxDuration(Duration.ofSeconds(2)).build();
    }

    /** @param endpoints client URLs, e.g. {@code http://127.0.0.1:2379}; parsed strictly */
    public static Etcd connect(List<String> endpoints) {
        return connect(endpoints, TIMEOUT);
    }

    /** As {@link #connect(List)}, each call bounded by {@code timeout} instead of {@link #TIMEOUT}. */
    public static Etcd connect(List<String> endpoints, Duration timeout) {
        if (endpoints.isEmpty()) throw new IllegalArgumentException("--cluster needs at least one etcd URL");
        for (String e : endpoints) {
            if (!e.matches("https?://[^/\\s]+(:\\d+)?/?")) {
                throw new IllegalArgumentException("--cluster: \"" + e + "\" is not an etcd client URL like http://127.0.0.1:2379");
            }
        }
        return new Etcd(endpoints, timeout);
    }

    /** Parses {@code URL[,URL…]}. */
    public static List<String> parseEndpoints(String csv) {
        return java.util.Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    public List<String> endpoints() {
        return endpoints;
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private <T> T await(CompletableFuture<T> f, String what) {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EtcdException("interrupted: " + what, e);
        } catch (ExecutionException e) {
            throw new EtcdException("etcd " + endpoints + ": " + what + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new EtcdException("etcd " + endpoints + ": " + what + " got no answer in " + timeout.toMillis() + " ms", e);
        }
    }

    public void put(String key, String value) {
        await(client.getKVClient().put(bytes(key), bytes(value)), "put " + key);
    }

    /** Puts under a lease: the key goes when the lease expires. */
    public void put(String key, String value, long lease) {
        await(client.getKVClient().put(bytes(key), bytes(value), PutOption.builder().withLeaseId(lease).build()), "put " + key);
    }

    /** The value of {@code key}, or null. */
    public String get(String key) {
        List<KeyValue> kvs = await(client.getKVClient().get(bytes(key)), "get " + key).getKvs();
        return kvs.isEmpty() ? null : kvs.getFirst().getValue().toString(StandardCharsets.UTF_8);
    }

    /** Every key under {@code prefix} with its value, in key order. */
    public Map<String, String> list(String prefix) {
        List<KeyValue> kvs = await(client.getKVClient().get(bytes(prefix), GetOption.builder().isPrefix(true).build()),
                "list " + prefix).getKvs();
        Map<String, String> out = new LinkedHashMap<>();
        for (KeyValue kv : kvs) out.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().toString(StandardCharsets.UTF_8));
        return out;
    }

    public void delete(String key) {
        await(client.getKVClient().delete(bytes(key), DeleteOption.DEFAULT), "delete " + key);
    }

    /** A new lease of {@code ttlSeconds}; returns its id. */
    public long grant(long ttlSeconds) {
        return await(client.getLeaseClient().grant(ttlSeconds), "lease grant").getID();
    }

    /** Renews a lease once; false if etcd no longer knows it (it expired). */
    public boolean renew(long lease) {
        try {
            return await(client.getLeaseClient().keepAliveOnce(lease), "lease keep-alive").getTTL() > 0;
        } catch (EtcdException e) {
            if (String.valueOf(e.getMessage()).contains("lease not found")) return false;
            throw e;
        }
    }

    public void revoke(long lease) {
        await(client.getLeaseClient().revoke(lease), "lease revoke");
    }

    /**
     * Watches every key under {@code prefix}. The client re-establishes a broken watch itself;
     * {@code onError} hears of a watch it gave up on (the caller lists and watches again).
     */
    public AutoCloseable watch(String prefix, Consumer<Event> onEvent, Consumer<Throwable> onError) {
        Watch.Watcher w = client.getWatchClient().watch(bytes(prefix), WatchOption.builder().isPrefix(true).build(),
                Watch.listener(resp -> {
                    for (WatchEvent e : resp.getEvents()) {
                        String key = e.getKeyValue().getKey().toString(StandardCharsets.UTF_8);
                        String value = e.getEventType() == WatchEvent.EventType.DELETE ? null
                                : e.getKeyValue().getValue().toString(StandardCharsets.UTF_8);
                        onEvent.accept(new Event(key, value));
                    }
                }, onError));
        return w::close;
    }

    @Override
    public void close() {
        client.close();
    }
}
