package dev.qrexec.broker.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Maps Admin API requests onto an {@link AdminBackend} and formats the answers as qubesd does.
 * Stateless and thread-safe; {@code admin.Events} is streamed by the server, not handled here.
 */
public final class AdminMethods {

    private static final System.Logger LOG = System.getLogger(AdminMethods.class.getName());
    static final String CREATE_PREFIX = "admin.vm.Create.";
    public static final String EVENTS = "admin.Events";

    private final AdminBackend backend;

    public AdminMethods(AdminBackend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    /** Answers one request: {@code 0\0...} or {@code 2\0...}. Never throws for bad input. */
    public byte[] handle(AdminRequest request) {
        try {
            return AdminResponse.ok(dispatch(request));
        } catch (AdminException e) {
            LOG.log(System.Logger.Level.INFO, "admin call " + request + " failed: " + e.type() + ": " + e.getMessage());
            return AdminResponse.error(e);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "admin call " + request + " failed unexpectedly", e);
            return AdminResponse.error(new AdminException("QubesException", "internal error: " + e.getClass().getSimpleName()));
        }
    }

    /** Checks what every request must satisfy; used for events too. */
    static void checkCaller(AdminRequest request) throws AdminException {
        if (!request.source().equals("dom0")) {
            throw AdminException.permission("only dom0 may use the admin socket, not '" + request.source() + "'");
        }
    }

    private String dispatch(AdminRequest r) throws AdminException {
        checkCaller(r);
        String method = r.method();
        String dest = r.destination();
        if (method.startsWith(CREATE_PREFIX)) {
            requireDom0(r);
            Map<String, String> props = keyValues(r.payloadText());
            if (!props.containsKey("name")) {
                throw AdminException.value("payload must give name=...");
            }
            backend.create(method.substring(CREATE_PREFIX.length()), r.argument(), props);
            return "";
        }
        switch (method) {
            case "admin.vm.List" -> {
                noArgNoPayload(r);
                StringBuilder b = new StringBuilder();
                for (AdminBackend.QubeSummary q : backend.list()) {
                    if (dest.equals("dom0") || dest.equals(q.name())) {
                        b.append(q.name()).append(" class=").append(q.qubeClass())
                                .append(" state=").append(q.powerState()).append('\n');
                    }
                }
                if (b.length() == 0) {
                    throw AdminException.notFound(dest);
                }
                return b.toString();
            }
            case "admin.vm.property.List" -> {
                noArgNoPayload(r);
                return lines(backend.propertyNames(dest));
            }
            case "admin.vm.property.Get" -> {
                requireArg(r);
                AdminBackend.PropertyValue v = backend.property(dest, r.argument());
                return "default=" + (v.isDefault() ? "True" : "False") + " type=" + v.type() + " " + v.value();
            }
            case "admin.vm.property.Set" -> {
                requireArg(r);
                backend.setProperty(dest, r.argument(), r.payloadText());
                return "";
            }
            case "admin.vm.property.Reset" -> {
                requireArg(r);
                backend.resetProperty(dest, r.argument());
                return "";
            }
            case "admin.vm.feature.List" -> {
                noArgNoPayload(r);
                return lines(backend.featureNames(dest));
            }
            case "admin.vm.feature.Get" -> {
                requireArg(r);
                Optional<String> v = backend.feature(dest, r.argument());
                return v.orElseThrow(() -> AdminException.featureNotFound(dest, r.argument()));
            }
            case "admin.vm.feature.Set" -> {
                requireArg(r);
                backend.setFeature(dest, r.argument(), r.payloadText());
                return "";
            }
            case "admin.vm.feature.Remove" -> {
                requireArg(r);
                if (!backend.removeFeature(dest, r.argument())) {
                    throw AdminException.featureNotFound(dest, r.argument());
                }
                return "";
            }
            case "admin.vm.tag.List" -> {
                noArgNoPayload(r);
                return lines(backend.tags(dest).stream().sorted().toList());
            }
            case "admin.vm.tag.Get" -> {
                requireArg(r);
                return backend.tags(dest).contains(r.argument()) ? "1" : "0";
            }
            case "admin.vm.tag.Set" -> {
                requireArg(r);
                backend.addTag(dest, r.argument());
                return "";
            }
            case "admin.vm.tag.Remove" -> {
                requireArg(r);
                if (!backend.removeTag(dest, r.argument())) {
                    throw AdminException.tagNotFound(dest, r.argument());
                }
                return "";
            }
            case "admin.vm.Start" -> {
                noArgNoPayload(r);
                backend.start(dest);
                return "";
            }
            case "admin.vm.Pause" -> {
                noArgNoPayload(r);
                backend.pause(dest);
                return "";
            }
            case "admin.vm.Unpause" -> {
                noArgNoPayload(r);
                backend.unpause(dest);
                return "";
            }
            case "admin.vm.Kill" -> {
                noArgNoPayload(r);
                backend.kill(dest);
                return "";
            }
            case "admin.vm.Remove" -> {
                noArgNoPayload(r);
                backend.remove(dest);
                return "";
            }
            case "admin.vm.CreateDisposable" -> {
                String payload = r.payloadText();
                if (!r.argument().isEmpty()) {
                    throw AdminException.value("CreateDisposable takes no argument here, got '" + r.argument() + "'");
                }
                if (!payload.isEmpty() && !payload.equals("uuid")) {
                    throw AdminException.value("CreateDisposable payload must be empty or 'uuid'");
                }
                String name = backend.createDisposable(dest, r.source());
                return payload.equals("uuid") ? "uuid:" + backend.uuid(name) : name;
            }
            case "admin.vm.volume.List" -> {
                noArgNoPayload(r);
                return lines(backend.volumeNames(dest));
            }
            case "admin.vm.volume.Info" -> {
                requireArg(r);
                StringBuilder b = new StringBuilder();
                backend.volumeInfo(dest, r.argument()).forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
                return b.toString();
            }
            case "admin.vm.volume.Resize" -> {
                requireArg(r);
                String size = r.payloadText().strip();
                if (!size.matches("[0-9]{1,19}")) {
                    throw AdminException.value("Resize payload must be the new size in bytes, got '"
                            + (size.length() > 24 ? size.substring(0, 24) + "..." : size) + "'");
                }
                try {
                    backend.resizeVolume(dest, r.argument(), Long.parseLong(size));
                } catch (NumberFormatException e) {
                    throw AdminException.value("size " + size + " is too large");
                }
                return "";
            }
            case "admin.pool.List" -> {
                requireDom0(r);
                noArgNoPayload(r);
                return lines(backend.poolNames());
            }
            case "internal.dispvm.PreloadQueues" -> {
                requireDom0(r);
                noArgNoPayload(r);
                StringBuilder b = new StringBuilder();
                for (AdminBackend.PreloadQueue q : backend.preloadQueues()) {
                    b.append(q.template()).append(" max=").append(q.max())
                            .append(" global=").append(q.global() ? "True" : "False")
                            .append(" ready=").append(String.join(",", q.ready()))
                            .append(" preloading=").append(String.join(",", q.preloading()))
                            .append(" claimed=").append(String.join(",", q.claimed())).append('\n');
                }
                return b.toString();
            }
            case "internal.GetSystemInfo" -> {
                requireDom0(r);
                noArgNoPayload(r);
                return backend.systemInfoJson();
            }
            default -> throw AdminException.protocol("unknown method '" + method + "'");
        }
    }

