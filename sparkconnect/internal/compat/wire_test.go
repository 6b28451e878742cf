package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"idxstream/sparkconnect/connectpb"
)

const (
	ours   = "idxstream.sparkconnect.v1"
	theirs = "spark.connect" // spark-connect-go's copy of Spark's protocol (its branch-4.0)
)

// rel is a descriptor's name relative to its package (google.protobuf types stay whole).
func rel(n protoreflect.FullName) string {
	s := string(n)
	for _, p := range []string{ours + ".", theirs + "."} {
		if strings.HasPrefix(s, p) {
			return s[len(p):]
		}
	}
	return s
}

func typeName(f protoreflect.FieldDescriptor) string {
	switch {
	case f.Message() != nil:
		return rel(f.Message().FullName())
	case f.Enum() != nil:
		return rel(f.Enum().FullName())
	}
	return f.Kind().String()
}

func oneofName(f protoreflect.FieldDescriptor) string {
	if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
		return string(o.Name())
	}
	return ""
}

// TestSubsetOfSparkProtocol compares every message, field, enum value and RPC of connectpb
// with the same name in spark-connect-go's spark.connect: same number, name, type, label,
// presence and oneof. Equal descriptors mean equal bytes on the wire.
func TestSubsetOfSparkProtocol(t *testing.T) {
	var checkMsg func(m protoreflect.MessageDescriptor)
	messages, fields, values, rpcs := 0, 0, 0, 0
	checkEnum := func(e protoreflect.EnumDescriptor) {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(theirs + "." + rel(e.FullName())))
		te, ok := d.(protoreflect.EnumDescriptor)
		if err != nil || !ok {
			t.Errorf("enum %s: not in %s (%v)", rel(e.FullName()), theirs, err)
			return
		}
		for i := 0; i < e.Values().Len(); i++ {
			values++
			v := e.Values().Get(i)
			if tv := te.Values().ByNumber(v.Number()); tv == nil || tv.Name() != v.Name() {
				t.Errorf("enum %s: value %s = %d differs from Spark's %v", rel(e.FullName()), v.Name(), v.Number(), tv)
			}
		}
	}
	checkMsg = func(m protoreflect.MessageDescriptor) {
		name := rel(m.FullName())
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(theirs + "." + name))
		tm, ok := d.(protoreflect.MessageDescriptor)
		if err != nil || !ok {
			t.Errorf("message %s: not in %s (%v)", name, theirs, err)
			return
		}
		messages++
		for i := 0; i < m.Fields().Len(); i++ {
			fields++
			f := m.Fields().Get(i)
			tf := tm.Fields().ByNumber(f.Number())
			if tf == nil {
				t.Errorf("%s.%s = %d: no field %d in Spark's %s", name, f.Name(), f.Number(), f.Number(), name)
				continue
			}
			type shape struct {
				Name          protoreflect.Name
				Type, Oneof   string
				Card          protoreflect.Cardinality
				Packed, Pres  bool
				IsMap, IsList bool
			}
			got := shape{f.Name(), typeName(f), oneofName(f), f.Cardinality(), f.IsPacked(), f.HasPresence(), f.IsMap(), f.IsList()}
			want := shape{tf.Name(), typeName(tf), oneofName(tf), tf.Cardinality(), tf.IsPacked(), tf.HasPresence(), tf.IsMap(), tf.IsList()}
			if got != want {
				t.Errorf("%s field %d: ours %+v, Spark's %+v", name, f.Number(), got, want)
			}
		}
		for i := 0; i < m.Enums().Len(); i++ {
			checkEnum(m.Enums().Get(i))
		}
		for i := 0; i < m.Messages().Len(); i++ {
			if nm := m.Messages().Get(i); !nm.IsMapEntry() {
				checkMsg(nm)
			}
		}
	}
	files := 0
	protoregistry.GlobalFiles.RangeFilesByPackage(ours, func(fd protoreflect.FileDescriptor) bool {
		files++
		for i := 0; i < fd.Messages().Len(); i++ {
			checkMsg(fd.Messages().Get(i))
		}
		for i := 0; i < fd.Enums().Len(); i++ {
			checkEnum(fd.Enums().Get(i))
		}
		for i := 0; i < fd.Services().Len(); i++ {
			s := fd.Services().Get(i)
			d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(connectpb.ServiceName))
			ts, ok := d.(protoreflect.ServiceDescriptor)
			if err != nil || !ok {
				t.Fatalf("service %s: not in spark-connect-go (%v)", connectpb.ServiceName, err)
			}
			for j := 0; j < s.Methods().Len(); j++ {
				rpcs++
				m := s.Methods().Get(j)
				tm := ts.Methods().ByName(m.Name())
				if tm == nil || rel(tm.Input().FullName()) != rel(m.Input().FullName()) ||
					rel(tm.Output().FullName()) != rel(m.Output().FullName()) ||
					tm.IsStreamingClient() != m.IsStreamingClient() || tm.IsStreamingServer() != m.IsStreamingServer() {
					t.Errorf("rpc %s differs from Spark's %v", m.Name(), tm)
				}
			}
		}
		return true
	})
	if files != 5 || messages == 0 || fields == 0 || rpcs == 0 {
		t.Fatalf("%d files in %s, %d messages, %d fields, %d RPCs compared", files, ours, messages, fields, rpcs)
	}
	t.Logf("compared %d messages, %d fields, %d enum values, %d RPCs with spark-connect-go's", messages, fields, values, rpcs)
}

// TestGoldenPlansDecodeAsSparkMessages sends the client's golden plans (sparkconnect's
// testdata/plans) through spark-connect-go's types: every field is known to Spark's protocol
// (no unknown fields) and re-encoding gives the same bytes.
func TestGoldenPlansDecodeAsSparkMessages(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "plans", "*.txtpb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden plans (%v)", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtpb"), func(t *testing.T) {
			var msg proto.Message = &connectpb.Plan{}
			if strings.HasPrefix(filepath.Base(f), "relation_") {
				msg = &connectpb.Relation{}
			}
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := prototext.Unmarshal(text, msg); err != nil {
				t.Fatal(err)
			}
			det := proto.MarshalOptions{Deterministic: true}
			wire, err := det.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(theirs + "." + rel(msg.ProtoReflect().Descriptor().FullName())))
			if err != nil {
				t.Fatal(err)
			}
			spark := mt.New().Interface()
			if err := proto.Unmarshal(wire, spark); err != nil {
				t.Fatalf("Spark's %s cannot decode it: %v", mt.Descriptor().FullName(), err)
			}
			if u := unknownFields(spark.ProtoReflect()); len(u) > 0 {
				t.Errorf("fields unknown to Spark's protocol: %v", u)
			}
			again, err := det.Marshal(spark)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, wire) {
				t.Errorf("re-encoded by spark-connect-go's types: %x, ours %x", again, wire)
			}
		})
	}
}

// unknownFields lists the messages (by full name) that hold unknown fields, recursively.
func unknownFields(m protoreflect.Message) []string {
	var out []string
	if len(m.GetUnknown()) > 0 {
		out = append(out, string(m.Descriptor().FullName()))
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					out = append(out, unknownFields(mv.Message())...)
					return true
				})
			}
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				out = append(out, unknownFields(v.List().Get(i).Message())...)
			}
		case fd.Message() != nil:
			out = append(out, unknownFields(v.Message())...)
		}
		return true
	})
	return out
}
