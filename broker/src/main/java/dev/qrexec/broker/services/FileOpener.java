package dev.qrexec.broker.services;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What {@code qubes.OpenInVM} does with the received file (the user views or edits it). */
@FunctionalInterface
public interface FileOpener {

    /** Blocks while the file is open; returns the opener's exit status. */
    int open(Path file, boolean viewOnly) throws Exception;

    /** Logs the file at INFO and leaves it unchanged. */
    static FileOpener logOnly() {
        System.Logger log = System.getLogger("dev.qrexec.broker.services.OpenInVm");
        return (file, viewOnly) -> {
            log.log(System.Logger.Level.INFO, "qubes.OpenInVM: " + file + (viewOnly ? " (view only)" : ""));
            return 0;
        };
    }

    /** Runs {@code argv} with the file path appended and waits for it (e.g. an editor). */
    static FileOpener command(List<String> argv) {
        List<String> base = List.copyOf(argv);
        if (base.isEmpty()) {
            throw new IllegalArgumentException("opener command is empty");
        }
        return (file, viewOnly) -> {
            List<String> cmd = new ArrayList<>(base);
            cmd.add(file.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor();
        };
    }
}
