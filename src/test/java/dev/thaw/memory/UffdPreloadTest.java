package dev.thaw.memory;

import dev.thaw.sys.Native;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The preload library end to end without QEMU: a small program named like QEMU maps a file
 * private (as QEMU maps guest RAM) under LD_PRELOAD; the library must swap in userfaultfd memory
 * and send Firecracker's handshake byte for byte, and every page the program reads must come
 * from thaw's page server with the file's content.
 */
class UffdPreloadTest {
    private static final String HARNESS = """
            #include <fcntl.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <sys/mman.h>
            #include <sys/stat.h>
            #include <unistd.h>
            #include <stdint.h>
            /* crc32c, bitwise (the test compares with java.util.zip.CRC32C) */
            static uint32_t crc32c(const unsigned char *p, size_t n) {
                uint32_t c = 0xffffffffu;
                for (size_t i = 0; i < n; i++) { c ^= p[i]; for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78u & -(c & 1)); }
                return ~c;
            }
            int main(int argc, char **argv) {
                int fd = open(argv[1], O_RDWR);
                struct stat st; fstat(fd, &st);
                unsigned char *m = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
                if (m == MAP_FAILED) { perror("mmap"); return 2; }
                printf("%u\\n", crc32c(m, st.st_size));
                m[0] ^= 1; /* private: the file must stay as it was */
                return 0;
            }
            """;

    @Test
    void swapsTheMappingAndSendsFirecrackersHandshake() throws Exception {
        try (Scratch s = new Scratch()) {
            byte[] content = new byte[64 * Native.PAGE_SIZE];
            new java.util.SplittableRandom(11).nextBytes(content);
            java.util.Arrays.fill(content, 0, 8 * Native.PAGE_SIZE, (byte) 0);
            Path memory = s.write("memory", content);
            Path lib = UffdPreload.get(s.dir().resolve("cache"));
            Path src = s.dir().resolve("harness.c");
            Files.writeString(src, HARNESS);
            Path exe = s.dir().resolve("qemu-system-harness");
            Process cc = new ProcessBuilder("gcc", "-O1", "-o", exe.toString(), src.toString()).inheritIO().start();
            assertEquals(0, cc.waitFor());

            Path sock = s.dir().resolve("pf.sock");
            try (PageServer server = PageServer.start(sock, memory, PageServer.Options.DEFAULT)) {
                ProcessBuilder pb = new ProcessBuilder(exe.toString(), memory.toString()).redirectErrorStream(true);
                pb.environment().put("LD_PRELOAD", lib.toString());
                pb.environment().put("THAW_UFFD_MEM_PATH", memory.toString());
                pb.environment().put("THAW_UFFD_SOCKET", sock.toString());
                Process p = pb.start();
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the harness finished");
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                assertEquals(0, p.exitValue(), out);
                CRC32C crc = new CRC32C();
                crc.update(content);
                assertEquals(Long.toString(crc.getValue()), out, "the program read the file's content through the page server");

                long base = server.regions().getFirst().base();
                assertEquals(FirecrackerStandIn.json(base, content.length, 0, Native.PAGE_SIZE),
                        new String(server.handshake(), StandardCharsets.US_ASCII), "Firecracker's handshake, byte for byte");
                FaultLog.Stats st = server.log().stats(0);
                assertEquals(64, st.faults(), "every page faulted exactly once");
                assertEquals(8, st.zeroPages());
                server.done().get(10, TimeUnit.SECONDS); // it ends with its VMM
            }
            assertEquals(0, Files.readAllBytes(memory)[0], "the memory file is untouched");
        }
    }
}
