package dev.qrexec.dispvm.store;

import dev.qrexec.dispvm.registry.Mutations;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.QubeRegistry;

import java.nio.file.Path;
import java.util.Map;

/**
 * Child JVM for {@link StoreCrashTest}: commits changes as fast as it can, each from several threads,
 * and prints {@code ack <name>} once a change is acknowledged (durable). The parent kills it with
 * SIGKILL at a random moment and checks every acknowledged change survived.
 */
public final class StoreCrashChild {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String prefix = args[1];
        RegistryStore store = RegistryStore.open(dir);
        StoreWriter writer = new StoreWriter(store);
        QubeRegistry registry = new QubeRegistry(store.load(), writer);
        if (registry.snapshot().find("tpl").isEmpty()) {
            registry.update(s -> Mutations.createQube(s, "tpl", QubeClass.TEMPLATE_VM, Map.of())).awaitDurable();
        }
        Thread[] threads = new Thread[3];
        for (int t = 0; t < threads.length; t++) {
            int id = t;
            threads[t] = new Thread(() -> {
                for (int i = 0; ; i++) {
                    String name = prefix + "-" + id + "-" + i;
                    registry.update(s -> Mutations.createQube(s, name, QubeClass.APP_VM,
                            Map.of("template", "tpl", "label", "green"))).awaitDurable();
                    synchronized (System.out) {
                        System.out.println("ack " + name);
                        System.out.flush();
                    }
                }
            });
            threads[t].start();
        }
        System.out.println("ready");
        System.out.flush();
        threads[0].join();
    }
}
