package dev.thaw.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the `thaw` command line; each feature contributes one subcommand. */
@Command(name = "thaw", mixinStandardHelpOptions = true, version = "thaw 0.1",
        description = "Serverless functions in real VMs, restored from memory snapshots.",
        subcommands = {
                CommandLine.HelpCommand.class,
                ServeCommand.class,
                GatewayCommand.class,
                ImageCommand.class,
                DemoCommand.class,
                BenchCommand.class,
                MemoryCommand.class,
                FlowCommand.class,
                AppCommand.class,
                InvokeCommand.class,
                LoadCommand.class,
                SimCommand.class,
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
                .setExecutionExceptionHandler(Main::report)
                .execute(args);
    }

    /** Bad input and known failures print one line, not a stack trace (THAW_DEBUG=1 shows it). */
    private static int report(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        if (System.getenv("THAW_DEBUG") != null) e.printStackTrace();
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        cmd.getErr().println("thaw " + cmd.getCommandName() + ": " + msg);
        return e instanceof IllegalArgumentException ? 2 : 1;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
