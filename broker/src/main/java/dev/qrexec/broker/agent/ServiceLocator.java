package dev.qrexec.broker.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds a service's file in the service path (spec 7.2): for each directory in order, {@code svc+arg}
 * first, then {@code svc}. The first directory holding either wins, as in the C agent.
 */
public final class ServiceLocator {

    /** The default of {@code QREXEC_SERVICE_PATH}. */
    public static final String DEFAULT_PATH = "/run/qubes-rpc:/usr/local/etc/qubes-rpc:/etc/qubes-rpc";

    /** A file found for a call. {@code exactMatch} is true when {@code svc+arg} matched. */
    public record Found(Path file, boolean exactMatch, Kind kind) {
    }

    /** What the found file is. */
    public enum Kind { EXECUTABLE, NOT_EXECUTABLE, SOCKET }

    private final List<Path> directories;

    public ServiceLocator(List<Path> directories) {
        this.directories = List.copyOf(directories);
    }

    /** Parses a colon-separated path such as {@code QREXEC_SERVICE_PATH}; empty entries are skipped. */
    public static ServiceLocator fromPath(String colonSeparated) {
        List<Path> dirs = new ArrayList<>();
        for (String part : colonSeparated.split(":")) {
            if (!part.isEmpty()) {
                dirs.add(Path.of(part));
            }
        }
        return new ServiceLocator(dirs);
    }

    public List<Path> directories() {
        return directories;
    }

    public Optional<Found> find(RpcInvocation call) {
        for (Path dir : directories) {
            if (call.argument().isPresent()) {
                Optional<Found> exact = probe(dir, call.fullName(), true);
                if (exact.isPresent()) {
                    return exact;
                }
            }
            Optional<Found> bare = probe(dir, call.service(), false);
            if (bare.isPresent()) {
                return bare;
            }
        }
        return Optional.empty();
    }

    private static Optional<Found> probe(Path dir, String name, boolean exact) {
        // Names were checked against [A-Za-z0-9_.+-], so they cannot leave the directory; "." and ".."
        // are still possible and are never services.
        if (name.equals(".") || name.equals("..")) {
            return Optional.empty();
        }
        Path file = dir.resolve(name);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        if (Files.isDirectory(file)) {
            return Optional.empty();
        }
        if (isSocket(file)) {
            return Optional.of(new Found(file, exact, Kind.SOCKET));
        }
        Kind kind = Files.isExecutable(file) ? Kind.EXECUTABLE : Kind.NOT_EXECUTABLE;
        return Optional.of(new Found(file, exact, kind));
    }

    private static boolean isSocket(Path file) {
        try {
            Object mode = Files.getAttribute(file, "unix:mode");
            return mode instanceof Integer m && (m & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
