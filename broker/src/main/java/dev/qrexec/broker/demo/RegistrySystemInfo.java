package dev.qrexec.broker.demo;

import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.policy.system.SystemInfo;

import java.util.function.Supplier;

/**
 * The policy's view of the system, read from the disposable manager's registry (Qubes' policy
 * daemon asks qubesd for {@code internal.GetSystemInfo} the same way). Converted once per registry
 * version: a preload coming or going is a new version, every other call reuses the last one.
 */
final class RegistrySystemInfo implements Supplier<SystemInfo> {

    private record Converted(long version, SystemInfo info) {
    }

    private final DispvmManager manager;
    private volatile Converted last;

    RegistrySystemInfo(DispvmManager manager) {
        this.manager = manager;
    }

    @Override
    public SystemInfo get() {
        dev.qrexec.dispvm.registry.SystemInfo current = manager.systemInfo();
        Converted c = last;
        if (c == null || c.version() != current.version()) {
            c = new Converted(current.version(), SystemInfo.fromJson(current.tree()));
            last = c;
        }
        return c.info();
    }
}
