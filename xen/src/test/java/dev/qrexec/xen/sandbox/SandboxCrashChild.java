package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.QubeSpec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A throw-away daemon for {@link SandboxCrashRecoveryTest}: opens a sandbox backend, starts one
 * disposable whose init listens on a channel socket, announces {@code AT <step>} on stdout when the
 * start reaches the step it was told, and then hangs there until the test SIGKILLs it.
 *
 * <p>Arguments: stateRoot instance templateRoot workDir step (a start step, or {@code started}) domainId.
 */
public final class SandboxCrashChild {

    private SandboxCrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path stateRoot = Path.of(args[0]);
        String instance = args[1];
        Path template = Path.of(args[2]);
        Path work = Path.of(args[3]);
        String stopAt = args[4];
        int domainId = Integer.parseInt(args[5]);
        SandboxHypervisor.StartProbe probe = (qube, step) -> {
            if (step.equals(stopAt)) {
                hang(step);
            }
        };
        SandboxHypervisor hypervisor = SandboxHypervisor.open(SandboxConfig.builder(instance).stateRoot(stateRoot)
                .build(), probe);
        hypervisor.define(spec(template, work, domainId)).get();
        var started = hypervisor.start("crash");
        if (stopAt.equals("started")) {
            started.get();
            hang("started");
        }
        started.get();
    }

    static QubeSpec spec(Path template, Path work, int domainId) {
        String java = Path.of(System.getProperty("java.home")).resolve("bin/java").toString();
        return QubeSpec.builder("crash", domainId).memoryMiB(64).maxMemoryMiB(256).volatileSizeMiB(16)
                .templateRoot(template)
                .privateSource(work.resolve("source"))
                .privateStorage(work.resolve("private-crash"))
                .discardOnStop(true)
                .channelDir(work.resolve("ch-crash"))
                .init(List.of(java, "-XX:TieredStopAtLevel=1", "-cp", "/probe", SandboxProbe.class.getName(),
                        "listen", "vchan.31.0.512.sock"))
                .build();
    }

    private static void hang(String step) {
        System.out.println("AT " + step);
        System.out.flush();
        while (true) {
            LockSupport.park();
        }
    }
}
