package dev.qrexec.broker.agent;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Command lines (spec 7.1) and per-service configs (spec 7.2). */
class CommandParsingTest {

    @Test
    void userAndNoguiPrefixes() {
        CommandLine c = CommandLine.parse("user:nogui:QUBESRPC qubes.OpenURL+ work");
        assertEquals("user", c.user());
        assertTrue(c.noGui());
        assertEquals("QUBESRPC qubes.OpenURL+ work", c.command());
        CommandLine shell = CommandLine.parse("root:echo a:b");
        assertEquals("echo a:b", shell.command());
        assertNull(shell.rpcOrNull());
        for (String bad : new String[] {"nocolon", ":cmd", "user:", "us er:cmd", "user:nogui:"}) {
            assertThrows(IllegalArgumentException.class, () -> CommandLine.parse(bad), bad);
        }
    }

    @Test
    void rpcInvocationForms() {
        RpcInvocation vm = RpcInvocation.parse("QUBESRPC test.Echo+a1 vm46");
        assertEquals("test.Echo", vm.service());
        assertEquals(Optional.of("a1"), vm.argument());
        assertEquals("vm46", vm.source());
        assertEquals("", vm.targetType());
        RpcInvocation dom0 = RpcInvocation.parse("QUBESRPC qubes.OpenURL+ vm42 keyword adminvm");
        assertEquals(Optional.of(""), dom0.argument(), "a trailing + means an empty argument");
        assertEquals("keyword", dom0.targetType());
        assertEquals("adminvm", dom0.requestedTarget());
        assertEquals(Optional.empty(), RpcInvocation.parse("QUBESRPC svc src").argument());
        for (String bad : new String[] {"QUBESRPC svc", "QUBESRPC svc src extra", "QUBESRPC +arg src",
                "QUBESRPC s/v src", "QUBESRPC svc  src", "QUBESRPC svc src other tgt", "QUBESRPC  src"}) {
            assertThrows(IllegalArgumentException.class, () -> RpcInvocation.parse(bad), bad);
        }
    }

    @Test
    void serviceConfigSubset() throws IOException {
        ServiceConfig c = ServiceConfig.parse("# comment\nwait-for-session = 1\nskip-service-descriptor=true\n"
                + "force-user = \"alice\"  # trailing\n", "t");
        assertTrue(c.waitForSession());
        assertTrue(c.skipServiceDescriptor());
        assertFalse(c.exitOnClientEof());
        assertEquals(Optional.of("alice"), c.forceUser());
        for (String bad : new String[] {"wait-for-session = yes", "unknown = 1", "novalue", "force-user = alice",
                "force-user = \"a\\\"b\""}) {
            assertThrows(IOException.class, () -> ServiceConfig.parse(bad, "t"), bad);
        }
    }

    @Test
    void serviceEnvironmentOnlyHasTheCallsVariables() {
        var env = ServiceEnvironment.of(RpcInvocation.parse("QUBESRPC svc vm1 name work"), 42);
        assertEquals("work", env.get("QREXEC_REQUESTED_TARGET"));
        assertFalse(env.containsKey("QREXEC_SERVICE_ARGUMENT"));
        assertFalse(env.containsKey("QREXEC_REQUESTED_TARGET_KEYWORD"));
        assertEquals("42", env.get("QREXEC_AGENT_PID"));
    }
}
