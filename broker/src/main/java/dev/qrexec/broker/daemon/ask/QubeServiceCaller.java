package dev.qrexec.broker.daemon.ask;

import java.util.concurrent.CompletableFuture;

/**
 * Calls a service in a qube from dom0, as {@code qrexec-client -d QUBE "DEFAULT:QUBESRPC svc+ dom0"}
 * does, with {@code stdin} as input. Completes with stdout when the service exited 0; fails with
 * the reason otherwise. Must not block the caller.
 */
@FunctionalInterface
public interface QubeServiceCaller {

    CompletableFuture<String> call(String qube, String service, byte[] stdin);
}
