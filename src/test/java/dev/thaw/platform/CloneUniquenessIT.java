package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.model.Mode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Clones of one snapshot must not share randomness: five instances restored from the same
 * snapshot answer five different values from os.urandom, random, uuid4 and secrets, and the
 * handler's after_restore hook runs once in each (functions/entropy).
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CloneUniquenessIT {
    static final int CLONES = 5;
    VmFixture vms;

    @BeforeAll
    void start() throws Exception {
        vms = new VmFixture(new Limits(8, 4096, 4, 8, Duration.ofSeconds(30)));
        vms.platform.deploy(FunctionBundle.fromDirectory(VmFixture.exampleFunction("entropy")));
    }

    @AfterAll
    void stop() {
        if (vms != null) vms.close();
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"VANILLA", "FAASNAP"})
    void everyCloneHasItsOwnRandomness(Mode mode) {
        List<JsonNode> answers = new ArrayList<>();
        List<String> instances = new ArrayList<>();
        for (int i = 0; i < CLONES; i++) {
            InvocationResult r = vms.platform.invoke("entropy", Json.object(), mode);
            assertEquals(mode.id(), r.coldStart(), "each call restores a new clone");
            answers.add(r.result());
            instances.add(r.instance());
        }
        assertEquals(CLONES, new HashSet<>(instances).size());
        for (String source : List.of("urandom", "random", "uuid4", "secrets")) {
            assertEquals(CLONES, answers.stream().map(a -> a.path(source).asText()).distinct().count(),
                    source + " repeats across clones: " + answers);
        }
        for (JsonNode a : answers) assertEquals(1, a.path("after_restore_runs").asInt(), "the hook runs once per restore: " + a);
        // A warm call on a clone does not run the hook again.
        assertEquals(1, vms.platform.invoke("entropy", Json.object(), Mode.WARM).result().path("after_restore_runs").asInt());
    }
}
