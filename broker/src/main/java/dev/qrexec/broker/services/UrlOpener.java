package dev.qrexec.broker.services;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code qubes.OpenURL} does with a URL that passed the scheme check. The default records it
 * in the qube's log, which is what a headless qube can do; a real template configures a command.
 */
@FunctionalInterface
public interface UrlOpener {

    /** @return the exit status of the service */
    int open(String url, String caller) throws Exception;

    /** Logs the URL at INFO and succeeds. */
    static UrlOpener logOnly() {
        System.Logger log = System.getLogger("dev.qrexec.broker.services.OpenUrl");
        return (url, caller) -> {
            log.log(System.Logger.Level.INFO, "qubes.OpenURL from " + caller + ": " + url);
            return 0;
        };
    }

    /** Runs {@code argv} with the URL appended (e.g. {@code xdg-open}); its exit status is the service's. */
    static UrlOpener command(List<String> argv) {
        List<String> base = List.copyOf(argv);
        if (base.isEmpty()) {
            throw new IllegalArgumentException("opener command is empty");
        }
        return (url, caller) -> {
            List<String> cmd = new ArrayList<>(base);
            cmd.add(url);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor();
        };
    }
}
