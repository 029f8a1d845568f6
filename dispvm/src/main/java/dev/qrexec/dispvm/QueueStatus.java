package dev.qrexec.dispvm;

import java.util.List;

/**
 * One disposable template's preload queue.
 *
 * @param template   the disposable template
 * @param max        effective {@code preload-dispvm-max}
 * @param global     true when dom0's global maximum applies (the template is the system default)
 * @param queue      the queue, oldest first (ready and still preloading)
 * @param ready      names in the queue that are ready (paused, complete)
 * @param preloading names in the queue still being created
 * @param claimed    preloads claimed by a caller and not yet delivered
 */
public record QueueStatus(String template, int max, boolean global, List<String> queue, List<String> ready,
                          List<String> preloading, List<String> claimed) {
    public QueueStatus {
        queue = List.copyOf(queue);
        ready = List.copyOf(ready);
        preloading = List.copyOf(preloading);
        claimed = List.copyOf(claimed);
    }
}
