package dev.thaw.cli;

import dev.thaw.api.ApiServer;
import dev.thaw.platform.Platform;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code thaw serve}: the daemon. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the thaw daemon: deploy functions, restore them from snapshots, serve invocations over HTTP.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = {"-p", "--port"}, defaultValue = "8080", description = "Port to listen on. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--max-body", defaultValue = "6291456", description = "Largest request body in bytes (larger gets 413). Default: ${DEFAULT-VALUE} (6 MiB).")
    long maxBody;

    @Mixin
    Boot boot;

    @Override
    public Integer call() throws InterruptedException {
        Platform platform = boot.start();
        ApiServer api = new ApiServer(platform, new InetSocketAddress(host, port), maxBody).start();
        Runtime.getRuntime().addShutdownHook(new Thread(api::close));
        Boot.progress("daemon listening on " + api.url() + " (accel " + platform.accel().name().toLowerCase()
                + ", " + platform.functions().size() + " functions deployed)");
        new CountDownLatch(1).await();
        return 0;
    }
}
