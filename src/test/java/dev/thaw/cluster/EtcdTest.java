package dev.thaw.cluster;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The etcd wrapper against a real etcd: keys, prefixes, leases that expire, watches. */
class EtcdTest {
    static EtcdHarness harness;
    static Etcd etcd;

    @BeforeAll
    static void start() throws Exception {
        harness = EtcdHarness.start(1, 23796);
        etcd = harness.connect();
    }

    @AfterAll
    static void stop() {
        if (etcd != null) etcd.close();
        if (harness != null) harness.close();
    }

    @Test
    void putGetListDelete() {
        etcd.put("/t/a/1", "one");
        etcd.put("/t/a/2", "two");
        etcd.put("/t/b", "other");
        assertEquals("one", etcd.get("/t/a/1"));
        assertEquals(java.util.List.of("/t/a/1", "/t/a/2"), java.util.List.copyOf(etcd.list("/t/a/").keySet()));
        etcd.delete("/t/a/1");
        assertNull(etcd.get("/t/a/1"));
    }

    @Test
    void aRevokedLeaseTakesItsKeysAndCannotBeRenewed() {
        long lease = etcd.grant(30);
        etcd.put("/t/leased", "x", lease);
        assertTrue(etcd.renew(lease));
        etcd.revoke(lease);
        assertNull(etcd.get("/t/leased"));
        assertFalse(etcd.renew(lease));
    }

    @Test
    void watchSeesPutsAndDeletes() throws Exception {
        LinkedBlockingQueue<Etcd.Event> events = new LinkedBlockingQueue<>();
        try (AutoCloseable w = etcd.watch("/t/w/", events::add, e -> {})) {
            etcd.put("/t/w/x", "1");
            etcd.delete("/t/w/x");
            assertEquals(new Etcd.Event("/t/w/x", "1"), events.poll(30, TimeUnit.SECONDS));
            Etcd.Event del = events.poll(30, TimeUnit.SECONDS);
            assertTrue(del.deleted(), "second event: " + del);
        }
    }

    @Test
    void endpointsAreParsedStrictly() {
        assertThrows(IllegalArgumentException.class, () -> Etcd.connect(java.util.List.of("127.0.0.1:2379")));
        assertEquals(java.util.List.of("http://a:1", "http://b:2"), Etcd.parseEndpoints("http://a:1, http://b:2"));
    }
}
