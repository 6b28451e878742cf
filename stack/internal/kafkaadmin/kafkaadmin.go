// Package kafkaadmin is stackctl's one door to Kafka: topic creation and a readiness wait, both
// through franz-go's kadm, and a probe of one broker of a cluster (ProbeBroker).
package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/plugin/kslog"
)

// Admin wraps a kadm client. Close it when done.
type Admin struct {
	cl  *kgo.Client
	adm *kadm.Client
}

// New creates a client for brokers; it does not connect yet.
func New(brokers []string, logger *slog.Logger) (*Admin, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.WithLogger(kslog.New(logger.With("component", "franz-go"))),
		kgo.RequestTimeoutOverhead(5*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &Admin{cl: cl, adm: kadm.NewClient(cl)}, nil
}

// Close closes the client.
func (a *Admin) Close() { a.cl.Close() }

// Wait asks for the cluster's metadata until the brokers answer (a real Kafka request, not just
// an open port) or ctx ends. It returns the number of brokers.
func (a *Admin) Wait(ctx context.Context) (int, error) {
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		b, err := a.adm.ListBrokers(attempt)
		cancel()
		if err == nil && len(b) > 0 {
			return len(b), nil
		}
		if err == nil {
			err = errors.New("metadata lists no brokers")
		}
		last = err
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for kafka: %w", errors.Join(ctx.Err(), last))
		case <-time.After(time.Second):
		}
	}
}

// TopicState says what EnsureTopic found or did.
type TopicState string

// Topic states.
const (
	TopicCreated TopicState = "created"
	TopicExisted TopicState = "existed"
)

// EnsureTopic creates topic with partitions, replication factor rf and the topic configs; an
// existing topic keeps its partitions (reported) and gets the configs that differ set (returned
// as changed), so a changed retention policy reaches a running cluster. A config whose value is
// nil has no topic-level value: a new topic is created without it, and an existing topic that
// has one set on it (a dynamic topic config) has it removed, so that it follows the broker's
// setting again (kafka-configs --delete-config).
func (a *Admin) EnsureTopic(ctx context.Context, topic string, partitions int32, rf int16, configs map[string]*string) (TopicState, int, []string, error) {
	set := make(map[string]*string, len(configs))
	for k, v := range configs {
		if v != nil {
			set[k] = v
		}
	}
	_, err := a.adm.CreateTopic(ctx, partitions, rf, set, topic)
	switch {
	case err == nil:
		return TopicCreated, int(partitions), nil, nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		td, err := a.adm.ListTopics(ctx, topic)
		if err != nil {
			return TopicExisted, 0, nil, fmt.Errorf("describe topic %s: %w", topic, err)
		}
		d, ok := td[topic]
		if !ok || d.Err != nil {
			return TopicExisted, 0, nil, fmt.Errorf("describe topic %s: %v", topic, d.Err)
		}
		changed, err := a.alignConfigs(ctx, topic, configs)
		return TopicExisted, len(d.Partitions), changed, err
	default:
		return "", 0, nil, fmt.Errorf("create topic %s: %w", topic, err)
	}
}

// BrokerDefault is the value shown in EnsureTopic's changes for a config that follows the
// broker's setting once its topic-level value is removed.
const BrokerDefault = "(broker default)"

// alignConfigs sets the configs of topic whose current value differs, removes the topic-level
// value of those wanted nil, and returns the changes as "key: old -> new".
func (a *Admin) alignConfigs(ctx context.Context, topic string, want map[string]*string) ([]string, error) {
	if len(want) == 0 {
		return nil, nil
	}
	rc, err := a.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("describe configs of topic %s: %w", topic, err)
	}
	r, err := rc.On(topic, nil)
	if err != nil || r.Err != nil {
		return nil, fmt.Errorf("describe configs of topic %s: %w", topic, errors.Join(err, r.Err))
	}
	alter, changed := configChanges(r.Configs, want)
	if len(alter) == 0 {
		return nil, nil
	}
	resp, err := a.adm.AlterTopicConfigs(ctx, alter, topic)
	if err == nil {
		var r kadm.AlterConfigsResponse
		if r, err = resp.On(topic, nil); err == nil {
			err = r.Err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("set configs %v of topic %s: %w", changed, topic, err)
	}
	return changed, nil
}

