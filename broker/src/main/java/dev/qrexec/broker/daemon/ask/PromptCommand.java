package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qrexec.broker.io.SocketChannelStreams;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code ./qrexec prompt [--socket PATH] [--answers FILE]}: dom0's prompt agent. Connects to the
 * broker's prompt socket, shows each {@code policy.Ask} question in the terminal (who calls what,
 * the numbered candidates, the default) and sends the user's choice; notifications are printed as
 * they come. With {@code --answers} the rules of a {@link ScriptedPrompter} answer instead of the
 * user. Exit status 0 when the broker closes the socket or stdin ends, 1 if the socket cannot be
 * reached, 2 for usage errors.
 *
 * <p>Threads: the main thread reads the socket; questions go through a bounded queue to a thread
 * that talks to the user, one question at a time, so notifications and withdrawals still show
 * while the user thinks.
 */
public final class PromptCommand {

    static final Path DEFAULT_SOCKET = Path.of("/run/qubes/prompt.sock");
    private static final int MAX_QUEUED = 64;

    private final ObjectMapper json = new ObjectMapper();
    private final PrintStream out;
    private final BufferedReader user;
    private final ScriptedPrompter script;
    private final Map<Long, Boolean> withdrawn = new ConcurrentHashMap<>();

    private PromptCommand(PrintStream out, InputStream in, ScriptedPrompter script) {
        this.out = out;
        this.user = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        this.script = script;
    }

    public static int execute(String... args) {
        return execute(System.in, System.out, System.err, args);
    }

    public static int execute(InputStream in, PrintStream out, PrintStream err, String... args) {
        Path socket = DEFAULT_SOCKET;
        ScriptedPrompter script = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "-h", "--help" -> {
                        usage(out);
                        return 0;
                    }
                    case "--socket" -> socket = Path.of(value(args, ++i));
                    case "--answers" -> script = ScriptedPrompter.load(Path.of(value(args, ++i)));
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
        } catch (IllegalArgumentException | IOException e) {
            err.println("qrexec prompt: " + e.getMessage());
            usage(err);
            return 2;
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            out.println("qrexec prompt: connected to " + socket + (script != null ? "; answering from rules"
                    : "; questions appear here"));
            return new PromptCommand(out, in, script).serve(ch);
        } catch (IOException e) {
            err.println("qrexec prompt: cannot connect to " + socket + ": " + e.getMessage());
            return 1;
        }
    }

    private int serve(SocketChannel ch) throws IOException {
        OutputStream toBroker = SocketChannelStreams.output(ch);
        InputStream fromSocket = SocketChannelStreams.input(ch, () -> { });
        BlockingQueue<JsonNode> questions = new ArrayBlockingQueue<>(MAX_QUEUED);
        Thread asker = new Thread(() -> askLoop(questions, toBroker, ch), "qrexec-prompt-user");
        asker.setDaemon(true);
        asker.start();
        BufferedReader fromBroker = new BufferedReader(new InputStreamReader(fromSocket, StandardCharsets.UTF_8));
        for (String line; (line = fromBroker.readLine()) != null; ) {
            JsonNode n = json.readTree(line);
            switch (n.path("type").asText()) {
                case "ask" -> {
                    if (!questions.offer(n)) {
                        out.println("[question " + n.path("id").asLong() + " dropped: too many waiting]");
                    }
                }
                case "withdraw" -> {
                    withdrawn.put(n.path("id").asLong(), true);
                    out.println("[question " + n.path("id").asLong() + " withdrawn: " + n.path("reason").asText() + "]");
                }
                case "notify" -> out.println("[" + ("allow".equals(n.path("resolution").asText()) ? "allowed" : "denied")
                        + "] " + n.path("service").asText() + n.path("argument").asText() + " from "
                        + n.path("source").asText() + " to " + n.path("target").asText());
                default -> out.println("[unknown message from the broker: " + line + "]");
            }
        }
        out.println("qrexec prompt: the broker closed the connection");
        return 0;
    }

    private void askLoop(BlockingQueue<JsonNode> questions, OutputStream toBroker, SocketChannel ch) {
        try {
            while (true) {
                JsonNode q = questions.take();
                long id = q.path("id").asLong();
                if (withdrawn.containsKey(id)) {
                    continue;
                }
                String answer = script != null ? scripted(q) : askUser(q);
                if (answer == null) {
                    out.println("qrexec prompt: end of input, leaving");
                    ch.close();
                    return;
                }
                synchronized (toBroker) {
                    toBroker.write((PromptProtocol.answer(json, id, answer) + "\n").getBytes(StandardCharsets.UTF_8));
                    toBroker.flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            out.println("qrexec prompt: cannot answer: " + e.getMessage());
        }
    }

    private String scripted(JsonNode q) {
        Map<String, Object> params = json.convertValue(q, Map.class);
        String answer = script.answer(params);
        out.println(describe(q) + "\n  answered from rules: " + answer);
        return answer;
    }

    /** Shows the question and reads a choice; null at end of input. */
    private String askUser(JsonNode q) throws IOException {
        PromptProtocol.Question question = PromptProtocol.Question.of(q);
        out.println(describe(q));
        for (int i = 0; i < question.targets().size(); i++) {
            String t = question.targets().get(i);
            out.printf("  %d) %s%s%n", i + 1, t, t.equals(question.defaultTarget()) ? "  (default)" : "");
        }
        while (true) {
            out.print("  number to allow" + (question.defaultTarget().isEmpty() ? "" : ", Enter for the default")
                    + ", n to deny > ");
            out.flush();
            String line = user.readLine();
            if (line == null) {
                return null;
            }
            if (withdrawn.containsKey(question.id())) {
                out.println("  (too late: the question was withdrawn)");
                return "deny";
            }
            String choice = line.strip();
            if (choice.equalsIgnoreCase("n") || choice.equalsIgnoreCase("no")) {
                return "deny";
            }
            if (choice.isEmpty() && !question.defaultTarget().isEmpty()) {
                return "allow:" + question.defaultTarget();
            }
            try {
                int n = Integer.parseInt(choice);
                if (n >= 1 && n <= question.targets().size()) {
                    return "allow:" + question.targets().get(n - 1);
                }
            } catch (NumberFormatException e) {
                // asked again below
            }
            out.println("  please answer with a number from 1 to " + question.targets().size() + " or n");
        }
    }

    private static String describe(JsonNode q) {
        return "[question " + q.path("id").asLong() + "] " + q.path("source").asText() + " wants to call "
                + q.path("service").asText() + q.path("argument").asText();
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static void usage(PrintStream s) {
        s.println("usage: qrexec prompt [--socket PATH] [--answers FILE]");
        s.println("  answers the broker's policy.Ask questions for qubes whose GUI qube is dom0");
        s.println("  --socket PATH   the broker's prompt socket (default " + DEFAULT_SOCKET + ")");
        s.println("  --answers FILE  answer from rules 'SERVICE SOURCE ANSWER' (deny, default, first, allow:T)");
    }
}
