package dev.thaw.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.client.DaemonClient;
import dev.thaw.client.DaemonException;
import dev.thaw.common.Json;
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
import java.util.concurrent.Callable;

/** {@code thaw invoke}: one invocation through the daemon, answer printed as JSON. */
@Command(name = "invoke", mixinStandardHelpOptions = true,
        description = "Invoke a deployed function through the daemon and print its answer (result, timing, trace id) as JSON.",
        footer = {"", "Examples:",
                "  thaw invoke pipe-ingest --data '{\"records\": 20, \"delay_ms\": 500}'",
                "  thaw invoke hello --mode vanilla --data @event.json --daemon http://127.0.0.1:8095"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the function answered", "1:the daemon answered with an error (printed with its traceback)", "2:bad usage"})
final class InvokeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "The function to invoke.")
    String name;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "warm",
            description = "warm (a running instance, else a restore with the function's strategy), cold, vanilla, cached, reap, "
                    + "reap-cache, faasnap (per-region mapping), faasnap-sparse, uffd or thaw (README, \"Restore strategies\"). "
                    + "Default: ${DEFAULT-VALUE}.")
    String mode;

    @Option(names = "--data", paramLabel = "JSON", defaultValue = "{}",
            description = "The event: a JSON object, or @FILE to read it from FILE. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--daemon", paramLabel = "URL", defaultValue = "http://127.0.0.1:8080",
            description = "The daemon's address. Default: ${DEFAULT-VALUE}.")
    String daemon;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        JsonNode event = event(data);
        try (DaemonClient client = new DaemonClient(daemon)) {
            JsonNode answer = client.invoke(name, mode, event);
            PrintWriter out = spec.commandLine().getOut();
            out.println(Json.pretty(answer));
            out.flush();
            return 0;
        } catch (DaemonException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("invoke: " + e.getMessage());
            String traceback = e.error().path("traceback").asText("");
            if (!traceback.isBlank()) err.print(traceback.endsWith("\n") ? traceback : traceback + "\n");
            err.flush();
            return 1;
        }
    }

    /** The event from {@code --data}: inline JSON or {@code @file}; it must be a JSON object. */
    static JsonNode event(String data) {
        String source = "--data";
        String text = data;
        if (data.startsWith("@")) {
            Path file = Path.of(data.substring(1));
            source = file.toString();
            try {
                text = Files.readString(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the event from " + file + ": " + e.getMessage(), e);
            }
        }
        JsonNode event;
        try {
            event = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!event.isObject()) throw new IllegalArgumentException(source + " must be a JSON object, got " + event.getNodeType().name().toLowerCase());
        return event;
    }
}
