package dev.qrexec.broker.agent;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code QREXEC_*} variables a service sees (spec 7.2). Only the variables of the call are set;
 * the rest of the environment is the agent's own.
 */
public final class ServiceEnvironment {

    private ServiceEnvironment() {
    }

    public static Map<String, String> of(RpcInvocation call, long agentPid) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("QREXEC_SERVICE_FULL_NAME", call.fullName());
        env.put("QREXEC_REMOTE_DOMAIN", call.source());
        call.argument().ifPresent(arg -> env.put("QREXEC_SERVICE_ARGUMENT", arg));
        env.put("QREXEC_REQUESTED_TARGET_TYPE", call.targetType());
        if (call.targetType().equals("name")) {
            env.put("QREXEC_REQUESTED_TARGET", call.requestedTarget());
        } else if (call.targetType().equals("keyword")) {
            env.put("QREXEC_REQUESTED_TARGET_KEYWORD", call.requestedTarget());
        }
        env.put("QREXEC_AGENT_PID", Long.toString(agentPid));
        return env;
    }
}