// configChanges compares a topic's described configs with want: a value that differs is set, a
// nil wanted where the topic has a value of its own (source DYNAMIC_TOPIC_CONFIG) is deleted.
func configChanges(have []kadm.Config, want map[string]*string) ([]kadm.AlterConfig, []string) {
	byKey := make(map[string]kadm.Config, len(have))
	for _, c := range have {
		byKey[c.Key] = c
	}
	var alter []kadm.AlterConfig
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		cur := byKey[k]
		switch v := want[k]; {
		case v == nil:
			if cur.Source == kmsg.ConfigSourceDynamicTopicConfig {
				alter = append(alter, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
				changed = append(changed, fmt.Sprintf("%s: %s -> %s", k, cur.MaybeValue(), BrokerDefault))
			}
		case cur.MaybeValue() != *v:
			alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: v})
			changed = append(changed, fmt.Sprintf("%s: %s -> %s", k, cur.MaybeValue(), *v))
		}
	}
	return alter, changed
}

// ProbeBroker asks the one broker at addr (host:port) for the cluster's metadata: the client is
// seeded with that address only and the request goes to that seed connection, so the answer is
// that broker's own, whatever the others do. It returns the broker's node id as the metadata
// lists it at addr (-1 when no broker advertises addr) and how many brokers the metadata lists.
// One attempt, under ctx.
func ProbeBroker(ctx context.Context, addr string, logger *slog.Logger) (node int32, brokers int, err error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.WithLogger(kslog.New(logger.With("component", "franz-go"))),
		kgo.RequestTimeoutOverhead(5*time.Second),
	)
	if err != nil {
		return -1, 0, fmt.Errorf("kafka client for %s: %w", addr, err)
	}
	defer cl.Close()
	seeds := cl.SeedBrokers()
	if len(seeds) != 1 {
		return -1, 0, fmt.Errorf("kafka client for %s: %d seed brokers, want 1", addr, len(seeds))
	}
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{} // empty, not null: no topics, only the brokers
	resp, err := seeds[0].Request(ctx, req)
	if err != nil {
		return -1, 0, fmt.Errorf("metadata from broker %s: %w", addr, err)
	}
	md, ok := resp.(*kmsg.MetadataResponse)
	if !ok {
		return -1, 0, fmt.Errorf("metadata from broker %s: unexpected response %T", addr, resp)
	}
	return advertisedAt(md.Brokers, addr), len(md.Brokers), nil
}

// advertisedAt is the node id of the broker listed at addr (host:port; the host compared without
// case), or -1.
func advertisedAt(brokers []kmsg.MetadataResponseBroker, addr string) int32 {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return -1
	}
	for _, b := range brokers {
		if strings.EqualFold(b.Host, host) && strconv.Itoa(int(b.Port)) == port {
			return b.NodeID
		}
	}
	return -1
}

// Client is the kadm client, for packages that read the cluster through it (storage).
func (a *Admin) Client() *kadm.Client { return a.adm }

// Topics lists the topics of the cluster (internal ones left out), sorted.
func (a *Admin) Topics(ctx context.Context) ([]string, error) {
	td, err := a.adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	td.FilterInternal()
	return td.Names(), nil
}

// DeleteTopics deletes the topics named; it returns the first error a broker reported.
func (a *Admin) DeleteTopics(ctx context.Context, topics ...string) error {
	if len(topics) == 0 {
		return nil
	}
	resp, err := a.adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("delete topics %v: %w", topics, err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("delete topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// Offsets returns the start and end offset of every partition of topic.
func (a *Admin) Offsets(ctx context.Context, topic string) (start, end map[int32]int64, err error) {
	s, err := a.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	e, err := a.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	start, end = map[int32]int64{}, map[int32]int64{}
	s.Each(func(o kadm.ListedOffset) { start[o.Partition] = o.Offset })
	e.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	return start, end, nil
}
