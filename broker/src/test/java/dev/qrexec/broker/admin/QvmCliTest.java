package dev.qrexec.broker.admin;

import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.preload.PreloadTimings;
import dev.qrexec.dispvm.spi.MemoryReleaser;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.xen.sim.SimHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The qvm CLI against a real admin socket and registry (sim hypervisor). */
class QvmCliTest {

    @TempDir
    Path tmp;
    SimHypervisor sim;
    DispvmManager manager;
    AdminServer server;

    record Out(int code, String out, String err) {
    }

    Out qvm(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] full = new String[args.length + 1];
        full[0] = "--admin-socket=" + server.path();
        System.arraycopy(args, 0, full, 1, args.length);
        int code = QvmCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), full);
        return new Out(code, out.toString(), err.toString());
    }

    @BeforeEach
    void start() throws Exception {
        sim = SimHypervisor.builder().build();
        manager = DispvmManager.builder(sim).storeDir(tmp.resolve("store")).timings(PreloadTimings.immediate())
                .readiness(QubeReadiness.immediate()).memoryReleaser(MemoryReleaser.none()).build();
        server = AdminServer.start(tmp.resolve("admin.sock"), new DispvmAdminBackend(manager), AdminAccess.ownerOnly());
    }

    @AfterEach
    void stop() {
        server.close();
        manager.close();
        sim.close();
    }

    @Test
    void createListPrefsFeaturesTags() {
        assertEquals(0, qvm("create", "-C", "TemplateVM", "-l", "black", "fedora").code());
        for (String f : new String[] {"qrexec", "supported-rpc.qubes.WaitForRunningSystem",
                "supported-rpc.qubes.WaitForSession"}) {
            assertEquals(0, qvm("features", "fedora", f, "1").code());
        }
        assertEquals(0, qvm("create", "-t", "fedora", "-l", "red", "-P", "template_for_dispvms=True", "dvm").code());
        Out ls = qvm("ls");
        assertEquals(0, ls.code());
        assertTrue(ls.out().matches("(?s)NAME\\s+CLASS\\s+STATE\n.*dvm\\s+AppVM\\s+Halted\n.*"), ls.out());
        assertEquals("red\n", qvm("prefs", "dvm", "label").out());
        assertEquals(0, qvm("prefs", "dvm", "label", "green").code());
        assertEquals("green\n", qvm("prefs", "dvm", "label").out());
        assertTrue(qvm("prefs", "dvm").out().contains("label"));
        assertEquals(0, qvm("prefs", "-D", "dvm", "label").code());
        assertEquals("1\n", qvm("features", "fedora", "qrexec").out());
        assertTrue(qvm("features", "fedora").out().contains("qrexec"));
        assertEquals(0, qvm("tags", "dvm", "add", "a", "b").code());
        assertEquals("a\nb\n", qvm("tags", "dvm").out());
        assertEquals(0, qvm("tags", "dvm", "del", "a").code());
        assertEquals("b\n", qvm("tags", "dvm", "list").out());
    }

    @Test
    void powerStatusAndErrors() {
        qvm("create", "-C", "TemplateVM", "fedora");
        for (String f : new String[] {"qrexec", "supported-rpc.qubes.WaitForRunningSystem",
                "supported-rpc.qubes.WaitForSession"}) {
            qvm("features", "fedora", f, "1");
        }
        qvm("create", "-t", "fedora", "-P", "template_for_dispvms=True", "dvm");
        qvm("create", "-t", "fedora", "work");
        assertEquals(0, qvm("start", "work").code());
        await().atMost(Duration.ofSeconds(10)).until(() -> qvm("ls").out().matches("(?s).*work\\s+AppVM\\s+Running.*"));
        assertEquals(0, qvm("pause", "work").code());
        assertEquals(0, qvm("unpause", "work").code());
        assertEquals(0, qvm("kill", "work").code());
        qvm("features", "dvm", "preload-dispvm-max", "1");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                qvm("status").out().matches("(?s)TEMPLATE\\s+MAX\\s+READY\\s+PRELOADING\\s+CLAIMED\ndvm\\s+1\\s+disp\\d+\\s+-\\s+-\n"));
        Out missing = qvm("prefs", "nope", "label");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("QubesVMNotFoundError"), missing.err());
        assertEquals(2, qvm("frobnicate").code());
        assertEquals(2, qvm().code());
        assertEquals(0, qvm("remove", "work").code());
        Out noSocket = new Out(QvmCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                "--admin-socket=" + tmp.resolve("absent"), "ls"), "", "");
        assertEquals(1, noSocket.code());
    }
}
