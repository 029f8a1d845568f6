package dev.qrexec.xen;

import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which backend to run and how: a backend name, an instance name (marks the qubes this daemon
 * owns), an optional state directory, and backend options as text ({@code boot-latency=2s}).
 * Immutable. Write it as one string with {@link #parse}, e.g.
 * {@code sim:host-memory-mib=4096,boot-latency=1500ms}, or build it with {@link #builder}.
 * Options are read with the typed getters, whose errors name the backend, the option and the value.
 *
 * @param backend      backend name: {@code sim}, {@code sandbox}, {@code libvirt}
 * @param instanceName this daemon's name for its qubes
 * @param stateDir     where a backend keeps files, if it keeps any
 * @param options      backend options, in the order given
 */
public record HypervisorConfig(String backend, String instanceName, Optional<Path> stateDir,
                               Map<String, String> options) {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]*");
    private static final Pattern SHORT_DURATION = Pattern.compile("(\\d+)(ns|us|ms|s|m|h)");

    public HypervisorConfig {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(instanceName, "instanceName");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(options, "options");
        if (!NAME.matcher(backend).matches()) {
            throw new IllegalArgumentException("invalid backend name '" + backend
                    + "': lower-case letters, digits and '-', a letter first");
        }
        if (!NAME.matcher(instanceName).matches()) {
            throw new IllegalArgumentException("invalid instance name '" + instanceName
                    + "': lower-case letters, digits and '-', a letter first");
        }
        for (Map.Entry<String, String> option : options.entrySet()) {
            if (!NAME.matcher(option.getKey()).matches()) {
                throw new IllegalArgumentException("invalid option name '" + option.getKey() + "' for backend "
                        + backend + ": lower-case letters, digits and '-', a letter first");
            }
            Objects.requireNonNull(option.getValue(), () -> "value of option " + option.getKey());
        }
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    public static Builder builder(String backend) {
        return new Builder(backend);
    }

    /**
     * Reads {@code backend[:key=value,key=value...]}. The special keys {@code instance} and
     * {@code state-dir} set the instance name and the state directory.
     */
    public static HypervisorConfig parse(String text) {
        Objects.requireNonNull(text, "text");
        String trimmed = text.strip();
        int colon = trimmed.indexOf(':');
        Builder builder = builder(colon < 0 ? trimmed : trimmed.substring(0, colon));
        if (colon >= 0 && colon < trimmed.length() - 1) {
            for (String pair : trimmed.substring(colon + 1).split(",")) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("hypervisor option '" + pair + "' in '" + text
                            + "' is not key=value");
                }
                String key = pair.substring(0, eq).strip();
                String value = pair.substring(eq + 1).strip();
                switch (key) {
                    case "instance" -> builder.instanceName(value);
                    case "state-dir" -> builder.stateDir(Path.of(value));
                    default -> builder.option(key, value);
                }
            }
        }
        return builder.build();
    }

    /** The option's text, if given. */
    public Optional<String> option(String key) {
        return Optional.ofNullable(options.get(key));
    }

    /** A whole number option, or {@code fallback}. */
    public long longOption(String key, long fallback) {
        return option(key).map(value -> {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw invalid(key, value, "a whole number");
            }
        }).orElse(fallback);
    }

    /** A duration option ({@code 150ms}, {@code 2s}, {@code 1m}, or ISO-8601 {@code PT2S}), or {@code fallback}. */
    public Duration durationOption(String key, Duration fallback) {
        return option(key).map(value -> parseDuration(key, value)).orElse(fallback);
    }

    /** A boolean option ({@code true} or {@code false}), or {@code fallback}. */
    public boolean booleanOption(String key, boolean fallback) {
        return option(key).map(value -> switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(key, value, "true or false");
        }).orElse(fallback);
    }

    /** Fails unless every option given is one of {@code known}; for providers to call first. */
    public void requireOnly(Set<String> known) {
        for (String key : options.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown option '" + key + "' for backend " + backend
                        + "; known options: " + String.join(", ", new TreeSet<>(known)));
            }
        }
    }

    private Duration parseDuration(String key, String value) {
        Matcher m = SHORT_DURATION.matcher(value);
        try {
            if (m.matches()) {
                long amount = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ns" -> Duration.ofNanos(amount);
                    case "us" -> Duration.ofNanos(Math.multiplyExact(amount, 1000L));
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    default -> Duration.ofHours(amount);
                };
            }
            return Duration.parse(value);
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            throw invalid(key, value, "a duration like 150ms, 2s, 1m or PT2S");
        }
    }

    private IllegalArgumentException invalid(String key, String value, String expected) {
        return new IllegalArgumentException("option " + key + " of backend " + backend + ": expected "
                + expected + ", was '" + value + "'");
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(backend).append(":instance=").append(instanceName);
        stateDir.ifPresent(dir -> text.append(",state-dir=").append(dir));
        new TreeMap<>(options).forEach((k, v) -> text.append(',').append(k).append('=').append(v));
        return text.toString();
    }

    /** Builder; the instance name defaults to {@code qrexec}. */
    public static final class Builder {
        private final String backend;
        private String instanceName = "qrexec";
        private Path stateDir;
        private final Map<String, String> options = new LinkedHashMap<>();

        private Builder(String backend) {
            this.backend = Objects.requireNonNull(backend, "backend");
        }

        public Builder instanceName(String name) {
            this.instanceName = Objects.requireNonNull(name, "instanceName");
            return this;
        }

        public Builder stateDir(Path dir) {
            this.stateDir = Objects.requireNonNull(dir, "stateDir");
            return this;
        }

        public Builder option(String key, String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (options.putIfAbsent(key, value) != null) {
                throw new IllegalArgumentException("option " + key + " of backend " + backend
                        + " given twice ('" + options.get(key) + "' and '" + value + "')");
            }
            return this;
        }

        public HypervisorConfig build() {
            return new HypervisorConfig(backend, instanceName, Optional.ofNullable(stateDir), options);
        }
    }
}
