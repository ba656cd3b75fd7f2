package dev.thaw.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * How this package links and calls libc: downcall handles from {@link Linker#defaultLookup()}
 * (glibc); calls that report failure through errno are linked with
 * {@code captureCallState("errno")}, so errno is read in the same downcall that failed, and a
 * failure becomes a {@link NativeException} naming the call, its target and errno.
 */
final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle STRERROR = plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle STRERRORNAME = plain("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Libc() {}

    // ---- errors ---------------------------------------------------------------------------

    /** The symbolic name of an errno value, e.g. "ENOENT" (glibc's strerrorname_np). */
    static String errnoName(int errno) {
        long name = invoke(() -> ((MemorySegment) STRERRORNAME.invokeExact(errno)).address());
        return name == 0 ? "errno " + errno : cString(name);
    }

    /** The C library's text for an errno value, e.g. "No such file or directory". */
    static String strerror(int errno) {
        return cString(invoke(() -> ((MemorySegment) STRERROR.invokeExact(errno)).address()));
    }

    /** A NUL-terminated string in libc's static storage. */
    private static String cString(long address) {
        return MemorySegment.ofAddress(address).reinterpret(Long.MAX_VALUE).getString(0);
    }

    // ---- linking and invoking -------------------------------------------------------------

    static MethodHandle withErrno(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(symbol(name), descriptor, options);
    }

    static MethodHandle plain(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(name), descriptor);
    }

    private static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    /** A downcall that sets errno; it gets an arena for its arguments and the errno capture slot. */
    @FunctionalInterface
    interface ErrnoCall {
        long call(Arena arena, MemorySegment errno) throws Throwable;
    }

    @FunctionalInterface
    interface Call {
        long call() throws Throwable;
    }

    /** Runs a call that returns -1 and sets errno on failure; returns its result otherwise. */
    static long check(String name, String target, ErrnoCall call) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long result = invoke(() -> call.call(arena, state));
            if (result == -1) {
                throw new NativeException(name, target, (int) ERRNO.get(state, 0L));
            }
            return result;
        }
    }

    static long invoke(Call call) {
        try {
            return call.call();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native downcall failed unexpectedly", t); // downcalls throw no checked exceptions
        }
    }
}
