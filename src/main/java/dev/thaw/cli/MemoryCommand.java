package dev.thaw.cli;

import dev.thaw.memory.Mapping;
import dev.thaw.memory.Mappings;
import dev.thaw.memory.PageCache;
import dev.thaw.memory.PageRun;
import dev.thaw.memory.Pagemap;
import dev.thaw.memory.Runs;
import dev.thaw.memory.Smaps;
import dev.thaw.memory.ZeroPages;

import dev.thaw.sys.Native;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code thaw memory drop|resident|zeros|touched}: the page-cache and memory-file tools by hand,
 * for preparing cold-cache runs and checking what a restore loaded.
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = "Inspect and control the page cache and memory files (cold-cache runs, zero pages, touched pages).",
        subcommands = {MemoryCommand.Drop.class, MemoryCommand.Resident.class,
                MemoryCommand.Zeros.class, MemoryCommand.Touched.class})
public final class MemoryCommand {
    private static final double MIB = 1 << 20;

    /** Runs one command body, turning I/O failures into one line on stderr and exit code 1. */
    private static int run(String command, IoBody body) {
        try {
            body.run();
            return 0;
        } catch (IOException e) {
            System.err.println("thaw memory " + command + ": " + e.getMessage());
            return 1;
        }
    }

    @FunctionalInterface
    private interface IoBody {
        void run() throws IOException;
    }

    private static String pages(long pages) {
        return String.format("%,d pages (%.1f MiB)", pages, pages * Native.PAGE_SIZE / MIB);
    }

    @Command(name = "drop", mixinStandardHelpOptions = true,
            description = "Write back and evict files from the page cache (fsync + posix_fadvise DONTNEED), "
                    + "so the next read comes from disk. Pages that a running process maps stay resident.")
    static final class Drop implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "FILE", description = "Files to drop from the page cache.")
        List<Path> files;

        @Override
        public Integer call() {
            return run("drop", () -> {
                for (Path file : files) {
                    long before = PageCache.residentCount(file);
                    PageCache.drop(file);
                    long after = PageCache.residentCount(file);
                    System.out.printf("%s: resident %s -> %s%n", file, pages(before), pages(after));
                }
            });
        }
    }

    @Command(name = "resident", mixinStandardHelpOptions = true,
            description = "Show how much of each file is in the page cache (mincore).")
    static final class Resident implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "FILE", description = "Files to inspect.")
        List<Path> files;

        @Option(names = "--runs", description = "Also list the resident page runs (first page + count).")
        boolean listRuns;

        @Override
        public Integer call() {
            return run("resident", () -> {
                for (Path file : files) {
                    BitSet resident = PageCache.residentPages(file);
                    System.out.printf("%s: %s of %s resident%n", file, pages(resident.cardinality()),
                            pages(Native.pages(Files.size(file))));
                    if (listRuns) {
                        Runs.of(resident).forEach(r -> System.out.printf("  %d+%d%n", r.start(), r.count()));
                    }
                }
            });
        }
    }

    @Command(name = "zeros", mixinStandardHelpOptions = true,
            description = "Find the all-zero 4 KiB pages of a file and optionally punch holes over them "
                    + "(fallocate PUNCH_HOLE|KEEP_SIZE: same content and size, zero pages no longer read from disk).")
    static final class Zeros implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "The file to scan, e.g. a snapshot memory file.")
        Path file;

        @Option(names = "--punch", description = "Punch holes over the zero pages (needs write access).")
        boolean punch;

        @Option(names = "--min-run", paramLabel = "PAGES", defaultValue = "1",
                description = "With --punch, skip zero runs shorter than this many pages (default: ${DEFAULT-VALUE}).")
        int minRun;

        @Override
        public Integer call() {
            if (minRun < 1) {
                System.err.println("thaw memory zeros: --min-run must be at least 1, got " + minRun);
                return 2;
            }
            return run("zeros", () -> {
                long started = System.nanoTime();
                BitSet zero = ZeroPages.scan(file);
                long total = Native.pages(Files.size(file));
                System.out.printf("%s: %s of %s are zero, in %,d runs (scan %.0f ms)%n", file, pages(zero.cardinality()),
                        pages(total), Runs.of(zero).size(), (System.nanoTime() - started) / 1e6);
                if (punch) {
                    long before = ZeroPages.allocatedBytes(file);
                    started = System.nanoTime();
                    List<PageRun> punched = ZeroPages.punchHoles(file, zero, minRun);
                    System.out.printf("punched %,d runs, %s in %.0f ms; allocated %.1f MiB -> %.1f MiB%n",
                            punched.size(), pages(Runs.pageCount(punched)), (System.nanoTime() - started) / 1e6,
                            before / MIB, ZeroPages.allocatedBytes(file) / MIB);
                }
            });
        }
    }

    @Command(name = "touched", mixinStandardHelpOptions = true,
            description = "Show which pages of a file's mappings in a process are present in memory "
                    + "(/proc/PID/pagemap), e.g. the guest pages a restored VM touched; needs root for other processes.")
    static final class Touched implements Callable<Integer> {
        @Option(names = "--pid", required = true, description = "The process, e.g. the VMM.")
        long pid;

        @Parameters(paramLabel = "FILE", description = "The mapped file, e.g. the snapshot memory file.")
        Path file;

        @Override
        public Integer call() {
            return run("touched", () -> {
                List<Mapping> mappings = Mappings.find(pid, file);
                if (mappings.isEmpty()) {
                    throw new IOException("process " + pid + " does not map " + file);
                }
                for (Mapping mapping : mappings) {
                    BitSet present = Pagemap.present(pid, mapping);
                    Smaps smaps = Smaps.of(pid, mapping);
                    System.out.printf("%x-%x %s file offset %,d: %s present, %,d runs; rss %.1f MiB, private dirty %.1f MiB%n",
                            mapping.start(), mapping.end(), mapping.perms(), mapping.offset(),
                            pages(present.cardinality()), Runs.of(present).size(),
                            smaps.rss() / MIB, smaps.privateDirty() / MIB);
                }
            });
        }
    }
}
