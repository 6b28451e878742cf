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
//   targets              number of targets, n >= 1
//   target.<i>.name      a name for logs (default: the i)
//   target.<i>.where     a SQL condition on the batch's rows (default: every row)
//   target.<i>.select.<j> the j-th SQL expression of the projection, j = 0, 1, ...
//   target.<i>.option.<k> an option of that target's writer only
//   format               the batch writers' format (org.apache.spark.sql.cassandra)
//   option.<k>           an option of every target's writer (keyspace, spark.cassandra.*)
//
// Delivery is what the batch writers give a replayed micro-batch: a batch that failed half-way is
// run again whole, so the targets must be idempotent (Cassandra's upserts by primary key are).
package idxstream.fanout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SQLContext;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.catalyst.util.CaseInsensitiveMap;
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
    record Target(String name, String where, List<String> select, Map<String, String> options) {
    }

    /** The sink's options, checked. */
    record Settings(String format, List<Target> targets) {
    }

    static Settings parse(Map<String, String> p) {
        String format = p.get("format");
        if (format == null || format.isEmpty()) {
            throw new IllegalArgumentException("the fan-out sink needs the option format (the targets' writer, e.g. org.apache.spark.sql.cassandra)");
        }
        int n;
        try {
            n = Integer.parseInt(p.getOrDefault("targets", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the fan-out sink needs the option targets, a number >= 1, not \"" + p.get("targets") + "\"");
        }
        if (n < 1) {
            throw new IllegalArgumentException("the fan-out sink needs at least one target, not " + n);
        }
        Map<String, String> common = withPrefix(p, "option.");
        List<Target> ts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String pre = "target." + i + ".";
            List<String> select = new ArrayList<>();
            for (int j = 0; p.containsKey(pre + "select." + j); j++) {
                select.add(p.get(pre + "select." + j));
            }
            if (select.isEmpty()) {
                throw new IllegalArgumentException("target " + i + " of the fan-out sink has no " + pre + "select.0");
            }
            Map<String, String> opts = new HashMap<>(common);
            opts.putAll(withPrefix(p, pre + "option."));
            ts.add(new Target(p.getOrDefault(pre + "name", String.valueOf(i)), p.get(pre + "where"), select, opts));
        }
        return new Settings(format, ts);
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

    static final class FanoutSink implements Sink {
        private static final Logger LOG = LoggerFactory.getLogger(FanoutSink.class);
        private final Settings set;

        FanoutSink(Settings set) {
            this.set = set;
        }

        @Override
        public void addBatch(long batchId, Dataset<Row> data) {
            // The micro-batch's plan reads a streaming source, which a batch writer refuses; as
            // Spark's own foreachBatch sink does, run it as the RDD of its already planned
            // execution, then cache that: each target reads the cached rows, not the source.
            Dataset<Row> batch = Dataset.ofRows(data.sparkSession(),
                    LogicalRDD$.MODULE$.fromDataset(data.queryExecution().toRdd(), data, false));
            batch.persist(StorageLevel.MEMORY_AND_DISK());
            try {
                for (Target t : set.targets()) {
                    Dataset<Row> rows = t.where() == null || t.where().isEmpty() ? batch : batch.where(t.where());
                    long start = System.nanoTime();
                    rows.selectExpr(t.select().toArray(new String[0]))
                            .write().format(set.format()).options(t.options()).mode(SaveMode.Append).save();
                    LOG.debug("batch {}: target {} written in {} ms", batchId, t.name(), (System.nanoTime() - start) / 1_000_000);
                }
            } finally {
                batch.unpersist(false);
            }
        }

        @Override
        public String toString() {
            return "FanoutSink" + set.targets().stream().map(Target::name).toList();
        }
    }
}
