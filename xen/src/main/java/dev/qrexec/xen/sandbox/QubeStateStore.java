package dev.qrexec.xen.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qrexec.xen.QubeSpec;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The on-disk state of one backend instance, {@code <stateRoot>/<instance>/<qube>/}:
 * {@code spec.json} (written at define: definitions survive a daemon restart), {@code run.json}
 * (written when a start begins, updated when the init runs, deleted once the qube is cleaned up)
 * and {@code console.log} (the qube's stdout and stderr, bwrap's errors included).
 *
 * <p>Files are replaced atomically (write a temporary file, then rename), so a daemon killed at any
 * point leaves either the old or the new version. Thread-safe: no mutable state of its own; callers
 * serialise writes per qube.
 */
final class QubeStateStore {

    /** Phase of a start recorded in {@code run.json}. */
    enum Phase { STARTING, RUNNING }

    /** What {@code run.json} says about a qube that was started. */
    record RunRecord(Phase phase, long launcherPid, long initPid) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;

    QubeStateStore(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path dir(String qube) {
        return root.resolve(qube);
    }

    Path consoleLog(String qube) {
        return dir(qube).resolve("console.log");
    }

    List<String> qubes() throws IOException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return names;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
            dirs.forEach(d -> names.add(d.getFileName().toString()));
        }
        names.sort(null);
        return names;
    }

    void writeSpec(QubeSpec spec) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("name", spec.name());
        node.put("domainId", spec.domainId());
        node.put("memoryMiB", spec.memoryMiB());
        node.put("maxMemoryMiB", spec.maxMemoryMiB());
        node.put("vcpus", spec.vcpus());
        spec.templateRoot().ifPresent(p -> node.put("templateRoot", p.toString()));
        spec.privateStorage().ifPresent(p -> node.put("privateStorage", p.toString()));
        spec.privateSource().ifPresent(p -> node.put("privateSource", p.toString()));
        node.put("volatileSizeMiB", spec.volatileSizeMiB());
        node.put("discardOnStop", spec.discardOnStop());
        spec.channelDir().ifPresent(p -> node.put("channelDir", p.toString()));
        node.putPOJO("init", spec.init());
        node.putPOJO("environment", new LinkedHashMap<>(spec.environment()));
        Files.createDirectories(dir(spec.name()));
        writeAtomically(dir(spec.name()).resolve("spec.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(node));
    }

    QubeSpec readSpec(String qube) throws IOException {
        JsonNode node = JSON.readTree(dir(qube).resolve("spec.json").toFile());
        QubeSpec.Builder builder = QubeSpec.builder(node.path("name").asText(), node.path("domainId").asInt())
                .memoryMiB(node.path("memoryMiB").asLong())
                .maxMemoryMiB(node.path("maxMemoryMiB").asLong())
                .vcpus(node.path("vcpus").asInt())
                .volatileSizeMiB(node.path("volatileSizeMiB").asLong())
                .discardOnStop(node.path("discardOnStop").asBoolean());
        optionalPath(node, "templateRoot").ifPresent(builder::templateRoot);
        optionalPath(node, "privateStorage").ifPresent(builder::privateStorage);
        optionalPath(node, "privateSource").ifPresent(builder::privateSource);
        optionalPath(node, "channelDir").ifPresent(builder::channelDir);
        List<String> init = new ArrayList<>();
        node.path("init").forEach(n -> init.add(n.asText()));
        Map<String, String> env = new LinkedHashMap<>();
        node.path("environment").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
        QubeSpec spec = builder.init(init).environment(env).build();
        if (!spec.name().equals(qube)) {
            throw new IOException("spec.json of '" + qube + "' names another qube: '" + spec.name() + "'");
        }
        return spec;
    }

    private static Optional<Path> optionalPath(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? Optional.empty() : Optional.of(Path.of(value.asText()));
    }

    void writeRun(String qube, RunRecord run) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("phase", run.phase().name());
        node.put("launcherPid", run.launcherPid());
        node.put("initPid", run.initPid());
        writeAtomically(dir(qube).resolve("run.json"), JSON.writeValueAsBytes(node));
    }

    Optional<RunRecord> readRun(String qube) throws IOException {
        Path file = dir(qube).resolve("run.json");
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        JsonNode node = JSON.readTree(file.toFile());
        try {
            return Optional.of(new RunRecord(Phase.valueOf(node.path("phase").asText()),
                    node.path("launcherPid").asLong(), node.path("initPid").asLong()));
        } catch (IllegalArgumentException e) {
            throw new IOException("unreadable run.json of '" + qube + "': " + node, e);
        }
    }

    void deleteRun(String qube) throws IOException {
        Files.deleteIfExists(dir(qube).resolve("run.json"));
    }

    void deleteQube(String qube) throws IOException {
        PrivateStorage.deleteTree(dir(qube));
    }

    private static void writeAtomically(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
