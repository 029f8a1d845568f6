package dev.qrexec.policy.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.qrexec.policy.Policy;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplyCacheTest {

    private static final SocketRequest A = new SocketRequest("work", "vault", "qubes.Filecopy", "", false, false);
    private static final SocketRequest B = new SocketRequest("work", "vault", "qubes.Filecopy", "", false, true);

    @Test
    void remembersPerSnapshotPairByIdentity() {
        ReplyCache<String> cache = new ReplyCache<>(10);
        Object p1 = new Object();
        Object s1 = new Object();
        cache.put(p1, s1, A, "result=deny");
        assertEquals("result=deny", cache.get(p1, s1, A));
        assertNull(cache.get(p1, s1, B), "another mode is another request");
        assertNull(cache.get(new Object(), s1, A), "a new policy snapshot starts empty");
        assertNull(cache.get(p1, s1, A), "and the old snapshot's replies are gone");
        cache.put(p1, s1, A, "result=deny");
        assertNull(cache.get(p1, new Object(), A), "a new system info snapshot starts empty");
    }

    @Test
    void staysBounded() {
        ReplyCache<String> cache = new ReplyCache<>(3);
        Object p = new Object();
        Object s = new Object();
        for (int i = 0; i < 100; i++) {
            cache.put(p, s, new SocketRequest("q" + i, "t", "s", "", false, false), "result=deny");
        }
        assertEquals(true, cache.size() <= 3, "size " + cache.size());
        assertEquals("maxEntries must be positive, was 0",
                assertThrows(IllegalArgumentException.class, () -> new ReplyCache<String>(0)).getMessage());
    }

    @Test
    void responderAnswersFromTheSwappedInPolicyNotFromTheCache(@TempDir Path tmp) throws Exception {
        SystemInfo system = SystemInfo.fromJson(Fixtures.SYSTEM_JSON);
        Policy allow = load(tmp.resolve("a"), "qubes.Filecopy * work vault allow\n");
        Policy deny = load(tmp.resolve("b"), "qubes.Filecopy * work vault deny\n");
        AtomicReference<Policy> policy = new AtomicReference<>(allow);
        EngineResponder responder = new EngineResponder(policy::get, () -> system);
        SocketRequest justEvaluate = B;
        assertEquals("result=allow", responder.reply(justEvaluate));
        assertEquals("result=allow", responder.reply(justEvaluate));
        policy.set(deny);
        assertEquals("result=deny", responder.reply(justEvaluate));
        policy.set(allow);
        assertEquals("result=allow", responder.reply(justEvaluate));
        assertEquals("cacheEntries must not be negative, was -1", assertThrows(IllegalArgumentException.class,
                () -> new EngineResponder(policy::get, () -> system, -1)).getMessage());
    }

    private static Policy load(Path dir, String text) throws Exception {
        Fixtures.write(dir.resolve("30-user.policy"), text);
        return PolicyLoader.load(new PolicyLocation(List.of(dir), dir.resolve("legacy")));
    }
}
