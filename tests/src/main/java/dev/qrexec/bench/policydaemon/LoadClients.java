package dev.qrexec.bench.policydaemon;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives a policy.sock server the way qrexec-daemon does: one connection per request (connect,
 * send the request ending with an empty line, read the reply to EOF, close), from N threads.
 *
 * <p>Bounded: stops at {@code maxRequests} in total or after {@code duration}, whichever is first.
 * Every reply is checked against the expected reply of its request; a mismatch is counted as an error.
 */
final class LoadClients {

    /** One request and the exact reply it must get. */
    record Exchange(String request, String expectedReply) {
    }

    /** What a run measured. */
    record Result(long requests, long errors, Duration elapsed, LatencyHistogram latencies, String firstError) {
        double perSecond() {
            return requests / (elapsed.toNanos() / 1e9);
        }
    }

    private LoadClients() {
    }

    static Result run(Path socket, List<Exchange> mix, int clients, long maxRequests, Duration duration)
            throws InterruptedException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        byte[][] requests = mix.stream().map(e -> e.request().getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);
        byte[][] expected = mix.stream().map(e -> e.expectedReply().getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);
        AtomicLong budget = new AtomicLong(maxRequests);
        AtomicLong errors = new AtomicLong();
        List<LatencyHistogram> histograms = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        String[] firstError = new String[1];
        CountDownLatch start = new CountDownLatch(1);
        long deadline = System.nanoTime() + duration.toNanos();
        for (int c = 0; c < clients; c++) {
            LatencyHistogram histogram = new LatencyHistogram();
            histograms.add(histogram);
            int offset = c;
            Thread t = new Thread(() -> {
                ByteBuffer in = ByteBuffer.allocate(4096);
                long i = offset;
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                while (budget.getAndDecrement() > 0 && System.nanoTime() < deadline) {
                    int k = (int) (i++ % requests.length);
                    long t0 = System.nanoTime();
                    try {
                        int n = exchange(address, requests[k], in);
                        histogram.record(System.nanoTime() - t0);
                        if (!matches(in, n, expected[k])) {
                            errors.incrementAndGet();
                            synchronized (firstError) {
                                if (firstError[0] == null) {
                                    firstError[0] = "unexpected reply to request " + k + ": '"
                                            + new String(in.array(), 0, n, StandardCharsets.US_ASCII) + "'";
                                }
                            }
                        }
                    } catch (IOException e) {
                        errors.incrementAndGet();
                        synchronized (firstError) {
                            if (firstError[0] == null) {
                                firstError[0] = e.toString();
                            }
                        }
                    }
                }
            }, "policy-load-" + c);
            threads.add(t);
            t.start();
        }
        long t0 = System.nanoTime();
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
        LatencyHistogram all = new LatencyHistogram();
        histograms.forEach(all::add);
        return new Result(all.count(), errors.get(), elapsed, all, firstError[0]);
    }

    private static int exchange(UnixDomainSocketAddress address, byte[] request, ByteBuffer in) throws IOException {
        in.clear();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(address);
            ByteBuffer out = ByteBuffer.wrap(request);
            while (out.hasRemaining()) {
                ch.write(out);
            }
            while (ch.read(in) >= 0) {
                if (!in.hasRemaining()) {
                    throw new IOException("reply longer than " + in.capacity() + " bytes");
                }
            }
            return in.position();
        }
    }

    private static boolean matches(ByteBuffer in, int n, byte[] expected) {
        if (n != expected.length) {
            return false;
        }
        byte[] got = in.array();
        for (int i = 0; i < n; i++) {
            if (got[i] != expected[i]) {
                return false;
            }
        }
        return true;
    }
}
