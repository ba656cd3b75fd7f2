package dev.thaw.cli;

import dev.thaw.api.ApiServer;
import dev.thaw.common.AuthToken;
import dev.thaw.platform.Platform;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    @Option(names = "--auth-token-file", paramLabel = "FILE",
            description = "Require this API token (one line, at least 16 characters) as 'Authorization: Bearer <token>' on "
                    + "every route but GET /healthz; without it, 401. Clients (thaw invoke, app, bench --daemon, load, flow) "
                    + "read the same file from $THAW_AUTH_TOKEN_FILE. Default: no token (listen on loopback only).")
    Path authTokenFile;

    @Option(names = "--functions-root", paramLabel = "DIR",
            description = "Deploy by path ({\"path\": dir}) only from directories under DIR (repeatable; links resolved "
                    + "first); others answer 403 path_not_allowed, and tar uploads still work. Default: any directory.")
    List<Path> functionRoots = new ArrayList<>();

    @Mixin
    Boot boot;

    @Override
    public Integer call() throws InterruptedException {
        Platform platform = boot.start();
        AuthToken token = authTokenFile == null ? null : AuthToken.read(authTokenFile);
        ApiServer api = new ApiServer(platform, new InetSocketAddress(host, port), maxBody, token, functionRoots).start();
        Runtime.getRuntime().addShutdownHook(new Thread(api::close));
        if (token == null && !new InetSocketAddress(host, port).getAddress().isLoopbackAddress()) {
            Boot.progress("warning: listening on " + host + " without --auth-token-file: anyone who reaches it can deploy and run code");
        }
        Boot.progress("daemon listening on " + api.url() + " (accel " + platform.accel().name().toLowerCase()
                + ", " + platform.functions().size() + " functions deployed)");
        new CountDownLatch(1).await();
        return 0;
    }
}
