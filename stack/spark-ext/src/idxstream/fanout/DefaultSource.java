// The fan-out sink: one streaming query whose every micro-batch is written to several tables,
// each a filter and a projection of the batch, through ordinary batch writers (the Cassandra
// connector's, say). It is what foreachBatch gives a PySpark or Scala client, for a client that
// cannot send a function (the project's Go job): the plan, the filters and the projections all
// come from the client as options, so that this class knows nothing about trades.
//
// Why: with one streaming query per table, each table's query read its Kafka range and parsed it
// again. Here the batch is computed once, kept in memory while its targets are written, and
// dropped.
//
// Options (strings, as a DataStreamWriter gives them):
//
//   targets                number of targets, n >= 1
//   target.<i>.name        a name for logs and errors (default: the i)
//   target.<i>.format      the target's batch writer (org.apache.spark.sql.cassandra, jdbc)
//   target.<i>.where       a SQL condition on the batch's rows (default: every row)
//   target.<i>.select.<j>  the j-th SQL expression of the projection, j = 0, 1, ...
//   target.<i>.option.<k>  an option of that target's writer (keyspace, table, url...)
//
// The targets of a batch are written side by side (Spark runs jobs of several threads at once), so
// that one target's round trips overlap another's work; the batch ends when every target is
// written, and fails, to be run again whole, when any of them failed. Delivery is therefore at
// least once per target: each target must be idempotent (Cassandra's upserts by primary key are)
// or read with its duplicates in mind.
package idxstream.fanout;

import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SQLContext;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.catalyst.util.CaseInsensitiveMap;
import org.apache.spark.sql.connector.read.streaming.ReportsSinkMetrics;
import org.apache.spark.sql.execution.LogicalRDD$;
import org.apache.spark.sql.execution.streaming.Sink;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.sources.StreamSinkProvider;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import scala.collection.JavaConverters;
import scala.collection.Seq;

public final class DefaultSource implements StreamSinkProvider, DataSourceRegister {
    @Override
    public String shortName() {
        return "idxstream-fanout";
    }

    @Override
    @SuppressWarnings("unchecked")
    public Sink createSink(SQLContext ctx, scala.collection.immutable.Map<String, String> parameters,
            Seq<String> partitionColumns, OutputMode mode) {
        if (!mode.equals(OutputMode.Append())) {
            throw new IllegalArgumentException("the fan-out sink supports the append output mode only, not " + mode);
        }
        // Spark hands the options over as a CaseInsensitiveMap, whose keys read lower-cased; the
        // connector's option names are not (keepAliveMS).
        scala.collection.Map<String, String> given = parameters instanceof CaseInsensitiveMap<?> ci
                ? ((CaseInsensitiveMap<String>) ci).originalMap() : parameters;
        return new FanoutSink(parse(JavaConverters.mapAsJavaMap(given)));
    }

    /** One table the batch is written to. */
    record Target(String name, String format, String where, List<String> select, Map<String, String> options) {
    }

    static List<Target> parse(Map<String, String> p) {
        int n;
        try {
            n = Integer.parseInt(p.getOrDefault("targets", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the fan-out sink needs the option targets, a number >= 1, not \"" + p.get("targets") + "\"");
        }
        if (n < 1) {
            throw new IllegalArgumentException("the fan-out sink needs at least one target, not " + n);
        }
        List<Target> ts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String pre = "target." + i + ".";
            String name = p.getOrDefault(pre + "name", String.valueOf(i));
            String format = p.get(pre + "format");
            if (format == null || format.isEmpty()) {
                throw new IllegalArgumentException("target " + name + " of the fan-out sink has no " + pre + "format");
            }
            List<String> select = new ArrayList<>();
            for (int j = 0; p.containsKey(pre + "select." + j); j++) {
                select.add(p.get(pre + "select." + j));
            }
            if (select.isEmpty()) {
                throw new IllegalArgumentException("target " + name + " of the fan-out sink has no " + pre + "select.0");
            }
            ts.add(new Target(name, format, p.get(pre + "where"), select, withPrefix(p, pre + "option.")));
        }
        return ts;
    }

