package dev.thaw.platform;

import dev.thaw.common.Json;
import dev.thaw.model.Mode;
import dev.thaw.vm.FakeLauncher;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deploys, restarts and crashes of the registry, on fake guests and a real data directory. */
class FunctionRegistryTest {
    @Test
    void aRestartFindsDeployedFunctionsAndTheyStillRestore() {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("a");
            Platform again = new Platform(fake.platform.config(), fake.image, new FakeLauncher(fake.ticker::advance), fake.ticker, false);
            try (again) {
                assertEquals(1, again.functions().size());
                assertEquals("a", again.invoke("a", Json.object(), Mode.VANILLA).result().path("function").asText());
            }
        }
    }

    @Test
    void aCrashBetweenTheTwoRenamesOfADeployKeepsThePreviousDeployment() throws Exception {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("a");
            Path functions = fake.root.resolve("data/functions");
            // The crash: the old deployment was moved aside, the new one never moved in.
            Files.move(functions.resolve("a"), functions.resolve(".old-a-12345678"));
            Files.createDirectories(functions.resolve(".staging-a-87654321/code"));
            Platform again = new Platform(fake.platform.config(), fake.image, new FakeLauncher(fake.ticker::advance), fake.ticker, false);
            try (again) {
                assertEquals("a", again.function("a").name());
                assertTrue(Files.isDirectory(functions.resolve("a")));
                assertFalse(Files.exists(functions.resolve(".old-a-12345678")));
                assertFalse(Files.exists(functions.resolve(".staging-a-87654321")));
            }
        }
    }

    @Test
    void aFailedDeployLeavesThePreviousOneServingAndNoStagingBehind() throws Exception {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("a");
            fake.launcher.failNextLaunch(new dev.thaw.vm.VmException.Died("QEMU exited"));
            ThawException e = assertThrows(ThawException.class, () -> fake.deploy("a"));
            assertEquals(ThawException.Kind.VM_FAILED, e.kind());
            assertEquals("deploy_failed", e.code());
            assertEquals("a", fake.platform.invoke("a", Json.object(), Mode.WARM).result().path("function").asText());
            try (var dirs = Files.list(fake.root.resolve("data/functions"))) {
                assertEquals(1, dirs.count());
            }
        }
    }

    @Test
    void undeployRemovesTheFunctionAndItsFiles() {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("a");
            fake.platform.undeploy("a");
            assertTrue(fake.platform.functions().isEmpty());
            assertFalse(Files.exists(fake.root.resolve("data/functions/a")));
            assertEquals(ThawException.Kind.NOT_FOUND, assertThrows(ThawException.class, () -> fake.platform.undeploy("a")).kind());
        }
    }

    @Test
    void snapshotsListTheirManifests() {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("a");
            var snaps = fake.platform.snapshots();
            assertEquals(1, snaps.size());
            assertEquals("a", snaps.getFirst().path("function").asText());
            assertTrue(snaps.getFirst().path("files").size() >= 2);
        }
    }

    @Test
    void aDeploymentThatCannotBeOpenedIsListedAsBrokenNotDropped() throws Exception {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("a");
            fake.deploy("b");
            Files.writeString(fake.root.resolve("data/functions/b/snapshot/manifest.json"), "{not json");
            Platform again = new Platform(fake.platform.config(), fake.image, new FakeLauncher(fake.ticker::advance), fake.ticker, false);
            try (again) {
                assertEquals(1, again.functions().size(), "a still serves");
                assertEquals(java.util.Set.of("b"), again.brokenFunctions().keySet());
                assertTrue(again.brokenFunctions().get("b").contains("manifest"), again.brokenFunctions().toString());
                ThawException e = assertThrows(ThawException.class, () -> again.invoke("b", Json.object(), Mode.WARM));
                assertEquals(ThawException.Kind.CONFLICT, e.kind());
                assertEquals("function_broken", e.code());
                again.deploy(FunctionBundle.fromDirectory(fake.root.resolve("src/b")));
                assertTrue(again.brokenFunctions().isEmpty(), "a new deploy replaces the broken one");
                assertEquals("b", again.invoke("b", Json.object(), Mode.WARM).result().path("function").asText());
            }
        }
    }

    @Test
    void aBrokenDeploymentCanBeUndeployed() throws Exception {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("b");
            Files.delete(fake.root.resolve("data/functions/b/snapshot/manifest.json"));
            Platform again = new Platform(fake.platform.config(), fake.image, new FakeLauncher(fake.ticker::advance), fake.ticker, false);
            try (again) {
                assertEquals(java.util.Set.of("b"), again.brokenFunctions().keySet());
                again.undeploy("b");
                assertTrue(again.brokenFunctions().isEmpty());
                assertFalse(Files.exists(fake.root.resolve("data/functions/b")));
            }
        }
    }
}
