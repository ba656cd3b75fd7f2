package dev.thaw.vm;

import dev.thaw.sys.Native;
import dev.thaw.sys.NativeException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The long-lived platform threads every QEMU is started from, one per {@link HugePageAdvice}.
 *
 * <p>Why threads: QEMU runs under {@code setpriv --pdeathsig KILL}, and the parent-death signal
 * fires when the <em>thread</em> that spawned it ends, so the spawning thread must live as long
 * as the daemon (a virtual thread's carrier may come and go). Why one per advice: a seccomp
 * filter belongs to a thread and is inherited by every process it starts, across
 * {@code execve}. The {@code DROP} thread installs, before its first spawn, a four-test filter
 * that makes {@code madvise(addr, len, MADV_HUGEPAGE)} return 0 without running; every other
 * system call of QEMU, and every thread of this JVM but that one, is untouched.
 */
final class Spawner {
    private static final Map<HugePageAdvice, ExecutorService> THREADS = new EnumMap<>(HugePageAdvice.class);

    private Spawner() {}

    static Process start(ProcessBuilder pb, HugePageAdvice advice) throws IOException {
        try {
            return thread(advice).submit(pb::start).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting QEMU");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    private static synchronized ExecutorService thread(HugePageAdvice advice) throws IOException {
        ExecutorService existing = THREADS.get(advice);
        if (existing != null) return existing;
        ExecutorService t = Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "thaw-vm-spawner-" + advice.id());
            th.setDaemon(true);
            return th;
        });
        if (advice == HugePageAdvice.DROP) {
            try {
                t.submit(() -> { installNoHugePageFilter(); return null; }).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                t.shutdown();
                throw new IOException("interrupted");
            } catch (ExecutionException e) {
                t.shutdown();
                throw new VmException("cannot drop QEMU's huge-page advice (" + e.getCause().getMessage()
                        + "); run with --vmm-thp-advice keep", e.getCause());
            }
        }
        THREADS.put(advice, t);
        return t;
    }

    // linux/prctl.h, linux/seccomp.h, linux/filter.h, linux/audit.h (x86-64).
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final int PR_SET_SECCOMP = 22;
    private static final int SECCOMP_MODE_FILTER = 2;
    private static final int SECCOMP_RET_ALLOW = 0x7fff0000;
    private static final int SECCOMP_RET_ERRNO = 0x00050000;
    private static final int AUDIT_ARCH_X86_64 = 0xc000003e;
    private static final int NR_MADVISE = 28;
    private static final short LD_W_ABS = 0x20, JEQ_K = 0x15, RET_K = 0x06;
    // struct seccomp_data: int nr; u32 arch; u64 ip; u64 args[6]. args[2] (advice) is at 32.
    private static final int NR = 0, ARCH = 4, ARG2 = 32;

    /** The filter: for madvise(…, MADV_HUGEPAGE) on x86-64 return "errno 0" (success, not run); allow the rest. */
    static int[][] noHugePageProgram() {
        // {code, jt, jf, k}; a jump skips jt/jf instructions after the current one.
        return new int[][] {
                {LD_W_ABS, 0, 0, ARCH},
                {JEQ_K, 0, 5, AUDIT_ARCH_X86_64},
                {LD_W_ABS, 0, 0, NR},
                {JEQ_K, 0, 3, NR_MADVISE},
                {LD_W_ABS, 0, 0, ARG2},
                {JEQ_K, 0, 1, Native.MADV_HUGEPAGE},
                {RET_K, 0, 0, SECCOMP_RET_ERRNO},
                {RET_K, 0, 0, SECCOMP_RET_ALLOW},
        };
    }

    private static void installNoHugePageFilter() throws NativeException {
        int[][] prog = noHugePageProgram();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment filter = arena.allocate(8L * prog.length, 8);
            for (int i = 0; i < prog.length; i++) {
                long at = 8L * i; // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }
                filter.set(JAVA_SHORT, at, (short) prog[i][0]);
                filter.set(JAVA_BYTE, at + 2, (byte) prog[i][1]);
                filter.set(JAVA_BYTE, at + 3, (byte) prog[i][2]);
                filter.set(JAVA_INT, at + 4, prog[i][3]);
            }
            MemorySegment fprog = arena.allocate(16, 8); // struct sock_fprog { u16 len; struct sock_filter *filter; }
            fprog.set(JAVA_SHORT, 0, (short) prog.length);
            fprog.set(JAVA_LONG, 8, filter.address());
            // Without CAP_SYS_ADMIN the kernel demands no_new_privs; for QEMU it changes nothing.
            Native.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            Native.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog.address(), 0, 0);
        }
    }
}
