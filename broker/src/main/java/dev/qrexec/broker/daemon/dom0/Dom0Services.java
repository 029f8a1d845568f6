package dev.qrexec.broker.daemon.dom0;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The services dom0 offers: Java implementations registered by name, then executables in the
 * service directories (looked up as {@code svc+arg}, then {@code svc}, as qrexec does).
 * Thread-safe.
 */
public final class Dom0Services {

    private final Map<String, Dom0Service> builtIn = new ConcurrentHashMap<>();
    private final List<Path> directories;

    public Dom0Services(List<Path> directories) {
        this.directories = List.copyOf(directories);
    }

    public static Dom0Services none() {
        return new Dom0Services(List.of());
    }

    /** Registers a Java service under {@code svc} or {@code svc+arg}; replaces an earlier one. */
    public Dom0Services register(String name, Dom0Service service) {
        Objects.requireNonNull(service, "service");
        if (name.isEmpty() || name.startsWith("+")) {
            throw new IllegalArgumentException("invalid service name '" + name + "'");
        }
        builtIn.put(name, service);
        return this;
    }

    /** The service for {@code svc} with {@code arg} (empty for none), if any. */
    public Optional<Dom0Service> find(String service, String argument) {
        String full = service + "+" + argument;
        for (String name : new String[] {full, service}) {
            Dom0Service s = builtIn.get(name);
            if (s != null) {
                return Optional.of(s);
            }
        }
        for (Path dir : directories) {
            for (String name : new String[] {full, service}) {
                Path file = safeResolve(dir, name);
                if (file != null && Files.isRegularFile(file) && Files.isExecutable(file)) {
                    return Optional.of(new ExecutableService(file));
                }
            }
        }
        return Optional.empty();
    }

    /** {@code dir/name}, or null if the name could leave the directory or names a hidden file. */
    private static Path safeResolve(Path dir, String name) {
        if (name.isEmpty() || name.startsWith(".") || name.contains("/")) {
            return null;
        }
        Path p = dir.resolve(name).normalize();
        return dir.normalize().equals(p.getParent()) ? p : null;
    }
}
