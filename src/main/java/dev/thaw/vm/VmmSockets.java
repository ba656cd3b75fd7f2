package dev.thaw.vm;

import dev.thaw.sys.Native;
import dev.thaw.sys.UnixSocket;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The sockets thaw listens on for one QEMU (QMP, the agent port, the descriptor monitor), and the
 * accepts that wait for QEMU to connect: without polling QEMU's state, and failing fast, with
 * QEMU's exit status, when QEMU exits before it connects.
 */
final class VmmSockets {
    private VmmSockets() {}

    /** Accepts QEMU's connection to the descriptor monitor's socket, in short polls so an exited QEMU fails fast. */
    static Native.Fd acceptNative(Native.Fd server, Process process, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Native.Fd conn = UnixSocket.accept(server, 50);
            if (conn != null) return conn;
            if (!process.isAlive()) {
                throw new VmException.Died("QEMU exited (status " + process.exitValue() + ") before connecting its descriptor monitor");
            }
        }
        throw new VmException.Timeout("QEMU did not connect its descriptor monitor within " + timeout);
    }

    static ServerSocketChannel listen(Path socket) throws IOException {
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        return server;
    }

    /** Accepts QEMU's connection, failing fast (with QEMU's own message) if QEMU exits first. */
    static SocketChannel accept(ServerSocketChannel server, Process process, Path runDir,
                                        Duration timeout, String what) throws IOException {
        CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                accepted.complete(server.accept());
            } catch (IOException e) {
                accepted.completeExceptionally(e);
            }
        });
        CompletableFuture<Object> exited = process.onExit().thenApply(p -> null);
        try {
            Object first = CompletableFuture.anyOf(accepted, exited).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (first instanceof SocketChannel ch) return ch;
            throw new VmException.Died("QEMU exited (status " + process.exitValue() + ") before connecting its " + what);
        } catch (TimeoutException e) {
            throw new VmException.Timeout("QEMU did not connect its " + what + " within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        }
    }

}
