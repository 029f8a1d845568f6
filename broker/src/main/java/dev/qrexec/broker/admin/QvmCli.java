package dev.qrexec.broker.admin;

import dev.qrexec.broker.client.QrexecClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qvm}: manage qubes through the admin socket ({@code ls}, {@code create}, {@code prefs},
 * {@code features}, {@code tags}, {@code start}, {@code pause}, {@code unpause}, {@code kill},
 * {@code remove}, {@code run}, {@code status}, {@code events}). Exit status: 0 on success, 1 when the
 * call failed (the Qubes exception is printed), 2 for usage errors; {@code run} returns the
 * command's exit status.
 */
@Command(name = "qvm", mixinStandardHelpOptions = true, description = "Manage qubes through the admin socket.",
        subcommands = {QvmCli.Ls.class, QvmCli.Create.class, QvmCli.Prefs.class, QvmCli.Features.class,
                QvmCli.Tags.class, QvmCli.Start.class, QvmCli.Pause.class, QvmCli.Unpause.class, QvmCli.Kill.class,
                QvmCli.Remove.class, QvmCli.Run.class, QvmCli.Status.class, QvmCli.Events.class})
public final class QvmCli {

    static final String DEFAULT_SOCKET = "/run/qubesd.sock";

    @Option(names = "--admin-socket", description = "admin socket (default: $QREXEC_ADMIN_SOCKET or "
            + DEFAULT_SOCKET + ")")
    Path adminSocket;

    /** Streams {@code qvm run} gives to the command it runs (the process's own by default). */
    InputStream runStdin = System.in;
    OutputStream runStdout = System.out;
    PrintStream runStderr = System.err;

    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    static int execute(PrintWriter out, PrintWriter err, String... args) {
        return execute(new QvmCli(), out, err, args);
    }

    /** For tests: {@code qvm run} uses the given streams instead of the process's. */
    static int execute(InputStream in, OutputStream runOut, PrintStream runErr, PrintWriter out, PrintWriter err,
                       String... args) {
        QvmCli cli = new QvmCli();
        cli.runStdin = in;
        cli.runStdout = runOut;
        cli.runStderr = runErr;
        return execute(cli, out, err, args);
    }

    private static int execute(QvmCli cli, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(cli);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof AdminException ae) {
                err.println("qvm: " + ae.type() + ": " + ae.getMessage());
                return 1;
            }
            if (e instanceof IOException) {
                err.println("qvm: cannot reach the admin socket: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        if (args.length == 0) {
            cl.usage(err);
            return 2;
        }
        return cl.execute(args);
    }

    AdminClient client() {
        Path p = adminSocket;
        if (p == null) {
            String env = System.getenv("QREXEC_ADMIN_SOCKET");
            p = Path.of(env != null ? env : DEFAULT_SOCKET);
        }
        return new AdminClient(p);
    }

    /** Base of the subcommands: access to the parent's socket and output. */
    abstract static class Sub implements Callable<Integer> {
        @CommandLine.ParentCommand
        QvmCli parent;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        AdminClient client() {
            return parent.client();
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }
    }

