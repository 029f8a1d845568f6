package dev.qrexec.policy.daemon;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.reply.AskAnswer;
import dev.qrexec.policy.reply.AskPrompt;
import dev.qrexec.policy.reply.AskPrompter;
import dev.qrexec.policy.reply.DaemonReply;
import dev.qrexec.policy.reply.Notification;
import dev.qrexec.policy.reply.Notifier;
import dev.qrexec.policy.system.SystemInfo;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The policy daemon in normal mode (spec 5.8): evaluates, sends the notifications a decision calls
 * for, and puts each {@code ask} to the user through an {@link AskPrompter}, answering once the
 * user chose: {@code deny} is a user denial, {@code allow:TARGET} an allow to that candidate (spec
 * 5.4 step 6), anything else, no answer within the ask timeout, or a failed prompt a denial. A
 * source without GUI qube cannot be asked and is denied at once.
 *
 * <p>Threads: {@link #replyAsync} evaluates on the calling thread and never waits for the user;
 * the answer is handled on the thread that completes the prompt's future (or the JDK's timeout
 * thread). Final replies are remembered per policy and system info snapshot, like
 * {@link EngineResponder}'s, with the notification they call for, which is sent again on every
 * hit (each call notifies); asks are never cached (each must be asked).
 */
public final class AskingResponder implements AsyncPolicyResponder {

    private static final Logger LOG = System.getLogger(AskingResponder.class.getName());

    /** How long the user has to answer by default. */
    public static final Duration DEFAULT_ASK_TIMEOUT = Duration.ofSeconds(60);

    private final Supplier<Policy> policy;
    private final Supplier<SystemInfo> system;
    private final AskPrompter prompter;
    private final Notifier notifier;
    private final Duration askTimeout;
    private final ReplyCache<FinalReply> cache;

    /** A reply that needs no user, and the notification each such call sends. */
    private record FinalReply(String text, Optional<Notification> notification) {
    }

    private AskingResponder(Builder b) {
        this.policy = b.policy;
        this.system = b.system;
        this.prompter = b.prompter;
        this.notifier = b.notifier;
        this.askTimeout = b.askTimeout;
        this.cache = b.cacheEntries == 0 ? null : new ReplyCache<>(b.cacheEntries);
    }

    /**
     * @param policy the policy in force, read once per request
     * @param system the system info in force, read once per request; may throw while unavailable
     */
    public static Builder builder(Supplier<Policy> policy, Supplier<SystemInfo> system) {
        return new Builder(policy, system);
    }

    public Duration askTimeout() {
        return askTimeout;
    }

    @Override
    public CompletableFuture<String> replyAsync(SocketRequest wire) {
        try {
            return reply(wire);
        } catch (RuntimeException | StackOverflowError e) {
            LOG.log(Level.WARNING, "policy: denying " + wire + " after an unexpected failure", e);
            return CompletableFuture.completedFuture(DaemonReply.DENY);
        }
    }