    private static Map<String, String> withPrefix(Map<String, String> p, String prefix) {
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, String> e : p.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                out.put(e.getKey().substring(prefix.length()), e.getValue());
            }
        }
        return out;
    }

    static final class FanoutSink implements Sink, ReportsSinkMetrics {
        private static final Logger LOG = LoggerFactory.getLogger(FanoutSink.class);
        private final List<Target> targets;
        /** rows.<target name> -> the rows the last batch wrote there (the progress's sink metrics). */
        private volatile Map<String, String> written = Map.of();

        FanoutSink(List<Target> targets) {
            this.targets = targets;
        }

        @Override
        public void addBatch(long batchId, Dataset<Row> data) {
            // The micro-batch's plan reads a streaming source, which a batch writer refuses; as
            // Spark's own foreachBatch sink does, run it as the RDD of its already planned
            // execution, then cache that: each target reads the cached rows, not the source.
            Dataset<Row> batch = Dataset.ofRows(data.sparkSession(),
                    LogicalRDD$.MODULE$.fromDataset(data.queryExecution().toRdd(), data, false));
            batch.persist(StorageLevel.MEMORY_AND_DISK());
            // Threads of this batch's own, one per target and one for the count: Spark's local
            // properties (the query's job group, the batch's SQL execution) are inherited when a
            // thread is created, so threads kept from an earlier batch would carry its properties.
            ExecutorService pool = Executors.newFixedThreadPool(targets.size() + 1, r -> {
                Thread t = new Thread(r, "fanout-batch-" + batchId);
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<?>> writes = new ArrayList<>();
                for (Target t : targets) {
                    writes.add(pool.submit(() -> write(batchId, batch, t)));
                }
                // Spark reports no output rows for a sink of this kind: count them, from the cache.
                Future<Map<String, String>> counted = pool.submit(() -> count(batch));
                RuntimeException failed = null;
                for (int i = 0; i < writes.size(); i++) {
                    try {
                        writes.get(i).get();
                    } catch (ExecutionException e) {
                        RuntimeException err = new RuntimeException("fan-out batch " + batchId + ": writing target "
                                + targets.get(i).name() + " failed: " + e.getCause().getMessage(), e.getCause());
                        if (failed == null) {
                            failed = err;
                        } else {
                            failed.addSuppressed(err);
                        }
                    }
                }
                if (failed != null) {
                    throw failed;
                }
                try {
                    written = counted.get();
                } catch (ExecutionException e) {
                    LOG.warn("batch {}: counting the rows written failed: {}", batchId, e.getCause().toString());
                    written = Map.of();
                }
            } catch (InterruptedException e) {
                // The query is being stopped. Spark tells a stop from a failure by the exception's
                // type: an InterruptedIOException inside an UncheckedIOException is one it knows.
                Thread.currentThread().interrupt();
                InterruptedIOException stop = new InterruptedIOException("fan-out batch " + batchId + " interrupted by the query's stop");
                stop.initCause(e);
                throw new UncheckedIOException(stop);
            } finally {
                pool.shutdownNow();
                batch.unpersist(false);
            }
        }

        private static void write(long batchId, Dataset<Row> batch, Target t) {
            Dataset<Row> rows = t.where() == null || t.where().isEmpty() ? batch : batch.where(t.where());
            long start = System.nanoTime();
            rows.selectExpr(t.select().toArray(new String[0]))
                    .write().format(t.format()).options(t.options()).mode(SaveMode.Append).save();
            LOG.debug("batch {}: target {} written in {} ms", batchId, t.name(), (System.nanoTime() - start) / 1_000_000);
        }

        private Map<String, String> count(Dataset<Row> batch) {
            String[] exprs = new String[targets.size()];
            for (int i = 0; i < exprs.length; i++) {
                String w = targets.get(i).where();
                exprs[i] = w == null || w.isEmpty() ? "count(1)" : "count_if(" + w + ")";
            }
            Row r = batch.selectExpr(exprs).first();
            Map<String, String> out = new HashMap<>();
            for (int i = 0; i < exprs.length; i++) {
                out.put("rows." + targets.get(i).name(), Long.toString(r.getLong(i)));
            }
            return Map.copyOf(out);
        }

        @Override
        public Map<String, String> metrics() {
            return written;
        }

        @Override
        public String toString() {
            return "FanoutSink" + targets.stream().map(Target::name).toList();
        }
    }
}