    @Command(name = "ls", description = "List qubes with their class and power state.")
    static final class Ls extends Sub {
        @Override
        public Integer call() throws Exception {
            String list = client().call("admin.vm.List", "", "dom0", "");
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"NAME", "CLASS", "STATE"});
            for (String line : list.split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                Map<String, String> kv = keyValues(line);
                rows.add(new String[] {kv.get(""), kv.getOrDefault("class", "?"), kv.getOrDefault("state", "?")});
            }
            table(out(), rows);
            return 0;
        }
    }

    @Command(name = "create", description = "Create a qube.")
    static final class Create extends Sub {
        @Parameters(index = "0", description = "name of the new qube")
        String name;
        @Option(names = {"-C", "--class"}, defaultValue = "AppVM", description = "AppVM, TemplateVM, StandaloneVM, DispVM")
        String klass;
        @Option(names = {"-t", "--template"}, defaultValue = "", description = "template (disposable template for DispVM)")
        String template;
        @Option(names = {"-l", "--label"}, defaultValue = "red")
        String label;
        @Option(names = {"-P", "--property"}, description = "extra property NAME=VALUE")
        Map<String, String> properties = new LinkedHashMap<>();

        @Override
        public Integer call() throws Exception {
            StringBuilder payload = new StringBuilder("name=" + name + " label=" + label);
            properties.forEach((k, v) -> payload.append(' ').append(k).append('=').append(v));
            client().call("admin.vm.Create." + klass, template, "dom0", payload.toString());
            return 0;
        }
    }

    @Command(name = "prefs", description = "List, get, set or reset (-D) properties of a qube.")
    static final class Prefs extends Sub {
        @Parameters(index = "0")
        String qube;
        @Parameters(index = "1", arity = "0..1")
        String property;
        @Parameters(index = "2", arity = "0..1")
        String value;
        @Option(names = {"-D", "--default"}, description = "reset the property to its default")
        boolean reset;

        @Override
        public Integer call() throws Exception {
            AdminClient c = client();
            if (property == null) {
                List<String[]> rows = new ArrayList<>();
                for (String p : c.call("admin.vm.property.List", "", qube, "").split("\n")) {
                    if (!p.isEmpty()) {
                        String[] v = parseProperty(c.call("admin.vm.property.Get", p, qube, ""));
                        rows.add(new String[] {p, v[0].equals("True") ? "D" : "-", v[1]});
                    }
                }
                table(out(), rows);
            } else if (reset) {
                c.call("admin.vm.property.Reset", property, qube, "");
            } else if (value == null) {
                out().println(parseProperty(c.call("admin.vm.property.Get", property, qube, ""))[1]);
            } else {
                c.call("admin.vm.property.Set", property, qube, value);
            }
            return 0;
        }

        /** {@code default=True type=str value} → {isDefault, value}. */
        static String[] parseProperty(String reply) {
            String[] parts = reply.split(" ", 3);
            String isDefault = parts[0].startsWith("default=") ? parts[0].substring("default=".length()) : "?";
            return new String[] {isDefault, parts.length > 2 ? parts[2] : ""};
        }
    }

    @Command(name = "features", description = "List, get, set or unset features of a qube.")
    static final class Features extends Sub {
        @Parameters(index = "0")
        String qube;
        @Parameters(index = "1", arity = "0..1")
        String feature;
        @Parameters(index = "2", arity = "0..1")
        String value;
        @Option(names = {"--unset", "-D"})
        boolean unset;

        @Override
        public Integer call() throws Exception {
            AdminClient c = client();
            if (feature == null) {
                List<String[]> rows = new ArrayList<>();
                for (String f : c.call("admin.vm.feature.List", "", qube, "").split("\n")) {
                    if (!f.isEmpty()) {
                        rows.add(new String[] {f, c.call("admin.vm.feature.Get", f, qube, "")});
                    }
                }
                table(out(), rows);
            } else if (unset) {
                c.call("admin.vm.feature.Remove", feature, qube, "");
            } else if (value == null) {
                out().println(c.call("admin.vm.feature.Get", feature, qube, ""));
            } else {
                c.call("admin.vm.feature.Set", feature, qube, value);
            }
            return 0;
        }
    }

    @Command(name = "tags", description = "qvm tags QUBE [list|add|del] [TAG...]")
    static final class Tags extends Sub {
        @Parameters(index = "0")
        String qube;
        @Parameters(index = "1", arity = "0..1", defaultValue = "list")
        String action;
        @Parameters(index = "2..*")
        List<String> tags = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            AdminClient c = client();
            switch (action) {
                case "list" -> out().print(c.call("admin.vm.tag.List", "", qube, ""));
                case "add" -> {
                    for (String t : tags) {
                        c.call("admin.vm.tag.Set", t, qube, "");
                    }
                }
                case "del" -> {
                    for (String t : tags) {
                        c.call("admin.vm.tag.Remove", t, qube, "");
                    }
                }
                default -> throw new CommandLine.ParameterException(spec.commandLine(),
                        "action is list, add or del, not '" + action + "'");
            }
            out().flush();
            return 0;
        }
    }

    /** A power or removal operation on each named qube. */
    abstract static class Each extends Sub {
        @Parameters(arity = "1..*")
        List<String> qubes;

        abstract String method();

        @Override
        public Integer call() throws Exception {
            for (String q : qubes) {
                client().call(method(), "", q, "");
            }
            return 0;
        }
    }

    @Command(name = "start", description = "Start qubes.")
    static final class Start extends Each {
        String method() {
            return "admin.vm.Start";
        }
    }

    @Command(name = "pause", description = "Pause qubes.")
    static final class Pause extends Each {
        String method() {
            return "admin.vm.Pause";
        }
    }

    @Command(name = "unpause", description = "Unpause qubes.")
    static final class Unpause extends Each {
        String method() {
            return "admin.vm.Unpause";
        }
    }

    @Command(name = "kill", description = "Kill qubes (a disposable is destroyed).")
    static final class Kill extends Each {
        String method() {
            return "admin.vm.Kill";
        }
    }

    @Command(name = "remove", description = "Remove halted qubes.")
    static final class Remove extends Each {
        String method() {
            return "admin.vm.Remove";
        }
    }

    @Command(name = "run", description = "Run a command or service in a qube, or in a new disposable (--dispvm).")
    static final class Run extends Sub {
        @Option(names = "--dispvm", arity = "0..1", fallbackValue = "dom0",
                description = "run in a new disposable of this template (default: the system default_dispvm)")
        String dispvm;
        @Option(names = "--service", description = "COMMAND is a service name (svc+arg)")
        boolean service;
        @Option(names = {"-u", "--user"}, defaultValue = "DEFAULT")
        String user;
        @Option(names = "--socket-dir", description = "the daemon's local sockets (qrexec-client --socket-dir)")
        Path socketDir;
        @Option(names = "--vchan-dir", description = "dom0's vchan socket directory (qrexec-client --vchan-dir)")
        Path vchanDir;
        @Option(names = "--channel-root", description = "qubes' channel directories are DIR/<qube> (the broker's "
                + "SOCKET_DIR/qubes); the data channel is opened in the target's")
        Path channelRoot;
        @Parameters(index = "0", arity = "0..1", description = "the qube (omit with --dispvm)")
        String qube;
        @Parameters(index = "1..*")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            List<String> words = new ArrayList<>(command);
            String target = qube;
            if (dispvm != null && qube != null) {
                words.add(0, qube);
                target = null;
            }
            if (words.isEmpty() || (dispvm == null && target == null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "usage: qvm run QUBE COMMAND or "
                        + "qvm run --dispvm[=TEMPLATE] COMMAND");
            }
            String cmd = String.join(" ", words);
            String line = user + ":" + (service ? "QUBESRPC " + cmd + " dom0" : cmd);
            if (dispvm == null) {
                return qrexecClient(target, line);
            }
            AdminClient c = client();
            String disp = c.call("admin.vm.CreateDisposable", "", dispvm, "");
            try {
                String state = c.call("admin.vm.List", "", disp, "");
                if (!state.contains("state=Running")) {
                    c.call("admin.vm.Start", "", disp, "");
                }
                return qrexecClient(disp, line);
            } finally {
                c.call("admin.vm.Kill", "", disp, "");
            }
        }

        private int qrexecClient(String target, String line) {
            List<String> args = new ArrayList<>(List.of("-d", target));
            if (socketDir != null) {
                args.add("--socket-dir=" + socketDir);
            }
            if (channelRoot != null) {
                args.add("--vchan-dir=" + channelRoot.resolve(target));
            } else if (vchanDir != null) {
                args.add("--vchan-dir=" + vchanDir);
            }
            args.add(line);
            return QrexecClient.execute(System.getenv(), parent.runStdin, parent.runStdout, parent.runStderr,
                    args.toArray(String[]::new));
        }
    }

    @Command(name = "status", description = "Show each disposable template's preload queue.")
    static final class Status extends Sub {
        @Override
        public Integer call() throws Exception {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"TEMPLATE", "MAX", "READY", "PRELOADING", "CLAIMED"});
            for (String line : client().call("internal.dispvm.PreloadQueues", "", "dom0", "").split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                Map<String, String> kv = keyValues(line);
                String max = kv.get("max") + ("True".equals(kv.get("global")) ? " (global)" : "");
                rows.add(new String[] {kv.get(""), max, dash(kv.get("ready")), dash(kv.get("preloading")),
                        dash(kv.get("claimed"))});
            }
            table(out(), rows);
            return 0;
        }

        private static String dash(String s) {
            return s == null || s.isEmpty() ? "-" : s;
        }
    }

    @Command(name = "events", description = "Print admin.Events until interrupted (or --count events).")
    static final class Events extends Sub {
        @Parameters(index = "0", arity = "0..1", defaultValue = "dom0")
        String qube;
        @Option(names = "--count", defaultValue = "0", description = "stop after this many events (0: never)")
        int count;

        @Override
        public Integer call() throws Exception {
            int[] seen = {0};
            client().events(qube, e -> {
                out().println((e.subject().isEmpty() ? "-" : e.subject()) + " " + e.name() + " " + e.attributes());
                out().flush();
                return count == 0 || ++seen[0] < count;
            });
            return 0;
        }
    }

    /** {@code first k=v k=v} → {"" → first, k → v}. */
    static Map<String, String> keyValues(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        String[] words = line.split(" ");
        m.put("", words[0]);
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq > 0) {
                m.put(words[i].substring(0, eq), words[i].substring(eq + 1));
            }
        }
        return m;
    }

    static void table(PrintWriter out, List<String[]> rows) {
        int cols = rows.stream().mapToInt(r -> r.length).max().orElse(0);
        int[] width = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                b.append(i == r.length - 1 ? r[i] : String.format("%-" + (width[i] + 2) + "s", r[i]));
            }
            out.println(b.toString().stripTrailing());
        }
        out.flush();
    }
}
