package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.FileTrees;
import dev.thaw.common.Json;
import dev.thaw.common.ThawDirs;
import dev.thaw.guest.GuestImage;
import dev.thaw.guest.ImageBuilder;
import dev.thaw.model.Mode;
import dev.thaw.vm.Accel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real guest attacking its host through the agent connection (functions/hostile): floods
 * without a newline, oversized results, forged calls, a self-calling chain that lies about its
 * parent. Each attack fails only its own invocation, with a named error; the daemon's memory
 * stays bounded; the next call of the same function and of another one succeed.
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileGuestIT {
    static final int MAX_CALL_DEPTH = 3;
    Path dataDir;
    Path runDir;
    Platform platform;

    @BeforeAll
    void start() throws Exception {
        dataDir = Files.createTempDirectory(Path.of("/tmp"), "thaw-hostile-data-");
        runDir = Files.createTempDirectory(Path.of("/tmp"), "thaw-hostile-run-");
        GuestImage image = new ImageBuilder(ThawDirs.cache()).ensure(System.err::println);
        Limits limits = new Limits(8, 4096, 8, 8, Duration.ofSeconds(30));
        platform = QemuPlatform.open(new Platform.Config(dataDir, runDir, ThawDirs.cache(), Duration.ofSeconds(60), 4,
                Duration.ofMinutes(30), limits, null, 0, null, MAX_CALL_DEPTH, null), image, Accel.TCG);
        platform.deploy(FunctionBundle.fromDirectory(VmFixture.exampleFunction("hostile")));
        platform.deploy(FunctionBundle.fromDirectory(VmFixture.exampleFunction("probe")));
    }

    @AfterAll
    void stop() {
        if (platform != null) platform.close();
        FileTrees.delete(dataDir);
        FileTrees.delete(runDir);
    }

    static long rssBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
        throw new IllegalStateException("no VmRSS");
    }

    ThawException attack(String event) {
        return assertThrows(ThawException.class, () -> platform.invoke("hostile", Json.parse(event), Mode.WARM));
    }

    void bothFunctionsStillAnswer() {
        assertTrue(platform.invoke("hostile", Json.object(), Mode.WARM).result().path("ok").asBoolean());
        assertEquals("x", platform.invoke("probe", Json.parse("{\"v\": \"x\"}"), Mode.WARM).result().path("echo").path("v").asText());
    }

    @Test
    void aGigabyteWithoutANewlineFailsOnlyItsInvocation() throws Exception {
        bothFunctionsStillAnswer();
        long before = rssBytes();
        ThawException e = attack("{\"flood_mb\": 1024}");
        assertEquals("guest_protocol", e.code(), e.getMessage());
        assertEquals(ThawException.Kind.VM_FAILED, e.kind());
        long grown = rssBytes() - before;
        assertTrue(grown < 64L << 20, "the daemon grew by " + (grown >> 20) + " MiB");
        bothFunctionsStillAnswer();
    }

    @Test
    void anOversizedResultIsRefusedByName() throws Exception {
        long before = rssBytes();
        ThawException e = attack("{\"result_mb\": 24}"); // past the 8 MiB line limit; 100 MiB would not fit the 256 MiB guest twice (json.dumps)
        assertEquals("result_too_large", e.code(), e.getMessage());
        assertTrue(rssBytes() - before < 64L << 20);
        bothFunctionsStillAnswer();
    }

    @Test
    void aHundredThousandNestedBracketsAreAProtocolErrorNotACrash() throws Exception {
        long before = rssBytes();
        ThawException e = attack("{\"nest\": 100000}");
        assertEquals("guest_protocol", e.code(), e.getMessage());
        assertTrue(rssBytes() - before < 64L << 20);
        bothFunctionsStillAnswer();
    }

    @Test
    void tenThousandForgedCallsEndTheInstanceNotTheDaemon() {
        ThawException e = attack("{\"forge_calls\": 10000}");
        assertEquals("too_many_calls", e.code(), e.getMessage());
        bothFunctionsStillAnswer();
    }

    @Test
    void aSelfCallingChainStopsAtTheDepthLimitWhateverItsGuestClaims() {
        // Each level's call is refused at depth MAX_CALL_DEPTH + 1; the refusal travels up as thaw.InvocationError.
        ThawException e = attack("{\"recurse_forged\": true}");
        assertEquals("handler_error", e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("call depth limit of " + MAX_CALL_DEPTH) || e.getMessage().contains("InvocationError"),
                e.getMessage());
        assertFalse(platform.instances().stream().anyMatch(i -> i.state().equals("busy")), "no chain is left running");
        bothFunctionsStillAnswer();
    }
}