    private CompletableFuture<String> reply(SocketRequest wire) {
        SystemInfo systemInfo;
        try {
            systemInfo = system.get();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "policy: denying {0}: system info unavailable: {1}", wire, e.getMessage());
            return CompletableFuture.completedFuture(DaemonReply.DENY);
        }
        Policy policyInForce = policy.get();
        if (cache != null) {
            FinalReply remembered = cache.get(policyInForce, systemInfo, wire);
            if (remembered != null) {
                remembered.notification().ifPresent(this::send);
                return CompletableFuture.completedFuture(remembered.text());
            }
        }
        PolicyRequest request = EngineResponder.toPolicyRequest(wire);
        Decision decision = policyInForce.evaluate(request, systemInfo);
        DaemonReply reply = DaemonReply.render(request, decision, systemInfo);
        if (reply.isPending()) {
            return ask(request, reply.pendingAsk(), systemInfo);
        }
        Optional<Notification> notification = Notification.forDecision(request, decision, systemInfo);
        notification.ifPresent(this::send);
        if (cache != null) {
            cache.put(policyInForce, systemInfo, wire, new FinalReply(reply.text(), notification));
        }
        return CompletableFuture.completedFuture(reply.text());
    }

    private CompletableFuture<String> ask(PolicyRequest request, Decision.Ask ask, SystemInfo systemInfo) {
        AskPrompt prompt = AskPrompt.of(request, ask, systemInfo);
        if (prompt.guivm() == null) {
            // Nobody to ask, and nobody to notify either.
            return CompletableFuture.completedFuture(DaemonReply.afterUnusableAnswer(request,
                    "ask at " + ask.decidingRule().location() + " but the source has no GUI qube to ask",
                    systemInfo).text());
        }
        CompletableFuture<String> answer;
        try {
            answer = Objects.requireNonNull(prompter.ask(prompt), "the prompter returned no future");
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        // orTimeout completes the prompter's own future, so the prompter sees the timeout and can
        // withdraw the question.
        return answer.orTimeout(askTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .handle((raw, error) -> answered(request, ask, prompt.guivm(), systemInfo, raw, error));
    }

    private String answered(PolicyRequest request, Decision.Ask ask, String guivm, SystemInfo systemInfo,
                            String raw, Throwable error) {
        try {
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                String why = cause instanceof TimeoutException
                        ? "no answer from the prompt in " + guivm + " within " + askTimeout.toSeconds() + " s"
                        : "cannot ask in " + guivm + ": " + cause.getMessage();
                return denied(request, systemInfo, DaemonReply.afterUnusableAnswer(request, why, systemInfo), true);
            }
            AskAnswer answer = AskAnswer.parse(raw);
            return switch (answer.kind()) {
                case DENY -> denied(request, systemInfo, DaemonReply.afterAnswer(request, ask, null, systemInfo),
                        ask.notifyUser());
                case INVALID -> denied(request, systemInfo, DaemonReply.afterUnusableAnswer(request,
                        "invalid response from " + guivm + ": '" + answer.raw() + "'", systemInfo), true);
                case ALLOW -> {
                    DaemonReply reply = DaemonReply.afterAnswer(request, ask, answer.target(), systemInfo);
                    boolean allowed = !reply.text().equals(DaemonReply.DENY);
                    Notification.forAskOutcome(request, systemInfo, allowed, answer.target(),
                            allowed ? ask.notifyUser() : true).ifPresent(this::send);
                    yield reply.text();
                }
            };
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "policy: denying " + request + " after its ask failed", e);
            return DaemonReply.DENY;
        }
    }

    private String denied(PolicyRequest request, SystemInfo systemInfo, DaemonReply reply, boolean notify) {
        Notification.forAskOutcome(request, systemInfo, false, null, notify).ifPresent(this::send);
        return reply.text();
    }

    private void send(Notification notification) {
        try {
            notifier.notify(notification);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "policy.Notify to {0} failed (ignored): {1}", notification.guivm(), e.toString());
        }
    }

    /** Validating builder; every setter checks its argument. */
    public static final class Builder {
        private final Supplier<Policy> policy;
        private final Supplier<SystemInfo> system;
        private AskPrompter prompter = AskPrompter.NONE;
        private Notifier notifier = Notifier.NONE;
        private Duration askTimeout = DEFAULT_ASK_TIMEOUT;
        private int cacheEntries = EngineResponder.DEFAULT_CACHE_ENTRIES;

        private Builder(Supplier<Policy> policy, Supplier<SystemInfo> system) {
            this.policy = Objects.requireNonNull(policy, "policy");
            this.system = Objects.requireNonNull(system, "system");
        }

        /** Who shows asks (default: nobody, so every ask is denied with the reason). */
        public Builder prompter(AskPrompter prompter) {
            this.prompter = Objects.requireNonNull(prompter, "prompter");
            return this;
        }

        /** Who delivers notifications (default: nobody). */
        public Builder notifier(Notifier notifier) {
            this.notifier = Objects.requireNonNull(notifier, "notifier");
            return this;
        }

        /** How long the user may take to answer before the call is denied (default 60 s). */
        public Builder askTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "askTimeout");
            if (timeout.isNegative() || timeout.isZero() || timeout.toMillis() == 0) {
                throw new IllegalArgumentException("askTimeout must be at least 1 ms, was " + timeout);
            }
            this.askTimeout = timeout;
            return this;
        }

        /** Replies remembered per policy and system info snapshot; 0 evaluates every request afresh. */
        public Builder cacheEntries(int entries) {
            if (entries < 0) {
                throw new IllegalArgumentException("cacheEntries must not be negative, was " + entries);
            }
            this.cacheEntries = entries;
            return this;
        }

        public AskingResponder build() {
            return new AskingResponder(this);
        }
    }
}
