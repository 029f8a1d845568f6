package dev.qrexec.broker.agent;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/**
 * What a {@link JavaService} gets for one call.
 *
 * @param invocation  the parsed {@code QUBESRPC} command
 * @param environment the {@code QREXEC_*} variables a process service would have seen
 * @param stdin       the caller's data, until EOF
 * @param stdout      sent to the caller as DATA_STDOUT
 * @param stderr      sent to the caller as DATA_STDERR
 * @param agent       the agent's own state, for services that act on the agent
 */
public record ServiceCall(RpcInvocation invocation, Map<String, String> environment, InputStream stdin,
                          OutputStream stdout, OutputStream stderr, AgentState agent) {
}
