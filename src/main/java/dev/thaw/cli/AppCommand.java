package dev.thaw.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.client.DaemonClient;
import dev.thaw.client.DaemonException;
import dev.thaw.client.DaemonUnreachableException;
import dev.thaw.common.Json;
import dev.thaw.common.StrictJson;
import dev.thaw.platform.FunctionSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code thaw app}: applications, i.e. directories of functions that call each other. */
@Command(name = "app", mixinStandardHelpOptions = true,
        description = "Work with applications: a directory whose subdirectories are functions that call each other.",
        subcommands = AppCommand.Deploy.class)
final class AppCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The fields app.json may have. */
    private static final List<String> APP_FIELDS = List.of("order");

    /** One function of an app: its name (from function.json) and directory. */
    record Function(String name, Path dir) {}

    /**
     * The functions below {@code appDir} in deploy order. A caller's warm-up (its record input,
     * run while it is deployed) may call its callees, so callees must be deployed first: the app
     * says so in {@code app.json} {@code {"order": [dir, …]}}, which must name every function
     * directory exactly once. Without app.json the order is alphabetical, which suits only apps
     * whose warm-ups call nothing. app.json and every function.json are read strictly: an unknown
     * field or a value of the wrong type is an error naming the file and the field.
     */
    static List<Function> plan(Path appDir) {
        if (!Files.isDirectory(appDir)) throw new IllegalArgumentException(appDir + " is not a directory");
        Map<String, Function> found = new TreeMap<>();
        try (Stream<Path> dirs = Files.list(appDir)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                Path specFile = d.resolve("function.json");
                if (!Files.isRegularFile(specFile)) continue;
                FunctionSpec fs = FunctionSpec.parse(Files.readString(specFile), specFile.toString());
                found.put(d.getFileName().toString(), new Function(fs.name(), d));
            }
            Map<String, Path> byName = new TreeMap<>();
            for (Function f : found.values()) {
                Path other = byName.putIfAbsent(f.name(), f.dir());
                if (other != null) throw new IllegalArgumentException(other + " and " + f.dir() + " both define function " + f.name());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + appDir, e);
        }
        if (found.isEmpty()) throw new IllegalArgumentException(appDir + " holds no function directories (subdirectories with a function.json)");
        Path appJson = appDir.resolve("app.json");
        if (!Files.isRegularFile(appJson)) return List.copyOf(found.values());

        JsonNode root;
        try {
            root = Json.parse(Files.readString(appJson));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + appJson, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(appJson + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException(appJson + " must be a JSON object such as {\"order\": [\"callee\", \"caller\"]}, got "
                    + StrictJson.shown(root));
        }
        StrictJson.checkFields(root, APP_FIELDS, "", appJson.toString());
        JsonNode order = root.get("order");
        if (order == null || !order.isArray()) {
            throw new IllegalArgumentException("field \"order\" in " + appJson + " must be an array of function directory names, got "
                    + StrictJson.shown(order));
        }
        Map<String, Function> planned = new LinkedHashMap<>();
        for (int i = 0; i < order.size(); i++) {
            String at = "field \"order[" + i + "]\" in " + appJson;
            JsonNode n = order.get(i);
            if (!n.isTextual()) throw new IllegalArgumentException(at + " must be a function directory name, got " + StrictJson.shown(n));
            String name = n.asText();
            Function f = found.get(name);
            if (f == null) {
                throw new IllegalArgumentException(at + " names " + name + ", which is not a function directory of " + appDir
                        + StrictJson.hint(name, found.keySet()));
            }
            if (planned.put(name, f) != null) throw new IllegalArgumentException(at + " names " + name + " twice");
        }
        List<String> missing = found.keySet().stream().filter(k -> !planned.containsKey(k)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("field \"order\" in " + appJson + " does not place " + String.join(", ", missing));
        }
        return List.copyOf(planned.values());
    }

    @Command(name = "deploy", mixinStandardHelpOptions = true,
            description = {"Deploy every function of an application, callees first: in the order of DIR/app.json "
                    + "{\"order\": [\"callee\", …, \"caller\"]}, else alphabetically.",
                    "The daemon reads the function directories itself, so it must run on this host."},
            footer = {"", "Example:", "  thaw app deploy apps/pipeline --daemon http://127.0.0.1:8080"},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:every function deployed", "1:a deploy failed (the functions before it stay deployed)", "2:bad usage or a bad app directory"})
    static final class Deploy implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", description = "The application directory: one subdirectory per function (handler.py + function.json).")
        Path dir;

        @Option(names = "--daemon", paramLabel = "URL", defaultValue = "http://127.0.0.1:8080",
                description = "The daemon's address. Default: ${DEFAULT-VALUE}.")
        String daemon;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            List<Function> plan = plan(dir);
            out.println("deploying " + plan.size() + " functions: " + String.join(" -> ", plan.stream().map(Function::name).toList()));
            out.flush();
            List<String> done = new ArrayList<>();
            try (DaemonClient client = new DaemonClient(daemon)) {
                for (Function f : plan) {
                    long t0 = System.nanoTime();
                    try {
                        JsonNode info = client.deploy(f.name(), f.dir().toAbsolutePath());
                        out.printf("  %-20s deployed in %.1f s (snapshot %s)%n", f.name(), (System.nanoTime() - t0) / 1e9,
                                info.path("snapshot").path("snapshotId").asText("?"));
                        out.flush();
                        done.add(f.name());
                    } catch (DaemonException | DaemonUnreachableException e) {
                        spec.commandLine().getErr().println("app deploy: " + f.name() + " failed: " + e.getMessage()
                                + (done.isEmpty() ? "" : " (deployed before it: " + String.join(", ", done) + ")"));
                        return 1;
                    }
                }
            }
            return 0;
        }
    }
}
