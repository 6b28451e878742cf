package connectpb_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"idxstream/sparkconnect/connectpb"
)

const pkg = "idxstream.sparkconnect.v1"

// TestServiceDescKeepsSparkName checks what gen.sh rewrites: the gRPC service registers under
// Spark's name, with every RPC the proto file declares, and each generated path constant is
// Spark's path.
func TestServiceDescKeepsSparkName(t *testing.T) {
	desc := connectpb.SparkConnectService_ServiceDesc
	if desc.ServiceName != connectpb.ServiceName || connectpb.ServiceName != "spark.connect.SparkConnectService" {
		t.Fatalf("ServiceDesc.ServiceName %q, ServiceName %q", desc.ServiceName, connectpb.ServiceName)
	}
	var registered []string
	for _, m := range desc.Methods {
		registered = append(registered, m.MethodName)
	}
	for _, s := range desc.Streams {
		registered = append(registered, s.StreamName)
	}
	sd := connectpb.File_idxstream_sparkconnect_v1_base_proto.Services().ByName("SparkConnectService")
	var declared []string
	for i := 0; i < sd.Methods().Len(); i++ {
		declared = append(declared, string(sd.Methods().Get(i).Name()))
	}
	slices.Sort(registered)
	slices.Sort(declared)
	if !slices.Equal(registered, declared) {
		t.Errorf("ServiceDesc has %v, the proto declares %v", registered, declared)
	}
	for name, path := range map[string]string{
		"ExecutePlan":     connectpb.SparkConnectService_ExecutePlan_FullMethodName,
		"AnalyzePlan":     connectpb.SparkConnectService_AnalyzePlan_FullMethodName,
		"Config":          connectpb.SparkConnectService_Config_FullMethodName,
		"Interrupt":       connectpb.SparkConnectService_Interrupt_FullMethodName,
		"ReattachExecute": connectpb.SparkConnectService_ReattachExecute_FullMethodName,
		"ReleaseExecute":  connectpb.SparkConnectService_ReleaseExecute_FullMethodName,
	} {
		if want := "/spark.connect.SparkConnectService/" + name; path != want {
			t.Errorf("%s: path %q, want %q", name, path, want)
		}
	}
}

// TestOwnProtoPackage checks what lets the package link beside spark-connect-go: none of its
// files or names is Spark's.
func TestOwnProtoPackage(t *testing.T) {
	n := 0
	protoregistry.GlobalFiles.RangeFilesByPackage(pkg, func(fd protoreflect.FileDescriptor) bool {
		n++
		if !strings.HasPrefix(fd.Path(), "idxstream/sparkconnect/v1/") {
			t.Errorf("file %s is outside idxstream/sparkconnect/v1/", fd.Path())
		}
		return true
	})
	if n != 5 {
		t.Errorf("%d files in package %s, want 5", n, pkg)
	}
	if _, err := protoregistry.GlobalFiles.FindFileByPath("spark/connect/base.proto"); !errors.Is(err, protoregistry.NotFound) {
		t.Errorf("spark/connect/base.proto is registered (err %v)", err)
	}
	if protoregistry.GlobalFiles.NumFilesByPackage("spark.connect") != 0 {
		t.Error("files of package spark.connect are registered")
	}
}

// TestNoAnyField guards the claim that the package name never reaches the wire: a
// google.protobuf.Any carries a type URL that names a message's package.
func TestNoAnyField(t *testing.T) {
	var walk func(m protoreflect.MessageDescriptor)
	walk = func(m protoreflect.MessageDescriptor) {
		for i := 0; i < m.Fields().Len(); i++ {
			f := m.Fields().Get(i)
			if f.Message() != nil && f.Message().FullName() == "google.protobuf.Any" {
				t.Errorf("%s is a google.protobuf.Any: its type URLs must name Spark's messages (spark.connect.*)", f.FullName())
			}
		}
		for i := 0; i < m.Messages().Len(); i++ {
			walk(m.Messages().Get(i))
		}
	}
	protoregistry.GlobalFiles.RangeFilesByPackage(pkg, func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Messages().Len(); i++ {
			walk(fd.Messages().Get(i))
		}
		return true
	})
}
