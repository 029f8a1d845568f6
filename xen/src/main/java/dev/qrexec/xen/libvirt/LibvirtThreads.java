package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.libvirt.binding.Libvirt;
import dev.qrexec.xen.libvirt.binding.LibvirtEventLoop;
import dev.qrexec.xen.libvirt.binding.LibvirtLibrary;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads of one libvirt backend:
 * <ul>
 * <li>{@code qrexec-libvirt-op-<instance>-N}: the only threads that call libvirt (besides the
 *     event loop's callbacks); a fixed pool with a bounded queue;</li>
 * <li>{@code qrexec-libvirt-timer-<instance>}: deadlines and polling, which only enqueue work;</li>
 * <li>{@code qrexec-libvirt-listeners-<instance>}: calls event listeners ({@link EventDispatcher});</li>
 * <li>plus the process-wide {@link LibvirtEventLoop} thread, acquired here.</li>
 * </ul>
 */
final class LibvirtThreads implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(LibvirtThreads.class.getName());
    private static final int EVENT_QUEUE = 4096;

    private final LibvirtLibrary library;
    private final ThreadPoolExecutor ops;
    private final ScheduledThreadPoolExecutor timer;
    private final EventDispatcher dispatcher;
    private final String instance;

    private LibvirtThreads(LibvirtConfig config, LibvirtLibrary library) {
        this.library = library;
        this.instance = config.instanceName();
        this.ops = new ThreadPoolExecutor(config.operationThreads(), config.operationThreads(), 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(config.maxQueuedOperations()), named("qrexec-libvirt-op-" + instance + "-"),
                (r, executor) -> {
                    throw new RejectedExecutionException(executor.isShutdown()
                            ? "libvirt backend '" + instance + "' is closed"
                            : "libvirt backend '" + instance + "' is saturated: " + executor.getQueue().size()
                            + " operations queued, " + executor.getActiveCount() + " of "
                            + executor.getMaximumPoolSize() + " threads busy");
                });
        this.timer = new ScheduledThreadPoolExecutor(1, named("qrexec-libvirt-timer-" + instance));
        this.timer.setRemoveOnCancelPolicy(true);
        this.dispatcher = new EventDispatcher(instance, EVENT_QUEUE);
    }

    /** Loads libvirt (BackendUnavailable if missing), starts the event loop and the threads. */
    static LibvirtThreads start(LibvirtConfig config) {
        LibvirtLibrary lib = Libvirt.load(config.libraryName());
        LibvirtEventLoop.acquire(lib);
        return new LibvirtThreads(config, lib);
    }

    LibvirtLibrary library() {
        return library;
    }

    ExecutorService ops() {
        return ops;
    }

    ScheduledExecutorService timer() {
        return timer;
    }

    EventDispatcher dispatcher() {
        return dispatcher;
    }

    /** Runs {@code call} on an op thread (outside any qube's order). */
    <T> CompletableFuture<T> submit(String operation, String qube, Callable<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            ops.execute(() -> {
                try {
                    result.complete(call.call());
                } catch (Throwable t) {
                    result.completeExceptionally(ErrorMapping.unwrap(t, qube, operation));
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(ErrorMapping.unwrap(e, qube, operation));
        }
        return result;
    }

    /** Runs {@code call} on an op thread and waits for it; its exception is rethrown as is. */
    <T> T callBlocking(String what, Callable<T> call) {
        try {
            return ops.submit(call).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new HypervisorException.OperationFailed("cannot " + what + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HypervisorException.OperationFailed("interrupted while trying to " + what, e);
        } catch (RejectedExecutionException e) {
            throw new HypervisorException.OperationFailed("cannot " + what + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops timers and lets the operations already handed to the pool finish (up to
     * {@code waitMillis}); true when the pool is idle and no libvirt call can still be running.
     */
    boolean drain(long waitMillis) {
        timer.shutdownNow();
        ops.shutdown();
        try {
            if (ops.awaitTermination(waitMillis, TimeUnit.MILLISECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.log(System.Logger.Level.WARNING, "libvirt backend {0}: operations still running after {1} ms",
                instance, waitMillis);
        return false;
    }

    /** Stops everything; call after {@link #drain}. */
    @Override
    public void close() {
        timer.shutdownNow();
        ops.shutdownNow();
        dispatcher.close();
        LibvirtEventLoop.release(library);
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix.endsWith("-") ? prefix + n.incrementAndGet() : prefix);
            t.setDaemon(true);
            return t;
        };
    }
}
