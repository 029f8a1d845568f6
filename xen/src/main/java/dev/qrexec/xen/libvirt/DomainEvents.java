package dev.qrexec.xen.libvirt;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.libvirt.binding.DomainHandle;
import dev.qrexec.xen.libvirt.binding.LibvirtConnection;
import dev.qrexec.xen.libvirt.binding.LibvirtLibrary;

import java.util.function.BooleanSupplier;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Receives libvirt's domain life-cycle events and turns them into state re-reads.
 *
 * <p>libvirt delivers events asynchronously: the STARTED of our own start may arrive after our
 * pause already succeeded. So an event is never applied as such; an event that says what we
 * already know is dropped, any other queues, in the qube's serial order, a {@link #reconcile}
 * that reads the domain's real state and fixes ours if it differs. Our own operations publish
 * their transitions when they succeed; the events catch what happens outside the backend (a
 * crash, a guest powering off, {@code virsh destroy/suspend/start}).
 *
 * <p>{@link #invoke} runs on the libvirt event loop thread and does no blocking call.
 */
final class DomainEvents implements LibvirtLibrary.LifecycleCallback {

    private static final System.Logger LOG = System.getLogger(DomainEvents.class.getName());
    private static final long MIB = 1024L * 1024;

    private final LibvirtLibrary lib;
    private final LibvirtConnection conn;
    private final QubeRegistry registry;
    private final QubeTransitions transitions;
    private final BooleanSupplier closed;

    DomainEvents(LibvirtLibrary lib, LibvirtConnection conn, QubeRegistry registry, QubeTransitions transitions,
                 BooleanSupplier closed) {
        this.lib = lib;
        this.conn = conn;
        this.registry = registry;
        this.transitions = transitions;
        this.closed = closed;
    }

    /** On the libvirt event loop thread: only looks the qube up and queues a re-read of its state. */
    @Override
    public int invoke(Pointer connPtr, Pointer dom, int event, int detail, Pointer opaque) {
        try {
            String name = lib.virDomainGetName(dom);
            ManagedQube q = name == null ? null : registry.get(name);
            if (q == null) {
                return 0;  // not ours, or its define has not finished
            }
            byte[] uuid = new byte[37];
            if (lib.virDomainGetUUIDString(dom, uuid) < 0
                    || !q.uuid.equals(Native.toString(uuid, "US-ASCII"))) {
                return 0;  // a namesake, not our domain
            }
            LOG.log(DEBUG, "libvirt event for {0}: {1}", name, LibvirtStates.describeEvent(event, detail));
            if (LibvirtStates.impliedByEvent(event) == q.state()) {
                return 0;  // we know already (our own operation, usually): any later change has its own event
            }
            if (!closed.getAsBoolean() && q.reconcileQueued.compareAndSet(false, true)) {
                q.submit("reconcile", () -> {
                    q.reconcileQueued.set(false);  // events from now on need another re-read
                    return reconcile(q);
                }).exceptionally(t -> {
                    q.reconcileQueued.set(false);
                    // After close, queued work is refused on purpose: a new backend re-reads every state.
                    LOG.log(closed.getAsBoolean() ? DEBUG : WARNING, "qube " + name + ": could not re-read its "
                            + "state after libvirt event " + LibvirtStates.describeEvent(event, detail), t);
                    return null;
                });
            }
        } catch (RuntimeException e) {
            LOG.log(WARNING, "libvirt event handling failed", e);
        }
        return 0;
    }

    /** On the qube's queue: brings our state in line with what libvirt says now. */
    private Void reconcile(ManagedQube q) {
        if (!registry.current(q)) {
            return null;
        }
        QubeState ours = q.state();
        try (DomainHandle d = conn.lookupByUuid(q.uuid)) {
            if (d == null) {
                if (ours != QubeState.HALTED) {
                    transitions.died(q, "its libvirt domain was removed outside this backend");
                }
                LOG.log(WARNING, "qube {0}: its libvirt domain was undefined outside this backend; forgetting it",
                        q.name());
                registry.remove(q);
                return null;
            }
            int[] actual = d.state();
            if (LibvirtStates.isOff(actual[0])) {
                if (ours == QubeState.STOPPING) {
                    transitions.finishHalt(q, "shutdown");
                } else if (ours == QubeState.RUNNING || ours == QubeState.PAUSED) {
                    if (actual[0] == DomainHandle.STATE_CRASHED) {
                        d.destroy();  // on_crash=preserve would leave it holding memory
                    }
                    transitions.died(q, LibvirtStates.stopReason(actual[0], actual[1]));
                }
            } else if (ours == QubeState.HALTED) {
                // Started outside this backend (virsh start): report it; our storage was not prepared.
                LOG.log(WARNING, "qube {0} was started outside this backend", q.name());
                q.targetBytes(q.spec.memoryMiB() * MIB);
                q.currentBytes(d.info().memory.longValue() * 1024);
                transitions.transition(q, QubeState.RUNNING, LifecycleEvent.Kind.STARTED, "");
                if (actual[0] == DomainHandle.STATE_PAUSED) {
                    transitions.transition(q, QubeState.PAUSED, LifecycleEvent.Kind.PAUSED, "");
                }
            } else if (actual[0] == DomainHandle.STATE_PAUSED && ours == QubeState.RUNNING) {
                transitions.transition(q, QubeState.PAUSED, LifecycleEvent.Kind.PAUSED, "");
            } else if (LibvirtStates.isRunning(actual[0]) && ours == QubeState.PAUSED) {
                transitions.transition(q, QubeState.RUNNING, LifecycleEvent.Kind.UNPAUSED, "");
            }
        }
        return null;
    }
}
