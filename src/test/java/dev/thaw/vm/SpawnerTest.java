package dev.thaw.vm;

import dev.thaw.sys.Native;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpawnerTest {
    @Test
    void everyJumpOfTheFilterLandsOnOneOfItsTwoReturns() {
        int[][] prog = Spawner.noHugePageProgram();
        int ret = 0x06;
        for (int i = 0; i < prog.length; i++) {
            if (prog[i][0] == 0x15) {
                int t = i + 1 + prog[i][1], f = i + 1 + prog[i][2];
                assertTrue(t < prog.length && f < prog.length, "jump out of the program at " + i);
                assertEquals(ret, prog[f][0], "a mismatch at " + i + " must end in a return");
                assertEquals(0x7fff0000, prog[f][3], "a mismatch at " + i + " must allow the call");
            }
        }
        assertEquals(0x00050000, prog[prog.length - 2][3], "a full match returns errno 0 without running madvise");
    }

    @Test
    void processesStartedUnderDropCarryTheFilterAndOthersDoNot() throws Exception {
        // The status of a process shows its seccomp filters; `cat` reads its own.
        String dropped = run(HugePageAdvice.DROP);
        String kept = run(HugePageAdvice.KEEP);
        assertTrue(dropped.contains("Seccomp_filters:\t1"), dropped);
        assertTrue(kept.contains("Seccomp_filters:\t0"), kept);
        assertEquals(Native.MADV_HUGEPAGE, Spawner.noHugePageProgram()[5][3]);
    }

    private static String run(HugePageAdvice advice) throws Exception {
        Path out = Files.createTempFile("spawner", ".txt");
        try {
            Process p = Spawner.start(new ProcessBuilder(List.of("cat", "/proc/self/status"))
                    .redirectOutput(out.toFile()), advice);
            assertEquals(0, p.waitFor());
            return Files.readString(out);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
