// SecretInterceptor makes the Spark Connect server refuse every call that does not carry the
// stack's shared secret. Spark 3.5 has no authentication of its own and binds every interface, so
// without it anyone who reaches the port runs code as the server's user.
//
// The server loads it through spark.connect.grpc.interceptor.classes (a no-argument constructor)
// and reads the secret from the environment variable SPARK_CONNECT_SECRET of its own process.
// Clients send it in the gRPC metadata header "x-idxstream-secret" (a header of our own, not
// PySpark's `token`, which also switches PySpark to TLS: a 3.5 server has none). A call without
// the header, or with another value, is closed with UNAUTHENTICATED before any handler runs, and
// logged with its method and peer address, never with the value it sent. A server started without
// a secret refuses every call (fail closed).
//
// gRPC is shaded inside spark-connect_2.12: the types are org.sparkproject.connect.grpc.*.
package idxstream.sparkauth;

import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkproject.connect.grpc.Grpc;
import org.sparkproject.connect.grpc.Metadata;
import org.sparkproject.connect.grpc.ServerCall;
import org.sparkproject.connect.grpc.ServerCallHandler;
import org.sparkproject.connect.grpc.ServerInterceptor;
import org.sparkproject.connect.grpc.Status;

public final class SecretInterceptor implements ServerInterceptor {
    /** The metadata header that carries the secret. */
    public static final String HEADER = "x-idxstream-secret";
    /** The environment variable the server reads the secret from. */
    public static final String ENV = "SPARK_CONNECT_SECRET";

    private static final Logger LOG = LoggerFactory.getLogger(SecretInterceptor.class);
    private static final Metadata.Key<String> KEY = Metadata.Key.of(HEADER, Metadata.ASCII_STRING_MARSHALLER);

    private final byte[] secret;

    public SecretInterceptor() {
        this(System.getenv(ENV));
    }

    SecretInterceptor(String secret) {
        if (secret == null || secret.isEmpty()) {
            LOG.error("{} is not set: every Spark Connect call will be refused", ENV);
            this.secret = null;
        } else {
            this.secret = secret.getBytes(StandardCharsets.UTF_8);
            LOG.info("Spark Connect calls need the secret in header {}", HEADER);
        }
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String sent = headers.get(KEY);
        if (secret != null && sent != null
                && MessageDigest.isEqual(secret, sent.getBytes(StandardCharsets.UTF_8))) {
            return next.startCall(call, headers);
        }
        SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        String why = secret == null ? "the server has no secret configured (" + ENV + ")"
                : sent == null ? "no " + HEADER + " header" : "wrong " + HEADER + " header";
        LOG.warn("refused Spark Connect call {} from {}: {}", call.getMethodDescriptor().getFullMethodName(), peer, why);
        call.close(Status.UNAUTHENTICATED.withDescription(
                "Spark Connect needs the stack's secret in the " + HEADER + " header (" + why + ")"), new Metadata());
        return new ServerCall.Listener<Q>() {};
    }
}
