package dev.thaw.platform;

import dev.thaw.common.Json;
import dev.thaw.model.Mode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keep-alive, min_warm and prewarm, driven by a manual clock. */
class KeeperTest {
    static final Limits LIMITS = new Limits(8, 8192, 2, 4, Duration.ofSeconds(5));

    @Test
    void idleInstancesStopAfterTheKeepAliveTime() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4)) {
            fake.deploy("a");
            fake.platform.invoke("a", Json.object(), Mode.WARM);
            fake.advanceAndKeep(Duration.ofSeconds(59));
            assertEquals(1, fake.platform.instances().size(), "still within its keep-alive time");
            fake.advanceAndKeep(Duration.ofSeconds(2));
            assertTrue(fake.platform.instances().isEmpty());
            assertEquals(0, fake.launcher.running());
        }
    }

    @Test
    void aCallResetsTheKeepAliveClock() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4)) {
            fake.deploy("a");
            fake.platform.invoke("a", Json.object(), Mode.WARM);
            fake.advanceAndKeep(Duration.ofSeconds(50));
            fake.platform.invoke("a", Json.object(), Mode.WARM);
            fake.advanceAndKeep(Duration.ofSeconds(50));
            assertEquals(1, fake.platform.instances().size());
        }
    }

    @Test
    void minWarmInstancesAreKeptAndToppedUp() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4)) {
            fake.deploy("w", "{\"name\": \"w\", \"memory_mib\": 128, \"record\": false, \"min_warm\": 2}");
            fake.advanceAndKeep(Duration.ofSeconds(1));
            assertEquals(2, fake.platform.instances().size(), "topped up to min_warm");
            fake.advanceAndKeep(Duration.ofMinutes(10));
            assertEquals(2, fake.platform.instances().size(), "never retired below min_warm");
            fake.platform.stopInstance(fake.platform.instances().getFirst().id());
            fake.advanceAndKeep(Duration.ofSeconds(1));
            assertEquals(2, fake.platform.instances().size(), "a stopped one is replaced");
            assertEquals(3, fake.launcher.restores());
        }
    }

    @Test
    void prewarmParksInstancesForWarmCalls() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 1)) {
            fake.deploy("a");
            List<String> ids = fake.platform.prewarm("a", 3);
            assertEquals(3, ids.size());
            assertEquals(3, fake.platform.instances().size(), "prewarmed instances are kept beyond --max-idle");
            var r = fake.platform.invoke("a", Json.object(), Mode.WARM);
            assertTrue(ids.contains(r.instance()));
            assertEquals(null, r.coldStart());
        }
    }

    @Test
    void prewarmChecksItsCount() {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("a");
            assertEquals(ThawException.Kind.INVALID, assertThrows(ThawException.class, () -> fake.platform.prewarm("a", 0)).kind());
            assertEquals(ThawException.Kind.INVALID, assertThrows(ThawException.class, () -> fake.platform.prewarm("a", 65)).kind());
            assertEquals(ThawException.Kind.NOT_FOUND, assertThrows(ThawException.class, () -> fake.platform.prewarm("b", 1)).kind());
        }
    }
}
