package dev.qrexec.broker.agent;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything an {@link Agent} needs. Build with {@link #builder()}; every field is validated there.
 *
 * @param vchanDir           {@code VCHAN_SOCKET_DIR}: where {@code vchan.*.sock} files live
 * @param domain             {@code VCHAN_DOMAIN}: this qube's domain id
 * @param qubeName           this qube's name (logs, services)
 * @param triggerSocket      where qrexec-client-vm connects (channel D)
 * @param serviceLocator     the service path
 * @param configDirs         {@code QUBES_RPC_CONFIG_PATH}
 * @param javaServices       services run inside the agent, by {@code svc} or {@code svc+arg}
 * @param userMode           how the user of a command line is honoured
 * @param dataConnectTimeout how long to retry connecting a data channel
 * @param sessionTimeout     how long a {@code wait-for-session} service waits
 * @param maxCalls           calls running at once; more are answered with exit code 125
 */
public record AgentConfig(Path vchanDir, int domain, String qubeName, Path triggerSocket,
                          ServiceLocator serviceLocator, List<Path> configDirs,
                          Map<String, JavaService> javaServices, UserMode userMode,
                          Duration dataConnectTimeout, Duration sessionTimeout, int maxCalls) {

    public AgentConfig {
        Objects.requireNonNull(vchanDir, "vchanDir");
        Objects.requireNonNull(qubeName, "qubeName");
        Objects.requireNonNull(triggerSocket, "triggerSocket");
        Objects.requireNonNull(serviceLocator, "serviceLocator");
        configDirs = List.copyOf(configDirs);
        javaServices = Map.copyOf(javaServices);
        Objects.requireNonNull(userMode, "userMode");
        Objects.requireNonNull(dataConnectTimeout, "dataConnectTimeout");
        Objects.requireNonNull(sessionTimeout, "sessionTimeout");
        if (domain <= 0) {
            throw new IllegalArgumentException("domain must be a qube's id (> 0), got " + domain);
        }
        if (maxCalls <= 0) {
            throw new IllegalArgumentException("maxCalls must be positive, got " + maxCalls);
        }
        // sun_path holds 108 bytes; the longest name is vchan.<10>.<10>.<5>.sock.
        int longest = vchanDir.toString().length() + "/vchan.4294967295.4294967295.65535.sock".length();
        if (longest > 107) {
            throw new IllegalArgumentException("vchanDir " + vchanDir + " is too long for Unix socket names ("
                    + longest + " > 107 bytes)");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder with the defaults of a Qubes agent; {@code vchanDir} and {@code domain} must be set. */
    public static final class Builder {
        private Path vchanDir;
        private int domain = -1;
        private String qubeName;
        private Path triggerSocket = Path.of("/var/run/qubes/qrexec-agent");
        private ServiceLocator serviceLocator = ServiceLocator.fromPath(ServiceLocator.DEFAULT_PATH);
        private List<Path> configDirs = ServiceLocator.fromPath(ServiceConfig.DEFAULT_PATH).directories();
        private Map<String, JavaService> javaServices = Map.of();
        private UserMode userMode = UserMode.SELF;
        private Duration dataConnectTimeout = Duration.ofSeconds(10);
        private Duration sessionTimeout = Duration.ofSeconds(60);
        private int maxCalls = 256;

        public Builder vchanDir(Path dir) {
            this.vchanDir = dir;
            return this;
        }

        public Builder domain(int id) {
            this.domain = id;
            return this;
        }

        public Builder qubeName(String name) {
            this.qubeName = name;
            return this;
        }

        public Builder triggerSocket(Path path) {
            this.triggerSocket = path;
            return this;
        }

        public Builder servicePath(String colonSeparated) {
            this.serviceLocator = ServiceLocator.fromPath(colonSeparated);
            return this;
        }

        public Builder configPath(String colonSeparated) {
            this.configDirs = ServiceLocator.fromPath(colonSeparated).directories();
            return this;
        }

        public Builder javaServices(Map<String, JavaService> services) {
            this.javaServices = services;
            return this;
        }

        public Builder userMode(UserMode mode) {
            this.userMode = mode;
            return this;
        }

        public Builder dataConnectTimeout(Duration timeout) {
            this.dataConnectTimeout = timeout;
            return this;
        }

        public Builder sessionTimeout(Duration timeout) {
            this.sessionTimeout = timeout;
            return this;
        }

        public Builder maxCalls(int n) {
            this.maxCalls = n;
            return this;
        }

        public AgentConfig build() {
            if (vchanDir == null) {
                throw new IllegalStateException("vchanDir is not set (VCHAN_SOCKET_DIR)");
            }
            if (domain < 0) {
                throw new IllegalStateException("domain is not set (VCHAN_DOMAIN)");
            }
            return new AgentConfig(vchanDir, domain, qubeName == null ? "vm" + domain : qubeName, triggerSocket,
                    serviceLocator, configDirs, javaServices, userMode, dataConnectTimeout, sessionTimeout, maxCalls);
        }
    }
}