    private static void requireDom0(AdminRequest r) throws AdminException {
        if (!r.destination().equals("dom0")) {
            throw AdminException.protocol(r.method() + " must be sent to dom0, not '" + r.destination() + "'");
        }
    }

    private static void requireArg(AdminRequest r) throws AdminException {
        if (r.argument().isEmpty()) {
            throw AdminException.protocol(r.method() + " needs an argument");
        }
    }

    private static void noArgNoPayload(AdminRequest r) throws AdminException {
        if (!r.argument().isEmpty()) {
            throw AdminException.protocol(r.method() + " takes no argument");
        }
        if (r.payload().length != 0) {
            throw AdminException.protocol(r.method() + " takes no payload");
        }
    }

    private static String lines(List<String> items) {
        StringBuilder b = new StringBuilder();
        items.forEach(i -> b.append(i).append('\n'));
        return b.toString();
    }

    /** Parses {@code key=value key=value}; duplicate keys and words without {@code =} are errors. */
    static Map<String, String> keyValues(String payload) throws AdminException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String word : payload.strip().split("\\s+")) {
            if (word.isEmpty()) {
                continue;
            }
            int eq = word.indexOf('=');
            if (eq <= 0) {
                throw AdminException.value("expected key=value, got '" + word + "'");
            }
            if (out.put(word.substring(0, eq), word.substring(eq + 1)) != null) {
                throw AdminException.value("duplicate key '" + word.substring(0, eq) + "'");
            }
        }
        return out;
    }
}
