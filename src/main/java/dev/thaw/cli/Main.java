package dev.thaw.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the `thaw` command line; each feature contributes one subcommand. */
@Command(name = "thaw", mixinStandardHelpOptions = true, version = "thaw 0.1",
        description = "Serverless functions in real VMs, restored from memory snapshots.",
        subcommands = {
                CommandLine.HelpCommand.class,
                dev.thaw.load.LoadCommand.class,
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
