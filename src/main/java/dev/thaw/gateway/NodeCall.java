package dev.thaw.gateway;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One invoke sent from the gateway to one node, with its failures told apart by whether the node
 * can have taken the call. A call must never run twice, so only a call the node cannot have
 * taken may be sent again.
 *
 * <p>The hard case is a pooled keep-alive connection that the node closes (it stops, or drops an
 * idle connection) just as the gateway reuses it: the gateway writes its request into a socket
 * nobody reads and sees end-of-stream, exactly as when a node dies mid-call. To tell the two
 * apart the request asks {@code Expect: 100-continue} and its body is sent only once the node
 * has answered 100, which a node does when its handler starts to read the body, before anything
 * runs; a publisher that notes when the client first asks for the body marks that moment. A
 * connection that failed before then carried headers only: the node cannot have run the call,
 * so it is tried again on another connection (a closed one is dropped from the client's pool, so
 * the next try opens a fresh one, which a node that is gone refuses outright). After the body was
 * asked for, a failure may follow a run, and is {@link Outcome.Failed}. The node reads an empty
 * body as {@code {}}, so an empty body is sent as {@code {}}: a body the node must read is what
 * makes the signal hold. The cost is one round trip on the connection per call.
 */
final class NodeCall {
    /** Tries on connections that closed before the node took the call; a pool holds a few stale ones at most. */
    static final int STALE_TRIES = 4;
    private static final byte[] EMPTY_EVENT = "{}".getBytes(StandardCharsets.UTF_8);

    private NodeCall() {
    }

    /** What became of one call. */
    sealed interface Outcome {
        /** The node answered (any status). */
        record Answered(HttpResponse<byte[]> response) implements Outcome {
        }

        /** The node did not take the call: safe to send it elsewhere. */
        record NotTaken(String reason) implements Outcome {
        }

        /** The node took the call and the connection failed after: it may have run. */
        record Failed(IOException error) implements Outcome {
        }
    }

    /**
     * Sends {@code body} as a POST built from {@code request} (its URI, headers and timeout).
     *
     * @throws InterruptedException when the caller's thread is interrupted
     */
    static Outcome send(HttpClient http, HttpRequest.Builder request, byte[] body) throws InterruptedException {
        byte[] sent = body.length == 0 ? EMPTY_EVENT : body;
        IOException last = null;
        for (int i = 0; i < STALE_TRIES; i++) {
            Tracked publisher = new Tracked(sent);
            HttpRequest r = request.copy().expectContinue(true).POST(publisher).build();
            try {
                return new Outcome.Answered(http.send(r, HttpResponse.BodyHandlers.ofByteArray()));
            } catch (ConnectException | HttpConnectTimeoutException e) {
                return new Outcome.NotTaken("unreachable");
            } catch (HttpTimeoutException e) {
                return new Outcome.Failed(e); // no answer in time: whether it started is unknown
            } catch (IOException e) {
                if (publisher.asked.get()) return new Outcome.Failed(e);
                last = e; // closed before the node asked for the body: it has not run
            }
        }
        return new Outcome.NotTaken("closed its connection " + STALE_TRIES + " times before taking the call ("
                + last.getMessage() + ")");
    }

    /** A byte-array body that records whether the client has asked for any of it. */
    private static final class Tracked implements HttpRequest.BodyPublisher {
        final AtomicBoolean asked = new AtomicBoolean();
        private final HttpRequest.BodyPublisher bytes;

        Tracked(byte[] body) {
            this.bytes = HttpRequest.BodyPublishers.ofByteArray(body);
        }

        @Override
        public long contentLength() {
            return bytes.contentLength();
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
            bytes.subscribe(new Flow.Subscriber<ByteBuffer>() {
                @Override
                public void onSubscribe(Flow.Subscription sub) {
                    s.onSubscribe(new Flow.Subscription() {
                        @Override
                        public void request(long n) {
                            asked.set(true);
                            sub.request(n);
                        }

                        @Override
                        public void cancel() {
                            sub.cancel();
                        }
                    });
                }

                @Override
                public void onNext(ByteBuffer item) {
                    s.onNext(item);
                }

                @Override
                public void onError(Throwable t) {
                    s.onError(t);
                }

                @Override
                public void onComplete() {
                    s.onComplete();
                }
            });
        }
    }
}
