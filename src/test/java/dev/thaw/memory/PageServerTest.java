package dev.thaw.memory;

import dev.thaw.sys.Native;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page server against a Java stand-in for Firecracker (the contract: byte-exact JSON, the
 * userfaultfd passed by SCM_RIGHTS, faults served from the file), in this JVM: the test thread's
 * reads of the stand-in's memory are the guest's faults.
 */
class PageServerTest {
    private static final int PAGE = Native.PAGE_SIZE;

    @Test
    void servesFirecrackersHandshakeFromTheFile() throws Exception {
        try (Scratch s = new Scratch()) {
            byte[] content = randomPagesWithZeros(16, 7, 5, 6); // one zero page
            Path file = s.write("memory", content);
            Path sock = s.dir().resolve("pf.sock");
            try (PageServer server = PageServer.start(sock, file, PageServer.Options.DEFAULT);
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 8 * PAGE, 4 * PAGE)) {
                server.connected().get(10, TimeUnit.SECONDS);
                // byte-exact: what the server received is what Firecracker sends
                assertArrayEquals(vmm.sent(), server.handshake());
                assertEquals(FirecrackerStandIn.json(vmm.memory().address(), 8 * PAGE, 4 * PAGE, PAGE),
                        new String(server.handshake(), java.nio.charset.StandardCharsets.US_ASCII));
                assertTrue(Files.notExists(sock), "the socket is removed once the VMM connected");
                // touch pages 3, 0, 1 of the region (file pages 7, 4, 5): served in that order
                for (int p : new int[] {3, 0, 1}) {
                    byte[] got = vmm.memory().asSlice((long) p * PAGE, PAGE).toArray(JAVA_BYTE);
                    byte[] want = java.util.Arrays.copyOfRange(content, (4 + p) * PAGE, (5 + p) * PAGE);
                    assertArrayEquals(want, got, "page " + p);
                }
                FaultLog log = server.log();
                assertEquals(3, log.size());
                assertEquals(List.of(7L, 4L, 5L), List.of(log.page(0), log.page(1), log.page(2)));
                FaultLog.Stats st = log.stats(0);
                assertEquals(3, st.faults());
                assertEquals(1, st.zeroPages(), "file page 5 is zero and installed as the zero page");
                assertTrue(st.p50Us() > 0 && st.p99Us() >= st.p50Us(), st.toString());
                assertEquals(1, log.stats(2).faults(), "a window counts only its own faults");
                // writes after the fault are private to the VMM
                vmm.memory().set(JAVA_BYTE, 0, (byte) 42);
                assertEquals(3, log.size(), "a written page that is present faults no more");
            }
        }
    }

    @Test
    void aFaultOnAPageStillBeingFetchedWaitsForIt() throws Exception {
        try (Scratch s = new Scratch()) {
            byte[] content = new byte[8 * PAGE];
            new java.util.SplittableRandom(11).nextBytes(content);
            byte[] arrived = content.clone();
            java.util.Arrays.fill(arrived, 5 * PAGE, 6 * PAGE, (byte) 0); // page 5 is not here yet: a hole
            Path file = s.write("memory.sparse", arrived);
            FetchProgress progress = new FetchProgress(8 * PAGE, java.time.Duration.ofSeconds(30));
            progress.markPresent(0, 5 * PAGE);
            progress.markPresent(6 * PAGE, 2 * PAGE);
            Path sock = s.dir().resolve("pf.sock");
            try (PageServer server = PageServer.start(sock, file, PageServer.Options.DEFAULT, progress);
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 8 * PAGE, 0)) {
                server.connected().get(10, TimeUnit.SECONDS);
                assertArrayEquals(java.util.Arrays.copyOfRange(content, PAGE, 2 * PAGE),
                        vmm.memory().asSlice(PAGE, PAGE).toArray(JAVA_BYTE), "an arrived page is served at once");
                java.util.concurrent.CompletableFuture<byte[]> guest = java.util.concurrent.CompletableFuture.supplyAsync(
                        () -> vmm.memory().asSlice(5L * PAGE, PAGE).toArray(JAVA_BYTE));
                FetchProgressTest.awaitDemand(progress, 5);
                assertTrue(!guest.isDone(), "the fault waits for its page");
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.write(java.nio.ByteBuffer.wrap(content, 5 * PAGE, PAGE), 5L * PAGE); // the fetch writes it...
                }
                progress.markPresent(5L * PAGE, PAGE); // ...and says so
                assertArrayEquals(java.util.Arrays.copyOfRange(content, 5 * PAGE, 6 * PAGE), guest.get(10, TimeUnit.SECONDS),
                        "the guest sees the fetched bytes, never the hole's zeros");
            }
        }
    }

    @Test
    void aPreStartedVmmIsBoundOnceAndAFaultBeforeTheBindWaitsForIt() throws Exception {
        try (Scratch s = new Scratch()) {
            byte[] content = new byte[16 * PAGE];
            new java.util.SplittableRandom(11).nextBytes(content);
            Path file = s.write("memory", content);
            Path other = s.write("other", new byte[16 * PAGE]);
            Path sock = s.dir().resolve("pool.sock");
            try (PageServer server = PageServer.awaitVmm(sock, 16 * PAGE, PageServer.Options.DEFAULT, PageAvailability.COMPLETE);
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 16 * PAGE, 0)) {
                server.connected().get(10, TimeUnit.SECONDS);
                assertTrue(!server.isBound());
                java.util.concurrent.CompletableFuture<byte[]> early = java.util.concurrent.CompletableFuture.supplyAsync(
                        () -> vmm.memory().asSlice(3L * PAGE, PAGE).toArray(JAVA_BYTE), java.util.concurrent.Executors.newSingleThreadExecutor());
                assertThrows(java.util.concurrent.TimeoutException.class, () -> early.get(300, TimeUnit.MILLISECONDS),
                        "nothing is served before the bind");
                server.bind(file);
                assertArrayEquals(java.util.Arrays.copyOfRange(content, 3 * PAGE, 4 * PAGE), early.get(10, TimeUnit.SECONDS));
                assertThrows(IllegalStateException.class, () -> server.bind(other), "one snapshot per VMM, ever");
                assertThrows(IllegalStateException.class, () -> server.bind(file), "not even the same one again");
                assertArrayEquals(java.util.Arrays.copyOfRange(content, 9 * PAGE, 10 * PAGE),
                        vmm.memory().asSlice(9L * PAGE, PAGE).toArray(JAVA_BYTE), "still serving the first file");
            }
        }
    }

    @Test
    void aBindToAFileShorterThanTheVmmsMemoryIsRefused() throws Exception {
        try (Scratch s = new Scratch()) {
            Path small = s.write("small", new byte[4 * PAGE]);
            Path sock = s.dir().resolve("pool.sock");
            try (PageServer server = PageServer.awaitVmm(sock, 16 * PAGE, PageServer.Options.DEFAULT, PageAvailability.COMPLETE);
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 16 * PAGE, 0)) {
                server.connected().get(10, TimeUnit.SECONDS);
                java.io.IOException e = assertThrows(java.io.IOException.class, () -> server.bind(small));
                assertTrue(e.getMessage().contains("shorter"), e.getMessage());
            }
        }
    }

    @Test
    void reapsInstallSkipsPagesAlreadyFaultedAndLeavesMissesToTheServer() throws Exception {
        try (Scratch s = new Scratch(); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            byte[] content = new byte[16 * PAGE];
            new java.util.SplittableRandom(5).nextBytes(content);
            Path file = s.write("memory", content);
            List<PageRun> ws = List.of(new PageRun(0, 4), new PageRun(8, 2));
            Path pages = s.dir().resolve("ws.pages");
            WorkingSetFile.write(file, pages, ws);
            assertEquals(6L * PAGE, Files.size(pages));
            Path sock = s.dir().resolve("pf.sock");
            try (PageServer server = PageServer.start(sock, file, PageServer.Options.DEFAULT);
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 16 * PAGE, 0)) {
                server.connected().get(10, TimeUnit.SECONDS);
                vmm.memory().get(JAVA_BYTE, 2L * PAGE); // faulted before the install: EEXIST, skipped
                long installed = server.install(WorkingSetFile.read(pages, 6L * PAGE, arena), ws);
                assertEquals(5, installed);
                assertEquals(5, server.installedPages());
                assertArrayEquals(content, vmm.memory().toArray(JAVA_BYTE), "every page has the file's content");
                assertEquals(16 - 5, server.log().size(), "the pages outside the install faulted one by one, the installed ones never");
            }
        }
    }

    @Test
    void theConcurrentInstallPutsZeroAndLoadingPagesInWithoutFaults() throws Exception {
        try (Scratch s = new Scratch()) {
            byte[] content = randomPagesWithZeros(16, 9, 0, 2);
            Path file = s.write("memory", content);
            Path sock = s.dir().resolve("pf.sock");
            try (PageServer server = PageServer.start(sock, file, PageServer.Options.DEFAULT);
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 16 * PAGE, 0)) {
                vmm.memory().get(JAVA_BYTE, 5L * PAGE); // a fault before the install reaches page 5
                ConcurrentInstall.Result r = ConcurrentInstall.start(server, file, List.of(), List.of(new PageRun(0, 2)),
                        List.of(new PageRun(4, 4), new PageRun(10, 2))).get(10, TimeUnit.SECONDS);
                assertEquals(2 + 3 + 2, r.pages(), "zero pages, then the loading set minus the faulted page");
                int faults = server.log().size();
                assertEquals(1, faults);
                for (int p : new int[] {0, 1, 4, 6, 7, 10, 11}) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(content, p * PAGE, (p + 1) * PAGE),
                            vmm.memory().asSlice((long) p * PAGE, PAGE).toArray(JAVA_BYTE), "page " + p);
                }
                assertEquals(faults, server.log().size(), "installed pages never fault");
            }
        }
    }

    @Test
    void theInstallFromTheWorkingSetFileCopiesFromOneSequentialReadInGroupOrder() throws Exception {
        try (Scratch s = new Scratch()) {
            byte[] content = randomPagesWithZeros(16, 11, 2, 3);
            Path file = s.write("memory", content);
            // The working set: pages 2 (zero), 4..7 and 10..11, stored back to back in ascending order.
            List<PageRun> fileRuns = List.of(new PageRun(2, 1), new PageRun(4, 4), new PageRun(10, 2));
            Path wsPages = s.dir().resolve("ws.pages");
            WorkingSetFile.write(file, wsPages, fileRuns);
            Path sock = s.dir().resolve("pf.sock");
            try (PageServer server = PageServer.start(sock, file, PageServer.Options.DEFAULT)) {
                // The read starts before the VMM exists; the install waits for its handshake.
                var install = ConcurrentInstall.startFromWorkingSetFile(server, wsPages, fileRuns, List.of(), List.of(new PageRun(2, 1)),
                        List.of(new PageRun(10, 2), new PageRun(6, 2), new PageRun(4, 2))); // group order, not file order
                try (FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 16 * PAGE, 0)) {
                    ConcurrentInstall.Result r = install.get(10, TimeUnit.SECONDS);
                    assertEquals(1 + 6, r.pages());
                    assertEquals(0, server.log().size(), "nothing faulted");
                    for (int p : new int[] {2, 4, 5, 6, 7, 10, 11}) {
                        assertArrayEquals(java.util.Arrays.copyOfRange(content, p * PAGE, (p + 1) * PAGE),
                                vmm.memory().asSlice((long) p * PAGE, PAGE).toArray(JAVA_BYTE), "page " + p);
                    }
                    assertEquals(0, server.log().size(), "installed pages never fault");
                    vmm.memory().get(JAVA_BYTE, 8L * PAGE);
                    assertEquals(1, server.log().size(), "a page outside the set is served on demand");
                }
            }
        }
    }

    @Test
    void zeroRunsMadeAnonymousNeverReachTheServerAndTheRestStillDoes() throws Exception {
        try (Scratch s = new Scratch()) {
            byte[] content = randomPagesWithZeros(16, 13, 4, 10); // pages 4..9 hold zeros
            Path file = s.write("memory", content);
            Path sock = s.dir().resolve("pf.sock");
            try (PageServer server = PageServer.start(sock, file, PageServer.Options.DEFAULT);
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 16 * PAGE, 0)) {
                server.connected().get(10, TimeUnit.SECONDS);
                var install = ConcurrentInstall.start(server, file, List.of(new PageRun(4, 6)), List.of(), List.of(new PageRun(12, 2)));
                assertEquals(2, install.get(10, TimeUnit.SECONDS).pages(), "only the loading pages were installed");
                assertEquals(6, server.anonymousPages());
                vmm.memory().set(JAVA_BYTE, 5L * PAGE + 7, (byte) 42); // a write and a read in the anonymous runs
                assertEquals(0, vmm.memory().get(JAVA_BYTE, 9L * PAGE + 100));
                assertEquals(0, server.log().size(), "the kernel served the zero runs itself");
                assertEquals(42, vmm.memory().get(JAVA_BYTE, 5L * PAGE + 7));
                for (int p = 0; p < 16; p++) {
                    byte[] want = java.util.Arrays.copyOfRange(content, p * PAGE, (p + 1) * PAGE);
                    if (p == 5) want[7] = 42;
                    assertArrayEquals(want, vmm.memory().asSlice((long) p * PAGE, PAGE).toArray(JAVA_BYTE), "page " + p);
                }
                assertEquals(16 - 6 - 2, server.log().size(), "every other page faulted to the server once");
            }
        }
    }

    /**
     * The race the acceptance run hit: the server has read a fault's message and not yet resolved
     * it when the page is made anonymous. The unregister wakes the guest (the kernel then gives it
     * a zero page); the server's ioctl then gets ENOENT, which must not end the VM. A page
     * availability that holds the fault between the read and the ioctl opens the window.
     */
    @Test
    void aFaultInFlightWhenItsPageWentAnonymousIsDroppedNotFatal() throws Exception {
        try (Scratch s = new Scratch()) {
            byte[] content = randomPagesWithZeros(8, 17, 2, 6);
            Path file = s.write("memory", content);
            Path sock = s.dir().resolve("pf.sock");
            java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            PageAvailability holdPage3 = (offset, length) -> {
                if (offset == 3L * PAGE) {
                    reading.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            try (PageServer server = PageServer.start(sock, file, PageServer.Options.DEFAULT, holdPage3);
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 8 * PAGE, 0)) {
                server.connected().get(10, TimeUnit.SECONDS);
                java.util.concurrent.CompletableFuture<Byte> toucher =
                        java.util.concurrent.CompletableFuture.supplyAsync(() -> vmm.memory().get(JAVA_BYTE, 3L * PAGE + 1));
                assertTrue(reading.await(10, TimeUnit.SECONDS), "the server took the fault");
                assertEquals(4, server.makeAnonymous(List.of(new PageRun(2, 4))));
                assertEquals((byte) 0, toucher.get(10, TimeUnit.SECONDS), "woken, and given a zero page by the kernel");
                release.countDown();
                assertArrayEquals(java.util.Arrays.copyOfRange(content, 7 * PAGE, 8 * PAGE),
                        vmm.memory().asSlice(7L * PAGE, PAGE).toArray(JAVA_BYTE), "the server still serves");
                assertFalse(server.done().isDone(), "the stale fault did not end the server");
            }
        }
    }

    @Test
    void theInstallRefusesALoadingRunOutsideTheWorkingSetFile() throws Exception {
        try (Scratch s = new Scratch()) {
            Path file = s.randomFile("memory", 8, 5);
            List<PageRun> fileRuns = List.of(new PageRun(1, 2));
            Path wsPages = s.dir().resolve("ws.pages");
            WorkingSetFile.write(file, wsPages, fileRuns);
            Path sock = s.dir().resolve("pf.sock");
            try (PageServer server = PageServer.start(sock, file, PageServer.Options.DEFAULT)) {
                var install = ConcurrentInstall.startFromWorkingSetFile(server, wsPages, fileRuns, List.of(), List.of(), List.of(new PageRun(2, 2)));
                try (FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 8 * PAGE, 0)) {
                    ExecutionException e = assertThrows(ExecutionException.class, () -> install.get(10, TimeUnit.SECONDS));
                    assertTrue(e.getCause().getMessage().contains("not in the working-set file"), e.getCause().getMessage());
                }
            }
        }
    }

    @Test
    void aServerThatDiesFailsAndStopsServing() throws Exception {
        try (Scratch s = new Scratch()) {
            Path file = s.randomFile("memory", 8, 3);
            Path sock = s.dir().resolve("pf.sock");
            try (PageServer server = PageServer.start(sock, file, new PageServer.Options(10_000, 1));
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, 8 * PAGE, 0)) {
                vmm.memory().get(JAVA_BYTE, 0); // the one fault it serves before "crashing"
                ExecutionException e = assertThrows(ExecutionException.class, () -> server.done().get(10, TimeUnit.SECONDS));
                assertTrue(e.getCause().getMessage().contains("fault injection"), e.getCause().getMessage());
            }
        }
    }

    @Test
    void aVmmThatNeverConnectsFailsTheServerInTime() throws Exception {
        try (Scratch s = new Scratch()) {
            Path file = s.randomFile("memory", 1, 3);
            try (PageServer server = PageServer.start(s.dir().resolve("pf.sock"), file, new PageServer.Options(300, -1))) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> server.connected().get(10, TimeUnit.SECONDS));
                assertTrue(e.getCause().getMessage().contains("no VMM connected"), e.getCause().getMessage());
            }
        }
    }

    /** {@code pages} pages of random bytes from {@code seed}, with pages {@code [zeroFrom, zeroTo)} all zeros. */
    private static byte[] randomPagesWithZeros(int pages, long seed, int zeroFrom, int zeroTo) {
        byte[] content = new byte[pages * PAGE];
        new java.util.SplittableRandom(seed).nextBytes(content);
        java.util.Arrays.fill(content, zeroFrom * PAGE, zeroTo * PAGE, (byte) 0);
        return content;
    }
}
