package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qrexec.policy.reply.AskPrompt;
import dev.qrexec.policy.reply.AskPrompter;
import dev.qrexec.policy.reply.Notification;
import dev.qrexec.policy.reply.Notifier;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * dom0's GUI side of {@code policy.Ask} and {@code policy.Notify}: hands each question to the
 * prompt agent ({@code ./qrexec prompt}) connected last and completes the question's future with
 * the agent's answer. With no agent connected a question fails at once, so the call is denied
 * with that reason instead of waiting for the ask timeout. A question is withdrawn from the agent
 * when its future ends otherwise (timeout); the agent's disconnection fails its open questions.
 *
 * <p>Messages to an agent are JSON lines ({@link PromptProtocol}). Threads: {@link #ask} and
 * {@link #notify} are called from any thread and never block (the agent's channel queues the
 * line); {@link #answered} and {@link #detached} come from the prompt server's event loop. State
 * is two concurrent maps and an atomic reference; nothing is locked.
 */
public final class PromptHub implements AskPrompter, Notifier {

    private static final Logger LOG = System.getLogger(PromptHub.class.getName());

    /** Questions that may wait for the user at once; more are denied. */
    public static final int MAX_PENDING = 64;

    /** Where a question or notification for the user goes; implemented by the server's connection. */
    public interface PromptAgent {
        /** Queues one line; false if the agent is gone or does not keep up. Never blocks. */
        boolean send(String jsonLine);

        String describe();
    }

    private record Pending(PromptAgent agent, CompletableFuture<String> answer) {
    }

    private final ObjectMapper json = new ObjectMapper();
    private final AtomicReference<PromptAgent> current = new AtomicReference<>();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /** The agent that gets new questions from now on (the last one connected). */
    public void attached(PromptAgent agent) {
        Objects.requireNonNull(agent, "agent");
        PromptAgent previous = current.getAndSet(agent);
        LOG.log(Level.INFO, "prompt agent {0} connected{1}", agent.describe(),
                previous == null ? "" : "; it replaces " + previous.describe() + " for new questions");
    }

    /** The agent went away: its open questions are denied. */
    public void detached(PromptAgent agent) {
        current.compareAndSet(agent, null);
        for (Map.Entry<Long, Pending> e : List.copyOf(pending.entrySet())) {
            if (e.getValue().agent() == agent) {
                e.getValue().answer().completeExceptionally(
                        new IllegalStateException("the prompt agent " + agent.describe() + " disconnected"));
            }
        }
        LOG.log(Level.INFO, "prompt agent {0} disconnected", agent.describe());
    }

    /** True if a prompt agent is connected. */
    public boolean hasAgent() {
        return current.get() != null;
    }

    /** Questions waiting for an answer now. */
    public int pendingCount() {
        return pending.size();
    }

    @Override
    public CompletableFuture<String> ask(AskPrompt prompt) {
        PromptAgent agent = current.get();
        if (agent == null) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    "no prompt agent is connected in dom0 (start one with ./qrexec prompt)"));
        }
        if (pending.size() >= MAX_PENDING) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    MAX_PENDING + " questions already wait for the user"));
        }
        long id = ids.incrementAndGet();
        CompletableFuture<String> answer = new CompletableFuture<>();
        pending.put(id, new Pending(agent, answer));
        answer.whenComplete((text, error) -> {
            pending.remove(id);
            if (error != null) {
                agent.send(PromptProtocol.withdraw(json, id, reason(error)));
            }
        });
        if (!agent.send(PromptProtocol.ask(json, id, prompt))) {
            answer.completeExceptionally(new IllegalStateException("the prompt agent " + agent.describe()
                    + " cannot take the question (gone or not reading)"));
        }
        return answer;
    }

    /** The agent answered question {@code id}. An answer from another agent, or a late one, is ignored. */
    public void answered(PromptAgent agent, long id, String answer) {
        Pending p = pending.get(id);
        if (p == null || p.agent() != agent) {
            LOG.log(Level.INFO, "prompt agent {0} answered question {1}, which is not open for it (late?); ignored",
                    agent.describe(), id);
            return;
        }
        p.answer().complete(answer);
    }

    /** dom0 as guivm: a log line, and the notification shown by the prompt agent if one is connected. */
    @Override
    public void notify(Notification n) {
        LOG.log(Level.INFO, "policy.Notify: {0} {1}{2} from {3} to {4}", n.resolution(), n.service(), n.argument(),
                n.source(), n.target());
        PromptAgent agent = current.get();
        if (agent != null) {
            ObjectNode line = json.createObjectNode();
            line.put("type", "notify");
            n.params().forEach((k, v) -> line.put(k, String.valueOf(v)));
            agent.send(line.toString());
        }
    }

    private static String reason(Throwable error) {
        Throwable cause = error.getCause() != null && error instanceof java.util.concurrent.CompletionException
                ? error.getCause() : error;
        return cause instanceof java.util.concurrent.TimeoutException ? "timed out"
                : String.valueOf(cause.getMessage());
    }
}
