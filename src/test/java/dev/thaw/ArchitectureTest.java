package dev.thaw;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The architecture of docs/design.md §1, pinned: the layers, no cycles between packages, and the
 * seams that keep the core testable. A change that breaks one of these fails the build with the
 * offending dependency named.
 */
class ArchitectureTest {
    static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.thaw");

    /** Layers from the outside in; a layer may use those below it, never those above. */
    static final ArchRule LAYERS = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("cli").definedBy("dev.thaw.cli..")
            .layer("tools").definedBy("dev.thaw.bench..", "dev.thaw.load..", "dev.thaw.flow..",
                    "dev.thaw.cluster..", "dev.thaw.gateway..", "dev.thaw.sim..")
            .layer("http").definedBy("dev.thaw.api..", "dev.thaw.client..")
            .layer("platform").definedBy("dev.thaw.platform..")
            .layer("policy").definedBy("dev.thaw.scale..")
            .layer("trace").definedBy("dev.thaw.trace..")
            .layer("host").definedBy("dev.thaw.vm..", "dev.thaw.snapshot..", "dev.thaw.memory..", "dev.thaw.guest..")
            .layer("base").definedBy("dev.thaw.model..", "dev.thaw.common..", "dev.thaw.sys..")
            .whereLayer("cli").mayNotBeAccessedByAnyLayer()
            .whereLayer("tools").mayOnlyBeAccessedByLayers("cli")
            .whereLayer("http").mayOnlyBeAccessedByLayers("cli", "tools")
            .whereLayer("platform").mayOnlyBeAccessedByLayers("cli", "tools", "http")
            .whereLayer("policy").mayOnlyBeAccessedByLayers("cli", "tools", "http", "platform")
            .whereLayer("trace").mayOnlyBeAccessedByLayers("cli", "tools", "http", "platform")
            .whereLayer("host").mayOnlyBeAccessedByLayers("cli", "tools", "platform");

    static final ArchRule NO_CYCLES = slices().matching("dev.thaw.(*)..").should().beFreeOfCycles();

    /** The platform sees VMs only through Guest and GuestLauncher: never QEMU's classes. */
    static final ArchRule VM_SEAM = noClasses().that().resideInAPackage("dev.thaw.platform..")
            .should().dependOnClassesThat().haveNameMatching("dev\\.thaw\\.vm\\.Qemu.*")
            .orShould().dependOnClassesThat().haveSimpleName("AgentConnection")
            .orShould().dependOnClassesThat().haveSimpleName("Qmp");

    /** HTTP is the api's business: the platform speaks in ThawException kinds, not status codes or servers. */
    static final ArchRule NO_HTTP_BELOW_API = noClasses().that().resideOutsideOfPackages("dev.thaw.api..", "dev.thaw.client..",
                    "dev.thaw.cli..", "dev.thaw.load..", "dev.thaw.bench..", "dev.thaw.trace..",
                    "dev.thaw.cluster..", "dev.thaw.gateway..")
            .should().dependOnClassesThat().resideInAnyPackage("io.helidon..", "com.sun.net.httpserver..", "java.net.http..");

    /** Native code is linked in one package. */
    static final ArchRule NATIVE_IN_SYS = noClasses().that().resideOutsideOfPackage("dev.thaw.sys..")
            .should().dependOnClassesThat().haveFullyQualifiedName("java.lang.foreign.Linker");

    @Test
    void layersAreRespected() {
        LAYERS.check(MAIN);
    }

    @Test
    void packagesHaveNoCycles() {
        NO_CYCLES.check(MAIN);
    }

    @Test
    void thePlatformSeesVmsOnlyThroughTheGuestSeam() {
        VM_SEAM.check(MAIN);
    }

    @Test
    void httpStaysAtTheEdge() {
        NO_HTTP_BELOW_API.check(MAIN);
    }

    @Test
    void nativeCallsAreLinkedOnlyInSys() {
        NATIVE_IN_SYS.check(MAIN);
    }
}
