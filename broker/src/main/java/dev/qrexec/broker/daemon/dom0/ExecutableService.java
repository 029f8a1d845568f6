package dev.qrexec.broker.daemon.dom0;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A dom0 service implemented by an executable file: run with the argument as {@code argv[1]} when
 * there is one and the qrexec environment variables; stdin and stdout are relayed, stderr goes to
 * the broker's own stderr (the C daemon's log), as in dom0.
 */
public final class ExecutableService implements Dom0Service {

    private static final Logger LOG = System.getLogger(ExecutableService.class.getName());

    private final Path executable;

    public ExecutableService(Path executable) {
        this.executable = executable;
    }

    public Path executable() {
        return executable;
    }

    @Override
    public int run(ServiceCall call, InputStream stdin, OutputStream stdout) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>();
        argv.add(executable.toString());
        if (!call.argument().isEmpty()) {
            argv.add(call.argument());
        }
        ProcessBuilder pb = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT);
        Map<String, String> env = pb.environment();
        env.put("QREXEC_SERVICE_FULL_NAME", call.fullName());
        env.put("QREXEC_REMOTE_DOMAIN", call.source());
        env.put("QREXEC_SERVICE_ARGUMENT", call.argument());
        env.put("QREXEC_REQUESTED_TARGET_TYPE", call.targetIsKeyword() ? "keyword" : "name");
        env.put(call.targetIsKeyword() ? "QREXEC_REQUESTED_TARGET_KEYWORD" : "QREXEC_REQUESTED_TARGET",
                call.requestedTarget());
        Process process = pb.start();
        Thread feeder = new Thread(() -> feed(stdin, process), "dom0-service-stdin-" + process.pid());
        feeder.setDaemon(true);
        feeder.start();
        try (InputStream out = process.getInputStream()) {
            out.transferTo(stdout);
        }
        int status = process.waitFor();
        feeder.interrupt();
        return status;
    }

    private static void feed(InputStream stdin, Process process) {
        try (OutputStream in = process.getOutputStream()) {
            stdin.transferTo(in);
        } catch (IOException e) {
            // The process closed its stdin early; what it did not read is dropped, as in C.
            LOG.log(Level.DEBUG, "service stdin closed early: {0}", e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "ExecutableService[" + executable + "]";
    }
}
