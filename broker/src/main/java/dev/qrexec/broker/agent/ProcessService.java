package dev.qrexec.broker.agent;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A service that is a child process. Java reports a signalled child as 128 + signal, as qrexec does. */
final class ProcessService implements RunningService {

    static final Duration KILL_GRACE = Duration.ofSeconds(5);

    private final Process process;
    private final CompletableFuture<Integer> exit;

    ProcessService(Process process) {
        this.process = process;
        this.exit = process.onExit().thenApply(Process::exitValue);
    }

    @Override
    public OutputStream stdin() {
        return process.getOutputStream();
    }

    @Override
    public InputStream stdout() {
        return process.getInputStream();
    }

    @Override
    public InputStream stderr() {
        return process.getErrorStream();
    }

    @Override
    public CompletableFuture<Integer> exitStatus() {
        return exit;
    }

    /** SIGTERM, then SIGKILL if the process is still there after {@link #KILL_GRACE}. */
    @Override
    public void destroy() {
        process.destroy();
        CompletableFuture.delayedExecutor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        });
    }

    long pid() {
        return process.pid();
    }
}
