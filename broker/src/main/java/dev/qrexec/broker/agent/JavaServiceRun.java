package dev.qrexec.broker.agent;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** A {@link JavaService} running on a thread of the agent, with bounded pipes for its streams. */
final class JavaServiceRun implements RunningService {

    private static final System.Logger LOG = System.getLogger(JavaServiceRun.class.getName());
    static final int PIPE_BYTES = 64 * 1024;

    private final BoundedPipe stdin = new BoundedPipe(PIPE_BYTES);
    private final BoundedPipe stdout = new BoundedPipe(PIPE_BYTES);
    private final BoundedPipe stderr = new BoundedPipe(PIPE_BYTES);
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    /**
     * Starts the service.
     *
     * @param detached JUST_EXEC: the service gets empty stdin and its output is thrown away
     */
    JavaServiceRun(String name, JavaService service, RpcInvocation call, Map<String, String> env,
                   AgentState agent, Executor executor, boolean detached) {
        ServiceCall sc = detached
                ? new ServiceCall(call, env, InputStream.nullInputStream(), OutputStream.nullOutputStream(),
                        OutputStream.nullOutputStream(), agent)
                : new ServiceCall(call, env, stdin.input(), stdout.output(), stderr.output(), agent);
        executor.execute(() -> {
            int status;
            try {
                status = service.run(sc);
            } catch (Exception | Error e) {
                LOG.log(System.Logger.Level.WARNING, "Java service " + name + " failed", e);
                status = ExitCodes.PROBLEM;
            } finally {
                stdout.output().close();
                stderr.output().close();
                stdin.input().close();
            }
            exit.complete(status);
        });
    }

    @Override
    public OutputStream stdin() {
        return stdin.output();
    }

    @Override
    public InputStream stdout() {
        return stdout.input();
    }

    @Override
    public InputStream stderr() {
        return stderr.input();
    }

    @Override
    public CompletableFuture<Integer> exitStatus() {
        return exit;
    }

    @Override
    public void destroy() {
        // Closing the ends the service uses makes its next read see EOF and its next write fail.
        stdin.output().close();
        stdout.input().close();
        stderr.input().close();
    }
}
