package dev.thaw.cli;

import dev.thaw.api.ApiServer;
import dev.thaw.client.DaemonClient;
import dev.thaw.bench.Demo;
import dev.thaw.common.Json;
import dev.thaw.common.ThawDirs;
import dev.thaw.platform.Platform;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code thaw demo}: the one-command tour. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Start an embedded daemon, deploy the example functions, and compare cold boots,",
                "snapshot restores (vanilla, cold page cache) and warm invocations. Prints a table."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Also write the results as JSON to this file.")
    Path json;

    @Option(names = "--runs", defaultValue = "5", description = "Invocations per function and mode. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--function", description = "Function directory to include (repeatable). Default: functions/hello and functions/json.")
    List<Path> functions = new ArrayList<>();

    @Mixin
    Boot boot;

    @Override
    public Integer call() throws Exception {
        if (runs < 1) throw new IllegalArgumentException("--runs must be at least 1");
        List<Path> dirs = functions.isEmpty()
                ? List.of(ThawDirs.home().resolve("functions/hello"), ThawDirs.home().resolve("functions/json"))
                : functions;
        for (Path d : dirs) {
            if (!Files.isRegularFile(d.resolve("function.json"))) throw new IllegalArgumentException(d + " is not a function directory (no function.json)");
        }
        try (Platform platform = boot.start();
             ApiServer api = new ApiServer(platform, new InetSocketAddress("127.0.0.1", 0), 6 << 20).start();
             DaemonClient client = new DaemonClient(api.url())) {
            Boot.progress("embedded daemon on " + api.url() + ", accelerator " + platform.accel().name().toLowerCase());
            Demo.Report report = new Demo(platform, client, Boot::progress)
                    .run(dirs, runs, boot.dataDir != null ? boot.dataDir : ThawDirs.data());
            System.out.println();
            Demo.printTable(report, System.out);
            if (json != null) {
                Files.writeString(json, Json.pretty(report));
                System.out.println("wrote " + json);
            }
        }
        return 0;
    }
}
