package dev.qrexec.broker.services;

import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.JavaService;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Services that act on the agent itself, so they must run inside it (a child process could not
 * see the agent's state nor shrink its heap).
 */
public final class AgentServices {

    static final Duration WAIT = Duration.ofSeconds(60);

    private AgentServices() {
    }

    /** {@code qubes.WaitForRunningSystem}: exits 0 once the agent finished starting, 1 after 60 s. */
    public static JavaService waitForRunningSystem() {
        return call -> call.agent().awaitSystemRunning(WAIT) ? 0 : 1;
    }

    /** {@code qubes.WaitForSession}: exits 0 once the user session is up, 1 after 60 s. */
    public static JavaService waitForSession() {
        return call -> call.agent().awaitSession(WAIT) ? 0 : 1;
    }

    /**
     * {@code qubes.ReleaseMemory}: asked by the backend before it pauses a preloaded disposable
     * (spec dispvm-preload 4.2). Drops the agent's caches and runs a full GC so the heap shrinks,
     * then prints what changed as {@code key=value} lines.
     */
    public static JavaService releaseMemory() {
        return call -> {
            AgentState.Released r = call.agent().releaseMemory();
            PrintStream out = new PrintStream(call.stdout(), true, StandardCharsets.UTF_8);
            out.println("heap-used-before=" + r.heapUsedBefore());
            out.println("heap-used-after=" + r.heapUsedAfter());
            out.println("heap-committed-before=" + r.heapCommittedBefore());
            out.println("heap-committed-after=" + r.heapCommittedAfter());
            return 0;
        };
    }
}
