package dev.qrexec.xen.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Keeps the console logs of live qubes under a size cap, checked every few seconds on its own
 * daemon thread, so a chatty qube cannot fill the host's disk.
 */
final class ConsoleCapper implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ConsoleCapper.class.getName());
    private static final long CHECK_SECONDS = 2;

    private final ScheduledExecutorService timer;
    private final long maxBytes;
    private final Supplier<List<String>> liveQubes;
    private final Function<String, Path> consoleLog;

    /** Does nothing when {@code maxBytes} is 0 or less (no cap). */
    ConsoleCapper(String instance, long maxBytes, Supplier<List<String>> liveQubes, Function<String, Path> consoleLog) {
        this.maxBytes = maxBytes;
        this.liveQubes = liveQubes;
        this.consoleLog = consoleLog;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "qrexec-sandbox-" + instance + "-console");
            t.setDaemon(true);
            return t;
        });
        if (maxBytes > 0) {
            timer.scheduleWithFixedDelay(this::capAll, CHECK_SECONDS, CHECK_SECONDS, TimeUnit.SECONDS);
        }
    }

    private void capAll() {
        for (String qube : liveQubes.get()) {
            try {
                if (ConsoleLogs.rotateIfLarger(consoleLog.apply(qube), maxBytes)) {
                    LOG.log(System.Logger.Level.INFO, "console of {0} passed {1} bytes: cut", qube, Long.toString(maxBytes));
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot cut the console of " + qube, e);
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
